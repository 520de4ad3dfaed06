import type { MessageName } from "../firmware/uplink/messages";
import type { AlarmRow, CenterStore } from "./store/center-store";
import type { AlarmActionRow, Role, WebStore } from "./store/web-store";

export type AlarmAction = "acknowledge" | "dispatch" | "request-guards" | "close";
export const ALARM_ACTIONS: readonly AlarmAction[] = ["acknowledge", "dispatch", "request-guards", "close"];

export interface Actor {
  id: number | null;
  username: string;
  role: Role;
  siteId: number | null;
}

export type ActionResult = { ok: true; status: string; actionId: number; queued: boolean } | { ok: false; code: 400 | 403 | 404 | 409; error: string };

/** Contact ID codes the operators handle whatever the site's guard pattern: a person in danger. */
export const PERSONAL_EMERGENCY: readonly number[] = [121, 120];

/** Openings, closings (4xx) are events for the record: nothing to handle. */
export function isOpening(contactId: number): boolean {
  return contactId >= 400 && contactId < 500;
}

/** Queue order: duress, then panic, fire, the other alarms, troubles; newest first within each. */
function urgency(a: AlarmRow): number {
  if (a.contactId === 121) return 0;
  if (a.contactId === 120) return 1;
  if (a.contactId >= 110 && a.contactId < 120) return 2;
  if (a.contactId >= 100 && a.contactId < 200) return 3;
  return 4;
}

/**
 * The operators' queue: open pattern-3 alarms, those a manager asked guards for, and duress and
 * panic alarms of any pattern; duress first (a silent alarm from a family forced to disarm).
 */
export function operatorQueue(all: readonly AlarmRow[], requested: ReadonlySet<string>): { queue: AlarmRow[]; recent: AlarmRow[] } {
  const theirs = all.filter((a) => !isOpening(a.contactId) && (a.pattern >= 3 || PERSONAL_EMERGENCY.includes(a.contactId) || requested.has(`${a.terminal}/${a.alarmId}`)));
  const newest = (a: AlarmRow, b: AlarmRow) => b.receivedAt - a.receivedAt || b.time - a.time;
  return {
    queue: theirs.filter((a) => a.status !== "closed").sort((a, b) => urgency(a) - urgency(b) || newest(a, b)),
    recent: theirs.filter((a) => a.status === "closed").sort(newest).slice(0, 10),
  };
}

/** What each action does to an alarm, and what the terminal is told (dispatch.status, ≤ 16 chars). */
const EFFECT: Record<AlarmAction, { status: string; down: string; defaultNote: string }> = {
  acknowledge: { status: "acknowledged", down: "acknowledged", defaultNote: "the monitoring center has seen the alarm" },
  dispatch: { status: "dispatched", down: "dispatched", defaultNote: "guards on the way" },
  "request-guards": { status: "dispatched", down: "dispatched", defaultNote: "guards on the way (asked by the manager)" },
  close: { status: "closed", down: "closed", defaultNote: "alarm closed" },
};

/**
 * Alarm handling: an operator acknowledges, dispatches and closes pattern-3 alarms; a site's
 * manager asks for guards under pattern 2 (the company then sends them). Every action is recorded
 * (alarm_actions, with who and the note), changes the alarm's status, and is sent down to the
 * terminal as a `dispatch` message {alarmId, status, note} — kept in the database (downlinks.ts)
 * until the terminal acknowledges it, so it shows on the LCD when the terminal next dials in; the
 * action's `sentAt` is that acknowledgement, never the moment it was queued.
 */
export class Dispatcher {
  readonly #store: CenterStore;
  readonly #web: WebStore;
  readonly #sendDown: (terminal: string, name: MessageName, body: Record<string, unknown>) => Promise<number>;
  readonly #linkDownlink: (actionId: number, downlinkId: number) => void;
  readonly #now: () => number;
  readonly #onChange: (terminal: string, alarmId: number, action: AlarmActionRow) => void;

  constructor(o: {
    store: CenterStore;
    web: WebStore;
    sendDown: (terminal: string, name: MessageName, body: Record<string, unknown>) => Promise<number>;
    linkDownlink?: (actionId: number, downlinkId: number) => void;
    now?: () => number;
    onChange?: (terminal: string, alarmId: number, action: AlarmActionRow) => void;
  }) {
    this.#store = o.store;
    this.#web = o.web;
    this.#sendDown = o.sendDown;
    this.#linkDownlink = o.linkDownlink ?? (() => undefined);
    this.#now = o.now ?? Date.now;
    this.#onChange = o.onChange ?? (() => undefined);
  }

  async act(actor: Actor, terminal: string, alarmId: number, action: AlarmAction, note?: string): Promise<ActionResult> {
    if (!ALARM_ACTIONS.includes(action)) return { ok: false, code: 400, error: `unknown action ${String(action)}` };
    const t = this.#store.terminal(terminal);
    const found = t ? this.#web.alarmRow(terminal, alarmId) : undefined;
    // duress and panic: the operators act whatever the pattern
    const alarm = found ? { status: found.status, pattern: PERSONAL_EMERGENCY.includes(found.contactId) ? 3 : found.pattern } : undefined;
    // A manager learns nothing about another site's alarms: the same answer as for none at all.
    if (!t || !alarm || (actor.role === "manager" && actor.siteId !== t.siteId)) return { ok: false, code: 404, error: "no such alarm" };
    const text = (note ?? "").trim();
    if (text.length > 120) return { ok: false, code: 400, error: "note: at most 120 characters" };
    if (alarm.status === "closed") return { ok: false, code: 409, error: "the alarm is closed" };
    switch (action) {
      case "acknowledge":
      case "dispatch":
        if (actor.role === "manager") return { ok: false, code: 403, error: "operators acknowledge and dispatch; a manager asks for guards under pattern 2" };
        if (alarm.pattern === 1) return { ok: false, code: 409, error: "pattern 1 notifies the user only; no guards" };
        if (alarm.pattern === 2 && alarm.status === "new") return { ok: false, code: 409, error: "under pattern 2 guards go when the site's manager asks" };
        if (action === "acknowledge" && alarm.status !== "new") return { ok: false, code: 409, error: `the alarm is already ${alarm.status}` };
        if (action === "dispatch" && alarm.status === "dispatched") return { ok: false, code: 409, error: "guards are already dispatched" };
        break;
      case "request-guards":
        if (actor.role !== "manager") return { ok: false, code: 403, error: "the site's manager asks for guards" };
        if (alarm.pattern !== 2) return { ok: false, code: 409, error: `guards are asked for under pattern 2; this alarm is pattern ${alarm.pattern}` };
        if (alarm.status === "dispatched") return { ok: false, code: 409, error: "guards are already dispatched" };
        break;
      case "close":
        if (actor.role === "manager" && alarm.pattern >= 3) return { ok: false, code: 403, error: "the monitoring company closes pattern-3 alarms" };
        if (actor.role !== "manager" && !text) return { ok: false, code: 400, error: "note: say how the alarm was resolved" };
        break;
    }
    const effect = EFFECT[action];
    const id = this.#store.transaction(() => {
      this.#web.setAlarmStatus(terminal, alarmId, effect.status);
      return this.#web.addAlarmAction({ terminal, alarmId, action, userId: actor.id, username: actor.username, role: actor.role, note: text || null, at: this.#now() });
    });
    let queued = false;
    try {
      const downlinkId = await this.#sendDown(terminal, "dispatch", { alarmId, status: effect.down, note: (text || effect.defaultNote).slice(0, 120) });
      this.#linkDownlink(id, downlinkId);
      queued = true;
    } catch (e) {
      this.#web.markActionSent(id, null, (e as Error).message.slice(0, 200));
    }
    const row = this.#web.alarmActions(terminal, alarmId).find((a) => a.id === id) as AlarmActionRow;
    this.#onChange(terminal, alarmId, row);
    return { ok: true, status: effect.status, actionId: id, queued };
  }
}
