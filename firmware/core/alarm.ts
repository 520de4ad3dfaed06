import { frozen } from "../lib/frozen";
import type { Seconds } from "./time";

// Compiled once here: XS compiles a regular expression literal each time it is evaluated (~0.1 ms).
/** a sensor ID code */
const SENSOR_ID = /^[A-D][0-9]{4}$/;

/**
 * The alarm panel's rules as a pure state machine: (state, event, time) → (state, effects).
 * No IO, no timers: the shell (firmware/sensors/panel.ts) persists the state, carries out the
 * effects (report to the center, sound the buzzer, end the period) and calls back with "tick" at
 * the time a "wake" effect asks for. docs/protocols.md ("Alarm panel") is the rule book.
 *
 * Zones by the device's ID letter: D door contact = entry/exit zone (delayed), A intrusion (PIR) =
 * interior follower (ignored while an exit or entry delay runs, instant otherwise), C smoke/heat =
 * 24-hour (fire, always), tamper of any device = 24-hour. Panic and duress come from the keypad.
 */

export type EventKind = "intrusion" | "entry" | "fire" | "tamper" | "panic" | "duress" | "trouble" | "opening";

/** SIA DC-05 Contact ID event codes the center receives with each event. */
export const CONTACT_ID: Readonly<Record<EventKind, number>> = Object.freeze({
  intrusion: 130,
  entry: 134,
  fire: 110,
  tamper: 137,
  panic: 120,
  duress: 121,
  trouble: 381,
  opening: 401,
});

export type Zone = "entry" | "interior" | "24h" | "none";

export function zoneOf(id: string): Zone {
  switch (id[0]) {
    case "D":
      return "entry";
    case "A":
      return "interior";
    case "C":
      return "24h";
    default:
      return "none";
  }
}

export interface AlarmRules {
  /** seconds from a door opening while armed to the alarm (0: instant) */
  entrySeconds: number;
  /** seconds after guarding begins during which doors and interior sensors are not alarms */
  exitSeconds: number;
  /** seconds the terminal sounds an audible alarm before it cuts off by itself (0: never sounds; default SIREN_SECONDS) */
  sirenSeconds?: number;
}

/** The local alarm's cut-off when the config names none: 3 minutes, as bells and sirens commonly are. */
export const SIREN_SECONDS = 180;

/**
 * What the buzzer plays: the delays' beeps, the alarm (burglary, tamper, panic: fast beeps) or the
 * fire alarm (the temporal-three pattern), or nothing. Derived from the state (soundOf).
 */
export type SoundMode = "entry" | "exit" | "alarm" | "fire" | "off";

/** An alarm the terminal shows, per alarm: new → seen (the user's #) → dispatched → closed. */
export type AlarmStatus = "new" | "seen" | "dispatched" | "closed";

export interface PanelAlarm {
  /** the alarm's id at the center (the sensor hub's alarm number) */
  id: number;
  kind: EventKind;
  sensor: string;
  at: Seconds;
  status: AlarmStatus;
  /** the operator's note (and ETA) from the center, or null */
  note: string | null;
  /** changed since the user last pressed # on it: the alarm screen shows it */
  fresh: boolean;
}

export interface PanelState {
  armed: boolean;
  /** the exit delay runs until then (null: none running) */
  exitUntil: Seconds | null;
  /** the entry delay: the door that started it and when it becomes an alarm */
  entry: { sensor: string; until: Seconds } | null;
  /** sensors left out of guarding until the current (or next) period ends */
  bypass: string[];
  /** sensors reported lost (trouble) in this guarded period: reported once each */
  lost: string[];
  /** the alarms shown on the LCD, oldest first */
  alarms: PanelAlarm[];
  /** the local alarm sounding: its pattern, and when it cuts off (the PIN silences it before) */
  siren: { kind: "alarm" | "fire"; until: Seconds } | null;
}

export const IDLE_PANEL: PanelState = frozen({ armed: false, exitUntil: null, entry: null, bypass: [], lost: [], alarms: [], siren: null }) as PanelState;

export const MAX_SHOWN = 8;
/** the sensor field of events that come from the keypad */
export const KEYPAD = "keypad";

export type PanelEvent =
  | { type: "arm" }
  | { type: "end" }
  | { type: "disarm"; duress: boolean }
  /** the user's PIN while not guarding: the local alarm stops (a fire alarm after a false alarm) */
  | { type: "silence" }
  | { type: "detect"; sensor: string }
  | { type: "fire"; sensor: string }
  | { type: "tamper"; sensor: string }
  | { type: "panic" }
  | { type: "lost"; sensor: string }
  | { type: "back"; sensor: string }
  | { type: "bypass"; sensor: string }
  | { type: "tick" }
  | { type: "raised"; id: number; kind: EventKind; sensor: string; silent: boolean }
  | { type: "seen"; id: number }
  | { type: "center"; id: number; status: string; note: string | null };

export type PanelEffect =
  | { type: "report"; kind: EventKind; sensor: string; contactId: number; capture: boolean; silent: boolean }
  | { type: "sound"; mode: SoundMode }
  | { type: "wake"; at: Seconds }
  | { type: "end-period" };

export interface Step {
  state: PanelState;
  effects: PanelEffect[];
}

function report(kind: EventKind, sensor: string, capture: boolean, silent = false): PanelEffect {
  return { type: "report", kind, sensor, contactId: CONTACT_ID[kind], capture, silent };
}

/** The next time the shell must call back with "tick", or null. */
export function nextWake(s: PanelState): Seconds | null {
  let at: Seconds | null = s.exitUntil;
  if (s.entry && (at === null || s.entry.until < at)) at = s.entry.until;
  if (s.siren && (at === null || s.siren.until < at)) at = s.siren.until;
  return at;
}

/** What the buzzer plays in a state: the local alarm over the entry delay over the exit delay. */
export function soundOf(s: PanelState): SoundMode {
  if (s.siren) return s.siren.kind;
  if (s.entry) return "entry";
  return s.exitUntil !== null ? "exit" : "off";
}

/** Alarms the terminal sounds locally; duress, trouble and openings are silent, whatever they say. */
const AUDIBLE: Readonly<Partial<Record<EventKind, "alarm" | "fire">>> = Object.freeze({ intrusion: "alarm", entry: "alarm", tamper: "alarm", panic: "alarm", fire: "fire" });

/**
 * The local alarm after the step's reports: an audible one starts it (or restarts its cut-off; a
 * fire alarm's pattern wins over a burglary's), and the buzzer is told when what it plays changes.
 */
function sounded(before: PanelState, step: Step, t: Seconds, rules: AlarmRules): Step {
  let state = step.state;
  const seconds = rules.sirenSeconds ?? SIREN_SECONDS;
  for (const f of step.effects) {
    const kind = f.type === "report" && !f.silent ? AUDIBLE[f.kind] : undefined;
    if (!kind || seconds <= 0) continue;
    state = { ...state, siren: { kind: kind === "fire" || state.siren?.kind === "fire" ? "fire" : "alarm", until: t + seconds } };
  }
  const effects: PanelEffect[] = step.effects.filter((f) => f.type !== "wake" && f.type !== "sound");
  const mode = soundOf(state);
  if (mode !== soundOf(before)) effects.unshift({ type: "sound", mode });
  const at = nextWake(state);
  if (at !== null && (state !== before || step.effects.some((f) => f.type === "wake"))) effects.push({ type: "wake", at });
  return { state, effects };
}

function withWake(state: PanelState, effects: PanelEffect[]): Step {
  const at = nextWake(state);
  if (at !== null) effects.push({ type: "wake", at });
  return { state, effects };
}

export function panelStep(s: PanelState, e: PanelEvent, t: Seconds, rules: AlarmRules): Step {
  return sounded(s, ruleStep(s, e, t, rules), t, rules);
}

/** The rules of one event; the buzzer's mode is derived afterwards (sounded), not set here. */
function ruleStep(s: PanelState, e: PanelEvent, t: Seconds, rules: AlarmRules): Step {
  const effects: PanelEffect[] = [];
  switch (e.type) {
    case "arm": {
      if (s.armed) return { state: s, effects };
      const exitUntil = rules.exitSeconds > 0 ? t + rules.exitSeconds : null;
      return withWake({ ...s, armed: true, exitUntil, entry: null, lost: [] }, effects);
    }
    case "end": {
      if (!s.armed && s.bypass.length === 0) return { state: s, effects };
      return { state: { ...s, armed: false, exitUntil: null, entry: null, bypass: [], lost: [] }, effects };
    }
    case "disarm": {
      if (!s.armed) return { state: s, effects };
      // duress first: the operators see it before the opening that hides it
      if (e.duress) effects.push(report("duress", KEYPAD, false, true));
      effects.push(report("opening", e.duress ? KEYPAD : (s.entry?.sensor ?? KEYPAD), false, true));
      effects.push({ type: "end-period" });
      // the family is home: alarms nobody dispatched guards for are done with on the LCD
      const alarms = s.alarms.filter((a) => a.status === "dispatched");
      return { state: { armed: false, exitUntil: null, entry: null, bypass: [], lost: [], alarms, siren: null }, effects };
    }
    case "silence":
      return { state: s.siren ? { ...s, siren: null } : s, effects };
    case "detect": {
      if (!s.armed || s.bypass.indexOf(e.sensor) >= 0) return { state: s, effects };
      const zone = zoneOf(e.sensor);
      const delaying = s.entry !== null || (s.exitUntil !== null && t < s.exitUntil);
      if (zone === "entry") {
        if (delaying) return { state: s, effects }; // leaving, or the door is already counting down
        if (rules.entrySeconds === 0) return { state: s, effects: [report("entry", e.sensor, true)] };
        return withWake({ ...s, entry: { sensor: e.sensor, until: t + rules.entrySeconds } }, effects);
      }
      if (zone === "interior") {
        if (delaying) return { state: s, effects }; // follows the door's delay
        return { state: s, effects: [report("intrusion", e.sensor, true)] };
      }
      return { state: s, effects };
    }
    case "fire":
      return { state: s, effects: [report("fire", e.sensor, true)] };
    case "tamper":
      return { state: s, effects: [report("tamper", e.sensor, true)] };
    case "panic":
      return { state: s, effects: [report("panic", KEYPAD, true)] };
    case "lost": {
      if (!s.armed || s.lost.indexOf(e.sensor) >= 0 || s.bypass.indexOf(e.sensor) >= 0) return { state: s, effects };
      return { state: { ...s, lost: s.lost.concat([e.sensor]) }, effects: [report("trouble", e.sensor, false, true)] };
    }
    case "back":
      if (s.lost.indexOf(e.sensor) < 0) return { state: s, effects };
      return { state: { ...s, lost: s.lost.filter((x) => x !== e.sensor) }, effects };
    case "bypass": {
      if (s.bypass.indexOf(e.sensor) >= 0) return { state: { ...s, bypass: s.bypass.filter((x) => x !== e.sensor) }, effects };
      const entry = s.entry && s.entry.sensor === e.sensor ? null : s.entry;
      return withWake({ ...s, entry, bypass: s.bypass.concat([e.sensor]) }, effects);
    }
    case "tick": {
      let state = s;
      if (state.exitUntil !== null && t >= state.exitUntil) {
        state = { ...state, exitUntil: null };
      }
      if (state.entry && t >= state.entry.until) {
        effects.push(report("entry", state.entry.sensor, true));
        state = { ...state, entry: null };
      }
      if (state.siren && t >= state.siren.until) state = { ...state, siren: null }; // the cut-off
      return withWake(state, effects);
    }
    case "raised": {
      if (e.silent) return { state: s, effects };
      const shown: PanelAlarm = { id: e.id, kind: e.kind, sensor: e.sensor, at: t, status: "new", note: null, fresh: true };
      const alarms = s.alarms.concat([shown]);
      return { state: { ...s, alarms: alarms.length > MAX_SHOWN ? alarms.slice(alarms.length - MAX_SHOWN) : alarms }, effects };
    }
    case "seen":
      return { state: { ...s, alarms: s.alarms.map((a) => (a.id === e.id ? { ...a, status: a.status === "new" ? "seen" : a.status, fresh: false } : a)) }, effects };
    case "center": {
      // an alarm the LCD does not show (a silent duress alarm) stays silent whatever the center says
      if (!s.alarms.some((a) => a.id === e.id)) return { state: s, effects };
      if (e.status === "closed") return { state: { ...s, alarms: s.alarms.filter((a) => a.id !== e.id) }, effects };
      const status: AlarmStatus | null = e.status === "dispatched" ? "dispatched" : null;
      const alarms = s.alarms.map((a) => (a.id === e.id ? { ...a, status: status ?? a.status, note: e.note ?? a.note, fresh: true } : a));
      return { state: { ...s, alarms }, effects };
    }
  }
}

/** A stored panel state, checked field by field (a damaged record gives the idle panel). */
export function parsePanel(v: unknown): PanelState {
  if (typeof v !== "object" || v === null) return IDLE_PANEL;
  const r = v as Record<string, unknown>;
  const num = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x);
  const ids = (x: unknown): string[] => (Array.isArray(x) ? x.filter((i) => typeof i === "string" && SENSOR_ID.test(i)) : []);
  const entry = r.entry as Record<string, unknown> | null | undefined;
  const siren = r.siren as Record<string, unknown> | null | undefined;
  const alarms: PanelAlarm[] = [];
  if (Array.isArray(r.alarms)) {
    for (const a of r.alarms as Array<Record<string, unknown>>) {
      if (!a || !num(a.id) || typeof a.kind !== "string" || !(a.kind in CONTACT_ID) || typeof a.sensor !== "string" || !num(a.at)) continue;
      const status = a.status === "seen" || a.status === "dispatched" ? a.status : "new";
      alarms.push({ id: a.id, kind: a.kind as EventKind, sensor: a.sensor, at: a.at, status, note: typeof a.note === "string" ? a.note : null, fresh: a.fresh !== false });
    }
  }
  return {
    armed: r.armed === true,
    exitUntil: num(r.exitUntil) ? r.exitUntil : null,
    entry: entry && typeof entry.sensor === "string" && num(entry.until) ? { sensor: entry.sensor, until: entry.until } : null,
    bypass: ids(r.bypass),
    lost: ids(r.lost),
    alarms: alarms.slice(-MAX_SHOWN),
    siren: siren && (siren.kind === "alarm" || siren.kind === "fire") && num(siren.until) ? { kind: siren.kind, until: siren.until } : null,
  };
}
