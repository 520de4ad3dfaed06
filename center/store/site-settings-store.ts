import type { SqlDb } from "./sql-db";
import type { Row } from "./sql-rows";

/** What the web sets on sites and terminals beyond registration (the columns migration 2 added). */
export class SiteSettingsStore {
  constructor(readonly db: SqlDb) {}

  imagesPerEvent(siteId: number): number {
    const r = this.db.prepare("SELECT images_per_event AS n FROM sites WHERE id = ?").get(siteId) as Row | undefined;
    return r ? r.n : 0;
  }

  setSiteSettings(siteId: number, s: { contact?: string; imagesPerEvent?: number }): void {
    if (s.contact !== undefined) this.db.prepare("UPDATE sites SET contact = ? WHERE id = ?").run(s.contact, siteId);
    if (s.imagesPerEvent !== undefined) this.db.prepare("UPDATE sites SET images_per_event = ? WHERE id = ?").run(s.imagesPerEvent, siteId);
  }

  siteByName(name: string): { id: number } | undefined {
    return this.db.prepare("SELECT id FROM sites WHERE name = ?").get(name) as { id: number } | undefined;
  }

  setTariff(terminal: string, tariff: unknown): void {
    this.db.prepare("UPDATE terminals SET tariff = ? WHERE id = ?").run(JSON.stringify(tariff), terminal);
  }
}
