import { formatTime } from "../firmware/core/time";
import type { CenterStore } from "./store/center-store";
import type { FaultRow, WebStore } from "./store/web-store";

export const MISSED_TEST = "missed-test-call";

export interface SupervisorOptions {
  store: CenterStore;
  web: WebStore;
  /** ms since 1970; injectable so tests (and accelerated scenarios) choose the hour */
  now?: () => number;
  /** the test call interval (default one day) */
  periodSeconds?: number;
  /** slack after it before a fault (default one hour) */
  graceSeconds?: number;
  /** how often to check (default one minute) */
  intervalMs?: number;
  onFault?(f: FaultRow): void;
  onCleared?(f: FaultRow): void;
}

/**
 * Supervision of the dial-up path (EN 50136 style): every terminal that has come online must make
 * its daily test call (message kind "test"). When none has arrived within period + grace of the
 * last one (or of registration, for a terminal that never made one), a `missed-test-call` fault is
 * raised for the operators, once; the next test call clears it.
 */
export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #now: () => number;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(o: SupervisorOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  get limitSeconds(): number {
    return (this.#o.periodSeconds ?? 86400) + (this.#o.graceSeconds ?? 3600);
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.check(), this.#o.intervalMs ?? 60_000);
    this.#timer.unref?.();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  check(): { raised: FaultRow[]; cleared: FaultRow[] } {
    const nowS = Math.floor(this.#now() / 1000);
    const raised: FaultRow[] = [];
    const cleared: FaultRow[] = [];
    for (const t of this.#o.store.terminals()) {
      const since = t.lastTest ?? (t.registeredAt !== null ? Math.floor(t.registeredAt / 1000) : null);
      if (since === null) continue; // never came online: nothing to supervise yet
      const open = this.#o.web.openFault(t.id, MISSED_TEST);
      const late = nowS - since > this.limitSeconds;
      if (late && !open) {
        const hours = Math.floor((nowS - since) / 3600);
        const detail = `${t.lastTest !== null ? "no daily test call since " + formatTime(since) : "no test call since registration at " + formatTime(since)} (${hours} h ago; expected every ${Math.round((this.#o.periodSeconds ?? 86400) / 3600)} h + ${Math.round((this.#o.graceSeconds ?? 3600) / 60)} min grace)`;
        const id = this.#o.web.raiseFault({ terminal: t.id, kind: MISSED_TEST, detail, raisedAt: this.#now() });
        const f = this.#o.web.faults({ terminals: [t.id] }).find((x) => x.id === id) as FaultRow;
        raised.push(f);
        this.#o.onFault?.(f);
      } else if (!late && open && t.lastTest !== null) {
        this.#o.web.clearFault(open.id, this.#now(), `test call at ${formatTime(t.lastTest)}`);
        const f = this.#o.web.faults({ terminals: [t.id] }).find((x) => x.id === open.id) as FaultRow;
        cleared.push(f);
        this.#o.onCleared?.(f);
      }
    }
    return { raised, cleared };
  }
}
