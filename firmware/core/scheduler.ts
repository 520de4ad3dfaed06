import type { Plan } from "./plan";
import type { Seconds } from "./time";

export interface Transition {
  at: Seconds;
  kind: "start" | "end";
  period: number;
}

export interface GuardState {
  /** index of the period guarding at this time, or null */
  active: number | null;
  /** the next start or end strictly after this time, or null when the plan is over */
  next: Transition | null;
}

/**
 * The guard scheduler: which period is active at `t` (start ≤ t < end) and the next transition.
 * When one period ends exactly where the next starts, the end comes first.
 */
export function guardAt(plan: Plan, t: Seconds): GuardState {
  let active: number | null = null;
  let next: Transition | null = null;
  for (let i = 0; i < plan.periods.length; i++) {
    const p = plan.periods[i];
    if (p.start <= t && t < p.end) active = i;
    if (p.start > t && (next === null || p.start < next.at)) next = { at: p.start, kind: "start", period: i };
    if (p.end > t && (next === null || p.end < next.at || (p.end === next.at && next.kind === "start"))) {
      next = { at: p.end, kind: "end", period: i };
    }
  }
  return { active, next };
}

/** Every transition in (from, to], in order. */
export function transitionsBetween(plan: Plan, from: Seconds, to: Seconds): Transition[] {
  const out: Transition[] = [];
  let t = from;
  for (;;) {
    const { next } = guardAt(plan, t);
    if (next === null || next.at > to) return out;
    // Collect every transition at this instant (an end and a start can coincide).
    for (let i = 0; i < plan.periods.length; i++) {
      if (plan.periods[i].end === next.at) out.push({ at: next.at, kind: "end", period: i });
    }
    for (let i = 0; i < plan.periods.length; i++) {
      if (plan.periods[i].start === next.at) out.push({ at: next.at, kind: "start", period: i });
    }
    t = next.at;
  }
}
