import { SqliteDb } from "./sql-db";
import { SqlStore } from "./sql-store";

export { REJECT_SAMPLE } from "./sql-store";

/** The embedded store: one SQLite file in WAL mode (sql-db.ts), schema migrations on open. */
export class SqliteStore extends SqlStore {
  constructor(path: string) {
    super(new SqliteDb(path));
  }
}
