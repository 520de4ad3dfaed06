import type { I2CTarget } from "../io/i2c-bus";
import type { SimPlugin, Simulator } from "../simulator";
import { manifestConfig } from "../project";

/**
 * A 20x4 HD44780 LCD behind a PCF8574 backpack, emulated at the I2C byte level. Each byte written
 * sets the expander's eight outputs (P0 RS, P1 RW, P2 E, P3 backlight, P4..P7 D4..D7); a falling
 * edge on E latches D4..D7 into the controller, which starts in 8-bit mode as after power-up and
 * pairs nibbles once told 4-bit. Instructions and data go to DDRAM/CGRAM exactly as the datasheet
 * says, so what the snapshot shows is what the driver really made the module do.
 *
 * Timing: each byte on the bus takes 9 clocks. An instruction that arrives while the controller is
 * still busy with the previous one (a clear takes 1.52 ms) is counted in `busyViolations` and
 * ignored, as a real module would garble it.
 */

/** Execution time of each instruction in microseconds (datasheet, fOSC 270 kHz). */
const EXEC_US = { clearHome: 1520, other: 37, firstReset: 4100, reset: 100 };

const DDRAM_LINE = 40;

export interface LcdState {
  lines: string[];
  backlight: boolean;
  displayOn: boolean;
  cursor: { row: number; column: number; underline: boolean; blink: boolean } | null;
  /** the eight custom characters, 8 rows of 5 bits each */
  cgram: number[][];
  fourBit: boolean;
}

export interface LcdOptions {
  address?: number;
  columns?: number;
  rows?: number;
  hz?: number;
}

/** How the A00 (Japanese) character ROM shows a code, as one character of text. */
export function romChar(code: number): string {
  if (code < 16) return (code & 7) === 0 ? "\u24ea" : String.fromCharCode(0x2460 + (code & 7) - 1); // ⓪ ① … ⑦
  if (code === 0x5c) return "¥";
  if (code === 0x7e) return "→";
  if (code === 0x7f) return "←";
  if (code >= 0x20 && code < 0x7e) return String.fromCharCode(code);
  if (code >= 0xa1 && code <= 0xdf) return String.fromCharCode(0xff61 + code - 0xa1); // half-width katakana
  if (code === 0xdf) return "°";
  return "□";
}

export class LcdPcf8574 implements I2CTarget, SimPlugin {
  readonly name = "lcd";
  readonly address: number;
  /** a PCF8574 acknowledges every byte and a write schedules nothing: the firmware posts its writes (I2CTarget) */
  readonly acksEveryWrite = true;
  readonly columns: number;
  readonly rows: number;
  #byteUs: number;
  // PCF8574
  #port = 0xff;
  // HD44780
  #ddram = new Uint8Array(2 * DDRAM_LINE);
  #cgram = new Uint8Array(64);
  #ac = 0;
  #toCgram = false;
  #increment = true;
  #shiftOnWrite = false;
  #displayShift = 0;
  #displayOn = false;
  #cursorOn = false;
  #blinkOn = false;
  #twoLines = false;
  #fourBit = false;
  #pendingHigh: number | null = null;
  #busUs = 0;
  #resets = 0;
  #busyUntilUs = 0;
  #lastNow = 0;
  #now: () => number;
  /** instructions executed and characters written since power-up */
  instructions = 0;
  characters = 0;
  busyViolations = 0;
  listeners: Array<() => void> = [];

  constructor(now: () => number = () => 0, options: LcdOptions = {}) {
    this.#now = now;
    this.address = options.address ?? 0x27;
    this.columns = options.columns ?? 20;
    this.rows = options.rows ?? 4;
    this.#byteUs = 9e6 / (options.hz ?? 100000);
    this.powerLost();
  }

  /** Power-on state: 8-bit interface, display off, DDRAM blank, backlight line high. */
  powerLost(): void {
    this.#port = 0xff;
    this.#ddram.fill(0x20);
    this.#cgram.fill(0);
    this.#ac = 0;
    this.#toCgram = false;
    this.#increment = true;
    this.#shiftOnWrite = false;
    this.#displayShift = 0;
    this.#displayOn = false;
    this.#cursorOn = false;
    this.#blinkOn = false;
    this.#twoLines = false;
    this.#fourBit = false;
    this.#pendingHigh = null;
    // (The 40 ms the module needs after power-up pass while the board boots.)
    this.#busyUntilUs = this.#busUs;
    this.#resets = 0;
    this.instructions = 0;
    this.characters = 0;
    this.#changed();
  }

  write(data: Uint8Array, _stop: boolean): boolean {
    this.#tick(1); // the address byte
    for (let i = 0; i < data.length; i++) {
      this.#tick(1);
      this.#setPort(data[i]);
    }
    this.#changed();
    return true;
  }

  read(count: number, _stop: boolean): Uint8Array | null {
    this.#tick(1 + count);
    return new Uint8Array(count).fill(this.#port);
  }

  snapshot(): Record<string, unknown> {
    return { lcd: this.lines() };
  }

  /** The text as the module shows it: `rows` strings of `columns` characters. */
  lines(): string[] {
    const out: string[] = [];
    for (let r = 0; r < this.rows; r++) {
      let s = "";
      for (let c = 0; c < this.columns; c++) s += this.#displayOn ? romChar(this.#ddram[this.#cell(r, c)]) : " ";
      out.push(s);
    }
    return out;
  }

  state(): LcdState {
    const cgram: number[][] = [];
    for (let i = 0; i < 8; i++) cgram.push(Array.from(this.#cgram.subarray(i * 8, i * 8 + 8)));
    let cursor: LcdState["cursor"] = null;
    if (this.#displayOn && (this.#cursorOn || this.#blinkOn) && !this.#toCgram) {
      for (let r = 0; r < this.rows && !cursor; r++) {
        for (let c = 0; c < this.columns; c++) {
          if (this.#cell(r, c) === this.#ddramIndex(this.#ac)) {
            cursor = { row: r, column: c, underline: this.#cursorOn, blink: this.#blinkOn };
            break;
          }
        }
      }
    }
    return { lines: this.lines(), backlight: (this.#port & 0x08) !== 0, displayOn: this.#displayOn, cursor, cgram, fourBit: this.#fourBit };
  }

  /** The raw character codes of a row (custom characters stay 0..7). */
  codes(row: number): number[] {
    const out: number[] = [];
    for (let c = 0; c < this.columns; c++) out.push(this.#ddram[this.#cell(row, c)]);
    return out;
  }

  #changed(): void {
    for (const l of this.listeners) l();
  }

  #tick(bytes: number): void {
    // Virtual time that passed between transactions counts too.
    const now = this.#now();
    if (now > this.#lastNow) {
      this.#busUs += (now - this.#lastNow) * 1000;
      this.#lastNow = now;
    }
    this.#busUs += bytes * this.#byteUs;
  }

  /** The DDRAM cell shown at a row and column (20x4: rows 0 and 2 share line 1, 1 and 3 line 2). */
  #cell(row: number, column: number): number {
    const line = this.#twoLines ? row & 1 : 0;
    const base = this.rows > 2 && row >= 2 ? this.columns : 0;
    const pos = (((base + column + this.#displayShift) % DDRAM_LINE) + DDRAM_LINE) % DDRAM_LINE;
    return line * DDRAM_LINE + pos;
  }

  #ddramIndex(address: number): number {
    return address >= 0x40 ? DDRAM_LINE + ((address - 0x40) % DDRAM_LINE) : address % DDRAM_LINE;
  }

  #setPort(value: number): void {
    const fell = (this.#port & 0x04) !== 0 && (value & 0x04) === 0;
    const rs = value & 0x01;
    const rw = value & 0x02;
    this.#port = value;
    if (!fell || rw) return;
    const nibble = value & 0xf0; // what D4..D7 carried while E was high, latched on the fall
    if (!this.#fourBit) {
      this.#execute(rs, nibble); // D0..D3 are not wired: they read 0
      return;
    }
    if (this.#pendingHigh === null) {
      this.#pendingHigh = nibble;
      return;
    }
    const byte = this.#pendingHigh | (nibble >> 4);
    this.#pendingHigh = null;
    this.#execute(rs, byte);
  }

  #execute(rs: number, byte: number): void {
    if (this.#busUs < this.#busyUntilUs) {
      this.busyViolations++;
      return;
    }
    let exec = EXEC_US.other;
    if (rs) {
      this.characters++;
      if (this.#toCgram) {
        this.#cgram[this.#ac & 0x3f] = byte & 0x1f;
        this.#ac = (this.#ac + (this.#increment ? 1 : -1)) & 0x3f;
      } else {
        this.#ddram[this.#ddramIndex(this.#ac)] = byte;
        this.#stepDdram();
        if (this.#shiftOnWrite) this.#displayShift += this.#increment ? 1 : -1;
      }
      this.#busyUntilUs = this.#busUs + exec;
      return;
    }
    this.instructions++;
    if (byte & 0x80) {
      this.#toCgram = false;
      const a = byte & 0x7f;
      this.#ac = this.#twoLines ? (a >= 0x40 ? 0x40 + ((a - 0x40) % DDRAM_LINE) : a % DDRAM_LINE) : a % (2 * DDRAM_LINE);
    } else if (byte & 0x40) {
      this.#toCgram = true;
      this.#ac = byte & 0x3f;
    } else if (byte & 0x20) {
      const eightBit = (byte & 0x10) !== 0;
      if (!this.#fourBit && !eightBit) this.#fourBit = true;
      else if (this.#fourBit && eightBit) {
        this.#fourBit = false;
        this.#pendingHigh = null;
      }
      this.#twoLines = (byte & 0x08) !== 0;
      // The reset-by-instruction steps: 4.1 ms after the first "8-bit", 100 us after the others.
      if (eightBit) exec = this.#resets++ === 0 ? EXEC_US.firstReset : EXEC_US.reset;
    } else if (byte & 0x10) {
      const display = (byte & 0x08) !== 0;
      const right = (byte & 0x04) !== 0;
      if (display) this.#displayShift += right ? -1 : 1;
      else this.#ac = this.#ddramStep(this.#ac, right);
    } else if (byte & 0x08) {
      this.#displayOn = (byte & 0x04) !== 0;
      this.#cursorOn = (byte & 0x02) !== 0;
      this.#blinkOn = (byte & 0x01) !== 0;
    } else if (byte & 0x04) {
      this.#increment = (byte & 0x02) !== 0;
      this.#shiftOnWrite = (byte & 0x01) !== 0;
    } else if (byte & 0x02) {
      this.#ac = 0;
      this.#toCgram = false;
      this.#displayShift = 0;
      exec = EXEC_US.clearHome;
    } else if (byte & 0x01) {
      this.#ddram.fill(0x20);
      this.#ac = 0;
      this.#toCgram = false;
      this.#increment = true;
      this.#displayShift = 0;
      exec = EXEC_US.clearHome;
    }
    this.#busyUntilUs = this.#busUs + exec;
  }

  #stepDdram(): void {
    this.#ac = this.#ddramStep(this.#ac, this.#increment);
  }

  #ddramStep(ac: number, forward: boolean): number {
    if (this.#twoLines) {
      if (forward) return ac === 0x27 ? 0x40 : ac === 0x67 ? 0x00 : ac + 1;
      return ac === 0x40 ? 0x27 : ac === 0x00 ? 0x67 : ac - 1;
    }
    return forward ? (ac + 1) % 80 : (ac + 79) % 80;
  }
}

/** Attaches the LCD where the manifest's config puts it (I2C port 0, config.lcd.address). */
export function attachLcd(sim: Simulator, config: Record<string, any> = manifestConfig()): LcdPcf8574 {
  const lcd = new LcdPcf8574(() => sim.clock.now, {
    address: config.lcd?.address ?? 0x27,
    columns: config.lcd?.columns ?? 20,
    rows: config.lcd?.rows ?? 4,
    hz: config.i2c?.hz ?? 100000,
  });
  sim.io.i2c(0).attach(lcd);
  return sim.use(lcd);
}
