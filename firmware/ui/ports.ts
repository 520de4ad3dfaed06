/**
 * What the terminal UI learns from the other components, whatever order they are composed in
 * main.ts: the sensor table (inventory), the card's balance, warnings and alarms. A component
 * sets its part here; the UI reads it when it draws and redraws when told something changed.
 *
 *   uiPorts.inventory = inventoryFromHub(hub);          // the sensors' work (issue #3)
 *   uiPorts.card = { counts: () => reader.balance };    // the card's work: null when no card
 *   uiPorts.warn("card", "Card low: 12 left");          // or null to clear it
 *   uiPorts.alarm({ sensor: "A0001", kind: "intrusion", at });
 */
import type { Seconds } from "../core/time";

/** One device of the sensor table, as the UI shows it. */
export interface UiDevice {
  id: string;
  connected: boolean;
  operating: boolean;
}

export interface UiInventory {
  /** the registered devices (sensors and cameras) */
  devices(): readonly UiDevice[];
  /** devices found by plug and play and waiting for the user's OK */
  pending?(): readonly string[];
  /** the user's OK on the setup screen */
  confirm?(): { ok: boolean; error?: string };
  /** opens plug and play for devices added later (C on the setup screen) */
  search?(): unknown;
}

export interface UiCard {
  /** the counts on the card in the slot; null when there is no (readable) card */
  counts(): number | null;
}

export interface UiAlarm {
  sensor: string;
  kind: string;
  at: Seconds;
}

type Listener = () => void;

const DISPATCH_TEXT: Readonly<Record<string, string>> = Object.freeze({
  requested: "Guards requested",
  dispatched: "Guards on the way",
  arrived: "Guards arrived",
});

class UiPorts {
  inventory: UiInventory | null = null;
  card: UiCard | null = null;
  #warnings: Array<[string, string]> = [];
  #alarms: UiAlarm[] = [];
  #dispatch: string | null = null;
  #listeners: Listener[] = [];
  #setupListeners: Array<(ids: readonly string[]) => void> = [];

  /** Sets (text) or clears (null) the warning under `code` ("card", "sensor", "link"…). */
  warn(code: string, text: string | null): void {
    const i = this.#warnings.findIndex((w) => w[0] === code);
    if (text === null) {
      if (i < 0) return;
      this.#warnings.splice(i, 1);
    } else if (i >= 0) {
      if (this.#warnings[i][1] === text) return;
      this.#warnings[i] = [code, text];
    } else this.#warnings.push([code, text]);
    this.changed();
  }

  get warnings(): ReadonlyArray<readonly [string, string]> {
    return this.#warnings;
  }

  /** An alarm to show until the user acknowledges it. */
  alarm(alarm: UiAlarm): void {
    this.#alarms.push(alarm);
    if (this.#alarms.length > 8) this.#alarms.shift();
    this.changed();
  }

  get alarms(): readonly UiAlarm[] {
    return this.#alarms;
  }

  acknowledge(): UiAlarm | undefined {
    const a = this.#alarms.shift();
    this.changed();
    return a;
  }

  /**
   * The center's dispatch status for an alarm (the link's downlink): "Guards on the way" on the
   * alarm screen and the status line; a closed dispatch clears it.
   */
  dispatch(status: string): void {
    const text = DISPATCH_TEXT[status] ?? null;
    this.#dispatch = text;
    this.warn("dispatch", text);
  }

  /** What the alarm screen says of the guards, or null. */
  get dispatchText(): string | null {
    return this.#dispatch;
  }

  /** The user confirmed the setup screen (the link sends the initial-setting request). */
  onSetupConfirmed(listener: (ids: readonly string[]) => void): void {
    this.#setupListeners.push(listener);
  }

  setupConfirmed(ids: readonly string[]): void {
    for (const l of this.#setupListeners) l(ids);
  }

  /** Something shown changed: the UI redraws. */
  changed(): void {
    for (const l of this.#listeners) l();
  }

  listen(listener: Listener): void {
    this.#listeners.push(listener);
  }
}

export const uiPorts = new UiPorts();

/** Adapts anything with a sensor table (the sensor hub) to the UI's inventory. */
export function inventoryFromTable(source: {
  sensorTable(): ReadonlyArray<Record<string, unknown>>;
  pairing?(): { pending: readonly string[] };
  confirmPairing?(): { ok: boolean; error?: string };
  openPairing?(): unknown;
}): UiInventory {
  const inv: UiInventory = {
    devices: () =>
      source.sensorTable().map((r) => ({ id: String(r.id), connected: r.connected !== false, operating: r.operating !== false })),
  };
  if (source.pairing) inv.pending = () => (source.pairing as () => { pending: readonly string[] })().pending;
  if (source.confirmPairing) inv.confirm = () => (source.confirmPairing as () => { ok: boolean; error?: string })();
  if (source.openPairing) inv.search = () => (source.openPairing as () => unknown)();
  return inv;
}
