import type Digital from "embedded:io/digital";

/**
 * The card slot's card-present contact (IC-card connectors have one): a switch that closes when a
 * card is pushed fully in, wired to a GPIO with an edge interrupt on both edges. The card
 * component (card/billing.ts) then talks to the PN532 only when the contact moved, or when a card
 * is to be read or debited, instead of asking the reader every few seconds whether the card is
 * still there. The pin and the level that means "a card is in" come from the manifest's
 * `config.card.detect` (docs/card.md).
 *
 *   const slot = new SlotSwitch({ io: device.io.Digital, pin: 34, present: 1 });
 */
export interface SlotSwitchOptions {
  io: typeof Digital;
  pin: number;
  /** the level the pin reads while a card is in (1: the contact closes to 3V3 against a pull-down) */
  present: 0 | 1;
}

export class SlotSwitch {
  #pin: Digital;
  #present: 0 | 1;
  #level: number;
  /** the contact moved since the card component last asked (true at boot: nothing is known yet) */
  #moved = true;
  /** edges seen (a bouncing contact gives several per insertion) */
  edges = 0;

  constructor(options: SlotSwitchOptions) {
    const io = options.io;
    this.#present = options.present;
    const self = this;
    this.#pin = new io({
      pin: options.pin,
      mode: io.Input, // input-only pins have no internal pulls: the board's resistor holds the idle level
      edge: io.Rising | io.Falling,
      onReadable() {
        self.edges++;
        self.#moved = true;
        self.#level = this.read();
      },
    });
    this.#level = this.#pin.read();
  }

  /** Whether the contact says a card is in (its level at the last edge, or at boot). */
  get present(): boolean {
    return this.#level === this.#present;
  }

  /** True once after the contact moved (and at the first call after boot). */
  takeMoved(): boolean {
    const moved = this.#moved;
    this.#moved = false;
    return moved;
  }

  close(): void {
    this.#pin.close();
  }
}
