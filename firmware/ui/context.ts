import type { PanelAlarm } from "../core/alarm";
import { planToJson } from "../core/plan";
import { isCamera } from "../core/devices";
import type { Terminal } from "../app/terminal";
import type { Store } from "../platform/store";
import type { PinGuard } from "./pin";
import type { UiDevice, UiPorts } from "./ports";
import type { Screen } from "./screen";
import type { UiConfig } from "./ui-config";

/**
 * What every screen reads and changes: the terminal, the other components' ports, the screen
 * shown and the digits typed, the message on line 4, the PIN. The dispatcher (terminal-ui.ts)
 * owns one, hands it to the screen of the moment, and draws and times what it leaves.
 */
export class UiContext {
  readonly t: Terminal;
  readonly ui: UiPorts;
  readonly store: Store;
  readonly config: UiConfig;
  readonly pin: PinGuard;
  screen: Screen = { name: "status" };
  /** what is typed on the current screen */
  digits = "";
  /** line 4's message (a refusal, "Plan saved") until the next key or a few seconds */
  message: string | null = null;
  /** the PIN was typed: plan and PIN changes need not ask again until home */
  unlocked = false;
  refused = 0;
  ignored = 0;
  lastRefusal: string | null = null;
  /** when * was pressed on the status screen lately (panic) */
  stars: number[] = [];

  constructor(t: Terminal, ui: UiPorts, store: Store, config: UiConfig, pin: PinGuard) {
    this.t = t;
    this.ui = ui;
    this.store = store;
    this.config = config;
    this.pin = pin;
  }

  refuse(text: string): void {
    this.refused++;
    this.lastRefusal = text;
    this.message = text;
  }

  /** Back to the status screen (the alarm screen while an alarm is fresh), the PIN locked. */
  home(): void {
    this.unlocked = false;
    this.digits = "";
    this.screen = this.freshAlarm() ? { name: "alarm" } : { name: "status" };
  }

  /** Runs `then` once the PIN is typed (at once when unlocked or no PIN is set yet). */
  requirePin(why: string, then: (duress: boolean) => void): void {
    if (this.unlocked || !this.pin.isSet) return then(false);
    this.digits = "";
    this.screen = { name: "pin.ask", then, why };
  }

  /** The newest alarm the user has not seen since it changed, or undefined. */
  freshAlarm(): PanelAlarm | undefined {
    const alarms = this.ui.alarms;
    for (let i = 0; i < alarms.length; i++) if (alarms[i].fresh) return alarms[i];
    return undefined;
  }

  devices(): UiDevice[] {
    const inv = this.ui.inventory;
    if (!inv) return [];
    try {
      return inv.devices().slice();
    } catch {
      return [];
    }
  }

  /** Devices of the sensor table to pick from (cameras or the rest). */
  choices(cameras: boolean): UiDevice[] {
    return this.devices().filter((d) => isCamera(d.id) === cameras);
  }

  /** The card's counts: a number, null (no card), undefined (no card reader known). */
  cardCounts(): number | null | undefined {
    const card = this.ui.card;
    if (!card) return undefined;
    try {
      const n = card.counts();
      return typeof n === "number" && Number.isInteger(n) ? n : null;
    } catch {
      return null;
    }
  }

  planJson(): Record<string, unknown> {
    return planToJson(this.t.plan, this.config.zoneMinutes);
  }

  periodsJson(): Array<Record<string, unknown>> {
    return (this.planJson().periods as Array<Record<string, unknown>>).slice();
  }
}
