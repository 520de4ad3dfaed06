import { FieldError } from "../core/errors";
import { checkCivil, civilToSeconds, secondsToCivil } from "../core/time";
import { CONTRACTS, Contract } from "../core/tariff";
import type { UiContext } from "./context";
import { draftPlan, toField } from "./draft";
import { thrownText } from "./refusal";
import { toEstimate } from "./estimate-screen";
import { BACK, Draft, FIELDS, Field, OK, ScreenOf, count } from "./screen";
import { DAY, HOUR, dateTemplate, lr, timeDigits } from "./text";

// Compiled once here: XS compiles a regular expression literal each time it is evaluated (~0.1 ms).
/** a plan error's field inside a period */
const PERIOD_FIELD = /^periods\[(\d+)\](?:\.(\w+))?/;

/**
 * The period editor, one field a screen: start, end (hhmm, hours, or 12 digits), pattern, the
 * sensors and cameras (a count, or picked from the sensor table: 1-3 toggle, A/B page) and the
 * contract; then the estimate.
 */

const CONTRACT_LABEL: Readonly<Record<Contract, string>> = Object.freeze({ single: "single", multiple: "several", continuous: "continuous" });
const PATTERN_HELP = Object.freeze(["1 tell  2 I decide", "3 guards go at once"]);

type EditScreen = ScreenOf<"edit">;

export function editKey(cx: UiContext, s: EditScreen, k: string): void {
  const d = s.draft;
  const at = FIELDS.indexOf(s.field);
  const picking = (s.field === "sensors" || s.field === "cameras") && cx.choices(s.field === "cameras").length > 0;
  if (k === BACK) {
    if (cx.digits.length > 0) cx.digits = cx.digits.slice(0, -1);
    else if (at === 0) cx.screen = { name: "plan.list", selected: d.index ?? 0 };
    else toField(cx, d, FIELDS[at - 1]);
    return;
  }
  if (picking) return pickKey(cx, s, k);
  if (k >= "0" && k <= "9") {
    const max = s.field === "start" || s.field === "end" ? 12 : s.field === "pattern" || s.field === "contract" ? 1 : 2;
    if (max === 1) cx.digits = k;
    else if (cx.digits.length < max) cx.digits += k;
    else cx.ignored++;
    return;
  }
  if (k !== OK) return void cx.ignored++;
  const error = accept(cx, s.field, d);
  if (error) {
    cx.digits = ""; // the field shows its value again; retype
    return cx.refuse(error);
  }
  cx.digits = "";
  if (at + 1 < FIELDS.length) toField(cx, d, FIELDS[at + 1]);
  else toEstimate(cx, d);
}

/**
 * Takes the typed value into the draft and has the core check the draft (`checkDraft`); returns
 * what is wrong, or null. The screen only reads what was typed (hhmm, hours, 12 digits, a menu
 * number); the plan's rules are parsePlan's.
 */
function accept(cx: UiContext, field: Field, d: Draft): string | null {
  const typed = cx.digits;
  const zone = cx.config.zoneMinutes;
  const before = { ...d };
  switch (field) {
    case "start":
    case "end": {
      let t = field === "start" ? d.start : d.end;
      try {
        if (field === "end" && typed.length >= 1 && typed.length <= 3) {
          t = d.start + +typed * HOUR; // the end as a duration: hours from the start
        } else if (typed.length === 4) {
          // hhmm: the date follows (the start's day, or the next day when that is not later)
          const c = secondsToCivil(d.start, zone);
          const civil = { year: c.year, month: c.month, day: c.day, hour: +typed.slice(0, 2), minute: +typed.slice(2, 4) };
          checkCivil(civil, field);
          t = civilToSeconds(civil, zone);
          if (field === "start") {
            if (t < cx.t.now()) t += DAY; // a time already past today: tomorrow
          } else if (t <= d.start) t += DAY;
        } else if (typed.length > 0) {
          if (typed.length !== 12) return field === "end" ? "hhmm, hours, 12 digit" : "Type hhmm (12 digit)";
          const civil = { year: +typed.slice(0, 4), month: +typed.slice(4, 6), day: +typed.slice(6, 8), hour: +typed.slice(8, 10), minute: +typed.slice(10, 12) };
          checkCivil(civil, field);
          t = civilToSeconds(civil, zone);
        }
      } catch (e) {
        return thrownText(e, cx.t.tariff);
      }
      if (field === "start") {
        // a start typed in the past is refused (an edited running period keeps its start): the
        // plan's rules know no "now", the keypad does
        if (t !== d.was && t < cx.t.now()) return "Start is past";
        if (typed.length > 0 && t !== d.start) d.end = t + (d.end - d.start);
        d.start = t;
      } else d.end = t;
      break;
    }
    case "pattern":
      if (typed.length > 0) d.pattern = +typed;
      break;
    case "sensors":
    case "cameras":
      if (typed.length > 0) {
        if (field === "sensors") d.sensors = +typed;
        else d.cameras = +typed;
      }
      // the keypad's own rule (a plan from the center may guard with no device: it is billed nothing)
      if (field === "cameras" && count(d.sensors) + count(d.cameras) === 0) return "Pick sensor/camera";
      break;
    case "contract":
      if (typed.length > 0) {
        const i = +typed - 1;
        if (i < 0 || i >= CONTRACTS.length) return "Contract is 1-3";
        d.contract = CONTRACTS[i];
      }
      break;
  }
  const refused = checkDraft(cx, d, field);
  if (refused !== null) Object.assign(d, before); // the draft stays as it was
  return refused;
}

/**
 * The plan with the draft, checked by the core (parsePlan, through the terminal's estimate): the
 * refusal of a field entered so far, in words, or null. The core checks in the editor's order, so
 * a value not entered yet (still its default) cannot hide the refusal of one that is.
 */
export function checkDraft(cx: UiContext, d: Draft, upTo: Field): string | null {
  const k = d.index ?? cx.t.plan.periods.length;
  try {
    cx.t.estimate(draftPlan(cx, d), null);
    return null;
  } catch (e) {
    if (!(e instanceof FieldError)) return thrownText(e, cx.t.tariff, k);
    const entered = FIELDS.slice(0, FIELDS.indexOf(upTo) + 1) as readonly string[];
    const period = PERIOD_FIELD.exec(e.field);
    let concerns: boolean;
    if (e.field === "contract") concerns = entered.indexOf("contract") >= 0;
    else if (period === null) concerns = true;
    else if (period[2] !== undefined) concerns = +period[1] === k && entered.indexOf(period[2]) >= 0;
    else {
      // the whole period (rental days, an overlap): known once its end is
      const other = e.reason && e.reason.other !== undefined ? e.reason.other : -1;
      concerns = (+period[1] === k || other === k) && entered.indexOf("end") >= 0;
    }
    return concerns ? thrownText(e, cx.t.tariff, k) : null;
  }
}

/** Picking from the sensor table: digits 1-3 toggle the lines shown, A/B page, # done. */
function pickKey(cx: UiContext, s: EditScreen, k: string): void {
  const cameras = s.field === "cameras";
  const items = cx.choices(cameras);
  const pages = Math.ceil(items.length / 3);
  const d = s.draft;
  const chosen = (cameras ? d.cameras : d.sensors) as number | string[];
  let ids = Array.isArray(chosen) ? chosen.slice() : [];
  if (k === "A") s.page = Math.max(0, s.page - 1);
  else if (k === "B") s.page = Math.min(pages - 1, s.page + 1);
  else if (k >= "1" && k <= "3") {
    const item = items[s.page * 3 + (+k - 1)];
    if (!item) return void cx.ignored++;
    ids = ids.indexOf(item.id) >= 0 ? ids.filter((x) => x !== item.id) : ids.concat([item.id]);
    if (cameras) d.cameras = ids;
    else d.sensors = ids;
  } else if (k === OK) {
    if (!Array.isArray(chosen)) {
      // a count from before the table existed: start the choice empty
      if (cameras) d.cameras = [];
      else d.sensors = [];
    }
    if (cameras && count(d.sensors) + count(d.cameras) === 0) return cx.refuse("Pick sensor/camera");
    const at = FIELDS.indexOf(s.field);
    toField(cx, d, FIELDS[at + 1]);
  } else cx.ignored++;
}

export function drawField(cx: UiContext, s: EditScreen): string[] {
  const d = s.draft;
  const zone = cx.config.zoneMinutes;
  const title = `Period ${d.index === null ? cx.t.plan.periods.length + 1 : d.index + 1}`;
  const typed = cx.digits;
  switch (s.field) {
    case "start":
    case "end": {
      const shown = typed.length > 0 ? (typed.length <= 4 ? typed : dateTemplate(typed)) : dateTemplate(timeDigits(s.field === "start" ? d.start : d.end, zone));
      const hint = s.field === "start" ? "hhmm  #=keep" : "hhmm or hours #=keep";
      return [`${title}: ${s.field}`, shown, typed.length > 0 ? "" : hint, "#=OK  *=back"];
    }
    case "pattern":
      return [`${title}: pattern`, lr(`Pattern ${typed.length > 0 ? typed : d.pattern}`, "#=OK"), PATTERN_HELP[0], PATTERN_HELP[1]];
    case "sensors":
    case "cameras": {
      const cameras = s.field === "cameras";
      const items = cx.choices(cameras);
      const chosen = cameras ? d.cameras : d.sensors;
      if (items.length === 0) {
        const value = typed.length > 0 ? typed : String(count(chosen));
        return [`${title}: ${s.field}`, `${cameras ? "Cameras" : "Sensors"} ${value}`, "how many (0-16)", "#=OK  *=back"];
      }
      const ids = Array.isArray(chosen) ? chosen : [];
      const lines = [lr(`${cameras ? "Cameras" : "Sensors"}`, `${ids.length} chosen`)];
      let hinted = false;
      for (let i = 0; i < 3; i++) {
        const item = items[s.page * 3 + i];
        if (item) lines.push(`${i + 1}[${ids.indexOf(item.id) >= 0 ? "x" : " "}] ${item.id}${item.connected ? "" : " lost"}`);
        else if (!hinted) {
          lines.push(items.length > 3 ? "1-3=pick A/B #=OK" : "1-3=pick  #=OK");
          hinted = true;
        } else lines.push("");
      }
      return lines;
    }
    case "contract": {
      const i = typed.length > 0 ? +typed - 1 : CONTRACTS.indexOf(d.contract);
      const label = i >= 0 && i < CONTRACTS.length ? CONTRACT_LABEL[CONTRACTS[i]] : "?";
      return ["Contract (all plan)", `${i + 1} ${label}`, "1 single 2 several", "3 continuous  #=OK"];
    }
  }
}
