import { FieldError } from "../core/errors";
import { HOUR } from "../core/time";
import { type I2cBusConfig, intField, readI2cBus, sectionOf } from "../app/config";

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

/** The UI component's hardware: the LCD on the shared I2C bus, the keypad's lines, the buzzer. */
export interface UiParts {
  screens: UiConfig;
  display: I2cBusConfig & { address: number; columns: number; rows: number };
  keypad: { rows: number[]; columns: number[]; debounceMs: number };
  /** the buzzer's GPIO, or null when none is fitted */
  buzzer: number | null;
}

/** `config.ui`: the screens' timings; absent values take their defaults, bad ones are refused. */
export function readUiConfig(config: Readonly<Record<string, unknown>>, zoneMinutes: number): UiConfig {
  const ui = sectionOf(config, "ui");
  const n = (v: unknown, d: number, min: number, field: string) => intField(v, d, `config.ui.${field}`, min, 0x7fffffff);
  return {
    zoneMinutes,
    idleSeconds: n(ui.idleSeconds, 60, 5, "idleSeconds"),
    refreshSeconds: n(ui.refreshSeconds, 60, 10, "refreshSeconds"),
    returnNoticeSeconds: n(ui.returnNoticeHours, 48, 1, "returnNoticeHours") * HOUR,
    pinTries: n(ui.pinTries, 3, 1, "pinTries"),
    pinLockSeconds: n(ui.pinLockSeconds, 300, 10, "pinLockSeconds"),
    backlightSeconds: n(ui.backlightSeconds, 300, 0, "backlightSeconds"),
  };
}

function gpios(v: unknown, field: string, max: number): number[] {
  if (!Array.isArray(v) || v.length !== 4 || !v.every((p) => typeof p === "number" && Number.isInteger(p) && p >= 0 && p <= max)) {
    throw new FieldError(field, `must be four GPIO numbers (0..${max})`);
  }
  return v.slice() as number[];
}

/** The UI component's one validator: `config.ui`, `config.lcd`, `config.keypad`, `config.buzzer`, the bus. */
export function readUiParts(config: Readonly<Record<string, unknown>>, zoneMinutes: number): UiParts {
  const lcd = sectionOf(config, "lcd");
  const kp = sectionOf(config, "keypad");
  const bz = sectionOf(config, "buzzer");
  const columns = intField(lcd.columns, 20, "config.lcd.columns", 8, 40);
  if (columns !== 16 && columns !== 20) throw new FieldError("config.lcd.columns", "must be 16 or 20");
  return {
    screens: readUiConfig(config, zoneMinutes),
    display: { ...readI2cBus(config), address: intField(lcd.address, 0x27, "config.lcd.address", 0x08, 0x77), columns, rows: intField(lcd.rows, 4, "config.lcd.rows", 1, 4) },
    // the rows are driven as one bank: GPIO 0..31
    keypad: { rows: gpios(kp.rows, "config.keypad.rows", 31), columns: gpios(kp.columns, "config.keypad.columns", 39), debounceMs: intField(kp.debounceMs, 30, "config.keypad.debounceMs", 0, 1000) },
    buzzer: bz.pin === undefined ? null : intField(bz.pin, 0, "config.buzzer.pin", 0, 39),
  };
}
