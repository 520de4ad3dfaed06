import { intField, sectionOf } from "../app/config";
import type { AlarmRules } from "../core/alarm";
import { type SensorHubConfig, readSensorConfig } from "./hub-config";
import { readAlarmRules } from "./panel";

/** The sensor component's settings: the hub's, the alarm rules, the radio's UART, the Wi-Fi ports. */
export interface SensorParts {
  hub: SensorHubConfig;
  alarm: AlarmRules;
  radio: { port: number; receive: number; transmit: number; baud: number };
  /** null: no Wi-Fi endpoint */
  wifi: { port: number; mediaPort: number } | null;
}

/** The sensor component's one validator: `config.sensors`, `config.alarm`, `config.radio`. */
export function readSensorParts(config: Readonly<Record<string, unknown>>): SensorParts {
  const radio = sectionOf(config, "radio");
  const wifi = sectionOf(sectionOf(config, "sensors"), "wifi");
  return {
    hub: readSensorConfig(config),
    alarm: readAlarmRules(config),
    radio: {
      port: intField(radio.port, 2, "config.radio.port", 1, 2), // UART 0 is the console
      receive: intField(radio.receive, 18, "config.radio.receive", 0, 39),
      transmit: intField(radio.transmit, 19, "config.radio.transmit", 0, 39),
      baud: intField(radio.baud, 9600, "config.radio.baud", 1200, 921600),
    },
    wifi:
      Object.keys(wifi).length === 0
        ? null
        : { port: intField(wifi.port, 0, "config.sensors.wifi.port", 1, 65535), mediaPort: intField(wifi.mediaPort, 0, "config.sensors.wifi.mediaPort", 1, 65535) },
  };
}

