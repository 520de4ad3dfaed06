import type { Plan } from "../core/plan";
import { guardAt } from "../core/scheduler";
import type { Seconds } from "../core/time";
import { askDisarm } from "./alarm-screen";
import type { UiContext } from "./context";
import { BACK } from "./screen";
import { lr, shortDate, shortTime } from "./text";

/**
 * The status screen (home): guarding or not and until when, the fee or the open alarm, and on
 * line 4 the most pressing of warnings, lost devices, the return date and the card. Its keys:
 * A plan, B setup, C PIN change, D disarm, * three times panic.
 */

/** three presses of * within this long on the status screen: panic */
const PANIC_SECONDS = 3;

export function statusKey(cx: UiContext, k: string): void {
  if (k === "A") cx.requirePin("to change the plan", () => (cx.screen = { name: "plan.list", selected: 0 }));
  else if (k === "B") cx.screen = { name: "setup" };
  else if (k === "C") {
    cx.requirePin("to change the PIN", () => {
      cx.digits = "";
      cx.screen = { name: "pin.new", first: false };
    });
  } else if (k === "D") askDisarm(cx);
  else if (k === BACK) panicKey(cx);
  else cx.ignored++;
}

/** Panic: * three times within PANIC_SECONDS on the status screen (docs/ui.md). */
export function panicKey(cx: UiContext): void {
  const now = cx.t.now();
  cx.stars = cx.stars.filter((at) => now - at < PANIC_SECONDS).concat([now]);
  if (cx.stars.length < 3) return void cx.ignored++;
  cx.stars = [];
  if (!cx.ui.panel) return void cx.ignored++;
  cx.ui.panel.event({ type: "panic" });
  cx.message = "Panic sent";
}

export function drawStatus(cx: UiContext): string[] {
  const t = cx.t;
  const now = t.now();
  const zone = cx.config.zoneMinutes;
  const active = t.activePeriod;
  const g = guardAt(t.plan, now);
  const lines: string[] = [];
  if (active) {
    lines.push(lr("GUARDING", `pattern ${active.pattern}`));
    const delay = cx.ui.panel ? cx.ui.panel.delay(now) : null;
    lines.push(delay && delay.kind === "exit" ? `Leave now: ${delay.left} s` : `Until ${shortTime(active.end, zone)}`);
  } else {
    lines.push(lr("Not guarding", t.plan.periods.length > 0 ? `plan ${t.plan.periods.length}` : ""));
    if (g.next && g.next.kind === "start") lines.push(`Starts ${shortTime(g.next.at, zone)}`);
    else lines.push(t.plan.periods.length === 0 ? "A=enter a plan" : "All periods done");
  }
  // an open alarm (seen, guards sent) stays in view until the center closes it; line 4 keeps
  // the card and power warnings
  const open = cx.ui.alarms;
  const last = open[open.length - 1];
  if (last) lines.push(last.status === "dispatched" ? `Guards: ${last.note ?? "on the way"}` : `Alarm ${last.sensor} ${last.status}`);
  else lines.push(`Fee ${t.owedYen()} yen`);
  lines.push(statusLine(cx, now, g.next === null ? null : g.next.at));
  return lines;
}

/** The status screen's last line, by priority: warning, return date, card. */
function statusLine(cx: UiContext, now: Seconds, _next: Seconds | null): string {
  const w = cx.ui.warnings;
  if (w.length > 0) return w[0][1];
  const lost = cx.devices().filter((d) => !d.connected);
  if (lost.length > 0) return lost.length === 1 ? `Sensor ${lost[0].id} lost` : `${lost.length} sensors lost`;
  const ret = returnDate(cx);
  if (ret !== null && now >= ret - cx.config.returnNoticeSeconds) return `Return kit by ${shortDate(ret, cx.config.zoneMinutes)}`;
  const card = cx.cardCounts();
  if (card === undefined) return "";
  return card === null ? "No card" : `Card ${card} counts`;
}

/** The day the kit goes back: the rental's last day; a plan without rental days has none. */
export function returnDate(cx: UiContext): Seconds | null {
  const plan: Plan = cx.t.plan;
  return plan.rental ? plan.rental.to : null;
}
