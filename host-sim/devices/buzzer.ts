import type { Gpio } from "../io/gpio";
import { manifestConfig } from "../project";
import type { SimPlugin, Simulator } from "../simulator";

/**
 * The terminal's buzzer as the outside world hears it: the GPIO of `config.buzzer.pin` driven
 * high is a beep. Counts the beeps and keeps the virtual times of the last ones (ms since 1970),
 * for the snapshot (`buzzer`) and the simulator's page.
 */
export class BuzzerListener implements SimPlugin {
  readonly name = "buzzer";
  readonly pin: number;
  #gpio: Gpio;
  #now: () => number;
  #on = false;
  beeps = 0;
  recent: number[] = [];

  constructor(gpio: Gpio, pin: number, now: () => number) {
    this.#gpio = gpio;
    this.pin = pin;
    this.#now = now;
    gpio.onChange(() => this.#check());
  }

  #check(): void {
    const on = this.#gpio.driven(this.pin) === 1;
    if (on && !this.#on) {
      this.beeps++;
      this.recent.push(this.#now());
      if (this.recent.length > 64) this.recent.shift();
    }
    this.#on = on;
  }

  /** Beeps heard from `fromMs` on (virtual time). */
  beepsSince(fromMs: number): number {
    return this.recent.filter((t) => t >= fromMs).length;
  }

  snapshot(): Record<string, unknown> {
    return { buzzer: { pin: this.pin, on: this.#on, beeps: this.beeps } };
  }
}

export function attachBuzzer(sim: Simulator, config: Record<string, any> = manifestConfig()): BuzzerListener {
  const pin = typeof config.buzzer?.pin === "number" ? config.buzzer.pin : 5;
  return sim.use(new BuzzerListener(sim.io.gpio, pin, () => sim.clock.now));
}
