import { frozen } from "../lib/frozen";
import { countsDue } from "../core/counts";
import { FieldError, Reason } from "../core/errors";
import { estimatePlan } from "../core/estimate";
import { EMPTY_METER, Meter, Terms, meterYen, parseMeter } from "../core/contract";
import type { DeviceCounts } from "../core/fee";
import {
  PeriodLog,
  addImages,
  changeDevices,
  changeTerms,
  closePeriod,
  guardedSeconds,
  meterAt,
  openPeriod,
  pausePeriod,
  periodRecord,
  resumePeriod,
} from "../core/history";
import { periodReport } from "../core/period-report";
import { Inventory, Period, Plan, parsePlan, planToJson } from "../core/plan";
import { guardAt } from "../core/scheduler";
import { Tariff, parseTariff, tariffToJson } from "../core/tariff";
import { Seconds, formatTime } from "../core/time";
import type { Store } from "../platform/store";
import type { TerminalConfig } from "./config";

export interface Clock {
  /** wall-clock milliseconds since 1970 */
  now(): number;
}

export interface Timers {
  set(callback: () => void, ms: number): unknown;
  clear(id: unknown): void;
}

export interface TerminalPorts {
  store: Store;
  clock: Clock;
  timers: Timers;
  config: TerminalConfig;
}

/** What the terminal tells the components around it (UI, sensors, card, link). */
export type TerminalEvent =
  | { type: "period.start"; period: Period; at: Seconds }
  | { type: "period.end"; summary: PeriodSummary; at: Seconds; log: PeriodLog }
  | { type: "plan.changed"; plan: Plan; at: Seconds };

export type TerminalListener = (event: TerminalEvent) => void;

/**
 * A component's part of the terminal's snapshot: it writes its own keys into `out`. The component
 * itself is added (one array element), not a closure per key (about ten heap slots each, fifteen
 * of them at the walk-through's peak: bench/memory.ts).
 */
export interface SnapshotPart {
  snapshotInto(out: Record<string, unknown>): void;
}

/** The outcome of a user or center request: applied, or refused with the field named. */
export type Result = { ok: true } | { ok: false; field: string; error: string; reason?: Reason };

/** A closed period as the ledger keeps it (times in seconds). */
export interface PeriodSummary {
  start: Seconds;
  end: Seconds;
  pattern: number;
  sensors: number;
  cameras: number;
  yenPerHour: number;
  hours: number;
  baseYen: number;
  yen: number;
  images: number;
  intervals: number;
}

interface Ledger {
  /** the contract meter after every closed period (core/contract.ts) */
  meter: Meter;
  /** the newest closed periods, kept for the reports (the outbox takes them later) */
  rows: PeriodSummary[];
  /** start of the last period closed: finishes a close cut short by a power failure */
  lastClosedStart: Seconds | null;
  closedCount: number;
}

interface StoredPeriod {
  log: PeriodLog;
  /** when the log was written (the terminal was guarding then) */
  checkpoint: Seconds;
}

const KEY_TARIFF = "tariff";
const KEY_PLAN = "plan";
const KEY_PERIOD = "period";
const KEY_LEDGER = "ledger";
const KEY_BOOTS = "boots";
/** A small record rewritten every checkpointSeconds while guarding: the last time known guarded. */
const KEY_CHECKPOINT = "ckpt";
/** The report of the last period closed, written before the ledger: {closedCount, report}. */
const KEY_REPORT = "lastrep";
const MAX_ROWS = 10; // keeps the ledger record under the 4000-byte preference limit

const EMPTY_LEDGER: Ledger = frozen({ meter: EMPTY_METER, rows: [], lastClosedStart: null, closedCount: 0 });

/** A closed period's report not yet handed to the outbox (the link queues it). */
export interface PendingReport {
  closedCount: number;
  report: Record<string, unknown>;
}

function failure(e: unknown): Result {
  if (e instanceof FieldError) return e.reason ? { ok: false, field: e.field, error: e.message, reason: e.reason } : { ok: false, field: e.field, error: e.message };
  return { ok: false, field: "", error: e instanceof Error ? e.message : String(e) };
}

function samePeriod(a: Period, b: Period): boolean {
  return (
    a.start === b.start &&
    a.end === b.end &&
    a.pattern === b.pattern &&
    a.devices.sensor === b.devices.sensor &&
    a.devices.camera === b.devices.camera &&
    a.devices.door === b.devices.door &&
    a.devices.smoke === b.devices.smoke &&
    a.sensorIds.join() === b.sensorIds.join() &&
    a.cameraIds.join() === b.cameraIds.join()
  );
}

/**
 * The terminal application: keeps the plan, guards by the scheduler, records what operated and
 * what it costs. All state that must survive a power cut goes through the Store; all time comes
 * from the clock port; all waiting is one timer.
 */
export class Terminal {
  #ports: TerminalPorts;
  #tariff: Tariff;
  /** the version before the current one: an interval still open under it is closed with it */
  #previousTariff: Tariff | null = null;
  #plan: Plan = { contract: "continuous", rental: null, periods: [] };
  #ledger: Ledger = EMPTY_LEDGER;
  #log: PeriodLog | null = null;
  #lastCheckpoint: Seconds = 0;
  #timer: unknown = undefined;
  #boots = 0;
  #errors: string[] = [];
  #listeners: TerminalListener[] = [];
  #snapshotParts: SnapshotPart[] = [];
  #inventory: Inventory | undefined = undefined;

  constructor(ports: TerminalPorts) {
    this.#ports = ports;
    this.#tariff = parseTariff(ports.config.tariff);
  }

  /** Components (UI, sensor hub, card, link) listen here. */
  onEvent(listener: TerminalListener): void {
    this.#listeners.push(listener);
  }

  /** Components add their part of the snapshot, under their own keys. */
  addSnapshotPart(part: SnapshotPart): void {
    this.#snapshotParts.push(part);
  }

  #emit(event: TerminalEvent): void {
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch (e) {
        this.#errors.push(`listener failed on ${event.type}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** The period being guarded now, or null. */
  get activePeriod(): Period | null {
    return this.#log ? this.#log.period : null;
  }

  /**
   * What is operating changed (a sensor dropped off or came back): billing follows from now.
   * `devices` counts the chosen devices that are operating.
   */
  setOperating(devices: DeviceCounts): void {
    if (!this.#log || !this.#log.open) return;
    const open = this.#log.open.devices;
    if (open.sensor === devices.sensor && open.camera === devices.camera && open.door === devices.door && open.smoke === devices.smoke) return;
    const t = this.now();
    this.#log = changeDevices(this.#log, t, devices, this.#tariffFor(this.#log.open.version));
    this.#persistPeriod(t);
  }

  /** Images sent for the running period (billed at the tariff's image price). */
  addImages(count: number): void {
    if (!this.#log || count <= 0) return;
    this.#log = addImages(this.#log, count, (v) => this.#tariffFor(v));
    this.#persistPeriod(this.now());
  }

  get tariff(): Tariff {
    return this.#tariff;
  }
  get plan(): Plan {
    return this.#plan;
  }

  /** Seconds now, from the clock port. */
  now(): Seconds {
    return Math.floor(this.#ports.clock.now() / 1000);
  }

  boot(): void {
    const store = this.#ports.store;
    const boots = store.readJson(KEY_BOOTS);
    this.#boots = (typeof boots === "number" ? boots : 0) + 1;
    store.writeJson(KEY_BOOTS, this.#boots);

    const stored = store.readJson(KEY_TARIFF) as { current?: unknown; previous?: unknown } | undefined;
    if (stored !== undefined) {
      // {current, previous}; an older record is the tariff alone
      const current = stored !== null && typeof stored === "object" && "current" in stored ? stored.current : stored;
      this.#tariff = this.#recover(() => parseTariff(current), "stored tariff", this.#tariff);
      if (stored !== null && typeof stored === "object" && stored.previous) this.#previousTariff = this.#recover(() => parseTariff(stored.previous), "stored previous tariff", null);
    }
    const plan = store.readJson(KEY_PLAN);
    if (plan !== undefined) this.#plan = this.#recover(() => parsePlan(plan, this.#tariff, this.#planOptions()), "stored plan", this.#plan);
    const ledger = store.readJson(KEY_LEDGER) as (Ledger & { rateSeconds?: number }) | undefined;
    if (ledger !== undefined) this.#ledger = this.#recover(() => readLedger(ledger, this.#terms().permille), "stored ledger", this.#ledger);

    const period = store.readJson(KEY_PERIOD) as StoredPeriod | undefined;
    if (period !== undefined) {
      if (this.#ledger.lastClosedStart === period.log.start) {
        store.delete(KEY_PERIOD); // the close was recorded; only the delete was cut short
      } else {
        // Power was lost: nothing is known to have been guarded after the last checkpoint.
        const ckpt = store.readJson(KEY_CHECKPOINT);
        const last = typeof ckpt === "number" && ckpt > period.checkpoint ? ckpt : period.checkpoint;
        const log = period.log;
        this.#log = this.#recover<PeriodLog | null>(() => {
          if (!parseMeter(log.meter) || !log.terms) throw new Error("written by an older firmware");
          return pausePeriod(log, last, this.#tariffFor(log.open ? log.open.version : this.#tariff.version));
        }, "stored period", null);
        this.#lastCheckpoint = last;
      }
    }
    this.#evaluate();
  }

  /**
   * Records now as guarded (a planned power-down, e.g. the demo stopped with Ctrl-C; on a board a
   * power-fail warning would call it): a restart at this same instant then bills what an unbroken
   * run bills, since the time between the last checkpoint and the power-down is not lost.
   */
  checkpointNow(): void {
    if (!this.#log || !this.#log.open) return;
    const t = this.now();
    this.#ports.store.writeJson(KEY_CHECKPOINT, t);
    this.#lastCheckpoint = t;
  }

  /** Replaces the plan after validating it; an error names the field and changes nothing. */
  setPlan(input: unknown): Result {
    let plan: Plan;
    try {
      plan = parsePlan(input, this.#tariff, this.#planOptions());
    } catch (e) {
      return failure(e);
    }
    const before = this.#terms();
    this.#plan = plan;
    this.#ports.store.writeJson(KEY_PLAN, planToJson(plan, this.#ports.config.zoneMinutes));
    const after = this.#terms();
    if (this.#log && after.permille !== before.permille) {
      // A contract change applies from the change on: time already billed keeps its coefficient.
      const t = this.now();
      this.#log = changeTerms(this.#log, t, this.#tariff, after);
      this.#persistPeriod(t);
    }
    this.#evaluate();
    this.#emit({ type: "plan.changed", plan, at: this.now() });
    return { ok: true };
  }

  /**
   * A tariff version from the center (or the host's `tariff.set`): it applies from now on. The
   * running interval closes under the old version; nothing accrued is re-priced. An older or the
   * same version is ignored; the card's count value cannot change under cards already issued.
   */
  setTariff(input: unknown): Result {
    let tariff: Tariff;
    try {
      tariff = parseTariff(input);
      if (tariff.yenPerCount !== this.#tariff.yenPerCount) {
        return { ok: false, field: "yenPerCount", error: `a count is worth ${this.#tariff.yenPerCount} yen on the cards issued; a tariff cannot change it` };
      }
      if (tariff.version !== 0 && tariff.version <= this.#tariff.version) return { ok: true }; // already applied
      parsePlan(planToJson(this.#plan, this.#ports.config.zoneMinutes), tariff, this.#planOptions());
    } catch (e) {
      return failure(e);
    }
    const t = this.now();
    const old = this.#tariff;
    // The new version first, the old one kept beside it: a cut before the period is written
    // leaves the open interval naming the old version, which boot still has to close it with.
    this.#ports.store.writeJson(KEY_TARIFF, { current: tariffToJson(tariff), previous: tariffToJson(old) });
    this.#previousTariff = old;
    this.#tariff = tariff;
    if (this.#log) this.#log = changeTerms(this.#log, t, old, this.#terms());
    this.#persistPeriod(t);
    this.#evaluate();
    return { ok: true };
  }

  /** What the running time is billed by now: the tariff version and the contract's coefficient. */
  #terms(): Terms {
    return { version: this.#tariff.version, permille: this.#tariff.contractsPermille[this.#plan.contract] };
  }

  /** The tariff of a version the terminal still has (the current one, or the one before). */
  #tariffFor(version: number): Tariff {
    if (version === this.#tariff.version || !this.#previousTariff || this.#previousTariff.version !== version) return this.#tariff;
    return this.#previousTariff;
  }

  /** The estimate of a plan (not stored), for the plan-entry screens and the CLI. */
  estimate(input: unknown, cardCounts: number | null): ReturnType<typeof estimatePlan> {
    return estimatePlan(parsePlan(input, this.#tariff, this.#planOptions()), this.#tariff, cardCounts);
  }

  /** Runs the scheduler now: the timer calls this; so does every change. */
  #evaluate(): void {
    const t = this.now();
    const guard = guardAt(this.#plan, t);
    if (this.#log) {
      const log = this.#log;
      const stillPlanned = guard.active !== null && samePeriod(this.#plan.periods[guard.active], log.period);
      if (!stillPlanned || t >= log.period.end) {
        const lastGuarded = log.open ? Math.min(t, log.period.end) : this.#lastCheckpoint;
        this.#closePeriod(Math.max(lastGuarded, log.start));
      } else if (!log.open) {
        this.#log = resumePeriod(log, t, log.period.devices, this.#terms());
        this.#persistPeriod(t);
      } else if (t - this.#lastCheckpoint >= this.#ports.config.checkpointSeconds) {
        this.#ports.store.writeJson(KEY_CHECKPOINT, t);
        this.#lastCheckpoint = t;
      }
    }
    if (!this.#log && guard.active !== null) {
      this.#log = openPeriod(this.#plan.periods[guard.active], t, this.#terms(), this.#ledger.meter);
      this.#persistPeriod(t);
      this.#emit({ type: "period.start", period: this.#log.period, at: t });
    }
    this.#schedule(t, guard.next ? guard.next.at : null);
  }

  #schedule(t: Seconds, nextTransition: Seconds | null): void {
    const timers = this.#ports.timers;
    if (this.#timer !== undefined) timers.clear(this.#timer);
    this.#timer = undefined;
    let wake = nextTransition;
    if (this.#log && this.#log.open) {
      const checkpoint = this.#lastCheckpoint + this.#ports.config.checkpointSeconds;
      if (wake === null || checkpoint < wake) wake = checkpoint;
    }
    if (wake === null) return;
    const delayMs = Math.max(0, wake * 1000 - this.#ports.clock.now());
    this.#timer = timers.set(() => {
      this.#timer = undefined;
      this.#evaluate();
    }, delayMs);
  }

  #closePeriod(at: Seconds): void {
    const open = this.#log as PeriodLog;
    const tariff = this.#tariffFor(open.open ? open.open.version : this.#tariff.version);
    const log = closePeriod(open, at, tariff);
    const row = periodRecord(log, tariff, at);
    const summary: PeriodSummary = { ...row, images: log.images, intervals: log.intervals.length + log.folded };
    const rows = this.#ledger.rows.concat([summary]);
    const closedCount = this.#ledger.closedCount + 1;
    this.#ledger = {
      meter: log.meter,
      rows: rows.length > MAX_ROWS ? rows.slice(rows.length - MAX_ROWS) : rows,
      lastClosedStart: log.start,
      closedCount,
    };
    // The close and its report are one durable step: the report first (under the count the ledger
    // will have), then the ledger, then drop the running period. A cut before the ledger write
    // leaves the period running (the report is superseded); after it, boot finishes the delete and
    // the link re-queues the report it did not queue (pendingReport).
    const pending: PendingReport = { closedCount, report: periodReport(log, tariff, this.#plan.contract, at) };
    this.#ports.store.writeJson(KEY_REPORT, pending);
    this.#ports.store.writeJson(KEY_LEDGER, this.#ledger);
    this.#ports.store.delete(KEY_PERIOD);
    this.#log = null;
    this.#emit({ type: "period.end", summary, at, log });
  }

  #persistPeriod(t: Seconds): void {
    if (!this.#log) return;
    const stored: StoredPeriod = { log: this.#log, checkpoint: t };
    this.#ports.store.writeJson(KEY_PERIOD, stored);
    this.#lastCheckpoint = t;
  }

  /** The sensor table: once set, a plan's chosen devices must be in it. */
  setInventory(inventory: Inventory): void {
    this.#inventory = inventory;
  }

  #planOptions() {
    return { zoneMinutes: this.#ports.config.zoneMinutes, inventory: this.#inventory };
  }

  #recover<T>(parse: () => T, what: string, fallback: T): T {
    try {
      return parse();
    } catch (e) {
      this.#errors.push(`${what} refused: ${e instanceof Error ? e.message : String(e)}`);
      return fallback;
    }
  }

  /** Yen owed for the contract by `t`: one floor per contract segment (core/contract.ts). */
  #owedAt(t: Seconds): number {
    if (!this.#log) return meterYen(this.#ledger.meter);
    return meterYen(meterAt(this.#log, this.#tariffFor(this.#log.open ? this.#log.open.version : this.#tariff.version), t));
  }

  /** Yen owed for the contract so far (what the LCD and the snapshot show). */
  owedYen(): number {
    return this.#owedAt(this.now());
  }

  /**
   * Yen owed for time already made durable: the card takes counts for this figure only, so a
   * power cut (which rolls a running period back to its last checkpoint) can never leave more
   * taken than owed. Guarding, it first writes the checkpoint at now, so nothing waits for it.
   */
  durableOwedYen(): number {
    const t = this.now();
    if (t > this.#lastCheckpoint) this.checkpointNow();
    return this.#owedAt(this.#log && this.#log.open ? this.#lastCheckpoint : t);
  }

  /** Periods closed so far (the link compares it with what it queued). */
  get closedCount(): number {
    return this.#ledger.closedCount;
  }

  /** The last closed period's report when it is newer than `queued` (a cut before the link queued it). */
  pendingReport(queued: number): PendingReport | null {
    if (this.#ledger.closedCount <= queued) return null;
    const r = this.#ports.store.readJson(KEY_REPORT) as PendingReport | undefined;
    return r && r.closedCount === this.#ledger.closedCount && r.report && typeof r.report === "object" ? r : null;
  }

  /** The state as one plain object (the simulator prints it; the UI and reports read it). */
  snapshot(): Record<string, unknown> {
    const t = this.now();
    const zone = this.#ports.config.zoneMinutes;
    const guard = guardAt(this.#plan, t);
    const permille = this.#terms().permille;
    const show = (r: PeriodSummary | ReturnType<typeof periodRecord>, open: boolean) => ({
      ...r,
      start: formatTime(r.start, zone),
      end: formatTime(r.end, zone),
      open,
    });
    const periods: Record<string, unknown>[] = this.#ledger.rows.map((r) => show(r, false));
    if (this.#log) periods.push(show(periodRecord(this.#log, this.#tariffFor(this.#log.open ? this.#log.open.version : this.#tariff.version), t), true));
    const owed = this.owedYen();
    const out: Record<string, unknown> = {
      terminal: this.#ports.config.terminalId,
      time: formatTime(t, zone),
      boots: this.#boots,
      guarding: this.#log !== null && this.#log.open !== null,
      activePeriod: guard.active,
      next: guard.next ? { at: formatTime(guard.next.at, zone), kind: guard.next.kind, period: guard.next.period } : null,
      plan: planToJson(this.#plan, zone),
      periods,
      periodsClosed: this.#ledger.closedCount,
      guardedSeconds: this.#log ? guardedSeconds(this.#log, t) : 0,
      coefficient: permille / 1000,
      tariffVersion: this.#tariff.version,
      owedYen: owed,
      countsDue: countsDue(owed, this.#tariff.yenPerCount),
      storage: { writes: this.#ports.store.writes, rejected: this.#ports.store.rejected },
      errors: this.#errors.slice(),
    };
    for (const part of this.#snapshotParts) part.snapshotInto(out);
    return out;
  }
}

/** The ledger as stored; an older record (one rate-seconds sum) becomes one contract segment. */
function readLedger(stored: Ledger & { rateSeconds?: number }, permille: number): Ledger {
  const meter = parseMeter(stored.meter) ?? (typeof stored.rateSeconds === "number" ? { closedYen: 0, permille, rateSeconds: stored.rateSeconds } : null);
  if (!meter || !Array.isArray(stored.rows) || typeof stored.closedCount !== "number") throw new Error("malformed ledger");
  return { meter, rows: stored.rows, lastClosedStart: stored.lastClosedStart ?? null, closedCount: stored.closedCount };
}
