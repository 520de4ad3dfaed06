import type { AlarmRow, CenterStore, MediaChunk, MediaRow, PeriodRow, SiteRow, TerminalRow } from "./center-store";
import { migrate, schemaVersion } from "./migrations";
import { greatest, SqliteDb, type SqlDb, type SqlStatement } from "./sql-db";
import type { WalCheckpointer } from "./wal-checkpointer";

type Row = Record<string, any>;

/** rejected messages kept as a sample (all are counted in reject_counts) */
export const REJECT_SAMPLE = 500;

/**
 * The center's store over the SQL port (sql-db.ts): the same SQL on SQLite (SqliteStore, the
 * embedded default) and PostgreSQL (open-store.ts). Schema migrations on open.
 */
export class SqlStore implements CenterStore {
  readonly db: SqlDb;
  /** terminal → site, for the ingest path and the web's events (invalidated by addTerminal) */
  readonly #siteOf = new Map<string, number>();
  readonly #greatest: string;

  constructor(db: SqlDb) {
    this.db = db;
    this.#greatest = greatest(db);
    migrate(db);
  }

  /** Statements prepared once, by SQL text (the set of texts is fixed by this file). */
  readonly #statements = new Map<string, SqlStatement>();

  #q(sql: string): SqlStatement {
    let st = this.#statements.get(sql);
    if (!st) this.#statements.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  get schemaVersion(): number {
    return schemaVersion(this.db);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn);
  }

  durable(cb: (err: Error | null) => void): void {
    this.db.durable(cb);
  }

  durableNow(): void {
    this.db.durableNow();
  }

  attempt<T>(fn: () => T): T {
    this.#q("SAVEPOINT attempt").run();
    try {
      const r = fn();
      this.#q("RELEASE attempt").run();
      return r;
    } catch (e) {
      this.#q("ROLLBACK TO attempt").run();
      this.#q("RELEASE attempt").run();
      throw e;
    }
  }

  close(): void {
    this.db.close();
  }

  addSite(name: string, contact = ""): number {
    const existing = this.#q("SELECT id FROM sites WHERE name = ?").get(name) as Row | undefined;
    if (existing) return existing.id;
    return this.#q("INSERT INTO sites (name, contact, created_at) VALUES (?, ?, ?) RETURNING id").get(name, contact, Date.now())!.id as number;
  }

  sites(): SiteRow[] {
    return this.#q("SELECT id, name, contact FROM sites ORDER BY id").all() as SiteRow[];
  }

  site(id: number): SiteRow | undefined {
    return this.#q("SELECT id, name, contact FROM sites WHERE id = ?").get(id) as SiteRow | undefined;
  }

  addTerminal(t: { id: string; siteId: number; secretHash: string; tariff: unknown }): void {
    this.#q(
        "INSERT INTO terminals (id, site_id, secret_hash, tariff) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET site_id = excluded.site_id, secret_hash = excluded.secret_hash",
      )
      .run(t.id, t.siteId, t.secretHash, JSON.stringify(t.tariff));
    this.#siteOf.delete(t.id);
    this.onTerminalChanged?.(t.id);
  }

  /** Called after a terminal's row was written here (a cluster tells the other nodes: center/cluster.ts). */
  onTerminalChanged: ((terminal: string) => void) | null = null;

  /** Drops what this process cached of a terminal's row (null: of every terminal), changed by another process. */
  forgetTerminal(terminal: string | null): void {
    if (terminal === null) this.#siteOf.clear();
    else this.#siteOf.delete(terminal);
  }

  setSecretHash(id: string, secretHash: string): void {
    this.#q("UPDATE terminals SET secret_hash = ? WHERE id = ?").run(secretHash, id);
  }

  siteOf(terminal: string): number | null {
    let site = this.#siteOf.get(terminal);
    if (site === undefined) {
      const r = this.#q("SELECT site_id FROM terminals WHERE id = ?").get(terminal) as Row | undefined;
      if (!r) return null;
      site = r.site_id as number;
      this.#siteOf.set(terminal, site);
    }
    return site;
  }

  noteHeard(terminal: string, at: number, testCall: boolean): void {
    this.#q(
      `INSERT INTO supervision (terminal, first_heard_at, last_test_at) VALUES (?, ?, ?)
       ON CONFLICT(terminal) DO UPDATE SET last_test_at = ${this.#greatest}(COALESCE(supervision.last_test_at, 0), excluded.last_test_at)
       WHERE excluded.last_test_at IS NOT NULL`,
    ).run(terminal, at, testCall ? at : null);
  }

  terminal(id: string): TerminalRow | undefined {
    const r = this.#q("SELECT * FROM terminals WHERE id = ?").get(id) as Row | undefined;
    return r ? terminalRow(r) : undefined;
  }

  terminals(): TerminalRow[] {
    return (this.#q("SELECT * FROM terminals ORDER BY id").all() as Row[]).map(terminalRow);
  }

  siteTerminals(siteId: number): TerminalRow[] {
    return (this.#q("SELECT * FROM terminals WHERE site_id = ? ORDER BY id").all(siteId) as Row[]).map(terminalRow);
  }

  touchTerminal(id: string, at: number): void {
    this.#q("UPDATE terminals SET last_seen = ? WHERE id = ?").run(at, id);
  }

  setRegistered(id: string, firmware: string, at: number): void {
    this.#q("UPDATE terminals SET registered_at = COALESCE(registered_at, ?), firmware = ? WHERE id = ?").run(at, firmware, id);
  }

  setLastTest(id: string, at: number): void {
    this.#q(`UPDATE terminals SET last_test = ${this.#greatest}(COALESCE(last_test, 0), ?) WHERE id = ?`).run(at, id);
  }

  recordMessage(terminal: string, seq: number, kind: string, time: number, at: number): boolean {
    const r = this.#q("INSERT INTO messages (terminal, seq, kind, time, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
      .run(terminal, seq, kind, time, at);
    return r.changes === 1;
  }

  messageCount(): number {
    return (this.#q("SELECT COUNT(*) AS n FROM messages").get() as Row).n;
  }

  replaceSensors(terminal: string, rows: Array<{ id: string; type: string; connected: boolean; operating: boolean; battery: string }>, at: number): void {
    this.#q("DELETE FROM sensors WHERE terminal = ?").run(terminal);
    const ins = this.#q("INSERT INTO sensors (terminal, id, type, connected, operating, battery, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (const r of rows) ins.run(terminal, r.id, r.type, r.connected ? 1 : 0, r.operating ? 1 : 0, r.battery, at);
  }

  insertPlan(terminal: string, seq: number, time: number, plan: unknown): void {
    this.#q("INSERT INTO plans (terminal, seq, time, plan) VALUES (?, ?, ?, ?)").run(terminal, seq, time, JSON.stringify(plan));
  }

  insertPeriod(p: PeriodRow): boolean {
    const r = this.#q(
        `INSERT INTO periods (terminal, seq, start, "end", pattern, sensors, cameras, yen_per_hour, guarded_seconds, base_yen, yen, images,
          intervals, rate_seconds, permille, contract, counts_taken, card_id, debt_yen, center_rate_seconds, center_yen, fee_mismatch,
          tariff_version, owed_yen, taken_total, surcharge_total, center_owed_yen)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (terminal, start) DO NOTHING`,
      )
      .run(
        p.terminal, p.seq, p.start, p.end, p.pattern, p.sensors, p.cameras, p.yenPerHour, p.guardedSeconds, p.baseYen, p.yen, p.images,
        JSON.stringify(p.intervals), p.rateSeconds, p.permille, p.contract, p.countsTaken, p.cardId, p.debtYen, p.centerRateSeconds, p.centerYen, p.feeMismatch,
        p.tariffVersion, p.owedYen, p.takenTotal, p.surchargeTotal, p.centerOwedYen,
      );
    return r.changes === 1;
  }

  tariffVersions(terminal: string): Array<{ version: number; tariff: unknown; createdAt: number }> {
    return (this.#q("SELECT version, tariff, created_at FROM tariff_versions WHERE terminal = ? ORDER BY version").all(terminal) as Row[]).map((r) => ({
      version: r.version,
      tariff: JSON.parse(r.tariff),
      createdAt: r.created_at,
    }));
  }

  addTariffVersion(terminal: string, version: number, tariff: unknown, at: number): void {
    this.#q("INSERT INTO tariff_versions (terminal, version, tariff, created_at) VALUES (?, ?, ?, ?)").run(terminal, version, JSON.stringify(tariff), at);
    this.#q("UPDATE terminals SET tariff = ?, tariff_version = ? WHERE id = ?").run(JSON.stringify(tariff), version, terminal);
  }

  confirmTariff(terminal: string, version: number): void {
    this.#q(`UPDATE terminals SET tariff_confirmed = ${this.#greatest}(tariff_confirmed, ?) WHERE id = ?`).run(version, terminal);
  }

  periods(terminal?: string): PeriodRow[] {
    const rows = (terminal
      ? this.#q("SELECT * FROM periods WHERE terminal = ? ORDER BY start").all(terminal)
      : this.#q("SELECT * FROM periods ORDER BY terminal, start").all()) as Row[];
    return rows.map((r) => ({
      terminal: r.terminal,
      seq: r.seq,
      start: r.start,
      end: r.end,
      pattern: r.pattern,
      sensors: r.sensors,
      cameras: r.cameras,
      yenPerHour: r.yen_per_hour,
      guardedSeconds: r.guarded_seconds,
      baseYen: r.base_yen,
      yen: r.yen,
      images: r.images,
      intervals: JSON.parse(r.intervals),
      rateSeconds: r.rate_seconds,
      permille: r.permille,
      contract: r.contract,
      countsTaken: r.counts_taken,
      cardId: r.card_id,
      debtYen: r.debt_yen,
      centerRateSeconds: r.center_rate_seconds,
      centerYen: r.center_yen,
      feeMismatch: r.fee_mismatch,
      tariffVersion: r.tariff_version,
      owedYen: r.owed_yen,
      takenTotal: r.taken_total,
      surchargeTotal: r.surcharge_total,
      centerOwedYen: r.center_owed_yen,
    }));
  }

  insertAlarm(a: Omit<AlarmRow, "status">): boolean {
    return this.db
      .prepare(
        `INSERT INTO alarms (terminal, alarm_id, seq, time, sensor, event, contact_id, pattern, media_id, images, clips, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      )
      .run(a.terminal, a.alarmId, a.seq, a.time, a.sensor, a.event, a.contactId, a.pattern, a.mediaId, a.images, a.clips, a.receivedAt).changes === 1;
  }

  alarms(terminal?: string): AlarmRow[] {
    const rows = (terminal
      ? this.#q("SELECT * FROM alarms WHERE terminal = ? ORDER BY time").all(terminal)
      : this.#q("SELECT * FROM alarms ORDER BY time").all()) as Row[];
    return rows.map((r) => ({
      terminal: r.terminal,
      alarmId: r.alarm_id,
      seq: r.seq,
      time: r.time,
      sensor: r.sensor,
      event: r.event,
      contactId: r.contact_id,
      pattern: r.pattern,
      mediaId: r.media_id,
      images: r.images,
      clips: r.clips,
      status: r.status,
      receivedAt: r.received_at,
    }));
  }

  addMediaChunk(c: MediaChunk): MediaRow & { partState: "new" | "same" | "other" } {
    this.db
      .prepare(
        `INSERT INTO media (terminal, media_id, item, alarm_id, items, type, parts, parts_received, bytes)
         VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0) ON CONFLICT DO NOTHING`,
      )
      .run(c.terminal, c.mediaId, c.item, c.alarmId, c.items, c.type, c.parts);
    const fresh = this.db
      .prepare("INSERT INTO media_parts (terminal, media_id, item, part, sha256) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
      .run(c.terminal, c.mediaId, c.item, c.part, c.sha256);
    let partState: "new" | "same" | "other" = "new";
    if (fresh.changes !== 1) {
      const had = this.db.prepare("SELECT sha256 FROM media_parts WHERE terminal = ? AND media_id = ? AND item = ? AND part = ?").get(c.terminal, c.mediaId, c.item, c.part) as Row;
      partState = had.sha256 === null || had.sha256 === c.sha256 ? "same" : "other";
    }
    if (fresh.changes === 1) {
      this.#q("UPDATE media SET parts_received = parts_received + 1, bytes = bytes + ? WHERE terminal = ? AND media_id = ? AND item = ?")
        .run(c.bytes, c.terminal, c.mediaId, c.item);
    }
    return { ...(this.#mediaRow(c.terminal, c.mediaId, c.item) as MediaRow), partState };
  }

  completeMedia(terminal: string, mediaId: number, item: number, path: string, bytes: number): void {
    this.#q("UPDATE media SET path = ?, bytes = ?, complete = 1 WHERE terminal = ? AND media_id = ? AND item = ?").run(path, bytes, terminal, mediaId, item);
  }

  #mediaRow(terminal: string, mediaId: number, item: number): MediaRow | undefined {
    const r = this.#q("SELECT * FROM media WHERE terminal = ? AND media_id = ? AND item = ?").get(terminal, mediaId, item) as Row | undefined;
    return r ? mediaRow(r) : undefined;
  }

  media(terminal?: string): MediaRow[] {
    const rows = (terminal
      ? this.#q("SELECT * FROM media WHERE terminal = ? ORDER BY media_id, item").all(terminal)
      : this.#q("SELECT * FROM media ORDER BY terminal, media_id, item").all()) as Row[];
    return rows.map(mediaRow);
  }

  insertCardEvent(e: { terminal: string; seq: number; time: number; event: string; cardId: string | null; counts: number | null; delta: number | null; debtYen: number | null; note: string | null }): void {
    this.#q("INSERT INTO card_events (terminal, seq, time, event, card_id, counts, delta, debt_yen, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .run(e.terminal, e.seq, e.time, e.event, e.cardId, e.counts, e.delta, e.debtYen, e.note);
  }

  insertTestCall(e: { terminal: string; seq: number; time: number; boots: number; outbox: number; signal: number | null }): void {
    this.#q("INSERT INTO test_calls (terminal, seq, time, boots, outbox, signal) VALUES (?, ?, ?, ?, ?, ?)").run(e.terminal, e.seq, e.time, e.boots, e.outbox, e.signal);
  }

  insertWarning(e: { terminal: string; seq: number; time: number; code: string; text: string }): void {
    this.#q("INSERT INTO warnings (terminal, seq, time, code, text) VALUES (?, ?, ?, ?, ?)").run(e.terminal, e.seq, e.time, e.code, e.text);
  }

  /** Every reject counted per terminal; only the latest REJECT_SAMPLE rows kept, each a short sample. */
  insertReject(e: { at: number; terminal: string | null; topic: string | null; reason: string; payload: Uint8Array | null }): void {
    this.db.transaction(() => {
      const id = this.db
        .prepare("INSERT INTO rejects (at, terminal, topic, reason, payload) VALUES (?, ?, ?, ?, ?) RETURNING id")
        .get(e.at, e.terminal, e.topic, e.reason.slice(0, 300), e.payload ? Buffer.from(e.payload.slice(0, 256)) : null)!.id as number;
      this.db.prepare("DELETE FROM rejects WHERE id <= ?").run(id - REJECT_SAMPLE);
      this.db
        .prepare(
          `INSERT INTO reject_counts (terminal, count, first_at, last_at, last_reason) VALUES (?, 1, ?, ?, ?)
           ON CONFLICT(terminal) DO UPDATE SET count = reject_counts.count + 1, last_at = excluded.last_at, last_reason = excluded.last_reason`,
        )
        .run(e.terminal ?? "?", e.at, e.at, e.reason.slice(0, 300));
    });
  }

  rejectCounts(): Array<{ terminal: string; count: number; firstAt: number; lastAt: number; lastReason: string }> {
    return (this.db.prepare("SELECT * FROM reject_counts ORDER BY terminal").all() as Row[]).map((r) => ({ terminal: r.terminal, count: r.count, firstAt: r.first_at, lastAt: r.last_at, lastReason: r.last_reason }));
  }

  rejects(): Array<{ at: number; terminal: string | null; topic: string | null; reason: string }> {
    return this.#q("SELECT at, terminal, topic, reason FROM rejects ORDER BY id").all() as any[];
  }
}

function terminalRow(r: Row): TerminalRow {
  return {
    id: r.id,
    siteId: r.site_id,
    secretHash: r.secret_hash,
    tariff: JSON.parse(r.tariff),
    tariffVersion: r.tariff_version,
    tariffConfirmed: r.tariff_confirmed,
    registeredAt: r.registered_at,
    firmware: r.firmware,
    lastSeen: r.last_seen,
    lastTest: r.last_test,
  };
}

function mediaRow(r: Row): MediaRow {
  return {
    terminal: r.terminal,
    mediaId: r.media_id,
    item: r.item,
    alarmId: r.alarm_id,
    items: r.items,
    type: r.type,
    parts: r.parts,
    partsReceived: r.parts_received,
    bytes: r.bytes,
    path: r.path,
    complete: r.complete === 1,
  };
}

/** The embedded store: one SQLite file in WAL mode (sql-db.ts), schema migrations on open. */
export class SqliteStore extends SqlStore {
  declare readonly db: SqliteDb;

  /** `checkpointBytes`: the WAL size that starts a checkpoint (wal-checkpointer.ts) */
  constructor(path: string, o: { checkpointBytes?: number } = {}) {
    super(new SqliteDb(path, o));
  }

  /** copies the WAL into the database off the event loop (file databases only) */
  get checkpointer(): WalCheckpointer | null {
    return this.db.checkpointer;
  }
}
