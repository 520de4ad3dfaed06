import type Digital from "embedded:io/digital";
import Timer from "timer";

/** What the panel asks of the buzzer (firmware/sensors/panel.ts). */
export type BuzzerMode = "entry" | "exit" | "off";

/** Beep patterns: [on ms, period ms]. Entry: a beep each second; exit: a beep every two seconds. */
const PATTERN: Readonly<Record<Exclude<BuzzerMode, "off">, readonly [number, number]>> = Object.freeze({
  entry: Object.freeze([150, 1000] as const),
  exit: Object.freeze([100, 2000] as const),
});

export interface BuzzerOptions {
  io: typeof Digital;
  /** the GPIO driving the buzzer (config.buzzer.pin): high = sounding */
  pin: number;
}

/**
 * The terminal's piezo buzzer on one GPIO output (an active buzzer: high sounds it). Plays the
 * entry and exit delay patterns on a Timer; off leaves the pin low and no timer running.
 */
export class Buzzer {
  #pin: Digital;
  #mode: BuzzerMode = "off";
  #timer: ReturnType<typeof Timer.set> | undefined = undefined;
  #level = 0;
  beeps = 0;
  errors = 0;

  constructor(options: BuzzerOptions) {
    this.#pin = new options.io({ pin: options.pin, mode: options.io.Output });
    this.#write(0);
  }

  get mode(): BuzzerMode {
    return this.#mode;
  }

  play(mode: BuzzerMode): void {
    if (mode === this.#mode) return;
    this.#mode = mode;
    if (this.#timer !== undefined) Timer.clear(this.#timer);
    this.#timer = undefined;
    this.#write(0);
    if (mode !== "off") this.#beep();
  }

  #beep(): void {
    if (this.#mode === "off") return;
    const [on, period] = PATTERN[this.#mode];
    this.#write(1);
    this.beeps++;
    this.#timer = Timer.set(() => {
      this.#write(0);
      this.#timer = Timer.set(() => {
        this.#timer = undefined;
        this.#beep();
      }, period - on);
    }, on);
  }

  #write(level: 0 | 1): void {
    try {
      this.#pin.write(level);
      this.#level = level;
    } catch {
      this.errors++;
    }
  }

  close(): void {
    this.play("off");
    this.#pin.close();
  }
}
