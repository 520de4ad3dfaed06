import { formatTime } from "../core/time";
import type { UiContext } from "./context";
import { refusalText } from "./refusal";
import { BELL, OK } from "./screen";
import { shortTime } from "./text";

/**
 * The alarm screen (one per alarm: new → seen → dispatched → closed by the center), the entry
 * delay's countdown, and disarming (D, the PIN or the duress PIN, #) from here or the status screen.
 */

/** how the alarm screen names each kind of event */
const KIND_TEXT: Readonly<Record<string, string>> = Object.freeze({ intrusion: "intrusion", entry: "door alarm", fire: "FIRE", tamper: "tampered", panic: "panic" });

export function alarmKey(cx: UiContext, k: string): void {
  const a = cx.freshAlarm();
  if (k === OK) {
    if (a && cx.ui.panel) cx.ui.panel.event({ type: "seen", id: a.id });
    if (!cx.freshAlarm()) cx.screen = { name: "status" };
  } else if (k === "D") askDisarm(cx);
  else cx.ignored++;
}

/** The fresh alarm, or null when there is none (the status screen shows instead). */
export function drawAlarm(cx: UiContext): string[] | null {
  const a = cx.freshAlarm();
  if (!a) return null;
  const all = cx.ui.alarms;
  const n = all.indexOf(a) + 1;
  const title = all.length > 1 ? `${BELL} ALARM ${n}/${all.length} ${BELL}` : `${BELL} ALARM ${BELL}`;
  const what = `${a.sensor} ${KIND_TEXT[a.kind] ?? a.kind}`;
  // D disarms while guarding; not guarding, it silences the local alarm while that sounds
  const keys = cx.t.activePeriod !== null ? "#=seen  D=disarm" : cx.ui.panel?.sounding() ? "#=seen  D=silence" : "#=seen";
  if (a.status === "dispatched") return [title, `${a.sensor} guards sent`, a.note ?? "Guards on the way", keys];
  return [title, what, a.note ?? `at ${shortTime(a.at, cx.config.zoneMinutes)}`, keys];
}

/** The door's countdown: nothing else matters until the PIN is typed or the time is up. */
export function drawEntryDelay(sensor: string | null, left: number): string[] {
  return [`${BELL} Door ${sensor} open`, `Disarm in ${left} s`, "D, PIN, # to disarm", ""];
}

/** D: the PIN disarms (D, the PIN, #), or silences the local alarm when not guarding; the PIN screen says which. */
export function askDisarm(cx: UiContext): void {
  if (cx.t.activePeriod === null) {
    if (cx.ui.panel?.sounding()) {
      cx.unlocked = false;
      return cx.requirePin("to silence", () => silence(cx));
    }
    cx.screen = { name: "status" };
    return cx.refuse("Not guarding now");
  }
  cx.unlocked = false; // disarming always asks: the duress PIN must be possible
  cx.requirePin("to disarm", (duress) => disarm(cx, duress));
}

/** The PIN was right, not guarding: the local alarm stops (the alarm stays on the screen until seen). */
function silence(cx: UiContext): void {
  const r = cx.ui.panel ? cx.ui.panel.disarm(false) : { ok: false, error: "no alarm panel" };
  cx.unlocked = false;
  cx.home();
  if (r.ok) cx.message = "Alarm silenced";
  else cx.refuse(refusalText(null, r.error ?? "not silenced", cx.t.tariff));
}

/** The PIN was right (or the duress PIN: the same, visibly; the panel reports it silently). */
function disarm(cx: UiContext, duress: boolean): void {
  const active = cx.t.activePeriod;
  if (!active) {
    cx.home();
    return cx.refuse("Not guarding now");
  }
  let r: { ok: boolean; error?: string };
  if (cx.ui.panel) r = cx.ui.panel.disarm(duress);
  else {
    const now = cx.t.now();
    const i = cx.t.plan.periods.findIndex((p) => p.start === active.start);
    const periods = cx.periodsJson();
    if (now <= active.start) periods.splice(i, 1);
    else periods[i] = { ...periods[i], end: formatTime(now, cx.config.zoneMinutes) };
    r = cx.t.setPlan({ ...cx.planJson(), periods });
  }
  cx.unlocked = false;
  cx.home();
  if (r.ok) cx.message = "Disarmed";
  else cx.refuse(refusalText(null, r.error ?? "not disarmed", cx.t.tariff));
}
