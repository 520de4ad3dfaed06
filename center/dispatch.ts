import type { MessageName } from "../firmware/uplink/messages";
import type { AlarmRow, CenterStore } from "./store/center-store";
import type { Role } from "./store/account-store";
import type { AlarmActionRow, AlarmActionStore } from "./store/alarm-action-store";
import type { AlarmViewStore } from "./store/alarm-view-store";
import { ALARM_ACTIONS, type AlarmAction, refusal } from "./alarm-policy";

// The policy (who may act, the queue) lives in alarm-policy.ts; these names stay importable from here.
export { ALARM_ACTIONS, PERSONAL_EMERGENCY, isOpening, operatorQueue } from "./alarm-policy";
export type { AlarmAction } from "./alarm-policy";

export interface Actor {
  id: number | null;
  username: string;
  role: Role;
  siteId: number | null;
}

export type ActionResult = { ok: true; status: string; actionId: number; queued: boolean } | { ok: false; code: 400 | 403 | 404 | 409; error: string };

/** What each action does to an alarm, and what the terminal is told (dispatch.status, ≤ 16 chars). */
const EFFECT: Record<AlarmAction, { status: string; down: string; defaultNote: string }> = {
  acknowledge: { status: "acknowledged", down: "acknowledged", defaultNote: "the monitoring center has seen the alarm" },
  dispatch: { status: "dispatched", down: "dispatched", defaultNote: "guards on the way" },
  "request-guards": { status: "dispatched", down: "dispatched", defaultNote: "guards on the way (asked by the manager)" },
  close: { status: "closed", down: "closed", defaultNote: "alarm closed" },
};

/**
 * Alarm handling: an operator acknowledges, dispatches and closes pattern-3 alarms; a site's
 * manager asks for guards under pattern 2 (the company then sends them); who may do what is
 * alarm-policy.ts's `refusal`. Every action is recorded
 * (alarm_actions, with who and the note), changes the alarm's status, and is sent down to the
 * terminal as a `dispatch` message {alarmId, status, note} — kept in the database (downlinks.ts)
 * until the terminal acknowledges it, so it shows on the LCD when the terminal next dials in; the
 * action's `sentAt` is that acknowledgement, never the moment it was queued.
 */
export class Dispatcher {
  readonly #store: CenterStore;
  readonly #alarms: AlarmViewStore;
  readonly #actions: AlarmActionStore;
  readonly #sendDown: (terminal: string, name: MessageName, body: Record<string, unknown>) => Promise<number>;
  readonly #linkDownlink: (actionId: number, downlinkId: number) => void;
  readonly #now: () => number;
  readonly #onChange: (terminal: string, alarmId: number, action: AlarmActionRow) => void;

  constructor(o: {
    store: CenterStore;
    alarms: AlarmViewStore;
    actions: AlarmActionStore;
    sendDown: (terminal: string, name: MessageName, body: Record<string, unknown>) => Promise<number>;
    linkDownlink?: (actionId: number, downlinkId: number) => void;
    now?: () => number;
    onChange?: (terminal: string, alarmId: number, action: AlarmActionRow) => void;
  }) {
    this.#store = o.store;
    this.#alarms = o.alarms;
    this.#actions = o.actions;
    this.#sendDown = o.sendDown;
    this.#linkDownlink = o.linkDownlink ?? (() => undefined);
    this.#now = o.now ?? Date.now;
    this.#onChange = o.onChange ?? (() => undefined);
  }

  async act(actor: Actor, terminal: string, alarmId: number, action: AlarmAction, note?: string): Promise<ActionResult> {
    if (!ALARM_ACTIONS.includes(action)) return { ok: false, code: 400, error: `unknown action ${String(action)}` };
    const t = this.#store.terminal(terminal);
    const alarm = t ? this.#alarms.alarmRow(terminal, alarmId) : undefined;
    // A manager learns nothing about another site's alarms: the same answer as for none at all.
    if (!t || !alarm || (actor.role === "manager" && actor.siteId !== t.siteId)) return { ok: false, code: 404, error: "no such alarm" };
    const text = (note ?? "").trim();
    if (text.length > 120) return { ok: false, code: 400, error: "note: at most 120 characters" };
    const refused = refusal(actor.role, action, alarm, text);
    if (refused) return { ok: false, ...refused };
    const effect = EFFECT[action];
    const id = this.#store.transaction(() => {
      this.#alarms.setAlarmStatus(terminal, alarmId, effect.status);
      return this.#actions.addAlarmAction({ terminal, alarmId, action, userId: actor.id, username: actor.username, role: actor.role, note: text || null, at: this.#now() });
    });
    let queued = false;
    try {
      const downlinkId = await this.#sendDown(terminal, "dispatch", { alarmId, status: effect.down, note: (text || effect.defaultNote).slice(0, 120) });
      this.#linkDownlink(id, downlinkId);
      queued = true;
    } catch (e) {
      this.#actions.markActionSent(id, null, (e as Error).message.slice(0, 200));
    }
    const row = this.#actions.alarmAction(id) as AlarmActionRow;
    this.#onChange(terminal, alarmId, row);
    return { ok: true, status: effect.status, actionId: id, queued };
  }
}
