import { hasPattern } from "../core/tariff";
import type { UiContext } from "./context";
import { draftPlan, toField } from "./draft";
import { refusalText, thrownText } from "./refusal";
import { BACK, Draft, OK, ScreenOf } from "./screen";
import { firstFit, hoursText, lr, shortTime } from "./text";

/**
 * The estimate of a draft (DESIGN §2) in words: when, the pattern and its price, the counts and
 * what the card keeps; 1-3 change the pattern, # saves (a plan the card cannot pay: # again).
 */

export function estimateKey(cx: UiContext, s: ScreenOf<"estimate">, k: string): void {
  if (k >= "1" && k <= "9" && hasPattern(cx.t.tariff, +k)) s.draft.pattern = +k;
  else if (k === OK) {
    // a plan the card in the slot cannot pay: say so, and save only on a second #
    const card = cx.cardCounts();
    if (typeof card === "number" && !s.confirmed) {
      let need = 0;
      try {
        need = cx.t.estimate(draftPlan(cx, s.draft), null).counts;
      } catch {
        need = 0;
      }
      if (need > card) {
        s.confirmed = true;
        cx.message = "Save anyway? #=yes"; // line 3 says by how much the card is short
        return;
      }
    }
    save(cx, s.draft);
  } else if (k === BACK) toField(cx, s.draft, "contract");
  else cx.ignored++;
}

export function toEstimate(cx: UiContext, d: Draft): void {
  try {
    cx.t.estimate(draftPlan(cx, d), null);
  } catch (e) {
    return cx.refuse(thrownText(e, cx.t.tariff, d.index ?? cx.t.plan.periods.length));
  }
  cx.screen = { name: "estimate", draft: d };
}

function save(cx: UiContext, d: Draft): void {
  if (d.index !== null) {
    const p = cx.t.plan.periods[d.index];
    if (!p || p.start !== d.was) {
      cx.screen = { name: "plan.list", selected: 0 };
      return cx.refuse("Plan changed: redo");
    }
  }
  const r = cx.t.setPlan(draftPlan(cx, d));
  if (!r.ok) return cx.refuse(refusalText(r.reason, r.error, cx.t.tariff, d.index ?? cx.t.plan.periods.length));
  const index = cx.t.plan.periods.findIndex((p) => p.start === d.start);
  cx.screen = { name: "plan.list", selected: Math.max(0, index) };
  cx.message = "Plan saved";
}

export function drawEstimate(cx: UiContext, d: Draft): string[] {
  const zone = cx.config.zoneMinutes;
  let est;
  try {
    est = cx.t.estimate(draftPlan(cx, d), null);
  } catch (e) {
    return ["Estimate", thrownText(e, cx.t.tariff, d.index ?? cx.t.plan.periods.length), "", "*=back"];
  }
  const row = est.periods.find((p) => p.start === d.start) ?? est.periods[0];
  const card = cx.cardCounts();
  // in words a family member reads without a manual: when, which pattern and its price, what
  // the card keeps (counts are the card's unit), and the keys
  const lines = [`${shortTime(d.start, zone)} for ${hoursText(d.end - d.start)}`, lr(`Pattern ${d.pattern}`, `${row.yen} yen`)];
  if (typeof card === "number") {
    const left = card - est.counts;
    lines.push(
      left >= 0
        ? firstFit(`${est.counts} counts, ${left} left`, `${est.counts} counts ${left} left`, `Uses ${est.counts} counts`)
        : firstFit(`Card short by ${-left}`, `Card short ${-left}`),
    );
  } else lines.push(firstFit(`${est.counts} counts (no card)`, `${est.counts} counts`));
  const total = est.totalYen;
  lines.push(est.periods.length > 1 ? firstFit(`Total ${total} yen #=save`, `All ${total} yen #=save`, `Total ${total} yen`) : "#=save  *=back");
  return lines;
}
