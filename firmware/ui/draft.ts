import { formatTime } from "../core/time";
import type { UiContext } from "./context";
import type { Draft, Field } from "./screen";

/** The period editor opens `field` of the draft, nothing typed yet. */
export function toField(cx: UiContext, draft: Draft, field: Field): void {
  cx.digits = "";
  cx.screen = { name: "edit", field, draft, page: 0 };
}

/** The plan as it would be with the draft saved (the JSON parsePlan reads). */
export function draftPlan(cx: UiContext, d: Draft): Record<string, unknown> {
  const zone = cx.config.zoneMinutes;
  const periods = cx.periodsJson();
  const p = { start: formatTime(d.start, zone), end: formatTime(d.end, zone), pattern: d.pattern, sensors: d.sensors, cameras: d.cameras };
  if (d.index === null) periods.push(p);
  else periods[d.index] = p;
  return { ...cx.planJson(), contract: d.contract, periods };
}
