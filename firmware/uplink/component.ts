import { type Base, intField, sectionOf } from "../app/config";
import type { CardBilling } from "../card/billing";
import { SIM7600 } from "../drivers/sim7600";
import type { SensorHub } from "../sensors/hub";
import { type LinkConfig, Uplink, readLinkConfig } from "./link";

/** The uplink component's settings: the link's and the modem's UART and RESET line. */
export interface UplinkParts {
  link: LinkConfig;
  modem: { port: number; receive: number; transmit: number; baud: number; reset: number | null };
}

/** The uplink component's one validator: `config.link`, `config.modem` (and the terminal's id). */
export function readUplinkParts(config: Readonly<Record<string, unknown>>): UplinkParts {
  const m = sectionOf(config, "modem");
  return {
    link: readLinkConfig(config),
    modem: {
      port: intField(m.port, 1, "config.modem.port", 1, 2), // UART 0 is the console
      receive: intField(m.receive, 16, "config.modem.receive", 0, 39),
      transmit: intField(m.transmit, 17, "config.modem.transmit", 0, 39),
      baud: intField(m.baud, 115200, "config.modem.baud", 1200, 921600),
      reset: m.reset === undefined ? null : intField(m.reset, 0, "config.modem.reset", 0, 39),
    },
  };
}

/**
 * Cellular reporting (main.ts, issue #6): the SIM7600 on its UART, the persistent outbox, the
 * dialer with MQTT over the modem's session; alarms and media from the sensor hub, card events,
 * reports from the terminal; the center's dispatch statuses back to the alarm panel.
 */
export function attachUplink(base: Base, sensors: SensorHub, card: CardBilling): Uplink {
  const parts = readUplinkParts(base.config);
  const { port, receive, transmit, baud, reset } = parts.modem;
  const uplink = new Uplink({
    terminal: base.terminal,
    store: base.store,
    config: parts.link,
    hub: sensors,
    modem: (handlers) =>
      new SIM7600({
        serial: { ...device.Serial.default, io: device.io.Serial, port, receive, transmit, baud },
        reset: reset === null ? undefined : { io: device.io.Digital, pin: reset },
        ...handlers,
      }),
  });
  uplink.attachCard(card);
  uplink.onDispatch((d) => sensors.panel.event({ type: "center", id: d.alarmId, status: d.status, note: d.note ?? null }));
  uplink.watchAlarms(sensors.panel);
  return uplink;
}
