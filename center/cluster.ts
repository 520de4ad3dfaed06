import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import type { SqlDb } from "./store/sql-db";

/**
 * One center node among several sharing one PostgreSQL (docs/operations.md, "Several nodes").
 * Every node runs its own broker and ingest; what they must agree on goes through the database:
 *
 *  - **Presence**: which node holds a terminal's MQTT session (`cluster_presence`), valid while
 *    that node's heartbeat (`cluster_nodes.heard_at`, on PostgreSQL's clock) is fresh.
 *  - **Notices** on one channel (LISTEN/NOTIFY, an asynchronous node-postgres client of its own):
 *    a downlink was queued for a terminal (the node holding its session hands it down), a
 *    terminal's row or tariff changed (every node drops what it cached of it). A notice can be
 *    lost while the listening connection is down: after it reconnects a node drops all it cached,
 *    and every `pollMs` it looks for undelivered downlinks of the terminals it holds.
 *  - **One node at a time** runs the periodic jobs (supervision sweep, notifications): the one
 *    holding a session-level advisory lock on its store connection, released by PostgreSQL when
 *    that connection dies; the others try again every heartbeat. The store reconnects after a lost
 *    connection, without the lock: the leader checks each heartbeat that it still holds it.
 *
 * The tables are PostgreSQL-only and made here (CREATE … IF NOT EXISTS under a lock), not in the
 * store's migrations: a SQLite center has no cluster.
 */
export interface ClusterOptions {
  /** the node's store connection (PostgreSQL) */
  db: SqlDb;
  /** the same database, for the listening connection */
  url: string;
  /** this node's name (unique in the cluster; a restarted node keeps it) */
  node: string;
  /** the data folder every node shares (terminal key, media): checked at start */
  dataDir: string;
  log?: (line: string) => void;
  /** ms between heartbeats (default 2000); a node unheard for 3 heartbeats holds no terminal */
  heartbeatMs?: number;
  /** ms between polls for downlinks whose notice was missed (default 5000) */
  pollMs?: number;
  /** a downlink was queued for this terminal on another node */
  onDownlink(terminal: string): void;
  /** a terminal's row or tariff changed on another node; null: anything may have (notices were lost) */
  onTerminalChanged(terminal: string | null): void;
  /** this node now runs the periodic jobs (true), or no longer does (false: its store connection was renewed and the lock went with the old one) */
  onLeader(leading: boolean): void;
  /** look for work whose notice may have been missed */
  onPoll(): void;
}

const CHANNEL = "timeguard_cluster";
/** advisory lock keys: the schema below, and the periodic jobs */
const SCHEMA_LOCK = 0x74670001;
const LEADER_LOCK = 0x74670002;
/** PostgreSQL's clock in ms: one clock for every node's heartbeat */
const DB_NOW = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint";
const MAX_NOTICE = 4000;
/** a node's name: also its mark's file name in the shared data folder */
export const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

type Notice = { k: "downlink" | "terminal"; id: string; from: string };

export class ClusterNode {
  readonly node: string;
  readonly #o: ClusterOptions;
  readonly #db: SqlDb;
  readonly #heartbeatMs: number;
  #leader = false;
  /** this process, as the holder of the node's name */
  readonly #instance = randomBytes(8).toString("hex");
  #nameTaken = false;
  #listener: pg.Client | null = null;
  #closed = false;
  #timers: Array<ReturnType<typeof setInterval>> = [];
  #reconnect: ReturnType<typeof setTimeout> | null = null;
  /** presence changes waiting for the end of this turn: terminal → online */
  #presence = new Map<string, boolean>();
  #flushing = false;
  counts = { noticesSent: 0, noticesReceived: 0, badNotices: 0, listenerReconnects: 0 };

  constructor(o: ClusterOptions) {
    if (o.db.dialect !== "postgres") throw new Error("a cluster of center nodes needs a PostgreSQL store");
    if (!NODE_NAME.test(o.node)) throw new Error(`a node's name is 1 to 32 letters, digits, dots, dashes or underscores, beginning with a letter or digit; got ${o.node.slice(0, 40)}`);
    this.#o = o;
    this.#db = o.db;
    this.node = o.node;
    this.#heartbeatMs = o.heartbeatMs ?? 2000;
  }

  get leader(): boolean {
    return this.#leader;
  }

  async start(): Promise<void> {
    const db = this.#db;
    // Every node must use one data folder (the terminal key, media parts a moving terminal sends
    // to two nodes): each leaves its mark there before it joins, and a node that cannot see the
    // mark of every node the database knows is not on the shared folder.
    const marks = join(this.#o.dataDir, "nodes");
    mkdirSync(marks, { recursive: true });
    writeFileSync(join(marks, this.node), `${this.node}\n`);
    db.transaction(() => {
      db.prepare("SELECT pg_advisory_xact_lock(?)").get(SCHEMA_LOCK);
      db.exec(`
        CREATE TABLE IF NOT EXISTS cluster_nodes (node TEXT COLLATE "C" PRIMARY KEY, instance TEXT NOT NULL, started_at BIGINT NOT NULL, heard_at BIGINT NOT NULL);
        CREATE TABLE IF NOT EXISTS cluster_presence (terminal TEXT COLLATE "C" PRIMARY KEY, node TEXT COLLATE "C" NOT NULL, since BIGINT NOT NULL);
        CREATE INDEX IF NOT EXISTS cluster_presence_node ON cluster_presence (node);
      `);
    });
    // A node of this name heard lately is either a process still running (another process given
    // this name: refused) or one that just died (this one's predecessor): it is watched for three
    // heartbeats, and only a silent one is taken over.
    const heard = () => db.prepare(`SELECT heard_at, ${DB_NOW} - heard_at AS age FROM cluster_nodes WHERE node = ?`).get(this.node);
    const before = heard();
    if (before && Number(before.age) < this.#heartbeatMs * 3) {
      await new Promise((r) => setTimeout(r, this.#heartbeatMs * 3));
      if (Number(heard()?.heard_at) !== Number(before.heard_at)) throw new Error(`node ${this.node}: another process is running as node ${this.node} (it beat within the last ${this.#heartbeatMs * 3} ms): give each node its own --node name`);
    }
    db.transaction(() => {
      db.prepare("SELECT pg_advisory_xact_lock(?)").get(SCHEMA_LOCK);
      const strangers = db.prepare("SELECT node FROM cluster_nodes WHERE node <> ? ORDER BY node").all(this.node).map((r) => String(r.node)).filter((n) => !existsSync(join(marks, n)));
      if (strangers.length) {
        throw new Error(`node ${this.node}: ${this.#o.dataDir} is not the data folder of node${strangers.length > 1 ? "s" : ""} ${strangers.join(", ")} (no mark in ${marks}): every node of a cluster must share one --data folder (terminal key, media)`);
      }
      db.prepare(`INSERT INTO cluster_nodes (node, instance, started_at, heard_at) VALUES (?, ?, ${DB_NOW}, ${DB_NOW}) ON CONFLICT (node) DO UPDATE SET instance = excluded.instance, started_at = excluded.started_at, heard_at = excluded.heard_at`).run(this.node, this.#instance);
      // sessions this node held before a restart are gone with it
      db.prepare("DELETE FROM cluster_presence WHERE node = ?").run(this.node);
    });
    try {
      await this.#listen();
    } catch (e) {
      this.#closed = true; // no reconnecting in the background of a node that did not start
      throw e;
    }
    this.#tryLead();
    const beat = setInterval(() => this.#beat(), this.#heartbeatMs);
    const poll = setInterval(() => this.#safely("poll", () => this.#o.onPoll()), this.#o.pollMs ?? 5000);
    beat.unref();
    poll.unref();
    this.#timers.push(beat, poll);
  }

  #safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#o.log?.(`cluster ${what}: ${(e as Error).message}`);
    }
  }

  #beat(): void {
    this.#safely("heartbeat", () => {
      const beat = this.#db.prepare(`UPDATE cluster_nodes SET heard_at = ${DB_NOW} WHERE node = ? AND instance = ?`).run(this.node, this.#instance);
      if (beat.changes === 0 && !this.#nameTaken) {
        this.#nameTaken = true; // said once; the pages show it too (health: node)
        this.#o.log?.(`node ${this.node}: another process started as node ${this.node} since this one did; each node needs its own --node name`);
      }
      if (this.#leader && !this.#holdsLock()) {
        this.#leader = false;
        this.#o.log?.(`node ${this.node} lost the periodic jobs' lock (its store connection was renewed)`);
        this.#o.onLeader(false);
      }
      this.#tryLead();
    });
  }

  /** whether this node's store connection holds the leader lock now */
  #holdsLock(): boolean {
    const r = this.#db
      .prepare("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = ? AND objsubid = 1 AND pid = pg_backend_pid() AND granted) AS held")
      .get(LEADER_LOCK);
    return r?.held === true;
  }

  #tryLead(): void {
    if (this.#leader || this.#closed) return;
    const r = this.#db.prepare("SELECT pg_try_advisory_lock(?) AS ok").get(LEADER_LOCK);
    if (r?.ok === true || r?.ok === 1) {
      this.#leader = true;
      this.#o.log?.(`node ${this.node} runs the periodic jobs (supervision, notifications)`);
      this.#o.onLeader(true);
    }
  }

  async #listen(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({ connectionString: this.#o.url });
    const lost = (why: string) => {
      if (this.#listener !== client) return;
      this.#listener = null;
      client.removeAllListeners("notification");
      void client.end().catch(() => undefined);
      if (this.#closed) return;
      this.#o.log?.(`cluster notices: ${why}; listening again in 1 s`);
      this.#reconnect = setTimeout(() => {
        this.#reconnect = null;
        this.#listen().then(
          () => {
            this.counts.listenerReconnects++;
            // notices sent meanwhile are lost: drop every cache, look for waiting downlinks
            this.#safely("resync", () => {
              this.#o.onTerminalChanged(null);
              this.#o.onPoll();
            });
          },
          (e) => lost(`reconnect failed: ${(e as Error).message}`),
        );
      }, 1000);
      this.#reconnect.unref();
    };
    client.on("error", (e) => lost(e.message));
    client.on("end", () => lost("connection ended"));
    client.on("notification", (m) => {
      if (m.channel === CHANNEL) this.#notice(m.payload ?? "");
    });
    this.#listener = client;
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
  }

  #notice(payload: string): void {
    let n: Notice;
    try {
      if (payload.length > MAX_NOTICE) throw new Error("too long");
      const v = JSON.parse(payload) as Partial<Notice>;
      if ((v.k !== "downlink" && v.k !== "terminal") || typeof v.id !== "string" || typeof v.from !== "string") throw new Error("not a notice");
      n = v as Notice;
    } catch {
      this.counts.badNotices++; // anyone with access to the database may NOTIFY: checked, counted, dropped
      return;
    }
    if (n.from === this.node) return;
    this.counts.noticesReceived++;
    this.#safely(`notice ${n.k}`, () => (n.k === "downlink" ? this.#o.onDownlink(n.id) : this.#o.onTerminalChanged(n.id)));
  }

  /** Tells the other nodes (delivered when the current transaction, if any, commits). */
  notify(k: Notice["k"], terminal: string): void {
    const payload = JSON.stringify({ k, id: terminal, from: this.node } satisfies Notice);
    this.#db.prepare("SELECT pg_notify(?, ?)").get(CHANNEL, payload);
    this.counts.noticesSent++;
  }

  /** A terminal's session opened (online) or closed on this node; written at the end of the turn, in one statement each way. */
  present(terminal: string, online: boolean): void {
    this.#presence.set(terminal, online);
    if (this.#flushing) return;
    this.#flushing = true;
    setImmediate(() => {
      this.#flushing = false;
      this.#safely("presence", () => this.flushPresence());
    });
  }

  flushPresence(): void {
    if (this.#presence.size === 0) return;
    const on: string[] = [];
    const off: string[] = [];
    for (const [t, online] of this.#presence) (online ? on : off).push(t);
    this.#presence.clear();
    if (on.length) {
      this.#db
        .prepare(`INSERT INTO cluster_presence (terminal, node, since) SELECT value, ?, ${DB_NOW} FROM json_array_elements_text(?::json) ON CONFLICT (terminal) DO UPDATE SET node = excluded.node, since = excluded.since`)
        .run(this.node, JSON.stringify(on));
    }
    // only this node's own rows: the terminal may already be on another node
    if (off.length) this.#db.prepare("DELETE FROM cluster_presence WHERE node = ? AND terminal IN (SELECT value FROM json_array_elements_text(?::json))").run(this.node, JSON.stringify(off));
  }

  #freshSince(): string {
    return `${DB_NOW} - ${this.#heartbeatMs * 3}`;
  }

  /** The node holding the terminal's session now (this one included), or null. */
  nodeOf(terminal: string): string | null {
    const r = this.#db.prepare(`SELECT p.node FROM cluster_presence p JOIN cluster_nodes n ON n.node = p.node WHERE p.terminal = ? AND n.heard_at >= ${this.#freshSince()}`).get(terminal);
    return r ? String(r.node) : null;
  }

  /** Terminals connected to the other live nodes. */
  elsewhere(): string[] {
    return this.#db
      .prepare(`SELECT p.terminal FROM cluster_presence p JOIN cluster_nodes n ON n.node = p.node WHERE p.node <> ? AND n.heard_at >= ${this.#freshSince()} ORDER BY p.terminal`)
      .all(this.node)
      .map((r) => String(r.terminal));
  }

  /** The live nodes (heard within three heartbeats). */
  nodes(): string[] {
    return this.#db.prepare(`SELECT node FROM cluster_nodes WHERE heard_at >= ${this.#freshSince()} ORDER BY node`).all().map((r) => String(r.node));
  }

  /** Stops listening and beating; this node's sessions are no longer its. The leader lock goes with the store connection. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    if (this.#reconnect) clearTimeout(this.#reconnect);
    const l = this.#listener;
    this.#listener = null;
    if (l) await l.end().catch(() => undefined);
    this.#safely("leaving", () => {
      this.#presence.clear();
      if (!this.#nameTaken) this.#db.prepare("DELETE FROM cluster_presence WHERE node = ?").run(this.node);
      this.#db.prepare("UPDATE cluster_nodes SET heard_at = 0 WHERE node = ? AND instance = ?").run(this.node, this.#instance);
      if (this.#leader) this.#db.prepare("SELECT pg_advisory_unlock(?)").get(LEADER_LOCK);
    });
  }
}
