import { HD44780 } from "../drivers/hd44780";
import { Keypad } from "../drivers/keypad";
import { Buzzer } from "./buzzer";
import type { UiPorts } from "./ports";
import type { Terminal } from "../app/terminal";
import type { Store } from "../platform/store";
import { TerminalUi } from "./terminal-ui";
import { Display, readUiConfig } from "./ui-config";

type Config = Readonly<Record<string, unknown>>;

function section(config: Config, name: string): Record<string, unknown> {
  const v = config[name];
  return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {};
}

function pins(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length !== 4 || !v.every((p) => typeof p === "number" && Number.isInteger(p))) {
    throw new RangeError(`config.keypad.${what} must be four GPIO numbers`);
  }
  return v as number[];
}

/** Custom characters 1.. (code 0 is left alone: it would end C strings on other tools). */
const GLYPHS = Object.freeze([
  Object.freeze([0x04, 0x0e, 0x0e, 0x0e, 0x1f, 0x00, 0x04, 0x00]), // 1 bell: the alarm screen
  Object.freeze([0x0e, 0x11, 0x11, 0x1f, 0x1b, 0x1b, 0x1f, 0x00]), // 2 padlock: the PIN screens
]);

/**
 * The LCD as the UI's display. The driver is (re)created on first use and after any bus error, so
 * a display that was missing or lost power comes back on the next redraw; errors are counted.
 */
class LcdDisplay implements Display {
  #make: () => HD44780;
  #lcd: HD44780 | null = null;
  #backlight = true;
  errors = 0;

  constructor(make: () => HD44780) {
    this.#make = make;
  }

  line(row: number, text: string): void {
    this.#with((lcd) => lcd.line(row, text));
  }

  backlight(on: boolean): void {
    this.#backlight = on;
    this.#with((lcd) => lcd.backlight(on));
  }

  #with(f: (lcd: HD44780) => void): void {
    try {
      if (!this.#lcd) {
        const lcd = this.#make();
        for (let i = 0; i < GLYPHS.length; i++) lcd.define(i + 1, GLYPHS[i]);
        if (!this.#backlight) lcd.backlight(false);
        this.#lcd = lcd;
      }
      f(this.#lcd);
    } catch (e) {
      this.errors++;
      const lcd = this.#lcd;
      this.#lcd = null;
      if (lcd) {
        try {
          lcd.close();
        } catch {
          // already gone
        }
      }
      throw e;
    }
  }
}

/**
 * The terminal UI from the manifest's config: the HD44780 on the I2C bus at config.lcd.address,
 * the keypad on config.keypad.rows/columns, the screens on top (main.ts calls this once).
 */
export function attachUi(terminal: Terminal, config: Config, store: Store, zoneMinutes: number, ports: UiPorts): TerminalUi {
  const i2c = section(config, "i2c");
  const lcd = section(config, "lcd");
  const kp = section(config, "keypad");
  const display = new LcdDisplay(
    () =>
      new HD44780({
        ...device.I2C.default,
        io: device.io.I2C,
        hz: typeof i2c.hz === "number" ? i2c.hz : 100000,
        address: typeof lcd.address === "number" ? lcd.address : 0x27,
        columns: typeof lcd.columns === "number" ? lcd.columns : 20,
        rows: typeof lcd.rows === "number" ? lcd.rows : 4,
      }),
  );
  const ui = new TerminalUi({ terminal, ui: ports, display, store, config: readUiConfig(config, zoneMinutes) });
  const keypad = new Keypad({
    io: device.io,
    rows: pins(kp.rows, "rows"),
    columns: pins(kp.columns, "columns"),
    debounceMs: typeof kp.debounceMs === "number" ? kp.debounceMs : 30,
    onKey: (key) => ui.key(key),
  });
  terminal.addSnapshotSource("keypadDriver", () => ({ presses: keypad.presses, ghosts: keypad.ghosts }));
  const bz = section(config, "buzzer");
  if (typeof bz.pin === "number") {
    const buzzer = new Buzzer({ io: device.io.Digital, pin: bz.pin });
    ports.setBuzzer((mode) => buzzer.play(mode));
    terminal.addSnapshotSource("buzzerDriver", () => ({ mode: buzzer.mode, beeps: buzzer.beeps, errors: buzzer.errors }));
  }
  return ui;
}
