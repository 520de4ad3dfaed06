import Listener from "embedded:io/socket/listener";
import TCP from "embedded:io/socket/tcp";
import UDP from "embedded:io/socket/udp";
import { now } from "rtc";
import type { Base } from "../app/config";
import { SensorHub } from "./hub";
import { readSensorParts } from "./sensor-parts";
import { SensorRadio } from "./radio";
import { SensorWifi } from "./wifi";

/**
 * The sensor component (main.ts, issue #3): the sensor hub on the terminal, the radio module on
 * its UART, the Wi-Fi endpoint for Wi-Fi sensors and cameras.
 */
export function attachSensors(base: Base): SensorHub {
  const parts = readSensorParts(base.config);
  const { terminal, store, timers } = base;
  const hub = new SensorHub({ terminal, clock: { now }, store, timers, config: parts.hub, zoneMinutes: base.terminalConfig.zoneMinutes, alarmRules: parts.alarm });
  terminal.setInventory(hub);
  new SensorRadio({ serial: { ...device.Serial.default, io: device.io.Serial, ...parts.radio }, receiver: hub });
  if (parts.wifi) new SensorWifi({ udp: UDP, listener: Listener, tcp: TCP, port: parts.wifi.port, mediaPort: parts.wifi.mediaPort, receiver: hub });
  return hub;
}
