/**
 * The thread that talks to PostgreSQL for PgDb (pg-db.ts): node-postgres is asynchronous, the
 * center's store calls are synchronous, so the center thread posts a request on `port`, sleeps
 * on `flag` (Atomics.wait) and takes the answer with receiveMessageOnPort once this thread has
 * posted it and set the flag. One connection, so a transaction is one session.
 */
import pg from "pg";
import { type MessagePort, workerData } from "node:worker_threads";

/** `before`: statements run first, in order (savepoints PgDb deferred); an error in one fails the request */
export type PgRequest =
  | { op: "connect" }
  | { op: "query"; sql: string; params: unknown[]; mode: "run" | "get" | "all"; before?: string[] }
  | { op: "exec"; sql: string; before?: string[] }
  | { op: "begin" }
  | { op: "commit"; before?: string[] }
  | { op: "rollback" }
  | { op: "close" };

export type PgResponse =
  | { ok: true; rows?: Array<Record<string, unknown>>; changes?: number }
  | { ok: false; message: string; code?: string; detail?: string };

const { url, port, flag: shared } = workerData as { url: string; port: MessagePort; flag: SharedArrayBuffer };
const flag = new Int32Array(shared);

/** int8 as JS numbers, refused when they do not fit exactly (money and instants are integers); numeric the same when whole. */
function exactNumber(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || (Number.isInteger(n) && !Number.isSafeInteger(n))) throw new Error(`PostgreSQL value ${text} does not fit a JavaScript number exactly`);
  return n;
}
const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === 20 || oid === 1700) return exactNumber; // int8, numeric
    return pg.types.getTypeParser(oid, format as "text");
  },
};

let client: pg.Client | null = null;
/** named server-side statements, by SQL text (per connection) */
let named = new Map<string, string>();
const MAX_NAMED = 500;
let inTransaction = false;
/** the connection dropped inside a transaction: everything fails until the center rolls back */
let lostInTransaction = false;

async function connection(): Promise<pg.Client> {
  if (lostInTransaction) throw Object.assign(new Error("the connection to PostgreSQL was lost inside a transaction (nothing of it was committed)"), { code: "08006" });
  if (client) return client;
  const c = new pg.Client({ connectionString: url, types, application_name: "timeguard-center", connectionTimeoutMillis: 10_000 });
  c.on("error", () => dropped(c));
  c.on("end", () => dropped(c));
  await c.connect();
  // a commit returns once it is on the server's disk (CenterStore.durable relies on it)
  await c.query("SET synchronous_commit = on");
  client = c;
  named = new Map();
  return c;
}

function dropped(c: pg.Client): void {
  if (client !== c) return;
  client = null;
  if (inTransaction) lostInTransaction = true;
}

function values(params: unknown[]): unknown[] {
  return params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p));
}

async function handle(req: PgRequest): Promise<PgResponse> {
  if ("before" in req && req.before && !lostInTransaction) {
    const c = await connection();
    for (const sql of req.before) await c.query(sql);
  }
  switch (req.op) {
    case "connect":
      await connection();
      return { ok: true };
    case "exec":
      await (await connection()).query(req.sql);
      return { ok: true };
    case "query": {
      const c = await connection();
      let r: pg.QueryResult;
      if (req.params.length === 0) {
        r = await c.query(req.sql);
      } else {
        let name = named.get(req.sql);
        if (name === undefined && named.size < MAX_NAMED) named.set(req.sql, (name = `tg${named.size}`));
        r = await c.query({ text: req.sql, values: values(req.params), ...(name ? { name } : {}) });
      }
      if (req.mode === "run") return { ok: true, changes: r.rowCount ?? 0 };
      return { ok: true, rows: req.mode === "get" ? r.rows.slice(0, 1) : r.rows, changes: r.rowCount ?? 0 };
    }
    case "begin":
      await (await connection()).query("BEGIN");
      inTransaction = true;
      return { ok: true };
    case "commit": {
      if (lostInTransaction) {
        inTransaction = lostInTransaction = false;
        throw Object.assign(new Error("the connection to PostgreSQL was lost inside a transaction: not committed"), { code: "08006" });
      }
      inTransaction = false;
      const r = await (await connection()).query("COMMIT");
      // PostgreSQL answers COMMIT of a transaction an error aborted with ROLLBACK, not an error
      if (r.command !== "COMMIT") throw Object.assign(new Error("the transaction was aborted by an earlier error and rolled back"), { code: "25P02" });
      return { ok: true };
    }
    case "rollback": {
      const was = lostInTransaction;
      inTransaction = lostInTransaction = false;
      if (!was && client) await client.query("ROLLBACK");
      return { ok: true };
    }
    case "close":
      if (client) await client.end().catch(() => undefined);
      client = null;
      return { ok: true };
  }
}

port.on("message", (req: PgRequest) => {
  handle(req)
    .catch((e: Error & { code?: string; detail?: string }) => ({ ok: false as const, message: e.message, code: e.code, detail: e.detail }))
    .then((res) => {
      port.postMessage(res);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    });
});
