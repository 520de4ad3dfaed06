import { frozen } from "../lib/frozen";
import Timer from "timer";
import { FieldError } from "../core/errors";
import { Plan, planToJson } from "../core/plan";
import { guardAt } from "../core/scheduler";
import { CONTRACTS, Contract, hasPattern } from "../core/tariff";
import { Seconds, checkCivil, civilToSeconds, formatTime, secondsToCivil } from "../core/time";
import { isCamera } from "../core/devices";
import type { Terminal } from "../app/terminal";
import type { Store } from "../platform/store";
import { PIN_MAX, PinGuard, validPin } from "./pin";
import { UiDevice, UiPorts } from "./ports";
import {
  DAY,
  HOUR,
  ROWS,
  WIDTH,
  dateTemplate,
  firstFit,
  fit,
  hoursText,
  lr,
  minutesSeconds,
  nextHour,
  shortDate,
  shortTime,
  stars,
  timeDigits,
} from "./text";

/** What the UI draws on: a 20x4 character display (the HD44780 driver). */
export interface Display {
  line(row: number, text: string): void;
  backlight(on: boolean): void;
}

export interface UiConfig {
  zoneMinutes: number;
  /** back to the status screen (and the PIN locked again) after this long without a key */
  idleSeconds: number;
  /** the status screen's fee is redrawn this often while guarding */
  refreshSeconds: number;
  /** the return date shows from this long before the contract's end */
  returnNoticeSeconds: number;
  pinTries: number;
  pinLockSeconds: number;
  /** the backlight goes off this long after the last key (0: always on); an alarm lights it */
  backlightSeconds: number;
}

export function readUiConfig(config: Readonly<Record<string, unknown>>, zoneMinutes: number): UiConfig {
  const ui = (typeof config.ui === "object" && config.ui !== null ? config.ui : {}) as Record<string, unknown>;
  const n = (v: unknown, d: number, min: number) => (typeof v === "number" && Number.isInteger(v) && v >= min ? v : d);
  return {
    zoneMinutes,
    idleSeconds: n(ui.idleSeconds, 60, 5),
    refreshSeconds: n(ui.refreshSeconds, 60, 10),
    returnNoticeSeconds: n(ui.returnNoticeHours, 48, 1) * HOUR,
    pinTries: n(ui.pinTries, 3, 1),
    pinLockSeconds: n(ui.pinLockSeconds, 300, 10),
    backlightSeconds: n(ui.backlightSeconds, 300, 0),
  };
}

/** the custom characters the display defines (firmware/ui/component.ts) */
const BELL = "\x01";
const LOCK = "\x02";
const OK = "#";
/** how long a message (a refusal, "Plan saved") stays on line 4 without a key */
const MESSAGE_MS = 5000;
const BACK = "*";
const FIELDS = frozen(["start", "end", "pattern", "sensors", "cameras", "contract"] as const);
type Field = (typeof FIELDS)[number];
const CONTRACT_LABEL: Readonly<Record<Contract, string>> = Object.freeze({ single: "single", multiple: "several", continuous: "continuous" });
const PATTERN_HELP = Object.freeze(["1 tell  2 I decide", "3 guards go at once"]);
/** how the alarm screen names each kind of event */
const KIND_TEXT: Readonly<Record<string, string>> = Object.freeze({ intrusion: "intrusion", entry: "door alarm", fire: "FIRE", tamper: "tampered", panic: "panic" });
/** three presses of * within this long on the status screen: panic */
const PANIC_SECONDS = 3;

/** A period being entered or edited (times in seconds; devices as counts or chosen IDs). */
interface Draft {
  index: number | null;
  /** the edited period's start when editing began: the plan may change meanwhile (the center) */
  was: Seconds | null;
  start: Seconds;
  end: Seconds;
  pattern: number;
  sensors: number | string[];
  cameras: number | string[];
  contract: Contract;
}

type Screen =
  | { name: "setup" }
  | { name: "status" }
  | { name: "alarm" }
  | { name: "pin.new"; first: boolean }
  | { name: "pin.repeat"; first: boolean; pin: string }
  | { name: "pin.ask"; then: (duress: boolean) => void; why: string }
  | { name: "plan.list"; selected: number }
  | { name: "plan.delete"; index: number }
  | { name: "edit"; field: Field; draft: Draft; page: number }
  | { name: "estimate"; draft: Draft; confirmed?: boolean }
  | { name: "bypass"; page: number };

const KEY_SETUP = "uisetup";

export interface TerminalUiPorts {
  terminal: Terminal;
  /** what the other components tell the UI (made at boot, ui/ports.ts) */
  ui: UiPorts;
  display: Display;
  store: Store;
  config: UiConfig;
}

/**
 * The terminal's screens and keys (docs/ui.md): setup, status, plan list, the period editor with
 * its estimate, PIN, alarm, warnings. Everything typed is checked before anything changes; a
 * refusal is a message on the screen, counted, and the plan stays as it was.
 */
export class TerminalUi {
  #t: Terminal;
  #ui: UiPorts;
  #display: Display;
  #store: Store;
  #c: UiConfig;
  #pin: PinGuard;
  #screen: Screen = { name: "status" };
  #digits = "";
  #message: string | null = null;
  #messageTimed: string | null = null;
  #messageTimer: ReturnType<typeof Timer.set> | undefined = undefined;
  #unlocked = false;
  #shown: Array<string | null> = [null, null, null, null];
  #idleTimer: ReturnType<typeof Timer.set> | undefined = undefined;
  #refreshTimer: ReturnType<typeof Timer.set> | undefined = undefined;
  #refreshDelay = 0;
  #lit = true;
  #lightTimer: ReturnType<typeof Timer.set> | undefined = undefined;
  #keys = 0;
  /** the last keys, for the snapshot */
  #recent = "";
  #refused = 0;
  #ignored = 0;
  #displayErrors = 0;
  #lastRefusal: string | null = null;
  #stars: number[] = [];

  constructor(ports: TerminalUiPorts) {
    this.#t = ports.terminal;
    this.#ui = ports.ui;
    this.#display = ports.display;
    this.#store = ports.store;
    this.#c = ports.config;
    this.#pin = new PinGuard(ports.store, { tries: ports.config.pinTries, lockSeconds: ports.config.pinLockSeconds });
    this.#t.onEvent(() => this.#render());
    this.#ui.listen(() => this.#render());
    this.#t.addSnapshotSource("ui", () => this.snapshot());
    const setupDone = ports.store.readJson(KEY_SETUP) === true;
    this.#screen = setupDone && this.#pin.isSet ? { name: "status" } : { name: "setup" };
    // First drawn once the terminal has booted (it boots after its components are attached).
    Timer.set(() => {
      this.#light();
      this.#render();
    }, 0);
  }

  get screen(): string {
    return this.#screen.name;
  }

  snapshot(): Record<string, unknown> {
    const s = this.#screen;
    return {
      screen: s.name === "edit" ? `edit.${s.field}` : s.name,
      keys: this.#keys,
      recent: this.#recent,
      refused: this.#refused,
      ignored: this.#ignored,
      lastRefusal: this.#lastRefusal,
      displayErrors: this.#displayErrors,
      pin: this.#pin.status(this.#t.now()),
      backlight: this.#lit,
    };
  }

  /** One key from the keypad: 0-9, A-D, * (back), # (OK). */
  key(k: string): void {
    this.#keys++;
    this.#light();
    this.#messageTimed = null; // a message set by this key gets its own time
    this.#recent = (this.#recent + k).slice(-20);
    this.#message = null;
    this.#armIdle();
    try {
      this.#dispatch(k);
    } catch (e) {
      // A bug must not freeze the terminal: say so, count it, go back to a known screen.
      this.#refuse(`Error: ${e instanceof Error ? e.message : String(e)}`);
      this.#screen = { name: "status" };
    }
    this.#render();
  }

  // ---------------------------------------------------------------- keys

  #dispatch(k: string): void {
    const s = this.#screen;
    switch (s.name) {
      case "setup":
        return this.#setupKey(k);
      case "status":
        return this.#statusKey(k);
      case "alarm": {
        const a = this.#freshAlarm();
        if (k === OK) {
          if (a && this.#ui.panel) this.#ui.panel.event({ type: "seen", id: a.id });
          if (!this.#freshAlarm()) this.#screen = { name: "status" };
        } else if (k === "D") this.#askDisarm();
        else this.#ignored++;
        return;
      }
      case "pin.new":
      case "pin.repeat":
      case "pin.ask":
        return this.#pinKey(s, k);
      case "plan.list":
        return this.#listKey(s, k);
      case "bypass":
        return this.#bypassKey(s, k);
      case "plan.delete":
        if (k === OK) {
          const periods = this.#periodsJson().filter((_, i) => i !== s.index);
          const r = this.#t.setPlan({ ...this.#planJson(), periods });
          this.#screen = { name: "plan.list", selected: Math.max(0, s.index - 1) };
          if (r.ok) this.#message = `Period ${s.index + 1} deleted`;
          else this.#refuse(this.#short(r.error));
        } else if (k === BACK) this.#screen = { name: "plan.list", selected: s.index };
        else this.#ignored++;
        return;
      case "edit":
        return this.#editKey(s, k);
      case "estimate":
        if (k >= "1" && k <= "9" && hasPattern(this.#t.tariff, +k)) s.draft.pattern = +k;
        else if (k === OK) {
          // a plan the card in the slot cannot pay: say so, and save only on a second #
          const card = this.#cardCounts();
          if (typeof card === "number" && !s.confirmed) {
            let need = 0;
            try {
              need = this.#t.estimate(this.#draftPlan(s.draft), null).counts;
            } catch {
              need = 0;
            }
            if (need > card) {
              s.confirmed = true;
              this.#message = "Save anyway? #=yes"; // line 3 says by how much the card is short
              return;
            }
          }
          this.#save(s.draft);
        }
        else if (k === BACK) this.#toField(s.draft, "contract");
        else this.#ignored++;
        return;
    }
  }

  #setupKey(k: string): void {
    if (k === OK) {
      const inv = this.#ui.inventory;
      const pending = inv && inv.pending ? inv.pending() : [];
      if (pending.length > 0 && inv && inv.confirm) {
        const r = inv.confirm();
        if (!r.ok) return this.#refuse(this.#short(r.error ?? "not confirmed"));
      }
      this.#store.writeJson(KEY_SETUP, true);
      this.#ui.setupConfirmed(this.#devices().map((d) => d.id));
      if (!this.#pin.isSet) {
        this.#digits = "";
        this.#screen = { name: "pin.new", first: true };
      } else this.#home();
    } else if (k === "C" && this.#ui.inventory && this.#ui.inventory.search) {
      this.#ui.inventory.search();
      this.#message = "Searching: plug in";
    } else if (k === BACK && this.#store.readJson(KEY_SETUP) === true && this.#pin.isSet) this.#home();
    else if (k === "D" && this.#ui.panel && this.#pin.isSet) this.#requirePin("to bypass", () => (this.#screen = { name: "bypass", page: 0 }));
    else this.#ignored++;
  }

  #statusKey(k: string): void {
    if (k === "A") this.#requirePin("to change the plan", () => (this.#screen = { name: "plan.list", selected: 0 }));
    else if (k === "B") this.#screen = { name: "setup" };
    else if (k === "C") {
      this.#requirePin("to change the PIN", () => {
        this.#digits = "";
        this.#screen = { name: "pin.new", first: false };
      });
    } else if (k === "D") this.#askDisarm();
    else if (k === BACK) this.#panicKey();
    else this.#ignored++;
  }

  /** Bypass: digits 1-3 leave the sensor on that line out of guarding for one period; A/B page. */
  #bypassKey(s: Extract<Screen, { name: "bypass" }>, k: string): void {
    const items = this.#choices(false);
    if (k === "A") s.page = Math.max(0, s.page - 1);
    else if (k === "B") s.page = Math.min(Math.max(0, Math.ceil(items.length / 3) - 1), s.page + 1);
    else if (k >= "1" && k <= "3") {
      const item = items[s.page * 3 + (+k - 1)];
      if (!item || !this.#ui.panel) return void this.#ignored++;
      this.#ui.panel.event({ type: "bypass", sensor: item.id });
    } else if (k === OK || k === BACK) this.#home();
    else this.#ignored++;
  }

  /** Panic: * three times within PANIC_MS on the status screen (docs/ui.md). */
  #panicKey(): void {
    const now = this.#t.now();
    this.#stars = this.#stars.filter((at) => now - at < PANIC_SECONDS).concat([now]);
    if (this.#stars.length < 3) return void this.#ignored++;
    this.#stars = [];
    if (!this.#ui.panel) return void this.#ignored++;
    this.#ui.panel.event({ type: "panic" });
    this.#message = "Panic sent";
  }

  /** D: the PIN disarms (D, the PIN, #); the PIN screen says what it is for. */
  #askDisarm(): void {
    if (this.#t.activePeriod === null) {
      this.#screen = { name: "status" };
      return this.#refuse("Not guarding now");
    }
    this.#unlocked = false; // disarming always asks: the duress PIN must be possible
    this.#requirePin("to disarm", (duress) => this.#disarm(duress));
  }

  #pinKey(s: Extract<Screen, { name: "pin.new" | "pin.repeat" | "pin.ask" }>, k: string): void {
    const now = this.#t.now();
    if (s.name === "pin.ask" && this.#pin.lockedFor(now) > 0) {
      if (k === BACK) this.#home();
      else this.#refuse(`Locked ${minutesSeconds(this.#pin.lockedFor(now))}`);
      return;
    }
    if (k >= "0" && k <= "9") {
      if (this.#digits.length < PIN_MAX) this.#digits += k;
      else this.#ignored++;
      return;
    }
    if (k === BACK) {
      if (this.#digits.length > 0) this.#digits = this.#digits.slice(0, -1);
      else if (s.name !== "pin.ask" && s.first) this.#screen = { name: "setup" };
      else this.#home();
      return;
    }
    if (k !== OK) return void this.#ignored++;
    const pin = this.#digits;
    if (pin.length === 0) return void this.#ignored++; // # with nothing typed costs no try
    this.#digits = "";
    if (s.name === "pin.new") {
      if (!validPin(pin)) return this.#refuse("PIN is 4-8 digits");
      this.#screen = { name: "pin.repeat", first: s.first, pin };
    } else if (s.name === "pin.repeat") {
      if (pin !== s.pin) {
        this.#screen = { name: "pin.new", first: s.first };
        return this.#refuse("PINs differ: again");
      }
      this.#pin.set(pin, now);
      this.#message = "PIN set";
      this.#home();
    } else {
      const r = this.#pin.check(pin, now);
      if (r.ok) {
        this.#unlocked = r.duress !== true;
        s.then(r.duress === true);
      } else if (r.locked) this.#refuse(`Locked ${minutesSeconds(r.lockedUntil - now)}`);
      else this.#refuse(`Wrong PIN, ${r.triesLeft} left`);
    }
  }

  #requirePin(why: string, then: (duress: boolean) => void): void {
    if (this.#unlocked || !this.#pin.isSet) return then(false);
    this.#digits = "";
    this.#screen = { name: "pin.ask", then, why };
  }

  #listKey(s: Extract<Screen, { name: "plan.list" }>, k: string): void {
    const n = this.#t.plan.periods.length;
    if (k >= "0" && k <= "9") {
      // quick add: N then # = a period from the next full hour for N hours
      if (this.#digits.length < 3) this.#digits += k;
      else this.#ignored++;
      return;
    }
    if (k === OK && this.#digits.length > 0) return this.#quickAdd(+this.#digits);
    if (k === BACK && this.#digits.length > 0) {
      this.#digits = this.#digits.slice(0, -1);
      return;
    }
    if (k === "A") s.selected = Math.max(0, s.selected - 1);
    else if (k === "B") s.selected = Math.min(Math.max(0, n - 1), s.selected + 1);
    else if (k === "C") this.#newDraft();
    else if (k === OK || k === "D") {
      if (n === 0) return this.#refuse("No period: C=add");
      if (k === "D") this.#screen = { name: "plan.delete", index: s.selected };
      else this.#editDraft(s.selected);
    } else if (k === BACK) this.#home();
    else this.#ignored++;
  }

  /** Where a new period starts: the next full hour, or the end of the last period if later. */
  #nextStart(): Seconds {
    const plan = this.#t.plan;
    const start = nextHour(this.#t.now(), this.#c.zoneMinutes);
    const last = plan.periods[plan.periods.length - 1];
    return last && last.end > start ? last.end : start;
  }

  #newDraft(): void {
    const plan = this.#t.plan;
    if (plan.periods.length >= 32) return this.#refuse("Plan is full (32)");
    const start = this.#nextStart();
    const draft: Draft = { index: null, was: null, start, end: start + HOUR, pattern: 1, sensors: 0, cameras: 0, contract: plan.contract };
    this.#toField(draft, "start");
  }

  /**
   * The common case in few keys: N hours from the next full hour, with the last period's pattern
   * and devices (or, first, pattern 1 and every registered device), straight to the estimate
   * (where 1-3 change the pattern).
   */
  #quickAdd(hours: number): void {
    this.#digits = "";
    if (hours < 1) return this.#refuse("Hours: 1 or more");
    const plan = this.#t.plan;
    if (plan.periods.length >= 32) return this.#refuse("Plan is full (32)");
    const start = this.#nextStart();
    const last = plan.periods[plan.periods.length - 1];
    const devices = this.#devices();
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
    this.#toEstimate(draft);
  }

  #editDraft(index: number): void {
    const p = this.#t.plan.periods[index];
    const draft: Draft = {
      index,
      was: p.start,
      start: p.start,
      end: p.end,
      pattern: p.pattern,
      sensors: p.sensorIds.length > 0 ? p.sensorIds.slice() : p.devices.sensor + p.devices.door + p.devices.smoke,
      cameras: p.cameraIds.length > 0 ? p.cameraIds.slice() : p.devices.camera,
      contract: this.#t.plan.contract,
    };
    this.#toField(draft, "start");
  }

  #toField(draft: Draft, field: Field): void {
    this.#digits = "";
    this.#screen = { name: "edit", field, draft, page: 0 };
  }

  #editKey(s: Extract<Screen, { name: "edit" }>, k: string): void {
    const d = s.draft;
    const at = FIELDS.indexOf(s.field);
    const picking = (s.field === "sensors" || s.field === "cameras") && this.#choices(s.field === "cameras").length > 0;
    if (k === BACK) {
      if (this.#digits.length > 0) this.#digits = this.#digits.slice(0, -1);
      else if (at === 0) this.#screen = { name: "plan.list", selected: d.index ?? 0 };
      else this.#toField(d, FIELDS[at - 1]);
      return;
    }
    if (picking) return this.#pickKey(s, k);
    if (k >= "0" && k <= "9") {
      const max = s.field === "start" || s.field === "end" ? 12 : s.field === "pattern" || s.field === "contract" ? 1 : 2;
      if (max === 1) this.#digits = k;
      else if (this.#digits.length < max) this.#digits += k;
      else this.#ignored++;
      return;
    }
    if (k !== OK) return void this.#ignored++;
    const error = this.#accept(s.field, d);
    if (error) {
      this.#digits = ""; // the field shows its value again; retype
      return this.#refuse(error);
    }
    this.#digits = "";
    if (at + 1 < FIELDS.length) this.#toField(d, FIELDS[at + 1]);
    else this.#toEstimate(d);
  }

  /** Takes the typed value into the draft; returns what is wrong, or null. */
  #accept(field: Field, d: Draft): string | null {
    const typed = this.#digits;
    const zone = this.#c.zoneMinutes;
    switch (field) {
      case "start":
      case "end": {
        let t = field === "start" ? d.start : d.end;
        if (field === "end" && typed.length >= 1 && typed.length <= 3) {
          // the end as a duration: hours from the start
          if (+typed === 0) return "End not after start";
          t = d.start + +typed * HOUR;
        } else if (typed.length === 4) {
          // hhmm: the date follows (the start's day, or the next day when that is not later)
          const hour = +typed.slice(0, 2);
          const minute = +typed.slice(2, 4);
          if (hour > 23) return `No hour ${hour}`;
          if (minute > 59) return `No minute ${minute}`;
          const c = secondsToCivil(d.start, zone);
          t = civilToSeconds({ year: c.year, month: c.month, day: c.day, hour, minute }, zone);
          if (field === "start") {
            const now = this.#t.now();
            if (t < now) t += DAY; // a time already past today: tomorrow
          } else if (t <= d.start) t += DAY;
        } else if (typed.length > 0) {
          if (typed.length !== 12) return field === "end" ? "hhmm, hours, 12 digit" : "Type hhmm (12 digit)";
          const c = { year: +typed.slice(0, 4), month: +typed.slice(4, 6), day: +typed.slice(6, 8), hour: +typed.slice(8, 10), minute: +typed.slice(10, 12) };
          try {
            checkCivil(c, field);
          } catch (e) {
            return this.#civilMessage(e, c);
          }
          t = civilToSeconds(c, zone);
        }
        if (field === "start") {
          // a new start in the past is refused (an edited running period keeps its start)
          if (t !== d.was && t < this.#t.now()) return "Start is past";
          if (typed.length > 0 && t !== d.start) d.end = t + (d.end - d.start);
          d.start = t;
          return null;
        }
        if (t <= d.start) return "End not after start";
        d.end = t;
        return this.#overlap(d);
      }
      case "pattern": {
        const p = typed.length > 0 ? +typed : d.pattern;
        if (!hasPattern(this.#t.tariff, p)) return `No pattern ${p} (1-3)`.replace("(1-3)", `(${this.#patternRange()})`);
        d.pattern = p;
        return null;
      }
      case "sensors":
      case "cameras": {
        if (typed.length > 0) {
          const n = +typed;
          if (n > 16) return "At most 16 devices";
          if (field === "sensors") d.sensors = n;
          else d.cameras = n;
        }
        if (field === "cameras" && count(d.sensors) + count(d.cameras) === 0) return "Pick sensor/camera";
        return null;
      }
      case "contract": {
        if (typed.length > 0) {
          const i = +typed - 1;
          if (i < 0 || i >= CONTRACTS.length) return "Contract is 1-3";
          d.contract = CONTRACTS[i];
        }
        const others = this.#t.plan.periods.length - (d.index === null ? 0 : 1);
        if (d.contract === "single" && others > 0) return "Single: one period";
        return null;
      }
    }
  }

  #civilMessage(e: unknown, c: { year: number; month: number; day: number; hour: number; minute: number }): string {
    const m = e instanceof Error ? e.message : "";
    if (m.indexOf("year") >= 0) return "Year is 2000-2099";
    if (m.indexOf("month") >= 0 && m.indexOf("day") < 0) return `No month ${c.month}`;
    if (m.indexOf("day") >= 0) return `No ${MONTHS[c.month - 1]} ${c.day}`;
    if (m.indexOf("hour") >= 0) return `No hour ${c.hour}`;
    return `No minute ${c.minute}`;
  }

  #overlap(d: Draft): string | null {
    const periods = this.#t.plan.periods;
    for (let i = 0; i < periods.length; i++) {
      if (i === d.index) continue;
      if (d.start < periods[i].end && periods[i].start < d.end) return `Overlaps period ${i + 1}`;
    }
    const rental = this.#t.plan.rental;
    if (rental && (d.start < rental.from || d.end > rental.to)) return "Outside rental days";
    return null;
  }

  #patternRange(): string {
    const ps = Object.keys(this.#t.tariff.patterns)
      .map(Number)
      .sort((a, b) => a - b);
    return ps.length > 0 ? `${ps[0]}-${ps[ps.length - 1]}` : "-";
  }

  /** Devices of the sensor table to pick from (cameras or the rest). */
  #choices(cameras: boolean): UiDevice[] {
    return this.#devices().filter((d) => isCamera(d.id) === cameras);
  }

  #devices(): UiDevice[] {
    const inv = this.#ui.inventory;
    if (!inv) return [];
    try {
      return inv.devices().slice();
    } catch {
      return [];
    }
  }

  /** Picking from the sensor table: digits 1-3 toggle the lines shown, A/B page, # done. */
  #pickKey(s: Extract<Screen, { name: "edit" }>, k: string): void {
    const cameras = s.field === "cameras";
    const items = this.#choices(cameras);
    const pages = Math.ceil(items.length / 3);
    const d = s.draft;
    const chosen = (cameras ? d.cameras : d.sensors) as number | string[];
    let ids = Array.isArray(chosen) ? chosen.slice() : [];
    if (k === "A") s.page = Math.max(0, s.page - 1);
    else if (k === "B") s.page = Math.min(pages - 1, s.page + 1);
    else if (k >= "1" && k <= "3") {
      const item = items[s.page * 3 + (+k - 1)];
      if (!item) return void this.#ignored++;
      ids = ids.indexOf(item.id) >= 0 ? ids.filter((x) => x !== item.id) : ids.concat([item.id]);
      if (cameras) d.cameras = ids;
      else d.sensors = ids;
    } else if (k === OK) {
      if (!Array.isArray(chosen)) {
        // a count from before the table existed: start the choice empty
        if (cameras) d.cameras = [];
        else d.sensors = [];
      }
      if (cameras && count(d.sensors) + count(d.cameras) === 0) return this.#refuse("Pick sensor/camera");
      const at = FIELDS.indexOf(s.field);
      this.#toField(d, FIELDS[at + 1]);
    } else this.#ignored++;
  }

  #toEstimate(d: Draft): void {
    try {
      this.#t.estimate(this.#draftPlan(d), null);
    } catch (e) {
      return this.#refuse(this.#short(e instanceof Error ? e.message : String(e)));
    }
    this.#screen = { name: "estimate", draft: d };
  }

  #save(d: Draft): void {
    if (d.index !== null) {
      const p = this.#t.plan.periods[d.index];
      if (!p || p.start !== d.was) {
        this.#screen = { name: "plan.list", selected: 0 };
        return this.#refuse("Plan changed: redo");
      }
    }
    const r = this.#t.setPlan(this.#draftPlan(d));
    if (!r.ok) return this.#refuse(this.#short(r.error));
    const index = this.#t.plan.periods.findIndex((p) => p.start === d.start);
    this.#screen = { name: "plan.list", selected: Math.max(0, index) };
    this.#message = "Plan saved";
  }

  /** The PIN was right (or the duress PIN: the same, visibly; the panel reports it silently). */
  #disarm(duress: boolean): void {
    const active = this.#t.activePeriod;
    if (!active) {
      this.#home();
      return this.#refuse("Not guarding now");
    }
    let r: { ok: boolean; error?: string };
    if (this.#ui.panel) r = this.#ui.panel.disarm(duress);
    else {
      const now = this.#t.now();
      const i = this.#t.plan.periods.findIndex((p) => p.start === active.start);
      const periods = this.#periodsJson();
      if (now <= active.start) periods.splice(i, 1);
      else periods[i] = { ...periods[i], end: formatTime(now, this.#c.zoneMinutes) };
      r = this.#t.setPlan({ ...this.#planJson(), periods });
    }
    this.#unlocked = false;
    this.#home();
    if (r.ok) this.#message = "Disarmed";
    else this.#refuse(this.#short(r.error ?? "not disarmed"));
  }

  /** The newest alarm the user has not seen since it changed, or undefined. */
  #freshAlarm() {
    const alarms = this.#ui.alarms;
    for (let i = 0; i < alarms.length; i++) if (alarms[i].fresh) return alarms[i];
    return undefined;
  }

  #home(): void {
    this.#unlocked = false;
    this.#digits = "";
    this.#screen = this.#freshAlarm() ? { name: "alarm" } : { name: "status" };
  }

  #refuse(text: string): void {
    this.#refused++;
    this.#lastRefusal = text;
    this.#message = text;
  }

  /** A refusal from the core, made to fit: the field's path is replaced by words. */
  #short(error: string): string {
    const overlap = /overlaps periods\[(\d+)\]/.exec(error);
    if (overlap) return `Overlaps period ${+overlap[1] + 1}`;
    if (error.indexOf("outside the rental") >= 0) return "Outside rental days";
    if (error.indexOf("single contract") >= 0) return "Single: one period";
    if (error.indexOf("unknown device") >= 0) return "Unknown device";
    if (error.indexOf("but the sensor table has") >= 0) return error.indexOf(" camera") >= 0 ? "Too few cameras" : "Too few sensors";
    if (error.indexOf("must be after the start") >= 0) return "End not after start";
    if (error.indexOf("unknown pattern") >= 0) return "No such pattern";
    const colon = error.lastIndexOf(": ");
    return fit(colon >= 0 ? error.slice(colon + 2) : error).trimEnd();
  }

  // ---------------------------------------------------------------- plan JSON

  #planJson(): Record<string, unknown> {
    return planToJson(this.#t.plan, this.#c.zoneMinutes);
  }

  #periodsJson(): Array<Record<string, unknown>> {
    return (this.#planJson().periods as Array<Record<string, unknown>>).slice();
  }

  #draftPlan(d: Draft): Record<string, unknown> {
    const zone = this.#c.zoneMinutes;
    const periods = this.#periodsJson();
    const p = { start: formatTime(d.start, zone), end: formatTime(d.end, zone), pattern: d.pattern, sensors: d.sensors, cameras: d.cameras };
    if (d.index === null) periods.push(p);
    else periods[d.index] = p;
    return { ...this.#planJson(), contract: d.contract, periods };
  }

  // ---------------------------------------------------------------- drawing

  #render(): void {
    this.#expireMessage();
    const lines = this.#draw();
    for (let r = 0; r < ROWS; r++) {
      const text = fit(lines[r] ?? "");
      if (this.#shown[r] === text) continue;
      try {
        this.#display.line(r, text);
        this.#shown[r] = text;
      } catch {
        this.#displayErrors++;
        this.#shown[r] = null; // drawn again next time
      }
    }
    this.#scheduleRefresh();
  }

  #draw(): string[] {
    const s = this.#screen;
    if (s.name === "status" && this.#freshAlarm()) this.#screen = { name: "alarm" };
    if (this.#screen.name === "alarm" && !this.#freshAlarm()) this.#screen = { name: "status" };
    const delay = this.#ui.panel ? this.#ui.panel.delay(this.#t.now()) : null;
    if (delay && delay.kind === "entry" && (this.#screen.name === "status" || this.#screen.name === "alarm")) {
      // the door's countdown: nothing else matters until the PIN is typed or the time is up
      if (!this.#lit) this.#light();
      const lines = [`${BELL} Door ${delay.sensor} open`, `Disarm in ${delay.left} s`, "D, PIN, # to disarm", ""];
      if (this.#message !== null) lines[3] = this.#message;
      return lines;
    }
    if (this.#screen.name === "alarm" && !this.#lit) this.#light();
    const screen = this.#screen;
    const lines = this.#drawScreen(screen);
    if (this.#message !== null) lines[3] = this.#message;
    return lines;
  }

  #drawScreen(s: Screen): string[] {
    const zone = this.#c.zoneMinutes;
    switch (s.name) {
      case "setup": {
        const devices = this.#devices();
        const inv = this.#ui.inventory;
        const pending = inv && inv.pending ? inv.pending().slice() : [];
        const hint = inv && inv.search ? "#=OK  C=search" : "#=OK";
        const found = devices.length + pending.length;
        if (found === 0) return ["Setup", "no sensors yet", "", hint];
        const fullHint = inv && inv.search && this.#ui.panel ? "#=OK C=search D=skip" : hint;
        // in words: "New:" those waiting for the OK, "Lost:" those silent, then those in use
        // ("OK:" when there are others to tell them from)
        const lost = devices.filter((d) => !d.connected).map((d) => d.id);
        const inUse = devices.filter((d) => d.connected).map((d) => d.id);
        const rows = wrapGroups([
          ["New:", pending],
          ["Lost:", lost],
          [pending.length + lost.length > 0 ? "OK:" : "", inUse],
        ]);
        return [lr("Setup", `${found} found`), rows[0], rows[1], pending.length > 0 ? "#=OK: add new ones" : fullHint];
      }
      case "status":
        return this.#drawStatus();
      case "alarm": {
        const a = this.#freshAlarm();
        if (!a) return this.#drawStatus();
        const all = this.#ui.alarms;
        const n = all.indexOf(a) + 1;
        const title = all.length > 1 ? `${BELL} ALARM ${n}/${all.length} ${BELL}` : `${BELL} ALARM ${BELL}`;
        const what = `${a.sensor} ${KIND_TEXT[a.kind] ?? a.kind}`;
        if (a.status === "dispatched") return [title, `${a.sensor} guards sent`, a.note ?? "Guards on the way", "#=seen  D=disarm"];
        return [title, what, a.note ?? `at ${shortTime(a.at, zone)}`, "#=seen  D=disarm"];
      }
      case "pin.new":
        return [s.first ? "Choose a PIN" : "New PIN", `${stars(this.#digits.length)}_`, "4-8 digits", "#=OK  *=back"];
      case "pin.repeat":
        return ["Repeat the PIN", `${stars(this.#digits.length)}_`, "", "#=OK  *=back"];
      case "pin.ask": {
        const locked = this.#pin.lockedFor(this.#t.now());
        return [`${LOCK} Enter PIN`, locked > 0 ? "" : `${stars(this.#digits.length)}_`, s.why, locked > 0 ? `Locked ${minutesSeconds(locked)}` : "#=OK  *=back"];
      }
      case "plan.list":
        return this.#drawList(s.selected);
      case "bypass": {
        const items = this.#choices(false);
        const off = this.#ui.panel ? this.#ui.panel.bypassed() : [];
        const lines = [lr("Leave out 1 period", "")];
        for (let i = 0; i < 3; i++) {
          const item = items[s.page * 3 + i];
          lines.push(item ? `${i + 1}[${off.indexOf(item.id) >= 0 ? "x" : " "}] ${item.id}${off.indexOf(item.id) >= 0 ? " left out" : ""}` : i === 2 ? "#=done" : "");
        }
        return lines;
      }
      case "plan.delete": {
        const p = this.#t.plan.periods[s.index];
        return [`Delete period ${s.index + 1}?`, p ? `${shortTime(p.start, zone)} ${hoursText(p.end - p.start)}` : "", "", "#=yes  *=no"];
      }
      case "edit":
        return this.#drawField(s);
      case "estimate":
        return this.#drawEstimate(s.draft);
    }
  }

  #drawStatus(): string[] {
    const t = this.#t;
    const now = t.now();
    const zone = this.#c.zoneMinutes;
    const active = t.activePeriod;
    const g = guardAt(t.plan, now);
    const lines: string[] = [];
    if (active) {
      lines.push(lr("GUARDING", `pattern ${active.pattern}`));
      const delay = this.#ui.panel ? this.#ui.panel.delay(now) : null;
      lines.push(delay && delay.kind === "exit" ? `Leave now: ${delay.left} s` : `Until ${shortTime(active.end, zone)}`);
    } else {
      lines.push(lr("Not guarding", t.plan.periods.length > 0 ? `plan ${t.plan.periods.length}` : ""));
      if (g.next && g.next.kind === "start") lines.push(`Starts ${shortTime(g.next.at, zone)}`);
      else lines.push(t.plan.periods.length === 0 ? "A=enter a plan" : "All periods done");
    }
    // an open alarm (seen, guards sent) stays in view until the center closes it; line 4 keeps
    // the card and power warnings
    const open = this.#ui.alarms;
    const last = open[open.length - 1];
    if (last) lines.push(last.status === "dispatched" ? `Guards: ${last.note ?? "on the way"}` : `Alarm ${last.sensor} ${last.status}`);
    else lines.push(`Fee ${t.owedYen()} yen`);
    lines.push(this.#statusLine(now, g.next === null ? null : g.next.at));
    return lines;
  }

  /** The status screen's last line, by priority: warning, return date, card. */
  #statusLine(now: Seconds, _next: Seconds | null): string {
    const w = this.#ui.warnings;
    if (w.length > 0) return w[0][1];
    const lost = this.#devices().filter((d) => !d.connected);
    if (lost.length > 0) return lost.length === 1 ? `Sensor ${lost[0].id} lost` : `${lost.length} sensors lost`;
    const ret = this.#returnDate();
    if (ret !== null && now >= ret - this.#c.returnNoticeSeconds) return `Return kit by ${shortDate(ret, this.#c.zoneMinutes)}`;
    const card = this.#cardCounts();
    if (card === undefined) return "";
    return card === null ? "No card" : `Card ${card} counts`;
  }

  /** The day the kit goes back: the rental's last day; a plan without rental days has none. */
  #returnDate(): Seconds | null {
    const plan: Plan = this.#t.plan;
    return plan.rental ? plan.rental.to : null;
  }

  /** The card's counts: a number, null (no card), undefined (no card reader known). */
  #cardCounts(): number | null | undefined {
    const card = this.#ui.card;
    if (!card) return undefined;
    try {
      const n = card.counts();
      return typeof n === "number" && Number.isInteger(n) ? n : null;
    } catch {
      return null;
    }
  }

  #drawList(selected: number): string[] {
    const periods = this.#t.plan.periods;
    const zone = this.#c.zoneMinutes;
    if (periods.length === 0) return ["Plan: no periods", "", "C=add a period", "*=back"];
    let total = "";
    try {
      total = `${this.#t.estimate(this.#planJson(), null).totalYen} yen`;
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

  #drawField(s: Extract<Screen, { name: "edit" }>): string[] {
    const d = s.draft;
    const zone = this.#c.zoneMinutes;
    const title = `Period ${d.index === null ? this.#t.plan.periods.length + 1 : d.index + 1}`;
    const typed = this.#digits;
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
        const items = this.#choices(cameras);
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

  #drawEstimate(d: Draft): string[] {
    const zone = this.#c.zoneMinutes;
    let est;
    try {
      est = this.#t.estimate(this.#draftPlan(d), null);
    } catch (e) {
      return ["Estimate", this.#short(e instanceof Error ? e.message : String(e)), "", "*=back"];
    }
    const row = est.periods.find((p) => p.start === d.start) ?? est.periods[0];
    const card = this.#cardCounts();
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

  // ---------------------------------------------------------------- timers

  /** Backlight on now, off after backlightSeconds without a key (never while an alarm shows). */
  #light(): void {
    if (!this.#lit) this.#setBacklight(true);
    if (this.#c.backlightSeconds === 0) return;
    if (this.#lightTimer !== undefined) Timer.clear(this.#lightTimer);
    this.#lightTimer = Timer.set(() => {
      this.#lightTimer = undefined;
      if (!this.#freshAlarm()) this.#setBacklight(false);
    }, this.#c.backlightSeconds * 1000);
  }

  #setBacklight(on: boolean): void {
    try {
      this.#display.backlight(on);
      this.#lit = on;
    } catch {
      this.#displayErrors++;
    }
  }

  /** A message stays until the next key or MESSAGE_MS, whichever comes first. */
  #expireMessage(): void {
    if (this.#message === null || this.#message === this.#messageTimed) return;
    this.#messageTimed = this.#message;
    if (this.#messageTimer !== undefined) Timer.clear(this.#messageTimer);
    this.#messageTimer = Timer.set(() => {
      this.#messageTimer = undefined;
      this.#message = null;
      this.#messageTimed = null;
      this.#render();
    }, MESSAGE_MS);
  }

  #armIdle(): void {
    if (this.#idleTimer !== undefined) Timer.clear(this.#idleTimer);
    this.#idleTimer = Timer.set(() => {
      this.#idleTimer = undefined;
      const name = this.#screen.name;
      if (name === "status" || name === "alarm" || name === "setup") return;
      this.#message = null;
      this.#home();
      this.#render();
    }, this.#c.idleSeconds * 1000);
  }

  /**
   * The status screen changes with time alone in two ways: the fee while guarding (redrawn every
   * refreshSeconds) and the return date appearing. Nothing else needs a timer: events redraw.
   */
  #scheduleRefresh(): void {
    let delayMs: number | null = null;
    const counting = this.#ui.panel ? this.#ui.panel.delay(this.#t.now()) : null;
    if (counting && (this.#screen.name === "status" || this.#screen.name === "alarm")) delayMs = 1000; // the countdown
    else if (this.#screen.name === "status") {
      if (this.#t.activePeriod !== null) delayMs = this.#c.refreshSeconds * 1000;
      else {
        const ret = this.#returnDate();
        const now = this.#t.now();
        if (ret !== null && now < ret - this.#c.returnNoticeSeconds) delayMs = (ret - this.#c.returnNoticeSeconds - now) * 1000;
      }
    }
    if (delayMs === null) {
      if (this.#refreshTimer !== undefined) Timer.clear(this.#refreshTimer);
      this.#refreshTimer = undefined;
      return;
    }
    if (this.#refreshTimer !== undefined && this.#refreshDelay === delayMs) return;
    if (this.#refreshTimer !== undefined) Timer.clear(this.#refreshTimer);
    this.#refreshDelay = delayMs;
    this.#refreshTimer = Timer.set(() => {
      this.#refreshTimer = undefined;
      this.#render();
    }, delayMs);
  }
}

const MONTHS = Object.freeze(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]);

/**
 * Labelled groups of IDs on two lines of the display, a label never last on a line; what does not
 * fit ends the second line as "N more".
 */
export function wrapGroups(groups: ReadonlyArray<readonly [string, readonly string[]]>): [string, string] {
  const words: Array<{ text: string; label: boolean }> = [];
  for (const [label, ids] of groups) {
    if (ids.length === 0) continue;
    if (label) words.push({ text: label, label: true });
    for (const id of ids) words.push({ text: id, label: false });
  }
  const lines = ["", ""];
  let row = 0;
  let i = 0;
  for (; i < words.length; i++) {
    const w = words[i];
    // a label goes with the ID after it
    const text = w.label && i + 1 < words.length ? `${w.text} ${words[i + 1].text}` : w.text;
    const line = lines[row] ? `${lines[row]} ${text}` : text;
    if (line.length <= WIDTH) {
      lines[row] = line;
      if (text !== w.text) i++;
      continue;
    }
    if (row === 1) break;
    row = 1;
    i--;
  }
  if (i < words.length) {
    // not all fit: the second line ends with how many IDs are not shown
    const shownIds = (ws: string) => ws.split(" ").filter((x) => x && x.charAt(x.length - 1) !== ":").length;
    const total = words.filter((w) => !w.label).length;
    let parts = lines[1].split(" ");
    for (;;) {
      const more = total - shownIds(lines[0]) - shownIds(parts.join(" "));
      const line = parts.length > 0 ? `${parts.join(" ")} ${more} more` : `${more} more`;
      if (line.length <= WIDTH) {
        lines[1] = line;
        break;
      }
      parts = parts.slice(0, -1);
      while (parts.length > 0 && parts[parts.length - 1].charAt(parts[parts.length - 1].length - 1) === ":") parts = parts.slice(0, -1);
    }
  }
  return [lines[0], lines[1]];
}

function count(v: number | string[]): number {
  return Array.isArray(v) ? v.length : v;
}

export { DAY, WIDTH };
