import { formatTime } from "../firmware/core/time";
import type { CenterStore } from "./store/center-store";
import type { FaultRow, FaultStore } from "./store/fault-store";
import type { SupervisionStore } from "./store/supervision-store";

export const MISSED_TEST = "missed-test-call";

export interface SupervisorOptions {
  store: CenterStore;
  faults: FaultStore;
  supervision: SupervisionStore;
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
 *
 * By due time: the ingest batch writes when each terminal was heard (CenterStore.noteHeard); the
 * sweep asks the store, through an index on that instant, for the overdue terminals without an
 * open fault only, at most `maxPerSweep` at a time (the timer carries on with the rest in the next
 * turns of the event loop), so its cost follows the faults to raise, not the fleet's size.
 */
export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #now: () => number;
  #timer: ReturnType<typeof setInterval> | null = null;
  readonly maxPerSweep: number;

  constructor(o: SupervisorOptions & { maxPerSweep?: number }) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.maxPerSweep = o.maxPerSweep ?? 200;
  }

  get limitSeconds(): number {
    return (this.#o.periodSeconds ?? 86400) + (this.#o.graceSeconds ?? 3600);
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#sweep(), this.#o.intervalMs ?? 60_000);
    this.#timer.unref?.();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #sweep(): void {
    if (!this.#timer) return;
    const { raised } = this.check();
    if (raised.length >= this.maxPerSweep) setImmediate(() => this.#sweep());
  }

  /** A test call from the terminal was stored: clear its missed-test-call fault, if one is open. */
  testCallArrived(terminal: string): FaultRow | null {
    const open = this.#o.faults.openFault(terminal, MISSED_TEST);
    const heard = this.#o.supervision.supervision(terminal);
    if (!open || !heard || heard.lastTestAt === null) return null;
    const since = Math.floor(heard.lastTestAt / 1000);
    const lastTest = this.#o.store.terminal(terminal)?.lastTest ?? null;
    this.#o.faults.clearFault(open.id, this.#now(), `test call received ${formatTime(since)}${lastTest !== null ? ` (terminal time ${formatTime(lastTest)})` : ""}`);
    const f = this.#o.faults.fault(open.id) as FaultRow;
    this.#o.onCleared?.(f);
    return f;
  }

  /** Raises a fault for (at most maxPerSweep of) the overdue terminals without one. */
  check(): { raised: FaultRow[] } {
    const nowS = Math.floor(this.#now() / 1000);
    const raised: FaultRow[] = [];
    // late when nowS - floor(since / 1000) > limit, i.e. since < (nowS - limit) * 1000
    for (const heard of this.#o.supervision.overdue((nowS - this.limitSeconds) * 1000, MISSED_TEST, this.maxPerSweep)) {
      const since = Math.floor((heard.lastTestAt ?? heard.firstHeardAt) / 1000);
      const lastTest = this.#o.store.terminal(heard.terminal)?.lastTest ?? null;
      const hours = Math.floor((nowS - since) / 3600);
      const detail = `${heard.lastTestAt !== null ? `no daily test call since the one received ${formatTime(since)}${lastTest !== null ? ` (terminal time ${formatTime(lastTest)})` : ""}` : "no test call since the terminal was first heard at " + formatTime(since)} (${hours} h ago; expected every ${Math.round((this.#o.periodSeconds ?? 86400) / 3600)} h + ${Math.round((this.#o.graceSeconds ?? 3600) / 60)} min grace)`;
      const id = this.#o.faults.raiseFault({ terminal: heard.terminal, kind: MISSED_TEST, detail, raisedAt: this.#now() });
      const f = this.#o.faults.fault(id) as FaultRow;
      raised.push(f);
      this.#o.onFault?.(f);
    }
    return { raised };
  }
}
