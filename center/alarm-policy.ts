import type { AlarmRow } from "./store/center-store";
import type { Role } from "./store/account-store";

/**
 * The alarm policy, in one place (DESIGN §3's guard patterns): who is told of an alarm, whose
 * queue and live page it is on, who may act on it and how, and the queue's order. The dispatcher,
 * the notifier, the live events, the pages' buttons and the operators' SQL queue all ask here.
 *
 * - Pattern 1: the site's manager is told; it is theirs to mark handled; no guards.
 * - Pattern 2: the manager is told and may ask for guards; then the operators dispatch and close.
 * - Pattern 3 (full delegation): the operators are told; they acknowledge, dispatch and close.
 * - A person in danger (duress 121, panic 120) is the operators' whatever the pattern, as under
 *   pattern 3; the site's destinations are told too when its pattern says so.
 * - Openings and closings (Contact ID 4xx) are records: nobody handles them.
 */
export type AlarmAction = "acknowledge" | "dispatch" | "request-guards" | "close";
export const ALARM_ACTIONS: readonly AlarmAction[] = ["acknowledge", "dispatch", "request-guards", "close"];

/** Contact ID codes the operators handle whatever the site's guard pattern: a person in danger. */
export const PERSONAL_EMERGENCY: readonly number[] = [121, 120];
export const DURESS = 121;
/** The guard pattern from which the operators are told and decide (full delegation). */
export const OPERATOR_PATTERN = 3;

type Alarm = Pick<AlarmRow, "pattern" | "contactId">;

/** Openings, closings (4xx) are events for the record: nothing to handle. */
export function isOpening(contactId: number): boolean {
  return contactId >= 400 && contactId < 500;
}

/** The pattern an alarm is handled under: its own, or full delegation for a person in danger. */
export function handlingPattern(a: Alarm): number {
  return PERSONAL_EMERGENCY.includes(a.contactId) ? Math.max(a.pattern, OPERATOR_PATTERN) : a.pattern;
}

/** On the operators' queue: handled under pattern 3, or a manager asked for guards. */
export function forOperators(a: Alarm, guardsRequested: boolean): boolean {
  return !isOpening(a.contactId) && (handlingPattern(a) >= OPERATOR_PATTERN || guardsRequested);
}

/** Who is told when it arrives: the site's destinations under pattern 1–2, the operators' for what they handle. */
export function audiences(a: Alarm): Array<"site" | "operators"> {
  const out: Array<"site" | "operators"> = [];
  if (a.pattern < OPERATOR_PATTERN) out.push("site");
  if (handlingPattern(a) >= OPERATOR_PATTERN) out.push("operators");
  return out;
}

/** Whether the operators' pages hear of a new alarm, or of an action on one, live. */
export function liveForOperators(a: Alarm, action?: { action: string; role: string | null }): boolean {
  if (handlingPattern(a) >= OPERATOR_PATTERN) return true;
  return action !== undefined && (action.action === "request-guards" || action.role !== "manager");
}

export type Refusal = { code: 400 | 403 | 409; error: string };

/**
 * Why `role` may not take `action` on an alarm (its status, pattern, Contact ID), or null when it
 * may. `note` is the text given with it (operators close with a note saying how it was resolved).
 */
export function refusal(role: Role, action: AlarmAction, a: Alarm & { status: string }, note: string): Refusal | null {
  const pattern = handlingPattern(a);
  if (a.status === "closed") return { code: 409, error: "the alarm is closed" };
  switch (action) {
    case "acknowledge":
    case "dispatch":
      if (role === "manager") return { code: 403, error: "operators acknowledge and dispatch; a manager asks for guards under pattern 2" };
      if (pattern === 1) return { code: 409, error: "pattern 1 notifies the user only; no guards" };
      if (pattern === 2 && a.status === "new") return { code: 409, error: "under pattern 2 guards go when the site's manager asks" };
      if (action === "acknowledge" && a.status !== "new") return { code: 409, error: `the alarm is already ${a.status}` };
      if (action === "dispatch" && a.status === "dispatched") return { code: 409, error: "guards are already dispatched" };
      return null;
    case "request-guards":
      if (role !== "manager") return { code: 403, error: "the site's manager asks for guards" };
      if (pattern !== 2) return { code: 409, error: `guards are asked for under pattern 2; this alarm is pattern ${pattern}` };
      if (a.status === "dispatched") return { code: 409, error: "guards are already dispatched" };
      return null;
    case "close":
      if (role === "manager" && pattern >= OPERATOR_PATTERN) return { code: 403, error: "the monitoring company closes pattern-3 alarms" };
      if (role !== "manager" && !note) return { code: 400, error: "note: say how the alarm was resolved" };
      return null;
  }
}

/** The actions `role` may offer on an alarm now (the pages' buttons); operators' close asks a note. */
export function actionsFor(role: Role, a: Alarm & { status: string }): AlarmAction[] {
  return ALARM_ACTIONS.filter((x) => refusal(role, x, a, "(note given)") === null);
}

/** Queue order: duress, then panic, fire, the other alarms, troubles. */
export function urgency(contactId: number): number {
  if (contactId === DURESS) return 0;
  if (contactId === 120) return 1;
  if (contactId >= 110 && contactId < 120) return 2;
  if (contactId >= 100 && contactId < 200) return 3;
  return 4;
}

/**
 * The operators' queue from a list of alarms: what forOperators takes, open ones by urgency then
 * newest received; the ten latest closed. (The store does the same in SQL: operatorAlarms.)
 */
export function operatorQueue(all: readonly AlarmRow[], requested: ReadonlySet<string>): { queue: AlarmRow[]; recent: AlarmRow[] } {
  const theirs = all.filter((a) => forOperators(a, requested.has(`${a.terminal}/${a.alarmId}`)));
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const newest = (a: AlarmRow, b: AlarmRow) => b.receivedAt - a.receivedAt || b.time - a.time || cmp(a.terminal, b.terminal) || a.alarmId - b.alarmId;
  return {
    queue: theirs.filter((a) => a.status !== "closed").sort((a, b) => urgency(a.contactId) - urgency(b.contactId) || newest(a, b)),
    recent: theirs.filter((a) => a.status === "closed").sort(newest).slice(0, 10),
  };
}

/** forOperators, urgency and the order as SQL over the `alarms` table (alias `a`), for the store's queue. */
export const OPERATOR_SQL = {
  newest: "a.received_at DESC, a.time DESC, a.terminal, a.alarm_id",
  where: `NOT (a.contact_id BETWEEN 400 AND 499) AND (a.pattern >= ${OPERATOR_PATTERN} OR a.contact_id IN (${PERSONAL_EMERGENCY.join(", ")})
    OR EXISTS (SELECT 1 FROM alarm_actions x WHERE x.terminal = a.terminal AND x.alarm_id = a.alarm_id AND x.action = 'request-guards'))`,
  urgency: `CASE WHEN a.contact_id = ${DURESS} THEN 0 WHEN a.contact_id = 120 THEN 1 WHEN a.contact_id BETWEEN 110 AND 119 THEN 2
    WHEN a.contact_id BETWEEN 100 AND 199 THEN 3 ELSE 4 END`,
};
