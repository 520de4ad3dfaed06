import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { CheckpointReply, CheckpointRequest } from "./checkpoint-worker";

/** WAL bytes that start a checkpoint (SQLite's own automatic one starts at about 4 MB too) */
export const CHECKPOINT_BYTES = 4 * 1024 * 1024;
/** WAL bytes past which the checkpoint waits for readers and empties the WAL */
export const TRUNCATE_BYTES = 64 * 1024 * 1024;

/** at most one checkpoint started per this many ms */
export const MIN_INTERVAL_MS = 200;

/** The worker's script: built beside the entry points (scripts/build.mjs), found from this chunk. */
function workerScript(): string {
  for (const rel of ["./center-checkpoint-worker.js", "../center-checkpoint-worker.js"]) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error("center-checkpoint-worker.js not found beside the build (npm run build)");
}

/**
 * Checkpoints the store's WAL off the event loop. The store turns SQLite's automatic checkpoint
 * off (it would run inside a commit, on the ingest's thread: a third of a report's cost at full
 * rate) and calls `grown` with the WAL's size after each sync; past `checkpointBytes` a worker
 * thread with its own connection runs the checkpoint, one at a time. Should the worker fail,
 * `onFail` puts the automatic checkpoint back, so the WAL never grows without bound.
 */
export class WalCheckpointer {
  readonly #path: string;
  readonly #checkpointBytes: number;
  readonly #onFail: (why: string) => void;
  #worker: Worker | null = null;
  #running: CheckpointRequest["mode"] | null = null;
  #failed = false;
  #lastAt = -Infinity;
  counts = { checkpoints: 0, truncates: 0, framesCopied: 0 };

  constructor(path: string, o: { checkpointBytes?: number; onFail: (why: string) => void }) {
    this.#path = path;
    this.#checkpointBytes = o.checkpointBytes ?? CHECKPOINT_BYTES;
    this.#onFail = o.onFail;
  }

  /**
   * The WAL file is `walBytes` long now. (SQLite reuses the file from its start after a complete
   * checkpoint without shrinking it, so past the threshold this asks again at most every
   * MIN_INTERVAL_MS: checkpoints follow the writes while reports come in, and stop when they stop.)
   */
  grown(walBytes: number, now = Date.now()): void {
    if (this.#running || this.#failed || walBytes < this.#checkpointBytes || now - this.#lastAt < MIN_INTERVAL_MS) return;
    this.#lastAt = now;
    this.#run({ mode: walBytes >= Math.max(TRUNCATE_BYTES, 16 * this.#checkpointBytes) ? "TRUNCATE" : "PASSIVE" });
  }

  /** Resolves when no checkpoint is running (tests, close). */
  async idle(): Promise<void> {
    while (this.#running) await new Promise((r) => setTimeout(r, 5));
  }

  #run(req: CheckpointRequest): void {
    let w = this.#worker;
    if (!w) {
      try {
        w = new Worker(workerScript(), { workerData: { path: this.#path } });
      } catch (e) {
        return this.#fail(`cannot start: ${(e as Error).message}`);
      }
      w.on("message", (r: CheckpointReply) => {
        const mode = this.#running;
        this.#running = null;
        if (!r.ok) return this.#fail(r.error ?? "checkpoint failed");
        this.counts.checkpoints++;
        if (mode === "TRUNCATE") this.counts.truncates++;
        this.counts.framesCopied += Math.max(0, r.checkpointed);
      });
      w.on("error", (e) => this.#fail(e.message));
      w.on("exit", (code) => {
        if (this.#worker === w && code !== 0) this.#fail(`exited with ${code}`);
        this.#worker = null;
        this.#running = null;
      });
      w.unref(); // after the listeners (a listener added later would hold the process open)
      this.#worker = w;
    }
    this.#running = req.mode;
    w.postMessage(req);
  }

  #fail(why: string): void {
    this.#running = null;
    if (this.#failed) return;
    this.#failed = true;
    this.#onFail(why);
  }

  /** Lets the worker close its connection and end (a checkpoint under way finishes first). */
  close(): void {
    const w = this.#worker;
    this.#worker = null;
    this.#failed = true; // no new checkpoints
    w?.postMessage("close");
  }
}
