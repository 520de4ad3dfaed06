import Timer from "timer";
import type { Terminal } from "../app/terminal";
import type { Store } from "../platform/store";
import { alarmKey, drawAlarm, drawEntryDelay } from "./alarm-screen";
import { bypassKey, drawBypass } from "./bypass-screen";
import { UiContext } from "./context";
import { estimateKey, drawEstimate } from "./estimate-screen";
import { drawField, editKey } from "./period-editor";
import { PinGuard } from "./pin";
import { drawPin, pinKey } from "./pin-screen";
import { deleteKey, drawDelete, drawList, listKey } from "./plan-list-screen";
import type { UiPorts } from "./ports";
import type { Screen } from "./screen";
import { KEY_SETUP, drawSetup, setupKey } from "./setup-screen";
import { drawStatus, returnDate, statusKey } from "./status-screen";
import { ROWS, fit } from "./text";
import type { Display, UiConfig } from "./ui-config";

/** how long a message (a refusal, "Plan saved") stays on line 4 without a key */
const MESSAGE_MS = 5000;

export interface TerminalUiPorts {
  terminal: Terminal;
  /** what the other components tell the UI (made at boot, ui/ports.ts) */
  ui: UiPorts;
  display: Display;
  store: Store;
  config: UiConfig;
}

/**
 * The terminal's screens and keys (docs/ui.md): hands each key to the screen shown (one module
 * per screen: setup, status, alarm, PIN, plan list, period editor, estimate, bypass), draws what
 * the screens return on the display row by row, and keeps the timers (idle, message, backlight,
 * refresh). Everything typed is checked before anything changes; a refusal is a message on the
 * screen, counted, and the plan stays as it was.
 */
export class TerminalUi {
  #cx: UiContext;
  #display: Display;
  #messageTimed: string | null = null;
  #messageTimer: ReturnType<typeof Timer.set> | undefined = undefined;
  #shown: Array<string | null> = [null, null, null, null];
  #idleTimer: ReturnType<typeof Timer.set> | undefined = undefined;
  #refreshTimer: ReturnType<typeof Timer.set> | undefined = undefined;
  #refreshDelay = 0;
  #lit = true;
  #lightTimer: ReturnType<typeof Timer.set> | undefined = undefined;
  #keys = 0;
  /** the last keys, for the snapshot */
  #recent = "";
  #displayErrors = 0;

  constructor(ports: TerminalUiPorts) {
    const pin = new PinGuard(ports.store, { tries: ports.config.pinTries, lockSeconds: ports.config.pinLockSeconds });
    const cx = new UiContext(ports.terminal, ports.ui, ports.store, ports.config, pin);
    this.#cx = cx;
    this.#display = ports.display;
    cx.t.onEvent(() => this.#render());
    cx.ui.listen(() => this.#render());
    cx.t.addSnapshotPart(this);
    const setupDone = ports.store.readJson(KEY_SETUP) === true;
    cx.screen = setupDone && pin.isSet ? { name: "status" } : { name: "setup" };
    // First drawn once the terminal has booted (it boots after its components are attached).
    Timer.set(() => {
      this.#light();
      this.#render();
    }, 0);
  }

  get screen(): string {
    return this.#cx.screen.name;
  }

  /** its part of the terminal's snapshot */
  snapshotInto(out: Record<string, unknown>): void {
    out.ui = this.snapshot();
  }

  snapshot(): Record<string, unknown> {
    const cx = this.#cx;
    const s = cx.screen;
    return {
      screen: s.name === "edit" ? `edit.${s.field}` : s.name,
      keys: this.#keys,
      recent: this.#recent,
      refused: cx.refused,
      ignored: cx.ignored,
      lastRefusal: cx.lastRefusal,
      displayErrors: this.#displayErrors,
      pin: cx.pin.status(cx.t.now()),
      backlight: this.#lit,
    };
  }

  /** One key from the keypad: 0-9, A-D, * (back), # (OK). */
  key(k: string): void {
    const cx = this.#cx;
    this.#keys++;
    this.#light();
    this.#messageTimed = null; // a message set by this key gets its own time
    this.#recent = (this.#recent + k).slice(-20);
    cx.message = null;
    this.#armIdle();
    try {
      this.#dispatch(k);
    } catch (e) {
      // A bug must not freeze the terminal: say so, count it, go back to a known screen.
      cx.refuse(`Error: ${e instanceof Error ? e.message : String(e)}`);
      cx.screen = { name: "status" };
    }
    this.#render();
  }

  #dispatch(k: string): void {
    const cx = this.#cx;
    const s = cx.screen;
    switch (s.name) {
      case "setup":
        return setupKey(cx, k);
      case "status":
        return statusKey(cx, k);
      case "alarm":
        return alarmKey(cx, k);
      case "pin.new":
      case "pin.repeat":
      case "pin.ask":
        return pinKey(cx, s, k);
      case "plan.list":
        return listKey(cx, s, k);
      case "bypass":
        return bypassKey(cx, s, k);
      case "plan.delete":
        return deleteKey(cx, s, k);
      case "edit":
        return editKey(cx, s, k);
      case "estimate":
        return estimateKey(cx, s, k);
    }
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
    const cx = this.#cx;
    if (cx.screen.name === "status" && cx.freshAlarm()) cx.screen = { name: "alarm" };
    if (cx.screen.name === "alarm" && !cx.freshAlarm()) cx.screen = { name: "status" };
    const delay = cx.ui.panel ? cx.ui.panel.delay(cx.t.now()) : null;
    let lines: string[];
    if (delay && delay.kind === "entry" && (cx.screen.name === "status" || cx.screen.name === "alarm")) {
      if (!this.#lit) this.#light();
      lines = drawEntryDelay(delay.sensor, delay.left);
    } else {
      if (cx.screen.name === "alarm" && !this.#lit) this.#light();
      lines = this.#drawScreen(cx.screen);
    }
    if (cx.message !== null) lines[3] = cx.message;
    return lines;
  }

  #drawScreen(s: Screen): string[] {
    const cx = this.#cx;
    switch (s.name) {
      case "setup":
        return drawSetup(cx);
      case "status":
        return drawStatus(cx);
      case "alarm":
        return drawAlarm(cx) ?? drawStatus(cx);
      case "pin.new":
      case "pin.repeat":
      case "pin.ask":
        return drawPin(cx, s);
      case "plan.list":
        return drawList(cx, s.selected);
      case "bypass":
        return drawBypass(cx, s);
      case "plan.delete":
        return drawDelete(cx, s);
      case "edit":
        return drawField(cx, s);
      case "estimate":
        return drawEstimate(cx, s.draft);
    }
  }

  // ---------------------------------------------------------------- timers

  /** Backlight on now, off after backlightSeconds without a key (never while an alarm shows). */
  #light(): void {
    const c = this.#cx.config;
    if (!this.#lit) this.#setBacklight(true);
    if (c.backlightSeconds === 0) return;
    if (this.#lightTimer !== undefined) Timer.clear(this.#lightTimer);
    this.#lightTimer = Timer.set(() => {
      this.#lightTimer = undefined;
      if (!this.#cx.freshAlarm()) this.#setBacklight(false);
    }, c.backlightSeconds * 1000);
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
    const cx = this.#cx;
    if (cx.message === null || cx.message === this.#messageTimed) return;
    this.#messageTimed = cx.message;
    if (this.#messageTimer !== undefined) Timer.clear(this.#messageTimer);
    this.#messageTimer = Timer.set(() => {
      this.#messageTimer = undefined;
      cx.message = null;
      this.#messageTimed = null;
      this.#render();
    }, MESSAGE_MS);
  }

  #armIdle(): void {
    const cx = this.#cx;
    if (this.#idleTimer !== undefined) Timer.clear(this.#idleTimer);
    this.#idleTimer = Timer.set(() => {
      this.#idleTimer = undefined;
      const name = cx.screen.name;
      if (name === "status" || name === "alarm" || name === "setup") return;
      cx.message = null;
      cx.home();
      this.#render();
    }, cx.config.idleSeconds * 1000);
  }

  /**
   * The status screen changes with time alone in two ways: the fee while guarding (redrawn every
   * refreshSeconds) and the return date appearing. Nothing else needs a timer: events redraw.
   */
  #scheduleRefresh(): void {
    const cx = this.#cx;
    const c = cx.config;
    let delayMs: number | null = null;
    const counting = cx.ui.panel ? cx.ui.panel.delay(cx.t.now()) : null;
    if (counting && (cx.screen.name === "status" || cx.screen.name === "alarm")) delayMs = 1000; // the countdown
    else if (cx.screen.name === "status") {
      if (cx.t.activePeriod !== null) delayMs = c.refreshSeconds * 1000;
      else {
        const ret = returnDate(cx);
        const now = cx.t.now();
        if (ret !== null && now < ret - c.returnNoticeSeconds) delayMs = (ret - c.returnNoticeSeconds - now) * 1000;
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
