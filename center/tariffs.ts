import { EXAMPLE_TARIFF_JSON, Tariff, parseTariff, tariffToJson } from "../firmware/core/tariff";
import type { CenterStore } from "./store/center-store";

/** How long before a tariff version not yet confirmed by the terminal is sent again. */
const RESEND_MS = 10 * 60 * 1000;

/**
 * The center owns the tariff (DESIGN §2): versions per terminal, kept for ever (a report names the
 * version each interval was billed under, and the center prices it with that version). Version 0
 * is the factory tariff every terminal starts with (the manifest's config.tariff); an admin's
 * change makes the next version, which is sent down to the terminal and again at its next
 * sessions until a report of the terminal names it.
 */
export class Tariffs {
  readonly #store: CenterStore;
  readonly #send: (terminal: string, version: number, tariff: unknown) => void;
  readonly #now: () => number;
  #cache = new Map<string, Map<number, Tariff>>();
  #sentAt = new Map<string, number>();
  /** per terminal: the version in force and the newest one it confirmed (read once, kept current) */
  #state = new Map<string, { version: number; confirmed: number }>();

  constructor(o: { store: CenterStore; send: (terminal: string, version: number, tariff: unknown) => void; now?: () => number }) {
    this.#store = o.store;
    this.#send = o.send;
    this.#now = o.now ?? Date.now;
  }

  /** The versions of a terminal, by number (version 0 made on first use). */
  #versions(terminal: string): Map<number, Tariff> {
    let m = this.#cache.get(terminal);
    if (m) return m;
    this.ensure(terminal);
    m = new Map();
    for (const v of this.#store.tariffVersions(terminal)) m.set(v.version, parseTariff(v.tariff));
    this.#cache.set(terminal, m);
    return m;
  }

  /** The tariff of `version` for `terminal`, or undefined when the center never issued it. */
  version(terminal: string, version: number): Tariff | undefined {
    return this.#versions(terminal).get(version);
  }

  /** A look-up for one terminal (for the fee checks). */
  lookup(terminal: string): (version: number) => Tariff | undefined {
    const m = this.#versions(terminal);
    return (v) => m.get(v);
  }

  /** The version in force for a terminal. */
  current(terminal: string): Tariff {
    const row = this.#store.terminal(terminal);
    if (!row) throw new Error(`unknown terminal ${terminal}`);
    const t = this.#versions(terminal).get(row.tariffVersion);
    if (!t) throw new Error(`terminal ${terminal}: tariff version ${row.tariffVersion} missing`);
    return t;
  }

  /**
   * A terminal with no versions yet gets version 0, the factory tariff; when the tariff the
   * terminal row was created with differs, that one becomes version 1 (sent at its next session).
   */
  ensure(terminal: string): void {
    if (this.#store.tariffVersions(terminal).length > 0) return;
    const row = this.#store.terminal(terminal);
    if (!row) throw new Error(`unknown terminal ${terminal}`);
    const factory = tariffToJson(parseTariff(EXAMPLE_TARIFF_JSON));
    const wanted = tariffToJson(parseTariff({ ...(row.tariff as object), version: 0 }));
    this.#store.transaction(() => {
      this.#store.addTariffVersion(terminal, 0, factory, this.#now());
      if (JSON.stringify(wanted) !== JSON.stringify(factory)) this.#store.addTariffVersion(terminal, 1, { ...wanted, version: 1 }, this.#now());
    });
    this.#state.delete(terminal);
  }

  /**
   * An admin's new tariff for a terminal: validated by the terminal's own parser, made the next
   * version, stored, sent down. Returns the version. A count's yen value cannot change under the
   * cards issued.
   */
  set(terminal: string, input: unknown): number {
    const versions = this.#versions(terminal);
    const current = this.current(terminal);
    const next = Math.max(...versions.keys()) + 1;
    const tariff = parseTariff({ ...(input as object), version: next });
    if (tariff.yenPerCount !== current.yenPerCount) throw new Error(`yenPerCount: a count is worth ${current.yenPerCount} yen on the cards issued`);
    this.#store.addTariffVersion(terminal, next, tariffToJson(tariff), this.#now());
    versions.set(next, tariff);
    this.#state.delete(terminal);
    this.#sentAt.delete(terminal);
    this.offer(terminal);
    return next;
  }

  /** The terminal named `version` in a report. */
  confirmed(terminal: string, version: number): void {
    const st = this.#stateOf(terminal);
    if (st && version > st.confirmed) {
      this.#store.confirmTariff(terminal, version);
      st.confirmed = version;
    }
  }

  #stateOf(terminal: string): { version: number; confirmed: number } | null {
    let st = this.#state.get(terminal);
    if (!st) {
      const row = this.#store.terminal(terminal);
      if (!row) return null;
      st = { version: row.tariffVersion, confirmed: row.tariffConfirmed };
      this.#state.set(terminal, st);
    }
    return st;
  }

  /** The terminal is in session: send the version in force if it has not confirmed it (at most every few minutes). */
  offer(terminal: string, force = false): void {
    const st = this.#stateOf(terminal);
    if (!st || st.version === 0 || st.confirmed >= st.version) return;
    const last = this.#sentAt.get(terminal);
    const now = this.#now();
    if (!force && last !== undefined && now - last < RESEND_MS) return;
    this.#sentAt.set(terminal, now);
    this.#send(terminal, st.version, tariffToJson(this.current(terminal)));
  }

  /**
   * A transaction that wrote through here was rolled back (an ingest batch that failed to commit):
   * what was cached from it (a confirmation, a version 0 made on first use) is forgotten, and read
   * again from the store when next needed.
   */
  rolledBack(): void {
    this.#cache.clear();
    this.#state.clear();
  }

  /** Forget what is cached (a terminal re-created). */
  forget(terminal: string): void {
    this.#cache.delete(terminal);
    this.#sentAt.delete(terminal);
    this.#state.delete(terminal);
  }
}
