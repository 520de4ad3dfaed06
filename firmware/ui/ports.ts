/**
 * What the terminal UI learns from the other components, whatever order they are composed in
 * main.ts: the sensor table (inventory), the card's balance, warnings and alarms. A component
 * sets its part here; the UI reads it when it draws and redraws when told something changed.
 * main.ts makes one at boot and hands it to each component (never at module level: on a board a
 * preloaded module's objects are in flash, and writing a private field of one throws).
 *
 *   ui.inventory = inventoryFromHub(hub);          // the sensors' work (issue #3)
 *   ui.card = { counts: () => reader.balance };    // the card's work: null when no card
 *   ui.warn("card", "Card low: 12 left");          // or null to clear it
 *   ui.panel = hub.panel;                          // the alarm panel: alarms, delays, disarm
 */
import type { PanelAlarm, PanelEvent } from "../core/alarm";
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

/** The alarm panel as the screens use it (firmware/sensors/panel.ts). */
export interface UiPanel {
  /** the alarms shown, oldest first, each with its status (new, seen, dispatched) */
  readonly alarms: readonly PanelAlarm[];
  /** the entry or exit delay running now, with the seconds left */
  delay(now: Seconds): { kind: "entry" | "exit"; sensor: string | null; left: number } | null;
  /** the PIN (or the duress PIN) while guarding: guarding stops now; not guarding, it silences the local alarm */
  disarm(duress: boolean): { ok: boolean; error?: string };
  /** the local alarm sounds now (the PIN silences it, guarding or not) */
  sounding(): boolean;
  /** the user's # on an alarm (seen), the panic keys, a bypass */
  event(e: PanelEvent): unknown;
  /** the sensors bypassed until the current (or next) period ends */
  bypassed(): readonly string[];
}

/** The buzzer's patterns (firmware/ui/buzzer.ts). */
export type UiSound = "entry" | "exit" | "alarm" | "fire" | "off";

type Listener = () => void;

export class UiPorts {
  inventory: UiInventory | null = null;
  card: UiCard | null = null;
  panel: UiPanel | null = null;
  #buzzer: ((mode: UiSound) => void) | null = null;
  #sound: UiSound = "off";
  #warnings: Array<[string, string]> = [];
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

  /** The alarms the panel shows (none without a panel). */
  get alarms(): readonly PanelAlarm[] {
    return this.panel ? this.panel.alarms : [];
  }

  /** The buzzer the UI component drives (config.buzzer). */
  setBuzzer(play: (mode: UiSound) => void): void {
    this.#buzzer = play;
    play(this.#sound);
  }

  /** The panel asks for a beep pattern (entry or exit delay) or silence. */
  sound(mode: UiSound): void {
    this.#sound = mode;
    if (this.#buzzer) this.#buzzer(mode);
    this.changed();
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


/** What the UI's inventory reads: the sensor hub's table and pairing. */
export interface InventorySource {
  sensorTable(): ReadonlyArray<Record<string, unknown>>;
  pairing(): { pending: readonly string[] };
  confirmPairing(): { ok: boolean; error?: string };
  openPairing(): unknown;
}

/**
 * The sensor hub's table and pairing as the UI's inventory: one object whose methods are its
 * class's, not four closures made for it (about twelve heap slots each: bench/memory.ts).
 */
class TableInventory implements UiInventory {
  #source: InventorySource;
  constructor(source: InventorySource) {
    this.#source = source;
  }
  devices(): readonly UiDevice[] {
    return this.#source.sensorTable().map((r) => ({ id: String(r.id), connected: r.connected !== false, operating: r.operating !== false }));
  }
  pending(): readonly string[] {
    return this.#source.pairing().pending;
  }
  confirm(): { ok: boolean; error?: string } {
    return this.#source.confirmPairing();
  }
  search(): unknown {
    return this.#source.openPairing();
  }
}

/** Adapts the sensor hub (its table and pairing) to the UI's inventory. */
export function inventoryFromTable(source: InventorySource): UiInventory {
  return new TableInventory(source);
}
