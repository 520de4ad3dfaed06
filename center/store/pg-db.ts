import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import type { PgRequest, PgResponse } from "./pg-worker";
import type { SqlDb, SqlRow, SqlStatement, SqlValue } from "./sql-db";

export interface PgDbOptions {
  /** the longest a call may wait for PostgreSQL before it throws (ms) */
  timeoutMs?: number;
}

/** An error from PostgreSQL: its message, and its SQLSTATE in `code`. */
export class PgError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code?: string, detail?: string) {
    super(detail ? `${message} (${detail})` : message);
    this.name = "PgError";
    this.code = code;
  }
}

/**
 * PostgreSQL behind the synchronous SQL port (sql-db.ts), through node-postgres in a worker thread
 * (pg-worker.ts): each call posts the request and waits for the answer with Atomics.wait, so the
 * center's store code stays as it is for SQLite. A call blocks the center's thread for one round
 * trip to the server (a few hundred µs on loopback), as a SQLite call blocks for its disk read.
 *
 * `?` parameters become `$1…$n`; int8 and numeric come back as numbers (a value that does not fit
 * a JS number exactly throws); bytea as Uint8Array. Transactions hold the worker's one connection:
 * BEGIN/COMMIT, SAVEPOINT when nested. A commit returns once PostgreSQL has it on disk
 * (synchronous_commit on), so `durable` has nothing left to wait for.
 */
export class PgDb implements SqlDb {
  readonly dialect = "postgres" as const;
  readonly url: string;
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #flag: Int32Array;
  readonly #timeoutMs: number;
  readonly #texts = new Map<string, string>();
  #depth = 0;
  #broken: Error | null = null;
  /** round trips to the worker so far (benches print them per report) */
  calls = 0;
  /** SAVEPOINT/RELEASE inside a transaction, sent ahead of the next request rather than alone */
  #deferred: string[] = [];

  constructor(url: string, o: PgDbOptions = {}) {
    this.url = url;
    this.#timeoutMs = o.timeoutMs ?? 30_000;
    const shared = new SharedArrayBuffer(4);
    this.#flag = new Int32Array(shared);
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#worker = new Worker(workerFile(), { workerData: { url, port: port2, flag: shared }, transferList: [port2] });
    this.#worker.unref();
    port1.unref();
    try {
      this.#call({ op: "connect" });
    } catch (e) {
      void this.#worker.terminate();
      throw e;
    }
  }

  #call(req: PgRequest): PgResponse & { ok: true } {
    if (this.#broken) throw this.#broken;
    if (this.#deferred.length) {
      if (req.op === "query" || req.op === "exec" || req.op === "commit") req = { ...req, before: this.#deferred };
      this.#deferred = [];
    }
    this.calls++;
    Atomics.store(this.#flag, 0, 0);
    this.#port.postMessage(req);
    if (Atomics.wait(this.#flag, 0, 0, this.#timeoutMs) === "timed-out") {
      // the answer may still come: this connection can no longer be trusted to be in step
      this.#broken = new PgError(`PostgreSQL did not answer within ${this.#timeoutMs} ms; the store is closed`, "57014");
      void this.#worker.terminate();
      throw this.#broken;
    }
    const m = receiveMessageOnPort(this.#port);
    if (!m) {
      this.#broken = new PgError("the PostgreSQL worker stopped", "58000");
      throw this.#broken;
    }
    const res = m.message as PgResponse;
    if (!res.ok) throw new PgError(res.message, res.code, res.detail);
    return res;
  }

  /** `?` → `$n`, outside quoted text and identifiers. */
  #text(sql: string): string {
    let t = this.#texts.get(sql);
    if (t === undefined) {
      t = numberParameters(sql);
      if (this.#texts.size >= 1000) this.#texts.clear();
      this.#texts.set(sql, t);
    }
    return t;
  }

  prepare(sql: string): SqlStatement {
    const text = this.#text(sql);
    const query = (mode: "run" | "get" | "all", params: SqlValue[]) => this.#call({ op: "query", sql: text, params, mode });
    const deferrable = DEFERRABLE.test(sql);
    return {
      run: (...params: SqlValue[]) => {
        if (deferrable && this.#defer(sql)) return { changes: 0 };
        return { changes: query("run", params).changes ?? 0 };
      },
      get: (...params: SqlValue[]): SqlRow | undefined => rows(query("get", params))[0],
      all: (...params: SqlValue[]): SqlRow[] => rows(query("all", params)),
    };
  }

  exec(sql: string): void {
    if (DEFERRABLE.test(sql) && this.#defer(sql)) return;
    this.#call({ op: "exec", sql });
  }

  /**
   * Inside a transaction a SAVEPOINT or RELEASE answers nothing the caller reads: it goes with the
   * next request (one round trip fewer each; an error in it fails that request, still inside the
   * same transaction). Outside one it runs now (and fails as PostgreSQL says).
   */
  #defer(sql: string): boolean {
    if (this.#depth === 0 || this.#broken) return false;
    this.#deferred.push(sql);
    return true;
  }

  transaction<T>(fn: () => T): T {
    if (this.#depth === 0) {
      this.#call({ op: "begin" });
      this.#depth++;
      let r: T;
      try {
        r = fn();
      } catch (e) {
        this.#depth--;
        if (!this.#broken) this.#call({ op: "rollback" });
        throw e;
      }
      this.#depth--;
      try {
        this.#call({ op: "commit" });
      } catch (e) {
        // whatever failed (a deferred RELEASE, the COMMIT itself), the transaction is over
        if (!this.#broken) this.#call({ op: "rollback" });
        throw e;
      }
      return r;
    }
    const sp = `tg_tx${this.#depth}`;
    this.exec(`SAVEPOINT ${sp}`);
    this.#depth++;
    try {
      const r = fn();
      this.exec(`RELEASE ${sp}`);
      return r;
    } catch (e) {
      if (!this.#broken) this.exec(`ROLLBACK TO ${sp}; RELEASE ${sp}`);
      throw e;
    } finally {
      this.#depth--;
    }
  }

  durable(cb: (err: Error | null) => void): void {
    setImmediate(() => cb(null)); // committed = on the server's disk (synchronous_commit on)
  }

  durableNow(): void {}

  close(): void {
    if (!this.#broken) {
      try {
        this.#call({ op: "close" });
      } catch {
        // closing anyway
      }
      this.#broken = new PgError("the store is closed");
    }
    void this.#worker.terminate();
  }
}

function rows(res: PgResponse & { ok: true }): SqlRow[] {
  const list = (res.rows ?? []) as SqlRow[];
  for (const r of list) for (const k in r) if (r[k] instanceof Uint8Array && !(r[k] instanceof Buffer)) r[k] = Buffer.from(r[k].buffer, r[k].byteOffset, r[k].byteLength);
  return list;
}

/** statements that can wait for the next request inside a transaction */
const DEFERRABLE = /^\s*(SAVEPOINT|RELEASE)\s+\w+\s*$/i;

/** `?` → `$1…$n`, skipping '…' strings, "…" identifiers and `?` of PostgreSQL's own operators (none are used). */
export function numberParameters(sql: string): string {
  let out = "";
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === "?") {
      out += `$${++n}`;
    } else {
      out += c;
    }
  }
  return out;
}

/** The worker's built file: beside the bundle that imports this module (dist/) or one folder up (dist/chunks, dist/tests). */
function workerFile(): URL {
  for (const rel of ["./pg-worker.js", "../pg-worker.js", "../../dist/pg-worker.js"]) {
    const u = new URL(rel, import.meta.url);
    if (existsSync(fileURLToPath(u))) return u;
  }
  throw new Error("pg-worker.js not found beside the built center (npm run build builds it)");
}
