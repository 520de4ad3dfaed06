import type Digital from "embedded:io/digital";
import Timer from "timer";

/** What the panel asks of the buzzer (firmware/sensors/panel.ts, core/alarm.ts soundOf). */
export type BuzzerMode = "entry" | "exit" | "alarm" | "fire" | "off";

/**
 * Beep patterns, played in a loop: [on ms, off ms] pairs. Entry: a beep each second; exit: a beep
 * every two seconds; alarm (burglary, tamper, panic): four beeps a second; fire: the temporal-three
 * pattern of fire alarms (three half-second beeps, then 1.5 s of silence).
 */
const PATTERN: Readonly<Record<Exclude<BuzzerMode, "off">, ReadonlyArray<readonly [number, number]>>> = Object.freeze({
  entry: Object.freeze([Object.freeze([150, 850] as const)]),
  exit: Object.freeze([Object.freeze([100, 1900] as const)]),
  alarm: Object.freeze([Object.freeze([125, 125] as const)]),
  fire: Object.freeze([Object.freeze([500, 500] as const), Object.freeze([500, 500] as const), Object.freeze([500, 1500] as const)]),
});

export interface BuzzerOptions {
  io: typeof Digital;
  /** the GPIO driving the buzzer (config.buzzer.pin): high = sounding */
  pin: number;
}

/**
 * The terminal's piezo buzzer on one GPIO output (an active buzzer: high sounds it). Plays the
 * delays' and the alarms' patterns on a Timer; off leaves the pin low and no timer running.
 */
export class Buzzer {
  #pin: Digital;
  #mode: BuzzerMode = "off";
  #timer: ReturnType<typeof Timer.set> | undefined = undefined;
  /** the pair of the pattern playing next */
  #step = 0;
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
    this.#step = 0;
    if (mode !== "off") this.#beep();
  }

  #beep(): void {
    if (this.#mode === "off") return;
    const pattern = PATTERN[this.#mode];
    const [on, off] = pattern[this.#step % pattern.length];
    this.#step = (this.#step + 1) % pattern.length;
    this.#write(1);
    this.beeps++;
    this.#timer = Timer.set(() => {
      this.#write(0);
      this.#timer = Timer.set(() => {
        this.#timer = undefined;
        this.#beep();
      }, off);
    }, on);
  }

  #write(level: 0 | 1): void {
    try {
      this.#pin.write(level);
    } catch {
      this.errors++;
    }
  }

  close(): void {
    this.play("off");
    this.#pin.close();
  }
}
