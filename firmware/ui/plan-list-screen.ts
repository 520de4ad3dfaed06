import { isCamera } from "../core/devices";
import { MAX_PERIODS } from "../core/plan";
import type { Seconds } from "../core/time";
import type { UiContext } from "./context";
import { toField } from "./draft";
import { refusalText } from "./refusal";
import { toEstimate } from "./estimate-screen";
import { BACK, Draft, OK, ScreenOf, count } from "./screen";
import { HOUR, hoursText, lr, nextHour, shortTime } from "./text";

/**
 * The plan list: the plan's total and one period at a time (A/B), C a new period, D delete, #
 * edit, or digits then # for N hours from the next full hour (quick add); and the delete question.
 */

export function listKey(cx: UiContext, s: ScreenOf<"plan.list">, k: string): void {
  const n = cx.t.plan.periods.length;
  if (k >= "0" && k <= "9") {
    // quick add: N then # = a period from the next full hour for N hours
    if (cx.digits.length < 3) cx.digits += k;
    else cx.ignored++;
    return;
  }
  if (k === OK && cx.digits.length > 0) return quickAdd(cx, +cx.digits);
  if (k === BACK && cx.digits.length > 0) {
    cx.digits = cx.digits.slice(0, -1);
    return;
  }
  if (k === "A") s.selected = Math.max(0, s.selected - 1);
  else if (k === "B") s.selected = Math.min(Math.max(0, n - 1), s.selected + 1);
  else if (k === "C") newDraft(cx);
  else if (k === OK || k === "D") {
    if (n === 0) return cx.refuse("No period: C=add");
    if (k === "D") cx.screen = { name: "plan.delete", index: s.selected };
    else editDraft(cx, s.selected);
  } else if (k === BACK) cx.home();
  else cx.ignored++;
}

/** Where a new period starts: the next full hour, or the end of the last period if later. */
function nextStart(cx: UiContext): Seconds {
  const plan = cx.t.plan;
  const start = nextHour(cx.t.now(), cx.config.zoneMinutes);
  const last = plan.periods[plan.periods.length - 1];
  return last && last.end > start ? last.end : start;
}

export function newDraft(cx: UiContext): void {
  const plan = cx.t.plan;
  if (plan.periods.length >= MAX_PERIODS) return cx.refuse(`Plan is full (${MAX_PERIODS})`);
  const start = nextStart(cx);
  const draft: Draft = { index: null, was: null, start, end: start + HOUR, pattern: 1, sensors: 0, cameras: 0, contract: plan.contract };
  toField(cx, draft, "start");
}

/**
 * The common case in few keys: N hours from the next full hour, with the last period's pattern
 * and devices (or, first, pattern 1 and every registered device), straight to the estimate
 * (where 1-3 change the pattern).
 */
function quickAdd(cx: UiContext, hours: number): void {
  cx.digits = "";
  if (hours < 1) return cx.refuse("Hours: 1 or more");
  const plan = cx.t.plan;
  if (plan.periods.length >= MAX_PERIODS) return cx.refuse(`Plan is full (${MAX_PERIODS})`);
  const start = nextStart(cx);
  const last = plan.periods[plan.periods.length - 1];
  const devices = cx.devices();
  const ids = (camera: boolean) => devices.filter((x) => isCamera(x.id) === camera).map((x) => x.id);
  const draft: Draft = {
    index: null,
    was: null,
    start,
    end: start + hours * HOUR,
    pattern: last ? last.pattern : 1,
    sensors: last ? (last.sensorIds.length > 0 ? last.sensorIds.slice() : last.devices.sensor + last.devices.door + last.devices.smoke) : devices.length > 0 ? ids(false) : 1,
    cameras: last ? (last.cameraIds.length > 0 ? last.cameraIds.slice() : last.devices.camera) : devices.length > 0 ? ids(true) : 0,
    contract: plan.periods.length > 0 && plan.contract === "single" ? "multiple" : plan.contract,
  };
  if (count(draft.sensors) + count(draft.cameras) === 0) draft.sensors = 1;
  toEstimate(cx, draft);
}

function editDraft(cx: UiContext, index: number): void {
  const p = cx.t.plan.periods[index];
  const draft: Draft = {
    index,
    was: p.start,
    start: p.start,
    end: p.end,
    pattern: p.pattern,
    sensors: p.sensorIds.length > 0 ? p.sensorIds.slice() : p.devices.sensor + p.devices.door + p.devices.smoke,
    cameras: p.cameraIds.length > 0 ? p.cameraIds.slice() : p.devices.camera,
    contract: cx.t.plan.contract,
  };
  toField(cx, draft, "start");
}

export function drawList(cx: UiContext, selected: number): string[] {
  const periods = cx.t.plan.periods;
  const zone = cx.config.zoneMinutes;
  if (periods.length === 0) return ["Plan: no periods", "", "C=add a period", "*=back"];
  let total = "";
  try {
    total = `${cx.t.estimate(cx.planJson(), null).totalYen} yen`;
  } catch {
    total = "";
  }
  // one period at a time, in words: when, how long, its pattern; then every key this screen takes
  const i = Math.min(selected, periods.length - 1);
  const p = periods[i];
  return [
    lr(`Plan (${periods.length})`, total),
    `>${i + 1} ${shortTime(p.start, zone)} ${hoursText(p.end - p.start)}`,
    lr(`Pattern ${p.pattern}`, "#=edit"),
    periods.length > 1 ? "A/B C=add D=delete" : "C=add  D=delete",
  ];
}

/** Delete period N? # deletes it, * keeps it. */
export function deleteKey(cx: UiContext, s: ScreenOf<"plan.delete">, k: string): void {
  if (k === OK) {
    const periods = cx.periodsJson().filter((_, i) => i !== s.index);
    const r = cx.t.setPlan({ ...cx.planJson(), periods });
    cx.screen = { name: "plan.list", selected: Math.max(0, s.index - 1) };
    if (r.ok) cx.message = `Period ${s.index + 1} deleted`;
    else cx.refuse(refusalText(r.reason, r.error, cx.t.tariff));
  } else if (k === BACK) cx.screen = { name: "plan.list", selected: s.index };
  else cx.ignored++;
}

export function drawDelete(cx: UiContext, s: ScreenOf<"plan.delete">): string[] {
  const p = cx.t.plan.periods[s.index];
  return [`Delete period ${s.index + 1}?`, p ? `${shortTime(p.start, cx.config.zoneMinutes)} ${hoursText(p.end - p.start)}` : "", "", "#=yes  *=no"];
}
