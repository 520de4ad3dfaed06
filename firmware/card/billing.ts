import { POLICY_START, PolicyEffect, PolicyState, Taken, countsToCollect, debtCounts, policyIdle, policyStep } from "../core/card-policy";
import { countsDue } from "../core/counts";
import { frozen } from "../lib/frozen";
import { estimatePlan } from "../core/estimate";
import type { Period } from "../core/plan";
import { planToJson } from "../core/plan";
import { DAY, Seconds, formatTime, minuteOfDay } from "../core/time";
import type { Terminal, Timers } from "../app/terminal";
import type { PN532 } from "../drivers/pn532";
import type { Store } from "../platform/store";
import type { CardConfig } from "./config";
import { CardError, terminalTag, toHex } from "./layout";
import { CardView, LedgerRow, Purse } from "./purse";
import type { SlotSwitch } from "./slot-switch";

export type { CardMode } from "../core/card-policy";

/** A warning for the LCD and the center (low credit, no credit, policy decisions, refusals). */
export interface CardNotice {
  at: Seconds;
  kind: "card.low" | "card.none" | "card.emergency" | "card.friendly" | "card.stopped" | "card.refused" | "card.reader";
  card?: number;
  counts?: number;
  note: string;
}

/** The policy's state (core/card-policy.ts) and what the shell keeps beside it. */
interface BillState extends PolicyState {
  /** the card already warned as low */
  lowCard: number | null;
  /** waiting for the center (the link takes them) */
  notices: CardNotice[];
  /** counts taken (fee and surcharge) when the running period started */
  periodTaken?: number;
  /** the period guarding stopped for lack of credit (its plan entry), resumed if credit comes back in time */
  stoppedPeriod?: { entry: Record<string, unknown>; end: Seconds } | null;
}

const KEY_STATE = "cardbill";
const MAX_NOTICES = 8;
const INITIAL: BillState = frozen({ ...POLICY_START, lowCard: null, notices: [] });

/** What the card has given for the contract so far, for the center's reports. */
export interface CardTotals {
  /** counts taken toward the fee (cumulative) */
  taken: number;
  /** counts of emergency surcharge taken (cumulative) */
  surcharge: number;
  /** the card in the slot */
  cardId: string | null;
  /** counts due and not taken, in yen */
  debtYen: number;
}

export interface CardBillingOptions {
  terminal: Terminal;
  reader: PN532;
  store: Store;
  timers: Timers;
  config: CardConfig;
  /** the slot's card-present contact (config.card.detect); without one the reader is polled */
  slot?: SlotSwitch | null;
  terminalId: string;
  zoneMinutes: number;
  /** the LCD's warning line for the card (null clears it) */
  warn?: (text: string | null) => void;
  /** what the card shows changed (the UI redraws) */
  changed?: () => void;
}

/**
 * The prepaid card in the terminal: watches the slot through the PN532, collects counts as the
 * fee accrues (DESIGN §2, cumulative: taken = floor(owed / yen per count)), warns when the card
 * runs low, and applies the configured policy when it is empty or absent: stop guarding, or go on
 * with emergency credit at a surcharge kept as debt for the next card. Guarding is never stopped
 * inside the night window.
 */
export class CardBilling {
  #o: CardBillingOptions;
  #purse: Purse;
  #state: BillState;
  #readerReady = false;
  #readerError: string | null = null;
  #uid: string | null = null;
  #card: CardView | null = null;
  #refused: string | null = null;
  #lastCollect: Seconds = -1;
  #timer: unknown = undefined;
  #busy = false;
  #polled = false;
  #backoffMs = 0;
  #errors: string[] = [];
  #listeners: Array<(n: CardNotice) => void> = [];
  #shown: string = "";

  constructor(options: CardBillingOptions) {
    this.#o = options;
    const c = options.config;
    this.#purse = new Purse({ store: options.store, port: options.reader, keys: { keyA: c.keyA, macKey: c.macKey }, tag: terminalTag(options.terminalId), maxCounts: c.maxCounts });
    const s = options.store.readJson(KEY_STATE) as BillState | undefined;
    this.#state = s && typeof s.mode === "string" ? s : { ...INITIAL };
    const t = options.terminal;
    t.onEvent((e) => {
      if (e.type === "period.start") {
        this.#lastCollect = e.at;
        this.#save({ ...this.#state, periodTaken: this.#purse.taken + this.#purse.surchargeTaken });
        this.#evaluate();
      } else if (e.type === "period.end") {
        this.#collect();
        this.#evaluate();
        // The period's line in the card ledger: what it cost in counts, what is left as debt.
        const taken = this.#purse.taken + this.#purse.surchargeTaken - (this.#state.periodTaken ?? 0);
        const zone = this.#o.zoneMinutes;
        this.#purse.note({
          at: e.at,
          kind: "period",
          counts: taken,
          note: `period ${formatTime(e.summary.start, zone)}–${formatTime(e.summary.end, zone)}: ${e.summary.yen} yen, ${taken} counts taken, debt ${this.#debt()}`,
        });
      } else this.#evaluate();
    });
    t.addSnapshotPart(this);
    // The first look at the slot comes right after boot (timers run once the terminal is up).
    this.#timer = options.timers.set(() => this.#tick(), 0);
  }

  /** its part of the terminal's snapshot */
  snapshotInto(out: Record<string, unknown>): void {
    out.card = this.status();
    out.cardLedger = this.#purse.rows.map((r) => ({ ...r, at: formatTime(r.at, this.#o.zoneMinutes) }));
  }

  /** What the card has given so far (asked by the link for each period report). */
  totals(): CardTotals {
    return {
      taken: this.#purse.taken,
      surcharge: this.#purse.surchargeTaken,
      cardId: this.#card ? String(this.#card.identity.cardId) : null,
      debtYen: this.#debt() * this.#o.terminal.tariff.yenPerCount,
    };
  }

  /** The UI listens for warnings here. */
  onNotice(listener: (n: CardNotice) => void): void {
    this.#listeners.push(listener);
  }

  /** Warnings waiting for the center; the link takes them when it dials. */
  takeNotices(): CardNotice[] {
    const out = this.#state.notices;
    if (out.length > 0) this.#save({ ...this.#state, notices: [] });
    return out;
  }

  get card(): CardView | null {
    return this.#card;
  }

  status(): Record<string, unknown> {
    const t = this.#o.terminal.now();
    const card = this.#card;
    const debt = this.#debt();
    const doubt = this.#purse.inDoubt();
    const threshold = this.#lowThreshold(t);
    const needed = this.#countsFrom(t, null) + debt;
    return {
      present: card !== null,
      id: card ? card.identity.cardId : null,
      uid: card ? card.uidHex : this.#uid,
      counts: card ? card.counts : null,
      debt,
      taken: this.#purse.taken,
      surchargeTaken: this.#purse.surchargeTaken,
      due: this.#due(),
      inDoubt: doubt.fee + doubt.surcharge,
      mode: this.#state.mode,
      policy: this.#o.config.policy,
      low: card !== null && threshold > 0 && card.counts <= threshold,
      lowThreshold: threshold,
      needed,
      left: card ? card.counts - needed : null,
      refused: this.#refused,
      warning: this.warning(),
      reader: this.#readerError ?? "ok",
      transactions: this.#purse.transactions,
      notices: this.#state.notices.length,
      errors: this.#errors.slice(),
    };
  }

  // -- the slot --

  #tick(): void {
    // A reader that does not answer is tried again less and less often (at most once a minute).
    const c = this.#o.config;
    this.#timer = this.#o.timers.set(() => this.#tick(), this.#readerError ? this.#backoffMs : this.#card ? c.presenceMs : c.pollMs);
    this.#guard(() => {
      if (this.#readerWanted()) this.#poll();
      const t = this.#o.terminal.now();
      if (this.#lastCollect < 0) this.#lastCollect = t;
      if (this.#o.terminal.activePeriod && t - this.#lastCollect >= this.#o.config.collectMs / 1000) {
        this.#lastCollect = t;
        this.#collect();
      }
      this.#evaluate();
    });
    this.#show();
  }

  /** The LCD's warning, by what matters most. */
  warning(): string | null {
    const card = this.#card;
    switch (this.#state.mode) {
      case "stopped":
        return "Stopped: no credit";
      case "emergency":
        return `Emergency credit ${this.#debt()}`;
      case "friendly":
        return "No credit: night";
      case "grace":
        return card ? "Card empty" : "Insert card";
    }
    if (this.#refused) return "Card refused";
    if (card && this.#state.lowCard === card.identity.cardId) return `Card low: ${card.counts} left`;
    return null;
  }

  #show(): void {
    const warning = this.warning();
    const shown = `${warning}|${this.#card ? this.#card.counts : "-"}`;
    if (shown === this.#shown) return;
    this.#shown = shown;
    try {
      this.#o.warn?.(warning);
      this.#o.changed?.();
    } catch (e) {
      this.#error(`ui: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  #guard(run: () => void): void {
    if (this.#busy) return;
    this.#busy = true;
    try {
      run();
    } catch (e) {
      this.#error(e instanceof Error ? e.message : String(e));
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Whether this tick must ask the PN532 about the slot. Without a card-present contact, always.
   * With one, only when the contact moved, the reader is not up, or what the last look found is not
   * settled (a card in but not read yet, refused or with an interrupted deduction to settle): a
   * look then would find exactly what is known, so the reader is left alone.
   */
  #readerWanted(): boolean {
    const slot = this.#o.slot;
    if (!slot || !this.#readerReady || this.#readerError !== null) return true;
    if (slot.takeMoved()) return true;
    if (!slot.present) return this.#uid !== null;
    return this.#uid === null || (this.#refused === null && (this.#card === null || this.#purse.journal !== null));
  }

  #poll(): void {
    const reader = this.#o.reader;
    let uid: Uint8Array | null;
    try {
      if (!this.#readerReady) {
        const v = reader.firmwareVersion();
        if (v.ic !== 0x32) throw new Error(`not a PN532 (IC 0x${v.ic.toString(16)})`);
        reader.samConfiguration();
        reader.setPassiveRetries(1);
        this.#readerReady = true;
      }
      if (this.#uid !== null) {
        try {
          reader.release(); // the card stays in the field: let it be selected afresh
        } catch {
          // nothing was selected
        }
      }
      uid = reader.listPassiveTarget();
      this.#readerError = null;
      this.#backoffMs = 0;
    } catch (e) {
      // No reader (or a broken one): the card is unknown. Guarding is not stopped for a reader
      // fault; what accrues stays due and is taken from the next card read.
      if (this.#readerError === null) this.#notify({ at: this.#o.terminal.now(), kind: "card.reader", note: `card reader fault: ${e instanceof Error ? e.message : String(e)}` });
      this.#readerReady = false;
      this.#readerError = e instanceof Error ? e.message : String(e);
      this.#backoffMs = Math.min(60000, Math.max(this.#o.config.pollMs, this.#backoffMs * 2));
      this.#card = null;
      this.#uid = null;
      return;
    }
    const t = this.#o.terminal.now();
    if (!uid) {
      if (this.#uid !== null) this.#purse.note({ at: t, kind: "removed", card: this.#card ? this.#card.identity.cardId : undefined });
      this.#uid = null;
      this.#card = null;
      this.#refused = null;
      this.#polled = true;
      return;
    }
    this.#polled = true;
    const hex = toHex(uid);
    if (hex === this.#uid && (this.#refused !== null || (this.#card !== null && !this.#purse.journal))) return;
    const fresh = hex !== this.#uid;
    this.#uid = hex;
    this.#insert(uid, t, fresh);
  }

  #insert(uid: Uint8Array, t: Seconds, fresh: boolean): void {
    this.#card = null;
    try {
      let view = this.#purse.read(uid);
      view = this.#purse.resolve(view, t);
      this.#purse.accept(view);
      this.#purse.see(view, t);
      this.#card = view;
      this.#refused = null;
      if (fresh) this.#purse.note({ at: t, kind: "inserted", card: view.identity.cardId, counts: view.counts });
    } catch (e) {
      const err = e instanceof CardError ? e : new CardError("io", e instanceof Error ? e.message : String(e));
      if (err.code === "absent" || err.code === "io") {
        this.#uid = null; // look again at the next poll
        return;
      }
      this.#refused = err.message;
      this.#purse.note({ at: t, kind: "refused", note: err.message });
      this.#notify({ at: t, kind: "card.refused", note: err.message });
      return;
    }
    this.#evaluate();
    this.#collect();
  }

  // -- collecting --

  #collect(): void {
    const card = this.#card;
    if (!card) return;
    const t = this.#o.terminal.now();
    // Counts only for time already durable: a power cut can never leave more taken than owed.
    const { fee: f, surcharge: s } = countsToCollect(this.#state, this.#o.config, this.#o.terminal.durableOwedYen(), this.#o.terminal.tariff.yenPerCount, this.#taken(), card.counts);
    if (f + s > 0) {
      try {
        this.#card = this.#purse.deduct(card, f, s, t);
      } catch (e) {
        this.#card = null; // read again (and settle the journal) at the next poll
        this.#uid = null;
        this.#error(e instanceof Error ? e.message : String(e));
        return;
      }
    }
    this.#checkLow(t);
  }

  #due(): number {
    return countsDue(this.#o.terminal.owedYen(), this.#o.terminal.tariff.yenPerCount);
  }

  #taken(): Taken {
    const doubt = this.#purse.inDoubt();
    return { fee: this.#purse.taken, surcharge: this.#purse.surchargeTaken, doubtFee: doubt.fee, doubtSurcharge: doubt.surcharge };
  }

  /** Counts due and not taken (fee and surcharge), beyond what is in doubt. */
  #debt(): number {
    return debtCounts(this.#state, this.#o.config, this.#o.terminal.owedYen(), this.#o.terminal.tariff.yenPerCount, this.#taken());
  }

  #checkLow(t: Seconds): void {
    const card = this.#card;
    if (!card) return;
    const threshold = this.#lowThreshold(t);
    const low = threshold > 0 && card.counts <= threshold;
    const id = card.identity.cardId;
    if (low && this.#state.lowCard !== id) {
      const note = `card ${id} is low: ${card.counts} counts left, the next 24 hours need ${threshold}`;
      this.#purse.note({ at: t, kind: "low", card: id, counts: card.counts, note });
      this.#save({ ...this.#state, lowCard: id });
      this.#notify({ at: t, kind: "card.low", card: id, counts: card.counts, note });
    } else if (!low && this.#state.lowCard === id) {
      this.#save({ ...this.#state, lowCard: null });
    }
  }

  #lowThreshold(t: Seconds): number {
    return this.#o.config.lowCounts ?? this.#countsFrom(t, t + DAY);
  }

  /** Counts the plan needs from `from` to `to` (null: to its end), by the estimate's rule. */
  #countsFrom(from: Seconds, to: Seconds | null): number {
    const plan = this.#o.terminal.plan;
    const periods: Period[] = [];
    for (const p of plan.periods) {
      const start = Math.max(p.start, from);
      const end = to === null ? p.end : Math.min(p.end, to);
      if (end > start) periods.push({ ...p, start, end });
    }
    if (periods.length === 0) return 0;
    return estimatePlan({ contract: plan.contract, rental: null, periods }, this.#o.terminal.tariff).counts;
  }

  // -- the policy --

  #evaluate(): void {
    if (!this.#polled || this.#readerError !== null) return; // nothing is known of the slot (no reader answers)
    const terminal = this.#o.terminal;
    const before = this.#state;
    const guarding = terminal.activePeriod !== null;
    const credit = this.#card !== null && this.#card.counts > 0;
    if (policyIdle(before, guarding, credit)) return; // nothing to decide: no input to gather (every look at the slot comes here)
    const t = terminal.now();
    const why = this.#card ? `card ${this.#card.identity.cardId} is empty` : this.#refused ? "the card was refused" : "no card";
    const input = { t, minuteOfDay: minuteOfDay(t, this.#o.zoneMinutes), guarding, credit, due: this.#due(), why };
    const step = policyStep(before, this.#o.config, input);
    if (step.state === before) return;
    const stopped = before.mode === "stopped" ? before.stoppedPeriod ?? null : null;
    this.#save({ ...before, ...step.state, stoppedPeriod: step.state.mode === "ok" ? null : before.stoppedPeriod });
    for (const e of step.effects) this.#carryOut(e, t, stopped);
  }

  #carryOut(e: PolicyEffect, t: Seconds, stopped: BillState["stoppedPeriod"]): void {
    switch (e.do) {
      case "note":
        this.#purse.note({ at: t, kind: "policy", note: e.note, counts: e.counts });
        break;
      case "notify":
        this.#decide(t, e.kind, e.note);
        break;
      case "stop":
        this.#stop(t, e.why);
        break;
      case "resume":
        if (stopped && t < stopped.end) this.#resume(t, stopped);
        break;
    }
  }

  #stop(t: Seconds, why: string): void {
    const terminal = this.#o.terminal;
    const active = terminal.activePeriod;
    if (!active) return;
    const zone = this.#o.zoneMinutes;
    const json = planToJson(terminal.plan, zone) as { periods: Array<Record<string, unknown>> };
    const index = terminal.plan.periods.findIndex((p) => p.start === active.start && p.end === active.end);
    if (index < 0) return;
    this.#save({ ...this.#state, stoppedPeriod: { entry: json.periods[index], end: active.end } });
    if (t > active.start) json.periods[index] = { ...json.periods[index], end: formatTime(t, zone) };
    else json.periods.splice(index, 1);
    this.#decide(t, "card.stopped", `${why}: guarding stopped at ${formatTime(t, zone)} (planned until ${formatTime(active.end, zone)})`);
    const r = terminal.setPlan(json);
    if (!r.ok) this.#error(`could not stop guarding: ${r.error}`);
  }

  /** Credit came back before the stopped period's planned end: guarding resumes until then. */
  #resume(t: Seconds, stopped: { entry: Record<string, unknown>; end: Seconds }): void {
    const terminal = this.#o.terminal;
    const zone = this.#o.zoneMinutes;
    const json = planToJson(terminal.plan, zone) as { periods: Array<Record<string, unknown>> };
    json.periods.push({ ...stopped.entry, start: formatTime(t, zone), end: formatTime(stopped.end, zone) });
    const r = terminal.setPlan(json);
    if (r.ok) this.#purse.note({ at: t, kind: "policy", note: `guarding resumes until ${formatTime(stopped.end, zone)}` });
    else this.#purse.note({ at: t, kind: "policy", note: `guarding cannot resume: ${r.error}` });
  }

  #decide(t: Seconds, kind: CardNotice["kind"], note: string): void {
    this.#purse.note({ at: t, kind: "policy", note });
    this.#notify({ at: t, kind, note });
  }

  #notify(n: CardNotice): void {
    const notices = this.#state.notices.concat([n]);
    this.#save({ ...this.#state, notices: notices.length > MAX_NOTICES ? notices.slice(notices.length - MAX_NOTICES) : notices });
    for (const l of this.#listeners) {
      try {
        l(n);
      } catch (e) {
        this.#error(`notice listener: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  #save(state: BillState): void {
    this.#o.store.writeJson(KEY_STATE, state);
    this.#state = state;
  }

  #error(message: string): void {
    this.#errors.push(message);
    if (this.#errors.length > 8) this.#errors.shift();
  }
}

export type { LedgerRow };
