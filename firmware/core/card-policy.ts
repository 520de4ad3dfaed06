import { countsDue, countsToTake } from "./counts";

/**
 * The card's rules (DESIGN §2, §3), as pure functions: what to take from the card now (the
 * deduction rule), what is still owed, and what guarding does when credit runs out (the policy).
 * The card shell (firmware/card/billing.ts) feeds them what it reads and carries out the effects;
 * the center checks a period report's counts against the same bound (center/fee-check.ts).
 */

export type CardMode = "ok" | "grace" | "emergency" | "friendly" | "stopped";

/** The policy's own state (kept durable by the shell). */
export interface PolicyState {
  readonly mode: CardMode;
  /** when guarding found itself without credit */
  readonly since: number | null;
  /** counts guarded on emergency credit in closed stretches */
  readonly emergencyCounts: number;
  /** counts due when the running emergency stretch began */
  readonly emergencyFromDue: number | null;
}

export const POLICY_START: PolicyState = Object.freeze({ mode: "ok", since: null, emergencyCounts: 0, emergencyFromDue: null });

export interface PolicyConfig {
  /** what happens after the grace time without credit, outside the night window */
  readonly policy: "stop" | "emergency";
  readonly graceSeconds: number;
  /** surcharge on emergency credit, per mille of the counts guarded on it */
  readonly surchargePermille: number;
  /** the night window, minutes of the day (guarding is never stopped inside it) */
  readonly nightFrom: number;
  readonly nightTo: number;
}

/** What the card has given and what is in doubt (a deduction whose outcome is not yet known). */
export interface Taken {
  readonly fee: number;
  readonly surcharge: number;
  readonly doubtFee: number;
  readonly doubtSurcharge: number;
}

// -- the deduction rule --

/** Counts of surcharge due by now: per mille of every count guarded on emergency credit. */
export function surchargeDue(state: PolicyState, due: number, permille: number): number {
  let counts = state.emergencyCounts;
  if (state.mode === "emergency" && state.emergencyFromDue !== null) counts += Math.max(0, due - state.emergencyFromDue);
  return Math.floor((counts * permille) / 1000);
}

/**
 * What to take from a card holding `cardCounts` now, for `owedYen` owed by time already durable:
 * the fee first (cumulative, floor(owed / yen per count) in all), then the surcharge, never more
 * than the card holds and never more than is due (what is in doubt counts as taken).
 */
export function countsToCollect(state: PolicyState, config: PolicyConfig, owedYen: number, yenPerCount: number, taken: Taken, cardCounts: number): { fee: number; surcharge: number } {
  const fee = countsToTake(owedYen, yenPerCount, taken.fee + taken.doubtFee);
  const surcharge = Math.max(0, surchargeDue(state, countsDue(owedYen, yenPerCount), config.surchargePermille) - taken.surcharge - taken.doubtSurcharge);
  const f = Math.min(fee, cardCounts);
  return { fee: f, surcharge: Math.min(surcharge, cardCounts - f) };
}

/** Counts due and not taken (fee and surcharge), beyond what is in doubt: debt for the next card. */
export function debtCounts(state: PolicyState, config: PolicyConfig, owedYen: number, yenPerCount: number, taken: Taken): number {
  const due = countsDue(owedYen, yenPerCount);
  const unpaid = Math.max(0, due - taken.fee - taken.doubtFee);
  const surcharge = Math.max(0, surchargeDue(state, due, config.surchargePermille) - taken.surcharge - taken.doubtSurcharge);
  return unpaid + surcharge;
}

/**
 * The most a card may have given for a contract owing `owedYen`: the fee's cumulative floor plus
 * the surcharge it reports. The terminal never takes more (countsToCollect); the center flags more.
 */
export function countsAllowed(owedYen: number, yenPerCount: number, surcharge: number): number {
  return countsDue(owedYen, yenPerCount) + surcharge;
}

// -- the policy --

export interface PolicyInput {
  readonly t: number;
  /** minutes since local midnight at `t` */
  readonly minuteOfDay: number;
  /** a guard period is running */
  readonly guarding: boolean;
  /** a card with counts is in the slot */
  readonly credit: boolean;
  /** counts due now (the fee's cumulative floor) */
  readonly due: number;
  /** why there is no credit, for the notices ("no card", "card 7 is empty", …) */
  readonly why: string;
}

export type PolicyEffect =
  /** a line in the card ledger */
  | { readonly do: "note"; readonly note: string; readonly counts?: number }
  /** a decision the family and the center are told of */
  | { readonly do: "notify"; readonly kind: "card.none" | "card.emergency" | "card.friendly"; readonly note: string }
  /** stop the running guard period now (the shell edits the plan and tells why) */
  | { readonly do: "stop"; readonly why: string }
  /** credit came back after a stop: the stopped period may resume until its planned end */
  | { readonly do: "resume" };

export interface PolicyStep {
  readonly state: PolicyState;
  readonly effects: readonly PolicyEffect[];
}

/** True inside the night window (it may wrap past midnight). */
export function isNight(config: PolicyConfig, minuteOfDay: number): boolean {
  const { nightFrom: from, nightTo: to } = config;
  return from <= to ? minuteOfDay >= from && minuteOfDay < to : minuteOfDay >= from || minuteOfDay < to;
}

/**
 * One look at the slot against the plan: without credit while guarding, a grace time, then
 * emergency credit (at a surcharge) or, by night, guarding on as debt, else a stop; with credit
 * (or no guarding) back to normal, closing any emergency stretch into the surcharge's count.
 */
/**
 * Whether policyStep has nothing to do whatever the rest of its input (the usual case: all is
 * well, with credit or not guarding): the shell then need not gather that input at every look.
 */
export function policyIdle(state: PolicyState, guarding: boolean, credit: boolean): boolean {
  return (credit || !guarding) && state.mode === "ok";
}

export function policyStep(state: PolicyState, config: PolicyConfig, input: PolicyInput): PolicyStep {
  const { t, guarding, credit, due, why } = input;
  if (policyIdle(state, guarding, credit)) return { state, effects: [] };
  if (credit || !guarding) {
    if (state.mode === "stopped" && !credit) return { state, effects: [] };
    const closed = state.mode === "emergency" && state.emergencyFromDue !== null ? Math.max(0, due - state.emergencyFromDue) : 0;
    const effects: PolicyEffect[] = [{ do: "note", note: credit ? "credit is back" : "guarding ended", ...(closed > 0 ? { counts: closed } : {}) }];
    if (state.mode === "stopped" && credit && !guarding) effects.push({ do: "resume" });
    return { state: { mode: "ok", since: null, emergencyCounts: state.emergencyCounts + closed, emergencyFromDue: null }, effects };
  }
  if (state.mode === "ok" || state.mode === "stopped") {
    return {
      state: { ...state, mode: "grace", since: t },
      effects: [{ do: "notify", kind: "card.none", note: `${why}: insert a card within ${config.graceSeconds} s` }],
    };
  }
  const night = isNight(config, input.minuteOfDay);
  if (state.mode === "grace" && t >= (state.since ?? t) + config.graceSeconds) {
    if (config.policy === "emergency") {
      return {
        state: { ...state, mode: "emergency", emergencyFromDue: due },
        effects: [{ do: "notify", kind: "card.emergency", note: `${why}: guarding goes on with emergency credit, ${config.surchargePermille / 10}% surcharge, as debt for the next card` }],
      };
    }
    if (night) {
      return {
        state: { ...state, mode: "friendly" },
        effects: [{ do: "notify", kind: "card.friendly", note: `${why}: it is night, guarding goes on until ${clock(config.nightTo)} (debt for the next card)` }],
      };
    }
    return { state: { ...state, mode: "stopped" }, effects: [{ do: "stop", why }] };
  }
  if (state.mode === "friendly" && !night) return { state: { ...state, mode: "stopped" }, effects: [{ do: "stop", why: `${why} and the night is over` }] };
  return { state, effects: [] };
}

/** "07:00" for 420 minutes. */
export function clock(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${h < 10 ? "0" : ""}${h}:${m < 10 ? "0" : ""}${m}`;
}
