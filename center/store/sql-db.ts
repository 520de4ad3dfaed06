import Database from "better-sqlite3";
import { closeSync, fdatasync, fdatasyncSync, fstat, openSync } from "node:fs";
import { WalCheckpointer } from "./wal-checkpointer";

/**
 * The SQL port every center module writes through: exactly the subset of better-sqlite3's
 * synchronous API the center uses (prepare → run/get/all, exec, transaction), with two engines
 * behind it: SQLite (SqliteDb, below, the embedded default) and PostgreSQL (PgDb, pg-db.ts).
 *
 * SQL is written once, in the common subset of both (docs/architecture.md, "One SQL for two
 * engines"): `?` parameters, ON CONFLICT … DO NOTHING/DO UPDATE, RETURNING id instead of a last
 * insert id, no scalar MAX(a, b) (use `greatest(db)`), double-quoted identifiers where a name is
 * a keyword ("end") or has capitals (an alias such as "firstHeardAt").
 */
export type SqlValue = number | string | null | Uint8Array;
export type SqlRow = Record<string, any>;
export type SqlDialect = "sqlite" | "postgres";

export interface SqlStatement {
  /** changes: rows inserted, updated or deleted */
  run(...params: SqlValue[]): { changes: number };
  get(...params: SqlValue[]): SqlRow | undefined;
  all(...params: SqlValue[]): SqlRow[];
}

export interface SqlDb {
  readonly dialect: SqlDialect;
  prepare(sql: string): SqlStatement;
  /** One or more statements without parameters. */
  exec(sql: string): void;
  /** Runs `fn` atomically; nested, it is a savepoint (undone alone when it throws). */
  transaction<T>(fn: () => T): T;
  /** Calls back once every transaction committed so far is on disk (without blocking the event loop). */
  durable(cb: (err: Error | null) => void): void;
  /** The same, blocking. */
  durableNow(): void;
  close(): void;
}

/** The larger of two non-null values: SQLite's scalar MAX(a, b), PostgreSQL's GREATEST(a, b). */
export function greatest(db: SqlDb): string {
  return db.dialect === "postgres" ? "GREATEST" : "MAX";
}

/** SQLite result codes a report's own data can cause (its row is refused, the store is fine) */
const SQLITE_DATA_CODES = /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/;

/**
 * True when `e` says the store itself failed (busy, locked, full, I/O, connection lost, timeout),
 * not that one report's data was refused. A batch that meets one must not be acknowledged: nothing
 * of it is stored, and the terminals send it again.
 */
export function isStoreFailure(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  if (code.startsWith("SQLITE_")) return !SQLITE_DATA_CODES.test(code);
  // PostgreSQL's SQLSTATE: class 22 (data exception) and 23 (integrity constraint) are the data's
  if (/^[0-9A-Z]{5}$/.test(code)) return !/^2[23]/.test(code);
  return false;
}

/** fdatasyncs of the WAL under way at once at most (libuv's pool has 4 threads) */
const MAX_SYNCS = 2;

/** statements kept prepared at most (texts built per call, such as IN lists, must not grow it without end) */
const STATEMENT_CACHE = 1000;

/** SQLite through better-sqlite3: one file in WAL mode (":memory:" for none). */
export class SqliteDb implements SqlDb {
  readonly dialect = "sqlite" as const;
  readonly raw: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  readonly #path: string;
  #walFd: number | null = null;
  /** callers of `durable`, in commit order, each with the number of its commit */
  #waiting: Array<{ n: number; cb: (err: Error | null) => void }> = [];
  /** commits asked to be made durable so far, and the last one a started sync covers */
  #commits = 0;
  #started = 0;
  /** fdatasyncs under way */
  #syncs = 0;
  /** fdatasyncs started, and the most under way at once */
  readonly syncCounts = { started: 0, mostAtOnce: 0 };

  /** copies the WAL into the database off the event loop (file databases only) */
  readonly checkpointer: WalCheckpointer | null;

  /** `checkpointBytes`: the WAL size that starts a checkpoint (wal-checkpointer.ts) */
  constructor(path: string, o: { checkpointBytes?: number } = {}) {
    this.raw = new Database(path);
    this.raw.pragma("journal_mode = WAL");
    // NORMAL: a commit writes the WAL without waiting for the disk; `durable` below syncs the WAL
    // off the event loop, and the ingest acknowledges a batch only after that (power cut included).
    this.raw.pragma("synchronous = NORMAL");
    this.raw.pragma("foreign_keys = ON");
    this.#path = path;
    if (path === ":memory:") this.checkpointer = null;
    else {
      // the checkpoint leaves the commit path for a worker; if the worker fails, SQLite's own returns
      this.raw.pragma("wal_autocheckpoint = 0");
      this.checkpointer = new WalCheckpointer(path, {
        checkpointBytes: o.checkpointBytes,
        onFail: (why) => {
          process.emitWarning(`WAL checkpointer: ${why}; checkpoints go back into commits`);
          this.raw.pragma("wal_autocheckpoint = 1000");
        },
      });
    }
  }

  /** Prepared once per SQL text. */
  prepare(sql: string): SqlStatement {
    let st = this.#statements.get(sql);
    if (!st) {
      st = this.raw.prepare(sql);
      if (this.#statements.size >= STATEMENT_CACHE) this.#statements.clear();
      this.#statements.set(sql, st);
    }
    return st as unknown as SqlStatement;
  }

  exec(sql: string): void {
    this.raw.exec(sql);
  }

  /** SQLite's own settings (better-sqlite3's pragma) */
  pragma(source: string, o?: { simple?: boolean }): unknown {
    return this.raw.pragma(source, o);
  }

  transaction<T>(fn: () => T): T {
    return this.raw.transaction(fn)();
  }

  #wal(): number | null {
    if (this.#walFd === null && this.#path !== ":memory:") {
      try {
        this.#walFd = openSync(`${this.#path}-wal`, "r");
      } catch {
        return null; // nothing written yet
      }
    }
    return this.#walFd;
  }

  /**
   * `cb` once everything committed so far is on disk: an fdatasync of the WAL in libuv's pool,
   * started after the commit. Up to MAX_SYNCS run at once (a batch committed while one runs does
   * not wait for it to end before its own starts); a sync that ends covers every commit made before
   * it started, so callers are answered in commit order (PUBACKs keep the order of the PUBLISHes).
   */
  durable(cb: (err: Error | null) => void): void {
    this.#waiting.push({ n: ++this.#commits, cb });
    this.#startSync();
  }

  #startSync(): void {
    if (this.#syncs >= MAX_SYNCS || this.#started >= this.#commits) return;
    const covers = this.#commits;
    this.#started = covers;
    const fd = this.#wal();
    if (fd === null) return void setImmediate(() => this.#synced(covers, null));
    this.#syncs++;
    this.syncCounts.started++;
    this.syncCounts.mostAtOnce = Math.max(this.syncCounts.mostAtOnce, this.#syncs);
    fdatasync(fd, (err) => {
      this.#syncs--;
      if (err || !this.checkpointer) return this.#synced(covers, err);
      fstat(fd, (e, st) => {
        if (!e) this.checkpointer?.grown(st.size);
        this.#synced(covers, null);
      });
    });
  }

  /** A sync started after commit `covers` ended: those commits are durable (or failed), in order. */
  #synced(covers: number, err: Error | null): void {
    let i = 0;
    while (i < this.#waiting.length && this.#waiting[i].n <= covers) i++;
    const done = this.#waiting.splice(0, i);
    for (const w of done) {
      try {
        w.cb(err);
      } catch (e) {
        process.emitWarning(`after a WAL sync: ${(e as Error).stack ?? e}`);
      }
    }
    this.#startSync();
  }

  durableNow(): void {
    const fd = this.#wal();
    if (fd !== null) fdatasyncSync(fd);
  }

  close(): void {
    this.checkpointer?.close();
    if (this.#walFd !== null) closeSync(this.#walFd);
    this.#walFd = null;
    this.#statements.clear();
    this.raw.close();
  }
}
