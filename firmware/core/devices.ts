import { frozen } from "../lib/frozen";
import type { DeviceKind } from "./tariff";

/**
 * Device ID codes (DESIGN §3): a type letter and a four-digit serial, e.g. A0001.
 * A intrusion (PIR) sensor, B camera, C smoke/heat sensor, D door contact.
 */
export const ID_PATTERN = /^[ABCD][0-9]{4}$/;

export type DeviceType = "intrusion" | "camera" | "smoke" | "door";

const BY_LETTER: Readonly<Record<string, { type: DeviceType; kind: DeviceKind }>> = frozen({
  A: { type: "intrusion", kind: "sensor" },
  B: { type: "camera", kind: "camera" },
  C: { type: "smoke", kind: "smoke" },
  D: { type: "door", kind: "door" },
});

export function isDeviceId(id: unknown): id is string {
  return typeof id === "string" && ID_PATTERN.test(id);
}

export function deviceType(id: string): DeviceType {
  return BY_LETTER[id[0]].type;
}

/** The tariff kind a device is billed as. */
export function billingKind(id: string): DeviceKind {
  return BY_LETTER[id[0]].kind;
}

export function isCamera(id: string): boolean {
  return id[0] === "B";
}
