import type { SqlDb, SqlDialect } from "./sql-db";

/**
 * Schema migrations, applied in order inside one transaction each; `schema_version` records the
 * last applied. Never edit a shipped migration: add the next one.
 *
 * Written in SQLite's DDL; PostgreSQL runs the same steps through `forPostgres` (a few fixed
 * token rewrites, below). A new migration keeps to DDL both accept after those rewrites
 * (tests/center-store.test.ts compares the two schemas column by column).
 */
export const MIGRATIONS: readonly string[] = [
  // 1: sites, terminals, everything a terminal reports
  `
  CREATE TABLE sites (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    contact TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
  );
  CREATE TABLE terminals (
    id TEXT PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    secret_hash TEXT NOT NULL,
    tariff TEXT NOT NULL,
    registered_at INTEGER,
    firmware TEXT,
    last_seen INTEGER,
    last_test INTEGER
  );
  CREATE TABLE messages (
    terminal TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    time INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (terminal, seq)
  );
  CREATE TABLE sensors (
    terminal TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    connected INTEGER NOT NULL,
    operating INTEGER NOT NULL,
    battery TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (terminal, id)
  );
  CREATE TABLE plans (
    terminal TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time INTEGER NOT NULL,
    plan TEXT NOT NULL,
    PRIMARY KEY (terminal, seq)
  );
  CREATE TABLE periods (
    terminal TEXT NOT NULL,
    seq INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    pattern INTEGER NOT NULL,
    sensors INTEGER NOT NULL,
    cameras INTEGER NOT NULL,
    yen_per_hour INTEGER NOT NULL,
    guarded_seconds INTEGER NOT NULL,
    base_yen INTEGER NOT NULL,
    yen INTEGER NOT NULL,
    images INTEGER NOT NULL,
    intervals TEXT NOT NULL,
    rate_seconds INTEGER NOT NULL,
    permille INTEGER NOT NULL,
    contract TEXT NOT NULL,
    counts_taken INTEGER,
    card_id TEXT,
    debt_yen INTEGER,
    center_rate_seconds INTEGER NOT NULL,
    center_yen INTEGER NOT NULL,
    fee_mismatch TEXT,
    PRIMARY KEY (terminal, seq)
  );
  CREATE TABLE alarms (
    terminal TEXT NOT NULL,
    alarm_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    time INTEGER NOT NULL,
    sensor TEXT NOT NULL,
    event TEXT NOT NULL,
    contact_id INTEGER NOT NULL,
    pattern INTEGER NOT NULL,
    media_id INTEGER,
    images INTEGER,
    clips INTEGER,
    status TEXT NOT NULL DEFAULT 'new',
    received_at INTEGER NOT NULL,
    PRIMARY KEY (terminal, alarm_id)
  );
  CREATE TABLE media (
    terminal TEXT NOT NULL,
    media_id INTEGER NOT NULL,
    item INTEGER NOT NULL,
    alarm_id INTEGER NOT NULL,
    items INTEGER NOT NULL,
    type TEXT NOT NULL,
    parts INTEGER NOT NULL,
    parts_received INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    path TEXT,
    complete INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (terminal, media_id, item)
  );
  CREATE TABLE media_parts (
    terminal TEXT NOT NULL,
    media_id INTEGER NOT NULL,
    item INTEGER NOT NULL,
    part INTEGER NOT NULL,
    PRIMARY KEY (terminal, media_id, item, part)
  );
  CREATE TABLE card_events (
    terminal TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time INTEGER NOT NULL,
    event TEXT NOT NULL,
    card_id TEXT,
    counts INTEGER,
    delta INTEGER,
    debt_yen INTEGER,
    note TEXT,
    PRIMARY KEY (terminal, seq)
  );
  CREATE TABLE test_calls (
    terminal TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time INTEGER NOT NULL,
    boots INTEGER NOT NULL,
    outbox INTEGER NOT NULL,
    signal INTEGER,
    PRIMARY KEY (terminal, seq)
  );
  CREATE TABLE warnings (
    terminal TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time INTEGER NOT NULL,
    code TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (terminal, seq)
  );
  CREATE TABLE rejects (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    terminal TEXT,
    topic TEXT,
    reason TEXT NOT NULL,
    payload BLOB
  );
  `,
  // 2: the web (users, sessions), notification destinations and their log, alarm actions
  // (acknowledge, dispatch, close), supervision faults, center settings (issue #7)
  `
  ALTER TABLE sites ADD COLUMN images_per_event INTEGER NOT NULL DEFAULT 3;
  CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'manager')),
    site_id INTEGER REFERENCES sites(id),
    created_at INTEGER NOT NULL,
    CHECK ((role = 'manager') = (site_id IS NOT NULL))
  );
  CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE destinations (
    id INTEGER PRIMARY KEY,
    audience TEXT NOT NULL CHECK (audience IN ('site', 'operators')),
    site_id INTEGER REFERENCES sites(id),
    kind TEXT NOT NULL CHECK (kind IN ('email', 'webhook')),
    address TEXT NOT NULL,
    secret TEXT,
    created_at INTEGER NOT NULL,
    CHECK ((audience = 'site') = (site_id IS NOT NULL))
  );
  CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    destination_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    address TEXT NOT NULL,
    audience TEXT NOT NULL,
    site_id INTEGER,
    terminal TEXT,
    event TEXT NOT NULL,
    alarm_id INTEGER,
    fault_id INTEGER,
    subject TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    last_error TEXT,
    attachments INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
  );
  CREATE INDEX notifications_due ON notifications (status, next_at);
  CREATE TABLE alarm_actions (
    id INTEGER PRIMARY KEY,
    terminal TEXT NOT NULL,
    alarm_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    user_id INTEGER,
    username TEXT,
    role TEXT,
    note TEXT,
    at INTEGER NOT NULL,
    sent_at INTEGER,
    send_error TEXT
  );
  CREATE TABLE faults (
    id INTEGER PRIMARY KEY,
    terminal TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    raised_at INTEGER NOT NULL,
    cleared_at INTEGER,
    cleared_by TEXT
  );
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 3: look-ups by alarm for the web and the notifier (bench/center-web.ts)
  `
  CREATE INDEX media_by_alarm ON media (terminal, alarm_id);
  CREATE INDEX alarm_actions_by_alarm ON alarm_actions (terminal, alarm_id);
  `,
  // 4: supervision by the center's own clock: when a terminal was first heard, when its last test
  // call arrived (the terminal's reported time stays in terminals.last_test)
  `
  CREATE TABLE supervision (
    terminal TEXT PRIMARY KEY,
    first_heard_at INTEGER NOT NULL,
    last_test_at INTEGER
  );
  `,
  // 5: supervision by due time (issue #13): the sweep reads only terminals whose last test call
  // (or first message) is older than the limit, through this index, and skips those already faulted
  `
  CREATE INDEX supervision_due ON supervision (COALESCE(last_test_at, first_heard_at));
  CREATE INDEX faults_open ON faults (terminal, kind) WHERE cleared_at IS NULL;
  `,
  // 6: the center owns the tariff (issue #10): versions per terminal (0 is the factory tariff the
  // terminal starts with), the version the terminal confirmed, one row per period whatever its
  // sequence number, and the figures the center checks against its own meter
  `
  CREATE TABLE tariff_versions (
    terminal TEXT NOT NULL,
    version INTEGER NOT NULL,
    tariff TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (terminal, version)
  );
  ALTER TABLE terminals ADD COLUMN tariff_version INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE terminals ADD COLUMN tariff_confirmed INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE periods ADD COLUMN tariff_version INTEGER;
  ALTER TABLE periods ADD COLUMN owed_yen INTEGER;
  ALTER TABLE periods ADD COLUMN taken_total INTEGER;
  ALTER TABLE periods ADD COLUMN surcharge_total INTEGER;
  ALTER TABLE periods ADD COLUMN center_owed_yen INTEGER;
  DELETE FROM periods WHERE rowid NOT IN (SELECT MIN(rowid) FROM periods GROUP BY terminal, start);
  CREATE UNIQUE INDEX periods_one_per_start ON periods (terminal, start);
  `,
  // 7: the center under attack and faults (issue #12): web login attempts kept across restarts,
  // downlinks kept until the terminal acknowledges them, each media part's digest (a chunk is
  // accepted once), rejected messages counted per terminal beside a capped sample
  `
  CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX login_attempts_by_key ON login_attempts (key, at);
  CREATE INDEX login_attempts_by_at ON login_attempts (at);
  CREATE TABLE downlinks (
    id INTEGER PRIMARY KEY,
    terminal TEXT NOT NULL,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER,
    UNIQUE (terminal, seq)
  );
  CREATE INDEX downlinks_pending ON downlinks (terminal, delivered_at);
  ALTER TABLE alarm_actions ADD COLUMN downlink_id INTEGER;
  ALTER TABLE media_parts ADD COLUMN sha256 TEXT;
  CREATE TABLE reject_counts (
    terminal TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    last_reason TEXT NOT NULL
  );
  `,
  // 8: a site's page and notifications look up its terminals by site, not by reading them all
  `
  CREATE INDEX terminals_by_site ON terminals (site_id);
  `,
];

/**
 * The PostgreSQL text of a migration: INTEGER is 64-bit (BIGINT: instants are ms), an
 * `id INTEGER PRIMARY KEY` (SQLite's rowid) is an identity column, BLOB is BYTEA, TEXT compares
 * byte by byte as in SQLite (COLLATE "C", whatever the database's locale), a column named `end`
 * (a PostgreSQL keyword) is quoted, an index on an expression gets the parentheses PostgreSQL
 * wants, and SQLite's rowid (migration 6's de-duplication) is PostgreSQL's ctid.
 */
export function forPostgres(sql: string): string {
  return sql
    .replace(/\bid INTEGER PRIMARY KEY\b/g, "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
    .replace(/\bINTEGER\b/g, "BIGINT")
    .replace(/\bBLOB\b/g, "BYTEA")
    .replace(/\bTEXT\b/g, 'TEXT COLLATE "C"')
    .replace(/^(\s*)end BIGINT/gm, '$1"end" BIGINT')
    .replace(/ON (\w+) \((COALESCE\([^)]*\))\)/g, "ON $1 (($2))")
    .replace(/\browid\b/g, "ctid");
}

export function migrationSql(index: number, dialect: SqlDialect): string {
  return dialect === "postgres" ? forPostgres(MIGRATIONS[index]) : MIGRATIONS[index];
}

/** an arbitrary key: centers sharing one PostgreSQL database migrate one at a time */
const MIGRATION_LOCK = 1_300_013;

/** Applies the migrations not yet applied, each in its own transaction. */
export function migrate(db: SqlDb): void {
  const pg = db.dialect === "postgres";
  if (pg) db.exec(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
  try {
    db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    const current = schemaVersion(db);
    for (let v = current; v < MIGRATIONS.length; v++) {
      db.transaction(() => {
        db.exec(migrationSql(v, db.dialect));
        db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(v + 1);
      });
    }
  } finally {
    if (pg) db.exec(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`);
  }
}

export function schemaVersion(db: SqlDb): number {
  return (db.prepare("SELECT MAX(version) AS v FROM schema_version").get()?.v as number | null) ?? 0;
}
