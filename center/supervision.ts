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
 * Supervision of the dial-up path (EN 50136 style): every terminal that has been heard must make
 * its daily test call (message kind "test"). When none has *arrived* within period + grace of the
 * last one (or of the first message heard, for a terminal that never made one), a
 * `missed-test-call` fault is raised for the operators, once; the next test call clears it.
 * Arrivals are timed by the center's own clock (`now`), never the terminal's: a terminal whose
 * clock is off (or a simulation in virtual time) cannot make a fault appear or vanish.
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

  /** A message from the terminal was stored: note when (center clock), and whether it was a test call. */
  heard(terminal: string, testCall: boolean): void {
    this.#o.web.heard(terminal, this.#now(), testCall);
    if (testCall) this.check();
  }

  check(): { raised: FaultRow[]; cleared: FaultRow[] } {
    const nowS = Math.floor(this.#now() / 1000);
    const raised: FaultRow[] = [];
    const cleared: FaultRow[] = [];
    for (const t of this.#o.store.terminals()) {
      const heard = this.#o.web.supervision(t.id);
      if (!heard) continue; // never heard: nothing to supervise yet
      const sinceMs = heard.lastTestAt ?? heard.firstHeardAt;
      const since = Math.floor(sinceMs / 1000);
      const open = this.#o.web.openFault(t.id, MISSED_TEST);
      const late = nowS - since > this.limitSeconds;
      if (late && !open) {
        const hours = Math.floor((nowS - since) / 3600);
        const detail = `${heard.lastTestAt !== null ? `no daily test call since the one received ${formatTime(since)}${t.lastTest !== null ? ` (terminal time ${formatTime(t.lastTest)})` : ""}` : "no test call since the terminal was first heard at " + formatTime(since)} (${hours} h ago; expected every ${Math.round((this.#o.periodSeconds ?? 86400) / 3600)} h + ${Math.round((this.#o.graceSeconds ?? 3600) / 60)} min grace)`;
        const id = this.#o.web.raiseFault({ terminal: t.id, kind: MISSED_TEST, detail, raisedAt: this.#now() });
        const f = this.#o.web.faults({ terminals: [t.id] }).find((x) => x.id === id) as FaultRow;
        raised.push(f);
        this.#o.onFault?.(f);
      } else if (!late && open && heard.lastTestAt !== null) {
        this.#o.web.clearFault(open.id, this.#now(), `test call received ${formatTime(since)}${t.lastTest !== null ? ` (terminal time ${formatTime(t.lastTest)})` : ""}`);
        const f = this.#o.web.faults({ terminals: [t.id] }).find((x) => x.id === open.id) as FaultRow;
        cleared.push(f);
        this.#o.onCleared?.(f);
      }
    }
    return { raised, cleared };
  }
}
