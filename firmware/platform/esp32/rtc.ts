import Time from "time";

/**
 * The wall clock port. On the ESP32 the RTC is set from the center's time sync (or the modem's
 * network time) with Time.set, and Date.now reads it. The host simulator maps `rtc` to its
 * virtual clock instead.
 */
export function now(): number {
  return Date.now();
}

export function set(ms: number): void {
  Time.set(Math.floor(ms / 1000));
}
