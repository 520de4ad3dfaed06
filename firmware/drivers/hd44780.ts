import type I2C from "embedded:io/i2c";

/** The SDK's I2C runtime has close(); its typing (typings/embedded_io/i2c.d.ts) does not declare it. */
type ClosableI2C = I2C & { close(): void };

/**
 * HD44780 character LCD (20x4 here) in 4-bit mode behind a PCF8574 I2C backpack (0x27), in the
 * style of the SDK's drivers (modules/drivers/sensors/tmp117): the bus options spread over the
 * driver's defaults, private fields, frozen tables, configure(), close(). Errors: a bus failure
 * throws from the call that met it (the SDK's I2C throws); nothing here is asynchronous.
 *
 * The backpack's eight outputs: P0 RS, P1 RW, P2 E, P3 backlight, P4..P7 the controller's D4..D7.
 * Every nibble is clocked in by two port writes (E high, then E low: the controller latches on the
 * falling edge). At 100 kHz one I2C byte takes 90 us, far more than the controller's 37 us per
 * ordinary instruction; the slow ones (clear, home: 1.52 ms; the reset steps: 4.1 ms) are given
 * their time by idle port writes in the same transaction, so the driver needs no blocking delay
 * and the bus itself is the clock.
 *
 *   const lcd = new HD44780({ display: { ...device.I2C.default, io: device.io.I2C, address: 0x27 } });
 *   lcd.cursor(0, 1); lcd.write("Hello");
 */

const BIT = Object.freeze({ RS: 0x01, RW: 0x02, E: 0x04, BACKLIGHT: 0x08 });

const CMD = Object.freeze({
  CLEAR: 0x01,
  HOME: 0x02,
  ENTRY_MODE: 0x04, // | 0x02 increment, | 0x01 shift
  DISPLAY: 0x08, // | 0x04 display on, | 0x02 cursor, | 0x01 blink
  FUNCTION: 0x20, // | 0x10 8-bit, | 0x08 two lines, | 0x04 5x10 dots
  CGRAM: 0x40,
  DDRAM: 0x80,
});

/** DDRAM address of each row's first column on a 20x4 (and 16x4) module. */
const ROW_OFFSETS_20 = Object.freeze([0x00, 0x40, 0x14, 0x54]);
const ROW_OFFSETS_16 = Object.freeze([0x00, 0x40, 0x10, 0x50]);

/** `line()` sends the whole row on every this-many-th call, whatever it holds. */
const FULL_EVERY = 32;

/** Microseconds the controller needs after each kind of instruction (datasheet, 270 kHz clock). */
const WAIT_US = Object.freeze({ LONG: 1600, RESET: 4200, RESET_NEXT: 120 });

/** The I2C bus: `{...device.I2C.default, io: device.io.I2C}`, with address and hz if not the defaults. */
export interface HD44780Bus {
  io: typeof I2C;
  data: number;
  clock: number;
  hz?: number;
  port?: number;
  /** the backpack's address: 0x27 (PCF8574) or 0x3F (PCF8574A) */
  address?: number;
}

export interface HD44780Options {
  display: HD44780Bus;
  columns?: number;
  rows?: number;
  /** backlight on at start (default true) */
  backlight?: boolean;
}

/** The ROM (A00, Japanese) has the yen sign where ASCII has the backslash. */
function charCode(c: number): number {
  if (c === 0xa5) return 0x5c; // ¥
  if (c === 0x2192) return 0x7e; // →
  if (c === 0x2190) return 0x7f; // ←
  if (c >= 0x20 && c < 0x7e && c !== 0x5c) return c;
  if (c < 8) return c; // custom characters 0..7
  return 0x3f; // "?": the ROM has nothing for it
}

export class HD44780 {
  #i2c: ClosableI2C;
  #columns: number;
  #rows: number;
  #offsets: readonly number[];
  #backlight: number;
  #display = 0x04;
  #idleBytes: { next: number; long: number; reset: number };
  #buffer: Uint8Array;
  #length = 0;
  #writes = 0;
  /**
   * What each row of the display RAM holds, as the driver last wrote it (character codes, row
   * after row), then a byte a row: whether that is known (one array: a typed array costs the heap
   * about nine slots). `line()` sends only the span that differs. `write()` and `cursor()` make
   * every row unknown (the text there is the caller's), `reset()` and `clear()` known blank.
   */
  #shadow: Uint8Array;
  #lines = 0;

  constructor(options: HD44780Options) {
    const bus = { hz: 100_000, address: 0x27, ...options.display };
    const hz = bus.hz ?? 100_000;
    this.#columns = options.columns ?? 20;
    this.#rows = options.rows ?? 4;
    if (this.#rows < 1 || this.#rows > 4 || this.#columns < 8 || this.#columns > 40) throw new RangeError("HD44780: unsupported geometry");
    this.#offsets = this.#columns === 16 ? ROW_OFFSETS_16 : ROW_OFFSETS_20;
    this.#backlight = options.backlight === false ? 0 : BIT.BACKLIGHT;
    // One byte on the bus is 9 clocks (8 bits and the acknowledge).
    const bytesFor = (us: number) => Math.ceil((us * hz) / 9e6);
    this.#idleBytes = { next: bytesFor(WAIT_US.RESET_NEXT), long: bytesFor(WAIT_US.LONG), reset: bytesFor(WAIT_US.RESET) };
    this.#buffer = new Uint8Array(4 * (this.#columns + 8) + this.#idleBytes.reset * 2 + 64);
    this.#shadow = new Uint8Array(this.#rows * (this.#columns + 1));
    this.#i2c = <ClosableI2C>new bus.io(bus);
    this.reset();
  }

  get columns(): number {
    return this.#columns;
  }
  get rows(): number {
    return this.#rows;
  }
  /** I2C write transactions so far (each a whole line or command sequence). */
  get transactions(): number {
    return this.#writes;
  }

  /**
   * The initialisation by instruction (datasheet figure 24): three times "8-bit" to resynchronise
   * whatever state the controller is in, then 4-bit, then the function, display, clear and entry.
   */
  reset(): void {
    this.#length = 0;
    this.#port(this.#backlight);
    this.#nibble(0x30, 0);
    this.#idle(this.#idleBytes.reset);
    this.#nibble(0x30, 0);
    this.#idle(this.#idleBytes.next);
    this.#nibble(0x30, 0);
    this.#idle(this.#idleBytes.next);
    this.#nibble(0x20, 0); // 4-bit from here on
    this.#idle(this.#idleBytes.next);
    this.#command(CMD.FUNCTION | (this.#rows > 1 ? 0x08 : 0));
    this.#command(CMD.DISPLAY);
    this.#command(CMD.CLEAR);
    this.#idle(this.#idleBytes.long);
    this.#command(CMD.ENTRY_MODE | 0x02);
    this.#display = 0x04;
    this.#command(CMD.DISPLAY | this.#display);
    this.#unknown();
    this.#flush();
    this.#blank();
  }

  clear(): void {
    this.#command(CMD.CLEAR);
    this.#idle(this.#idleBytes.long);
    this.#unknown();
    this.#flush();
    this.#blank();
  }

  home(): void {
    this.#command(CMD.HOME);
    this.#idle(this.#idleBytes.long);
    this.#flush();
  }

  /** Moves the cursor (the next write's place) to a column and row. */
  cursor(column: number, row: number): void {
    this.#check(column, row);
    this.#unknown();
    this.#command(CMD.DDRAM | (this.#offsets[row] + column));
    this.#flush();
  }

  /**
   * Writes text at the cursor in one I2C transaction. Characters the ROM lacks become "?";
   * "\x00".."\x07" are the custom characters.
   */
  write(text: string): void {
    this.#unknown();
    const room = this.#columns + 8;
    for (let i = 0; i < text.length; i += room) {
      const end = Math.min(text.length, i + room);
      for (let j = i; j < end; j++) this.#data(charCode(text.charCodeAt(j)));
      this.#flush();
    }
  }

  /**
   * Shows `text` as a whole row, padded or cut to the width, in one I2C transaction; only the
   * span from the first to the last character that differs from what the row holds is sent (the
   * status screen's clock: one or two characters a minute instead of the row's twenty), nothing
   * when none does. Every `FULL_EVERY`th call sends the whole row, so a character the display lost
   * (noise on the bus) is put right within that many updates.
   */
  line(row: number, text: string): void {
    this.#check(0, row);
    const columns = this.#columns;
    const shadow = this.#shadow;
    const at = row * columns;
    const known = this.#rows * columns + row;
    const full = shadow[known] === 0 || ++this.#lines % FULL_EVERY === 0;
    let first = -1;
    let last = -1;
    for (let i = 0; i < columns; i++) {
      const code = i < text.length ? charCode(text.charCodeAt(i)) : 0x20;
      if (full || shadow[at + i] !== code) {
        if (first < 0) first = i;
        last = i;
      }
      shadow[at + i] = code;
    }
    if (first < 0) return;
    // what the row holds is unknown until the transaction has gone through
    shadow[known] = 0;
    this.#command(CMD.DDRAM | (this.#offsets[row] + first));
    for (let i = first; i <= last; i++) this.#data(shadow[at + i]);
    this.#flush();
    shadow[known] = 1;
  }

  /** Display on/off, underline cursor, blinking block. */
  display(options: { on?: boolean; cursor?: boolean; blink?: boolean }): void {
    let d = this.#display;
    if (options.on !== undefined) d = options.on ? d | 0x04 : d & ~0x04;
    if (options.cursor !== undefined) d = options.cursor ? d | 0x02 : d & ~0x02;
    if (options.blink !== undefined) d = options.blink ? d | 0x01 : d & ~0x01;
    this.#display = d;
    this.#command(CMD.DISPLAY | d);
    this.#flush();
  }

  backlight(on: boolean): void {
    this.#backlight = on ? BIT.BACKLIGHT : 0;
    this.#port(this.#backlight);
    this.#flush();
  }

  /** Defines custom character 0..7 from eight rows of five pixels (bit 4 the leftmost). */
  define(index: number, rows: ArrayLike<number>): void {
    if (!Number.isInteger(index) || index < 0 || index > 7) throw new RangeError("HD44780: custom characters are 0..7");
    if (rows.length !== 8) throw new RangeError("HD44780: a character is 8 rows");
    this.#command(CMD.CGRAM | (index << 3));
    for (let i = 0; i < 8; i++) this.#data(rows[i] & 0x1f);
    this.#flush();
    // CGRAM writes move the address counter there: the next write must set a DDRAM address.
  }

  /** What may change after construction: the backlight and the display's on, cursor and blink. */
  configure(options: { backlight?: boolean; on?: boolean; cursor?: boolean; blink?: boolean }): void {
    if (options.backlight !== undefined) this.backlight(options.backlight);
    if (options.on !== undefined || options.cursor !== undefined || options.blink !== undefined) this.display(options);
  }

  close(): void {
    this.#i2c.close();
  }

  /** After a clear or reset: every row holds spaces. */
  #blank(): void {
    const rowsEnd = this.#rows * this.#columns;
    this.#shadow.fill(0x20, 0, rowsEnd);
    this.#shadow.fill(1, rowsEnd);
  }

  /** No row's content is known (the next `line()` of each sends it whole). */
  #unknown(): void {
    this.#shadow.fill(0, this.#rows * this.#columns);
  }

  #check(column: number, row: number): void {
    if (!Number.isInteger(row) || row < 0 || row >= this.#rows) throw new RangeError(`HD44780: no row ${row}`);
    if (!Number.isInteger(column) || column < 0 || column >= this.#columns) throw new RangeError(`HD44780: no column ${column}`);
  }

  #command(value: number): void {
    this.#nibble(value & 0xf0, 0);
    this.#nibble((value << 4) & 0xf0, 0);
  }

  #data(value: number): void {
    this.#nibble(value & 0xf0, BIT.RS);
    this.#nibble((value << 4) & 0xf0, BIT.RS);
  }

  #nibble(high: number, rs: number): void {
    const v = high | rs | this.#backlight;
    this.#port(v | BIT.E);
    this.#port(v);
  }

  #idle(bytes: number): void {
    for (let i = 0; i < bytes; i++) this.#port(this.#backlight);
  }

  #port(value: number): void {
    if (this.#length === this.#buffer.length) this.#flush();
    this.#buffer[this.#length++] = value;
  }

  #flush(): void {
    if (this.#length === 0) return;
    const n = this.#length;
    this.#length = 0;
    this.#writes++;
    this.#i2c.write(this.#buffer.subarray(0, n));
  }
}
