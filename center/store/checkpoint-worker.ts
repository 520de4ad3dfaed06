/**
 * The SQLite store's checkpointer, in a worker thread of its own (wal-checkpointer.ts starts it):
 * its own connection to the database copies the WAL back into the database file and syncs it,
 * so the ingest's event loop never waits for that copy.
 */
import Database from "better-sqlite3";
import { parentPort, workerData } from "node:worker_threads";

export interface CheckpointRequest {
  /** PASSIVE copies what it can without waiting; TRUNCATE waits for readers and empties the WAL */
  mode: "PASSIVE" | "TRUNCATE";
}

export interface CheckpointReply {
  ok: boolean;
  /** frames in the WAL, and frames copied into the database (SQLite's wal_checkpoint columns) */
  log: number;
  checkpointed: number;
  busy: number;
  error?: string;
}

const port = parentPort;
if (!port) throw new Error("checkpoint-worker runs only as a worker thread");
const db = new Database((workerData as { path: string }).path);
db.pragma("busy_timeout = 2000");
port.on("message", (m: CheckpointRequest | "close") => {
  if (m === "close") {
    db.close();
    port.close();
    return;
  }
  let reply: CheckpointReply;
  try {
    const [r] = db.pragma(`wal_checkpoint(${m.mode === "TRUNCATE" ? "TRUNCATE" : "PASSIVE"})`) as Array<{ busy: number; log: number; checkpointed: number }>;
    reply = { ok: true, log: r.log, checkpointed: r.checkpointed, busy: r.busy };
  } catch (e) {
    reply = { ok: false, log: -1, checkpointed: -1, busy: 0, error: (e as Error).message };
  }
  port.postMessage(reply);
});
