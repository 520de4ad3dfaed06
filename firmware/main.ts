import config from "mc/config";
import Timer from "timer";
import { now } from "rtc";
import { type Base, readConfig } from "./app/config";
import { preferenceBackend } from "./app/preference-backend";
import { Terminal, Timers } from "./app/terminal";
import { attachCard } from "./card/component";
import { Store } from "./platform/store";
import { attachSensors } from "./sensors/component";
import type { SensorHub } from "./sensors/hub";
import { attachUi } from "./ui/component";
import { UiPorts } from "./ui/ports";
import { attachUplink } from "./uplink/component";
import type { Uplink } from "./uplink/link";

/**
 * The running terminal and its components (the host's command port reaches them through this,
 * host-sim/firmware-entry.ts). Made at boot, never at module level: on a board every module is
 * preloaded into flash, and an object a preloaded module made cannot take private-field writes.
 */
export interface Components {
  terminal: Terminal;
  sensors: SensorHub;
  uplink: Uplink;
  ui: UiPorts;
}

/**
 * The terminal from the Moddable modules (the real ones on a board, emulations on the host), then
 * its components, each in its own module with its one config validator (a bad value is a
 * FieldError naming it): each builds its drivers from the manifest's config and attaches to the
 * terminal before boot, so it hears the events of boot itself.
 */
export function boot(): Components {
  const store = new Store(preferenceBackend("timeguard"));
  const timers: Timers = {
    set: (callback, ms) => Timer.set(() => callback(), ms),
    clear: (id) => Timer.clear(id as ReturnType<typeof Timer.set>),
  };
  const terminalConfig = readConfig(config);
  const terminal = new Terminal({ store, clock: { now }, timers, config: terminalConfig });
  const base: Base = { config, terminal, terminalConfig, store, timers };
  const ui = new UiPorts();

  const card = attachCard(base, ui); // the prepaid card: PN532, purse, collect-as-you-go (issue #5)
  const sensors = attachSensors(base); // the sensor hub, the radio, the Wi-Fi endpoint (issue #3)
  attachUi(base, ui, sensors); // LCD, keypad, buzzer, the screens (issue #4)
  const uplink = attachUplink(base, sensors, card); // modem, outbox, dialer, MQTT (issue #6)

  terminal.boot();
  return { terminal, sensors, uplink, ui };
}

export default function main(): void {
  boot();
}
