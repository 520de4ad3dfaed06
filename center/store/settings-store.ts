import type { SqlDb } from "./sql-db";
import type { Row } from "./sql-rows";

/** The center's own key/value settings (e.g. the media link key). */
export class SettingsStore {
  constructor(readonly db: SqlDb) {}

  setting(key: string): string | undefined {
    const r = this.db.prepare("SELECT value FROM settings WHERE key = ?").get(key) as Row | undefined;
    return r?.value;
  }

  setSetting(key: string, value: string): void {
    this.db.prepare("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, value);
  }
}
