import type { Base } from "../app/config";
import type { CardBilling } from "../card/billing";
import { SIM7600 } from "../drivers/sim7600";
import type { SensorHub } from "../sensors/hub";
import { Uplink } from "./link";
import { readUplinkParts } from "./link-config";

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
