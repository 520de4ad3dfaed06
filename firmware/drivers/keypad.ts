import type Digital from "embedded:io/digital";
import type DigitalBank from "embedded:io/digitalbank";
import Timer from "timer";

/**
 * A 4x4 matrix keypad: rows driven (one DigitalBank of outputs), columns read with pull-ups (one
 * Digital each, since on the ESP32 the columns may sit in different banks). Moddable style: one
 * options object, private fields, frozen tables, close().
 *
 * Idle, every row is held low and each column waits for a falling edge, so an idle keypad costs
 * nothing. A press pulls its column low; the driver then scans on a Timer: one row low at a time,
 * the columns read, the key found. A key must read the same for `debounceMs` before it counts as
 * pressed, and all keys must read released for `debounceMs` before the next press can count: one
 * event per press, whatever the contacts bounce. Two keys at once report the first one found.
 */

/** The usual 4x4 legend, row by row. */
export const KEYS_4X4 = Object.freeze(["1", "2", "3", "A", "4", "5", "6", "B", "7", "8", "9", "C", "*", "0", "#", "D"]);

export interface KeypadOptions {
  io: { DigitalBank: typeof DigitalBank; Digital: typeof Digital };
  /** GPIO numbers of the row lines, top to bottom (all in bank 0, GPIO 0..31) */
  rows: readonly number[];
  /** GPIO numbers of the column lines, left to right */
  columns: readonly number[];
  /** the legend, rows × columns entries (default the 4x4 one) */
  keys?: readonly string[];
  debounceMs?: number;
  scanMs?: number;
  onKey: (key: string) => void;
}

const NONE = -1;
/** several keys down at once: not one key */
const MANY = -2;

export class Keypad {
  #rows: DigitalBank;
  #rowPins: readonly number[];
  #rowMask: number;
  #columns: Digital[] = [];
  #keys: readonly string[];
  #onKey: (key: string) => void;
  #debounceMs: number;
  #scanMs: number;
  #timer: ReturnType<typeof Timer.set> | undefined = undefined;
  /** the key being debounced, and for how many ms it has read the same */
  #candidate = NONE;
  #stableMs = 0;
  /** the key reported and not yet released */
  #down = NONE;
  #presses = 0;
  #ghosts = 0;

  constructor(options: KeypadOptions) {
    const rows = options.rows;
    const columns = options.columns;
    this.#keys = options.keys ?? KEYS_4X4;
    if (rows.length < 1 || columns.length < 1 || this.#keys.length !== rows.length * columns.length) {
      throw new RangeError("keypad: the legend must have rows × columns keys");
    }
    let mask = 0;
    for (const pin of rows) {
      if (!Number.isInteger(pin) || pin < 0 || pin > 31) throw new RangeError(`keypad: row pin ${pin} is not in bank 0`);
      mask |= 1 << pin;
    }
    this.#rowPins = rows.slice();
    this.#rowMask = mask >>> 0;
    this.#onKey = options.onKey;
    this.#debounceMs = options.debounceMs ?? 30;
    this.#scanMs = options.scanMs ?? 10;
    this.#rows = new options.io.DigitalBank({ pins: this.#rowMask, mode: options.io.Digital.Output });
    this.#rows.write(0);
    const Digital = options.io.Digital;
    const keypad = this;
    for (const pin of columns) {
      this.#columns.push(
        new Digital({
          pin,
          mode: Digital.InputPullUp,
          edge: Digital.Falling,
          onReadable() {
            keypad.#wake();
          },
        }),
      );
    }
    if (this.#anyColumnLow()) this.#wake(); // a key held at power-up
  }

  /** Presses reported so far, and scans that found several keys down (not reported). */
  get presses(): number {
    return this.#presses;
  }
  get ghosts(): number {
    return this.#ghosts;
  }

  close(): void {
    if (this.#timer !== undefined) Timer.clear(this.#timer);
    this.#timer = undefined;
    for (const c of this.#columns) c.close();
    this.#columns = [];
    this.#rows.close();
  }

  #wake(): void {
    if (this.#timer !== undefined) return;
    this.#candidate = NONE;
    this.#stableMs = 0;
    this.#timer = Timer.repeat(() => this.#tick(), this.#scanMs);
    this.#tick();
  }

  #tick(): void {
    const key = this.#down === NONE ? this.#scan() : this.#anyColumnLow() ? this.#down : NONE;
    if (key === this.#candidate) this.#stableMs += this.#scanMs;
    else {
      this.#candidate = key;
      this.#stableMs = 0;
    }
    if (this.#stableMs < this.#debounceMs) return;
    if (key === NONE) {
      this.#down = NONE;
      // Released and stable: back to waiting for an edge.
      if (this.#timer !== undefined) Timer.clear(this.#timer);
      this.#timer = undefined;
      return;
    }
    if (key === MANY) {
      this.#ghosts++;
      return;
    }
    if (this.#down === NONE) {
      this.#down = key;
      this.#presses++;
      this.#onKey(this.#keys[key]);
    }
  }

  /** One row low at a time; returns the key index, NONE or MANY. Leaves every row low. */
  #scan(): number {
    let found = NONE;
    const n = this.#columns.length;
    for (let r = 0; r < this.#rowPins.length; r++) {
      this.#rows.write(this.#rowMask & ~(1 << this.#rowPins[r]));
      for (let c = 0; c < n; c++) {
        if (this.#columns[c].read() === 0) found = found === NONE ? r * n + c : MANY;
      }
    }
    this.#rows.write(0);
    return found;
  }

  #anyColumnLow(): boolean {
    for (const c of this.#columns) if (c.read() === 0) return true;
    return false;
  }
}
