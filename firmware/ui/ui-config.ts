import { HOUR } from "../core/time";

/** What the UI draws on: a 20x4 character display (the HD44780 driver). */
export interface Display {
  line(row: number, text: string): void;
  backlight(on: boolean): void;
}

export interface UiConfig {
  zoneMinutes: number;
  /** back to the status screen (and the PIN locked again) after this long without a key */
  idleSeconds: number;
  /** the status screen's fee is redrawn this often while guarding */
  refreshSeconds: number;
  /** the return date shows from this long before the contract's end */
  returnNoticeSeconds: number;
  pinTries: number;
  pinLockSeconds: number;
  /** the backlight goes off this long after the last key (0: always on); an alarm lights it */
  backlightSeconds: number;
}

export function readUiConfig(config: Readonly<Record<string, unknown>>, zoneMinutes: number): UiConfig {
  const ui = (typeof config.ui === "object" && config.ui !== null ? config.ui : {}) as Record<string, unknown>;
  const n = (v: unknown, d: number, min: number) => (typeof v === "number" && Number.isInteger(v) && v >= min ? v : d);
  return {
    zoneMinutes,
    idleSeconds: n(ui.idleSeconds, 60, 5),
    refreshSeconds: n(ui.refreshSeconds, 60, 10),
    returnNoticeSeconds: n(ui.returnNoticeHours, 48, 1) * HOUR,
    pinTries: n(ui.pinTries, 3, 1),
    pinLockSeconds: n(ui.pinLockSeconds, 300, 10),
    backlightSeconds: n(ui.backlightSeconds, 300, 0),
  };
}
