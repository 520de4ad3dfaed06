import { hostCall } from "./bridge";
import { virtualNow } from "./timer";

/** The `rtc` port on the host: the virtual clock. */
export function now(): number {
  return virtualNow();
}

/** Setting the RTC asks the host to move the virtual clock (a time sync). */
export function set(ms: number): void {
  hostCall("clock.set", ms);
}
