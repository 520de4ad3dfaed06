import { AlarmRules, EventKind, PanelAlarm, PanelEvent, PanelState, SIREN_SECONDS, SoundMode, panelStep, parsePanel, soundOf } from "../core/alarm";
import { FieldError, isRecord } from "../core/errors";
import { planToJson } from "../core/plan";
import { Seconds, formatTime } from "../core/time";
import type { Clock, Result, Terminal, Timers } from "../app/terminal";
import type { Store } from "../platform/store";

/** `config.alarm`: entry and exit delays, the local alarm's cut-off, in seconds (docs/protocols.md, "Alarm panel"). */
export function readAlarmRules(config: Readonly<Record<string, unknown>>): AlarmRules {
  const a = isRecord(config.alarm) ? config.alarm : {};
  const int = (v: unknown, fallback: number, field: string, max = 600): number => {
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) throw new FieldError(`config.alarm.${field}`, `must be an integer from 0 to ${max}`);
    return v;
  };
  return {
    entrySeconds: int(a.entrySeconds, 30, "entrySeconds"),
    exitSeconds: int(a.exitSeconds, 60, "exitSeconds"),
    sirenSeconds: int(a.sirenSeconds, SIREN_SECONDS, "sirenSeconds", 900),
  };
}

export type { SoundMode };

export interface AlarmPanelPorts {
  terminal: Terminal;
  store: Store;
  clock: Clock;
  timers: Timers;
  rules: AlarmRules;
  zoneMinutes: number;
  /** records and reports one event (the sensor hub: alarm record, capture, the link); returns its id */
  raise(kind: EventKind, sensor: string, contactId: number, capture: boolean, silent: boolean): number;
}

const KEY = "al_panel";

/**
 * The shell around the pure panel (core/alarm.ts): keeps its state in the Store (written before
 * any effect is carried out, so a power cut never repeats or loses a delay), runs one timer for
 * the delays, sounds the buzzer, reports through the hub and ends the period on a disarm.
 */
export class AlarmPanel {
  #p: AlarmPanelPorts;
  #s: PanelState;
  #timer: unknown = undefined;
  #sound: (mode: SoundMode) => void = () => undefined;
  #mode: SoundMode = "off";
  #listeners: Array<() => void> = [];
  #events = 0;

  constructor(ports: AlarmPanelPorts) {
    this.#p = ports;
    this.#s = parsePanel(ports.store.readJson(KEY));
    ports.terminal.onEvent((e) => {
      if (e.type === "period.start") this.event({ type: "arm" });
      else if (e.type === "period.end") this.event({ type: "end" });
    });
    ports.terminal.addSnapshotPart(this);
    // after the terminal's boot: a period resumed (or ended) across a power cut, a delay to finish
    ports.timers.set(() => {
      const guarding = ports.terminal.activePeriod !== null;
      if (guarding && !this.#s.armed) this.event({ type: "arm" });
      else if (!guarding && this.#s.armed) this.event({ type: "end" });
      else this.event({ type: "tick" });
      this.#setSound(soundOf(this.#s));
    }, 0);
  }

  /** The buzzer (the UI's component sets it). */
  setSound(sound: (mode: SoundMode) => void): void {
    this.#sound = sound;
    sound(this.#mode);
  }

  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  get state(): PanelState {
    return this.#s;
  }

  /** The local alarm sounds now. */
  sounding(): boolean {
    return this.#s.siren !== null;
  }

  bypassed(): readonly string[] {
    return this.#s.bypass;
  }

  /** Alarms shown on the LCD, oldest first. */
  get alarms(): readonly PanelAlarm[] {
    return this.#s.alarms;
  }

  /** The running entry delay (seconds left), the exit delay, for the screens. */
  delay(now: Seconds): { kind: "entry" | "exit"; sensor: string | null; left: number } | null {
    const s = this.#s;
    if (s.entry) return { kind: "entry", sensor: s.entry.sensor, left: Math.max(0, s.entry.until - now) };
    if (s.exitUntil !== null && now < s.exitUntil) return { kind: "exit", sensor: null, left: s.exitUntil - now };
    return null;
  }

  /**
   * The user's PIN (duress: the duress PIN) while guarding: an opening, and guarding stops now.
   * Not guarding, while the local alarm sounds (a fire alarm, say): the PIN silences it.
   */
  disarm(duress: boolean): Result {
    if (!this.#s.armed && this.#s.siren) return this.event({ type: "silence" }) ?? { ok: true };
    if (!this.#s.armed) return { ok: false, field: "guarding", error: "not guarding now" };
    return this.event({ type: "disarm", duress }) ?? { ok: true };
  }

  event(e: PanelEvent): Result | null {
    const t = this.#p.terminal.now();
    const { state, effects } = panelStep(this.#s, e, t, this.#p.rules);
    this.#events++;
    if (state !== this.#s) {
      this.#s = state;
      this.#p.store.writeJson(KEY, state);
    }
    let result: Result | null = null;
    for (const f of effects) {
      switch (f.type) {
        case "report": {
          const id = this.#p.raise(f.kind, f.sensor, f.contactId, f.capture, f.silent);
          const next = panelStep(this.#s, { type: "raised", id, kind: f.kind, sensor: f.sensor, silent: f.silent || f.kind === "opening" || f.kind === "trouble" }, t, this.#p.rules);
          if (next.state !== this.#s) {
            this.#s = next.state;
            this.#p.store.writeJson(KEY, next.state);
          }
          break;
        }
        case "sound":
          this.#setSound(f.mode);
          break;
        case "wake":
          this.#wake(f.at);
          break;
        case "end-period":
          result = this.#endPeriod(t);
          break;
      }
    }
    for (const l of this.#listeners) {
      try {
        l();
      } catch {
        // the UI's redraw failing must not stop the panel
      }
    }
    return result;
  }

  #setSound(mode: SoundMode): void {
    this.#mode = mode;
    try {
      this.#sound(mode);
    } catch {
      // a buzzer that fails does not stop the alarm
    }
  }

  #wake(at: Seconds): void {
    const timers = this.#p.timers;
    if (this.#timer !== undefined) timers.clear(this.#timer);
    this.#timer = timers.set(() => {
      this.#timer = undefined;
      this.event({ type: "tick" });
    }, Math.max(0, at * 1000 - this.#p.clock.now()));
  }

  /** The running period ends now (billed up to now); the rest of the plan stays. */
  #endPeriod(now: Seconds): Result {
    const terminal = this.#p.terminal;
    const active = terminal.activePeriod;
    if (!active) return { ok: true };
    const json = terminalPlanJson(terminal, this.#p.zoneMinutes);
    const periods = (json.periods as Array<Record<string, unknown>>).slice();
    const i = terminal.plan.periods.findIndex((p) => p.start === active.start);
    if (i < 0) return { ok: true };
    if (now <= active.start) periods.splice(i, 1);
    else periods[i] = { ...periods[i], end: formatTime(now, this.#p.zoneMinutes) };
    return terminal.setPlan({ ...json, periods });
  }

  /** its part of the terminal's snapshot */
  snapshotInto(out: Record<string, unknown>): void {
    out.panel = this.snapshot();
  }

  snapshot(): Record<string, unknown> {
    const s = this.#s;
    const zone = this.#p.zoneMinutes;
    return {
      armed: s.armed,
      exitUntil: s.exitUntil === null ? null : formatTime(s.exitUntil, zone),
      entry: s.entry ? { sensor: s.entry.sensor, until: formatTime(s.entry.until, zone) } : null,
      bypass: s.bypass.slice(),
      lost: s.lost.slice(),
      sound: this.#mode,
      alarms: s.alarms.map((a) => ({ id: a.id, kind: a.kind, sensor: a.sensor, at: formatTime(a.at, zone), status: a.status, note: a.note, fresh: a.fresh })),
      events: this.#events,
    };
  }
}

function terminalPlanJson(terminal: Terminal, zoneMinutes: number): Record<string, unknown> {
  return planToJson(terminal.plan, zoneMinutes);
}
