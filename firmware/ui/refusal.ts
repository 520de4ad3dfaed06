import type { Reason } from "../core/errors";
import { MAX_DEVICES } from "../core/plan";
import type { Tariff } from "../core/tariff";
import { fit } from "./text";

/**
 * The core's refusals in words for line 4 (docs/ui.md, "Refusals"). The rule broken comes from
 * the core (FieldError.reason: parsePlan, checkCivil); the screens word it here and never check
 * the rule again themselves, nor read it out of the message's text.
 */

const MONTHS = Object.freeze(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]);

/** A refusal of the core: `draft`, the index of the period being edited (an overlap names the other). */
export function refusalText(reason: Reason | null | undefined, message: string, tariff: Tariff, draft: number | null = null): string {
  const v = reason && reason.value !== undefined ? reason.value : 0;
  switch (reason ? reason.code : null) {
    case "year":
      return "Year is 2000-2099";
    case "month":
      return `No month ${v}`;
    case "day":
      return `No ${MONTHS[((reason && reason.other) ?? 1) - 1] ?? "month"} ${v}`;
    case "hour":
      return `No hour ${v}`;
    case "minute":
      return `No minute ${v}`;
    case "end-before-start":
      return "End not after start";
    case "pattern":
      return reason && reason.value !== undefined ? `No pattern ${v} (${patternRange(tariff)})` : "No such pattern";
    case "too-many-devices":
      return `At most ${MAX_DEVICES} devices`;
    case "too-few-sensors":
      return "Too few sensors";
    case "too-few-cameras":
      return "Too few cameras";
    case "unknown-device":
      return "Unknown device";
    case "outside-rental":
      return "Outside rental days";
    case "overlap": {
      // the period refused (value) overlaps another (other): name the one that is not the draft
      const other = reason && reason.other !== undefined ? reason.other : v;
      return `Overlaps period ${(draft !== null && other === draft ? v : other) + 1}`;
    }
    case "single-contract":
      return "Single: one period";
    default: {
      // anything else (a link or pairing refusal): its message without the field's path
      const colon = message.lastIndexOf(": ");
      return fit(colon >= 0 ? message.slice(colon + 2) : message).trimEnd();
    }
  }
}

/** A thrown refusal (the terminal's estimate throws the core's FieldError). */
export function thrownText(e: unknown, tariff: Tariff, draft: number | null = null): string {
  const reason = e && typeof e === "object" && "reason" in e ? ((e as { reason: Reason | null }).reason ?? null) : null;
  return refusalText(reason, e instanceof Error ? e.message : String(e), tariff, draft);
}

/** "1-3": the patterns the tariff has. */
export function patternRange(tariff: Tariff): string {
  const ps = Object.keys(tariff.patterns)
    .map(Number)
    .sort((a, b) => a - b);
  return ps.length > 0 ? `${ps[0]}-${ps[ps.length - 1]}` : "-";
}
