/** Pin modes, numbered as the engine-side Digital class numbers them. */
export const PinMode = Object.freeze({ Input: 0, InputPullUp: 1, InputPullDown: 2, Output: 8, OutputOpenDrain: 9 });

/** Computes a pin's level from the outside world (a keypad matrix, a button); undefined: not driving it. */
export type Resolver = (pin: number, gpio: Gpio) => number | undefined;

interface PinState {
  mode: number;
  driven: number;
}

/**
 * The ESP32's GPIO pins as the outside world sees them. The firmware sets modes and drives
 * outputs; devices attach resolvers that compute input levels (a pressed key joins a row to a
 * column). Watchers hear about level changes, which the hub turns into onReadable callbacks.
 */
export class Gpio {
  #pins = new Map<number, PinState>();
  #resolvers: Resolver[] = [];
  #watchers: Array<() => void> = [];

  configure(pin: number, mode: number): void {
    if (!Number.isInteger(pin) || pin < 0 || pin > 39) throw new Error(`GPIO ${pin} does not exist`);
    if ((mode === PinMode.Output || mode === PinMode.OutputOpenDrain) && pin >= 34) throw new Error(`GPIO ${pin} is input-only`);
    if (mode === PinMode.InputPullUp && pin >= 34) throw new Error(`GPIO ${pin} has no internal pull-up`);
    const state = this.#pins.get(pin);
    this.#pins.set(pin, { mode, driven: state?.driven ?? 0 });
    this.changed();
  }

  release(pin: number): void {
    this.#pins.delete(pin);
    this.changed();
  }

  mode(pin: number): number | undefined {
    return this.#pins.get(pin)?.mode;
  }

  /** The firmware drives an output. */
  drive(pin: number, level: number): void {
    const s = this.#pins.get(pin);
    if (!s || (s.mode !== PinMode.Output && s.mode !== PinMode.OutputOpenDrain)) throw new Error(`GPIO ${pin} is not an output`);
    s.driven = level ? 1 : 0;
    this.changed();
  }

  /** What the firmware drives on a pin, or undefined when it is not an output. */
  driven(pin: number): number | undefined {
    const s = this.#pins.get(pin);
    return s && (s.mode === PinMode.Output || s.mode === PinMode.OutputOpenDrain) ? s.driven : undefined;
  }

  /** The level the firmware reads on a pin. */
  level(pin: number): number {
    const s = this.#pins.get(pin);
    if (s && s.mode === PinMode.Output) return s.driven;
    for (const r of this.#resolvers) {
      const v = r(pin, this);
      if (v !== undefined) return v ? 1 : 0;
    }
    if (s && s.mode === PinMode.OutputOpenDrain) return s.driven;
    return s && s.mode === PinMode.InputPullUp ? 1 : 0;
  }

  addResolver(r: Resolver): () => void {
    this.#resolvers.push(r);
    this.changed();
    return () => {
      this.#resolvers = this.#resolvers.filter((x) => x !== r);
      this.changed();
    };
  }

  onChange(w: () => void): void {
    this.#watchers.push(w);
  }

  /** Something outside changed (a key went down): watchers re-read the levels. */
  changed(): void {
    for (const w of this.#watchers) w();
  }
}
