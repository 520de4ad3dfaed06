import config from "mc/config";
import Listener from "embedded:io/socket/listener";
import TCP from "embedded:io/socket/tcp";
import UDP from "embedded:io/socket/udp";
import Timer from "timer";
import { now } from "rtc";
import { readConfig } from "./app/config";
import { preferenceBackend } from "./app/preference-backend";
import { Terminal, Timers } from "./app/terminal";
import { SensorHub } from "./sensors/hub";
import { readSensorConfig } from "./sensors/hub-config";
import { readAlarmRules } from "./sensors/panel";
import { SensorRadio } from "./sensors/radio";
import { SensorWifi } from "./sensors/wifi";
import { Store } from "./platform/store";
import { SIM7600 } from "./drivers/sim7600";
import { Uplink, readLinkConfig } from "./uplink/link";
import { CardBilling } from "./card/billing";
import { readCardConfig } from "./card/config";
import { SlotSwitch } from "./card/slot-switch";
import { PN532 } from "./drivers/pn532";
import { attachUi } from "./ui/component";
import { UiPorts, inventoryFromTable } from "./ui/ports";

/**
 * Builds the terminal from the Moddable modules (the real ones on a board, emulations on the host)
 * and composes the components around it. Each capability adds its part in its own block below.
 */
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

export function boot(): Components {
  const ui = new UiPorts();
  const store = new Store(preferenceBackend("timeguard"));
  const timers: Timers = {
    set: (callback, ms) => Timer.set(() => callback(), ms),
    clear: (id) => Timer.clear(id as ReturnType<typeof Timer.set>),
  };
  const terminalConfig = readConfig(config);
  const terminal = new Terminal({ store, clock: { now }, timers, config: terminalConfig });
  // -- components: each capability adds one block (drivers from config, then its component on the
  // terminal), before boot so it hears the events of boot itself --
  // prepaid card (issue #5): the PN532 on the shared I2C bus, the purse, collect-as-you-go
  const pn532 = (config.pn532 ?? {}) as { address?: number };
  const i2c = (config.i2c ?? {}) as { data?: number; clock?: number; hz?: number };
  const reader = new PN532({ ...device.I2C.default, io: device.io.I2C, ...i2c, address: pn532.address ?? 0x24 });
  const cardConfig = readCardConfig(config);
  const slot = cardConfig.detect ? new SlotSwitch({ io: device.io.Digital, pin: cardConfig.detect.pin, present: cardConfig.detect.present }) : null;
  const card = new CardBilling({
    ...{ terminal, reader, slot, store, timers, config: cardConfig, terminalId: terminalConfig.terminalId, zoneMinutes: terminalConfig.zoneMinutes },
    ...{ warn: (text: string | null) => ui.warn("card", text), changed: () => ui.changed() },
  });
  ui.card = { counts: () => (card.card ? card.card.counts : null) };

  // sensors (issue #3): the sensor hub on the terminal, the radio module on its UART
  const sensorHub = new SensorHub({ terminal, clock: { now }, store, timers, config: readSensorConfig(config), zoneMinutes: terminalConfig.zoneMinutes, alarmRules: readAlarmRules(config) });
  terminal.setInventory(sensorHub);
  const radio = config.radio as { port: number; receive: number; transmit: number; baud: number };
  new SensorRadio({ ...device.Serial.default, io: device.io.Serial, port: radio.port, receive: radio.receive, transmit: radio.transmit, baud: radio.baud, receiver: sensorHub });
  const wifi = (config.sensors as { wifi?: { port: number; mediaPort: number } } | undefined)?.wifi;
  if (wifi) {
    new SensorWifi({ udp: UDP, listener: Listener, tcp: TCP, port: wifi.port, mediaPort: wifi.mediaPort, receiver: sensorHub });
  }

  // UI (issue #4): LCD + keypad drivers from config.lcd/config.keypad, the screens on top; the
  // sensor table feeds the setup screen and the choice of devices, the hub's alarms the alarm screen
  ui.inventory = inventoryFromTable(sensorHub);
  // the alarm panel (delays, disarm, duress, per-alarm state) drives the alarm screen and the buzzer
  ui.panel = sensorHub.panel;
  sensorHub.onEvent(() => ui.changed());
  sensorHub.panel.onChange(() => ui.changed());
  sensorHub.panel.setSound((mode) => ui.sound(mode));
  attachUi(terminal, config, store, terminalConfig.zoneMinutes, ui);

  // cellular reporting (issue #6): the SIM7600 on UART 1, the persistent outbox, the dialer with
  // MQTT over the modem's socket; alarms and media from the sensor hub, reports from the terminal
  const modem = config.modem as { port: number; receive: number; transmit: number; baud: number; reset?: number };
  const uplink = new Uplink({
    terminal,
    store,
    config: readLinkConfig(config),
    hub: sensorHub,
    modem: (handlers) =>
      new SIM7600({
        ...device.Serial.default,
        io: device.io.Serial,
        port: modem.port,
        receive: modem.receive,
        transmit: modem.transmit,
        baud: modem.baud,
        reset: typeof modem.reset === "number" ? { io: device.io.Digital, pin: modem.reset } : undefined,
        ...handlers,
      }),
  });
  uplink.attachCard(card);
  uplink.onDispatch((d) => sensorHub.panel.event({ type: "center", id: d.alarmId, status: d.status, note: d.note ?? null }));
  uplink.watchAlarms(sensorHub.panel);
  terminal.boot();
  return { terminal, sensors: sensorHub, uplink, ui };
}

export default function main(): void {
  boot();
}
