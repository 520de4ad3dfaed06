import { HD44780 } from "../drivers/hd44780";
import { Keypad } from "../drivers/keypad";
import { Buzzer } from "./buzzer";
import { type UiPorts, inventoryFromTable } from "./ports";
import type { Base } from "../app/config";
import type { SensorHub } from "../sensors/hub";
import { TerminalUi } from "./terminal-ui";
import { Display, readUiParts } from "./ui-config";

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
 * The UI component (main.ts): the HD44780 on the shared I2C bus at config.lcd.address, the keypad
 * on config.keypad.rows/columns, the buzzer, the screens on top; the sensor table feeds the setup
 * screen and the choice of devices, the hub's alarm panel the alarm screen and the buzzer.
 */
export function attachUi(base: Base, ports: UiPorts, sensors: SensorHub): TerminalUi {
  const { terminal, config, store } = base;
  const parts = readUiParts(config, base.terminalConfig.zoneMinutes);
  ports.inventory = inventoryFromTable(sensors);
  ports.panel = sensors.panel;
  sensors.onEvent(() => ports.changed());
  sensors.panel.onChange(() => ports.changed());
  sensors.panel.setSound((mode) => ports.sound(mode));
  const lcd = parts.display;
  const display = new LcdDisplay(
    () =>
      new HD44780({
        display: { ...device.I2C.default, io: device.io.I2C, ...lcd },
        columns: lcd.columns,
        rows: lcd.rows,
      }),
  );
  const ui = new TerminalUi({ terminal, ui: ports, display, store, config: parts.screens });
  let keypadFault = false;
  const keypad = new Keypad({
    rows: { io: device.io.DigitalBank, pins: parts.keypad.rows },
    columns: { io: device.io.Digital, pins: parts.keypad.columns },
    debounceMs: parts.keypad.debounceMs,
    onKey: (key) => {
      if (keypadFault) ports.warn("keypad", null);
      keypadFault = false;
      ui.key(key);
    },
    onError: () => {
      // the next press that gets through clears it
      keypadFault = true;
      ports.warn("keypad", "Keypad fault");
    },
  });
  const buzzer = parts.buzzer === null ? null : new Buzzer({ io: device.io.Digital, pin: parts.buzzer });
  if (buzzer) ports.setBuzzer((mode) => buzzer.play(mode));
  terminal.addSnapshotPart({
    snapshotInto(out) {
      out.keypadDriver = { presses: keypad.presses, ghosts: keypad.ghosts };
      if (buzzer) out.buzzerDriver = { mode: buzzer.mode, beeps: buzzer.beeps, errors: buzzer.errors };
    },
  });
  return ui;
}
