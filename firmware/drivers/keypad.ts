import type Digital from "embedded:io/digital";
import type DigitalBank from "embedded:io/digitalbank";
import Timer from "timer";

/**
 * A 4x4 matrix keypad: rows driven (one DigitalBank of outputs), columns read with pull-ups (one
 * Digital each, since on the ESP32 the columns may sit in different banks). In the style of the
 * SDK's drivers: each line group's options spread over the driver's defaults, private fields,
 * frozen tables, configure(), close(); a fault met while scanning on the timer (no call is there
 * to throw to) goes to onError, and the scan stops until the next edge.
 *
 *   new Keypad({ rows: { io: device.io.DigitalBank, pins: [13, 14, 27, 23] },
 *                columns: { io: device.io.Digital, pins: [26, 25, 33, 32] }, onKey, onError });
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
  /** the row lines, top to bottom, driven as one bank (all in bank 0, GPIO 0..31) */
  rows: { io: typeof DigitalBank; pins: readonly number[]; bank?: number };
  /** the column lines, left to right, read with pull-ups */
  columns: { io: typeof Digital; pins: readonly number[] };
  /** the legend, rows × columns entries (default the 4x4 one) */
  keys?: readonly string[];
  debounceMs?: number;
  scanMs?: number;
  onKey: (key: string) => void;
  /** a line that failed while scanning */
  onError?: (message: string) => void;
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
  #onError: (message: string) => void;
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
    const rows = options.rows.pins;
    const columns = options.columns.pins;
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
    this.#onError = options.onError ?? (() => {});
    this.#debounceMs = options.debounceMs ?? 30;
    this.#scanMs = options.scanMs ?? 10;
    const Bank = options.rows.io;
    this.#rows = new Bank({ mode: Bank.Output, ...options.rows, pins: this.#rowMask });
    this.#rows.write(0);
    const Digital = options.columns.io;
    const keypad = this;
    for (const pin of columns) {
      this.#columns.push(
        new Digital({
          mode: Digital.InputPullUp,
          edge: Digital.Falling,
          pin,
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

  /** What may change after construction: the debounce time. */
  configure(options: { debounceMs?: number }): void {
    if (options.debounceMs !== undefined) {
      if (!Number.isInteger(options.debounceMs) || options.debounceMs < 0) throw new RangeError("keypad: debounceMs must be a non-negative integer");
      this.#debounceMs = options.debounceMs;
    }
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

  /** One scan on the timer; a line that fails stops the scan (the next edge starts it again). */
  #tick(): void {
    try {
      this.#scanTick();
    } catch (e) {
      if (this.#timer !== undefined) Timer.clear(this.#timer);
      this.#timer = undefined;
      this.#onError(`keypad: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  #scanTick(): void {
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
