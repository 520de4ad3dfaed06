import { makeDevice } from "../shims/device";
import type { IoHub } from "./hub";

/**
 * A `device` wired straight to an IoHub in this Node process, for driver tests that need no
 * engine: the same ECMA-419 classes the engines use, without the JSON line between.
 * `pump()` delivers what the hub has for the firmware (after host timers due by now).
 */
export function directDevice(hub: IoHub): { device: typeof globalThis.device; sockets: ReturnType<typeof makeDevice>["sockets"]; pump(): number } {
  const { device, sockets, deliver } = makeDevice((op, args) => hub.handle(op, args));
  return {
    device,
    sockets,
    pump() {
      hub.runDue();
      return deliver(hub.takeEvents());
    },
  };
}
