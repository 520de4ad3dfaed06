import type { UiContext } from "./context";
import { BACK, OK, ScreenOf } from "./screen";
import { lr } from "./text";

/** The bypass screen (setup, D, the PIN): sensors left out of guarding for one period. */

/** Bypass: digits 1-3 leave the sensor on that line out of guarding for one period; A/B page. */
export function bypassKey(cx: UiContext, s: ScreenOf<"bypass">, k: string): void {
  const items = cx.choices(false);
  if (k === "A") s.page = Math.max(0, s.page - 1);
  else if (k === "B") s.page = Math.min(Math.max(0, Math.ceil(items.length / 3) - 1), s.page + 1);
  else if (k >= "1" && k <= "3") {
    const item = items[s.page * 3 + (+k - 1)];
    if (!item || !cx.ui.panel) return void cx.ignored++;
    cx.ui.panel.event({ type: "bypass", sensor: item.id });
  } else if (k === OK || k === BACK) cx.home();
  else cx.ignored++;
}

export function drawBypass(cx: UiContext, s: ScreenOf<"bypass">): string[] {
  const items = cx.choices(false);
  const off = cx.ui.panel ? cx.ui.panel.bypassed() : [];
  const lines = [lr("Leave out 1 period", "")];
  for (let i = 0; i < 3; i++) {
    const item = items[s.page * 3 + i];
    lines.push(item ? `${i + 1}[${off.indexOf(item.id) >= 0 ? "x" : " "}] ${item.id}${off.indexOf(item.id) >= 0 ? " left out" : ""}` : i === 2 ? "#=done" : "");
  }
  return lines;
}
