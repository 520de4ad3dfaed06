import { join } from "node:path";
import { PgDb } from "./pg-db";
import { SqlStore, SqliteStore } from "./sql-store";

/** a PostgreSQL connection URL (node-postgres's form: postgres://user[:password]@host[:port]/database[?…]) */
export function isPostgresUrl(spec: string): boolean {
  return /^postgres(ql)?:\/\//.test(spec);
}

/**
 * The center's store: SQLite in `dataDir/center.sqlite` (the embedded default), or PostgreSQL when
 * `store` is a postgres:// URL (several centers may share it; see docs/operations.md).
 */
export function openStore(o: { dataDir: string; store?: string }): SqlStore {
  if (o.store === undefined || o.store === "sqlite") return new SqliteStore(join(o.dataDir, "center.sqlite"));
  if (isPostgresUrl(o.store)) return new SqlStore(new PgDb(o.store));
  throw new Error(`store must be "sqlite" or a postgres:// URL, got ${o.store.slice(0, 80)}`);
}

/** Where the store is, for a log line: the URL without its password. */
export function describeStore(o: { dataDir: string; store?: string }): string {
  if (o.store === undefined || o.store === "sqlite") return `SQLite in ${join(o.dataDir, "center.sqlite")}`;
  try {
    const u = new URL(o.store);
    u.password = "";
    u.search = "";
    return `PostgreSQL ${u.toString()}`;
  } catch {
    return "PostgreSQL (a URL that does not parse)";
  }
}
