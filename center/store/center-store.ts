/**
 * What the center keeps, behind one interface: SqlStore (sql-store.ts) over the SQL port
 * (sql-db.ts), on SQLite by default or PostgreSQL (open-store.ts), ingestion and web untouched.
 */
export interface SiteRow {
  id: number;
  name: string;
  contact: string;
}

export interface TerminalRow {
  id: string;
  siteId: number;
  secretHash: string;
  /** the tariff in force (its JSON carries its version) */
  tariff: unknown;
  tariffVersion: number;
  /** the newest version the terminal has named in a report */
  tariffConfirmed: number;
  registeredAt: number | null;
  firmware: string | null;
  lastSeen: number | null;
  lastTest: number | null;
}

export interface PeriodRow {
  terminal: string;
  seq: number;
  start: number;
  end: number;
  pattern: number;
  sensors: number;
  cameras: number;
  yenPerHour: number;
  guardedSeconds: number;
  baseYen: number;
  yen: number;
  images: number;
  intervals: number[][];
  rateSeconds: number;
  permille: number;
  contract: string;
  countsTaken: number | null;
  cardId: string | null;
  debtYen: number | null;
  centerRateSeconds: number;
  /** what the center's own meter adds for this period (the rows sum to the contract's total) */
  centerYen: number;
  feeMismatch: string | null;
  tariffVersion: number | null;
  /** the terminal's owed for the contract after this period, as reported */
  owedYen: number | null;
  /** counts the card had given toward the fee, and of surcharge, as reported (cumulative) */
  takenTotal: number | null;
  surchargeTotal: number | null;
  /** the center's owed for the contract after this period (Σ segments over every row before it) */
  centerOwedYen: number | null;
}

export interface AlarmRow {
  terminal: string;
  alarmId: number;
  seq: number;
  time: number;
  sensor: string;
  event: string;
  contactId: number;
  pattern: number;
  mediaId: number | null;
  images: number | null;
  clips: number | null;
  status: string;
  receivedAt: number;
}

export interface MediaRow {
  terminal: string;
  mediaId: number;
  item: number;
  alarmId: number;
  items: number;
  type: string;
  parts: number;
  partsReceived: number;
  bytes: number;
  path: string | null;
  complete: boolean;
}

export interface MediaChunk {
  terminal: string;
  mediaId: number;
  item: number;
  alarmId: number;
  items: number;
  type: string;
  part: number;
  parts: number;
  bytes: number;
  /** SHA-256 (hex) of the chunk's bytes: a part is accepted once, with these bytes */
  sha256: string;
}

export interface CenterStore {
  /** Runs `fn` atomically. */
  transaction<T>(fn: () => T): T;
  /** Calls back once every transaction committed so far is on disk (without blocking the event loop). */
  durable(cb: (err: Error | null) => void): void;
  /** The same, blocking. */
  durableNow(): void;
  /** Inside a transaction: runs `fn` so that, when it throws, its writes alone are undone (a savepoint). */
  attempt<T>(fn: () => T): T;
  close(): void;

  addSite(name: string, contact?: string): number;
  sites(): SiteRow[];
  /** One site by id (a notification or a page about one site does not load them all). */
  site(id: number): SiteRow | undefined;
  addTerminal(t: { id: string; siteId: number; secretHash: string; tariff: unknown }): void;
  terminal(id: string): TerminalRow | undefined;
  /** Replaces the stored hash of a terminal's secret (center/secrets.ts). */
  setSecretHash(id: string, secretHash: string): void;
  /** The terminal's site (cached; null for an unknown terminal). */
  siteOf(terminal: string): number | null;
  /** Supervision (center clock, ms): first heard at `at`; a test call moves the last test call to `at`. */
  noteHeard(terminal: string, at: number, testCall: boolean): void;
  terminals(): TerminalRow[];
  /** The terminals of one site. */
  siteTerminals(siteId: number): TerminalRow[];
  touchTerminal(id: string, at: number): void;
  setRegistered(id: string, firmware: string, at: number): void;
  setLastTest(id: string, at: number): void;
  /** Every tariff version of a terminal, oldest first. */
  tariffVersions(terminal: string): Array<{ version: number; tariff: unknown; createdAt: number }>;
  /** Adds a version and makes it the terminal's tariff in force. */
  addTariffVersion(terminal: string, version: number, tariff: unknown, at: number): void;
  /** The terminal named `version` in a report: it has it. */
  confirmTariff(terminal: string, version: number): void;

  /** Records (terminal, seq); false when it was already there (a duplicate). */
  recordMessage(terminal: string, seq: number, kind: string, time: number, at: number): boolean;
  messageCount(): number;

  replaceSensors(terminal: string, rows: Array<{ id: string; type: string; connected: boolean; operating: boolean; battery: string }>, at: number): void;
  insertPlan(terminal: string, seq: number, time: number, plan: unknown): void;
  /** Stores a period; false when the terminal already reported the period that started then. */
  insertPeriod(row: PeriodRow): boolean;
  periods(terminal?: string): PeriodRow[];
  /** false when (terminal, alarm id) was already there (a replay): nothing changes */
  insertAlarm(row: Omit<AlarmRow, "status">): boolean;
  alarms(terminal?: string): AlarmRow[];
  /** Notes a chunk; returns the item's row after it (parts received so far) and whether the part was new, the same again, or other bytes. */
  addMediaChunk(chunk: MediaChunk): MediaRow & { partState: "new" | "same" | "other" };
  completeMedia(terminal: string, mediaId: number, item: number, path: string, bytes: number): void;
  media(terminal?: string): MediaRow[];
  insertCardEvent(e: { terminal: string; seq: number; time: number; event: string; cardId: string | null; counts: number | null; delta: number | null; debtYen: number | null; note: string | null }): void;
  insertTestCall(e: { terminal: string; seq: number; time: number; boots: number; outbox: number; signal: number | null }): void;
  insertWarning(e: { terminal: string; seq: number; time: number; code: string; text: string }): void;
  insertReject(e: { at: number; terminal: string | null; topic: string | null; reason: string; payload: Uint8Array | null }): void;
  /** the latest rejected messages (a capped sample) */
  rejects(): Array<{ at: number; terminal: string | null; topic: string | null; reason: string }>;
  /** rejected messages counted per terminal, all of them */
  rejectCounts(): Array<{ terminal: string; count: number; firstAt: number; lastAt: number; lastReason: string }>;
}
