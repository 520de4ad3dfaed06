import { PowerCutError } from "../storage/flash-file";
import { ACTIONS, ScriptError } from "../script";
import type { SimPlugin, Simulator } from "../simulator";
import { decodeRecord, decodeValueBlock, RECORD_BLOCK, VALUE_BLOCK, toHex } from "../../firmware/card/layout";
import { CardFile, Issuer, openCard, writeCardFile } from "./card-file";
import { MifareClassic1K } from "./mifare-classic";
import { PN532_ADDRESS, Pn532Emulator } from "./pn532";

/** Real ms between two writes of a card's file while virtual time runs (the file always catches up when the run stops). */
const FILE_WRITE_MS = 250;

/**
 * The terminal's card slot in the simulator (plugin "card"): the PN532 on the terminal's I2C bus
 * and whatever card is in its field. Cards come from card files (host-sim/devices/card-file.ts),
 * which follow every change the terminal makes. Faults for tests: pull the card or cut the power
 * right before or right after the n-th exchange with the card.
 *
 * The firmware reports what it knows under "card" and "cardLedger"; this plugin adds "cardSlot",
 * the physical truth (what the card's memory holds), to compare against.
 */
export class CardSlot implements SimPlugin {
  readonly name = "card";
  readonly reader: Pn532Emulator;
  #sim: Simulator;
  #card: MifareClassic1K | null = null;
  #file: { path: string | null; data: CardFile | null } = { path: null, data: null };
  /** cards whose memory changed since their file was last written, and how to write each */
  #dirty = new Set<MifareClassic1K>();
  #writers = new WeakMap<MifareClassic1K, () => void>();
  /** real time (performance.now) of the last file write */
  #written = 0;

  /** the card-present contact's pin and its level with a card in (config.card.detect), or null when not wired */
  readonly detect: { pin: number; present: 0 | 1 } | null;

  constructor(sim: Simulator, options: { address?: number; port?: number; detect?: { pin: number; present: 0 | 1 } | null } = {}) {
    this.#sim = sim;
    this.reader = new Pn532Emulator(options.address ?? PN532_ADDRESS);
    sim.io.i2c(options.port ?? 0).attach(this.reader);
    this.detect = options.detect ?? null;
    const d = this.detect;
    // The contact closes as the card goes fully in and opens as it leaves; the board's resistor
    // holds the other level. The hub turns each change into an edge for the firmware.
    if (d) sim.io.gpio.addResolver((pin) => (pin === d.pin ? (this.#card ? d.present : 1 - d.present) : undefined));
  }

  get card(): MifareClassic1K | null {
    return this.#card;
  }

  /** Puts the card of a card file into the slot. */
  insert(path: string): MifareClassic1K {
    const { card, file } = openCard(path);
    // Not one file write per block (a deduction writes three): the file follows the card at a
    // step's end, when the firmware's exchange is over (afterStep: at most every FILE_WRITE_MS).
    const write = card.onChange;
    if (write) this.#writers.set(card, write);
    card.onChange = () => {
      this.#dirty.add(card);
    };
    this.insertCard(card, path, file);
    return card;
  }

  /** Writes `image` to a card file at `path` and puts that card in the slot (a restored session). */
  insertImage(image: CardFile, path: string): MifareClassic1K {
    writeCardFile(path, image);
    return this.insert(path);
  }

  /** Puts a card model in the slot (tests that need no file). */
  insertCard(card: MifareClassic1K, path: string | null = null, file: CardFile | null = null): void {
    if (this.#card) this.remove();
    this.#card = card;
    this.#file = { path, data: file };
    this.reader.insert(card);
    if (this.detect) this.#sim.io.gpio.changed();
  }

  /**
   * After a step: the files of the cards whose memory changed are written, at most every
   * FILE_WRITE_MS of real time while virtual time runs on (a week's deductions were thousands of
   * file writes, a quarter of a fast run); always when the run stops (settled), the card leaves or
   * the power fails.
   */
  afterStep(): void {
    if (this.#dirty.size > 0 && performance.now() - this.#written >= FILE_WRITE_MS) this.flush();
  }

  /** The simulator's run of virtual time stopped: the files catch up. */
  settled(): void {
    this.flush();
  }

  /** Writes the files of the cards whose memory changed. */
  flush(): void {
    this.#written = performance.now();
    if (this.#dirty.size === 0) return;
    for (const card of this.#dirty) this.#writers.get(card)?.();
    this.#dirty.clear();
  }

  remove(): MifareClassic1K | null {
    this.flush();
    const card = this.#card;
    this.reader.remove();
    this.#card = null;
    if (this.detect) this.#sim.io.gpio.changed();
    return card;
  }

  /**
   * The person takes the card out, has the issuer add counts (key B), and puts it back `awayMs`
   * of virtual time later (a host-side timer: nothing else waits for it). The top-up itself is
   * done at once, so a refusal (revoked card, past the maximum) is thrown here, card back in.
   */
  topUp(counts: number, options: { maxCounts?: number; awayMs?: number } = {}): { before: number; after: number; seq: number } {
    const card = this.#card;
    const keys = this.#file.data?.keys;
    if (!card || !keys) throw new Error("no card from a card file in the slot");
    const path = this.#file.path;
    const data = this.#file.data;
    this.remove();
    let result: { before: number; after: number; seq: number };
    try {
      result = new Issuer(card, keys).topUp(counts, options.maxCounts ?? 100000);
    } catch (e) {
      this.insertCard(card, path, data);
      throw e;
    }
    this.#sim.io.schedule(options.awayMs ?? 30_000, () => {
      if (!this.#card) this.insertCard(card, path, data);
    });
    return result;
  }

  /**
   * Acts at the `index`-th exchange with the card from now (0 = the next one), right before the
   * card runs it or right after (its answer then never reaches the terminal).
   */
  armFault(index: number, when: "before" | "after", fault: "remove" | "power"): void {
    const target = this.reader.exchanges + index;
    this.reader.onExchange = (i, phase) => {
      if (i !== target || phase !== when) return;
      this.reader.onExchange = null;
      if (fault === "remove") this.remove();
      else throw new PowerCutError();
    };
  }

  disarm(): void {
    this.reader.onExchange = null;
  }

  powerLost(): void {
    this.flush();
    this.reader.powerLost();
  }

  /** The card's own memory: counts in the value block, the record's sequence. */
  physical(): { inserted: boolean; uid: string | null; counts: number | null; seq: number | null; file: string | null } {
    const c = this.#card;
    if (!c) return { inserted: false, uid: null, counts: null, seq: null, file: null };
    const v = decodeValueBlock(c.block(VALUE_BLOCK));
    return { inserted: true, uid: toHex(c.uid), counts: typeof v === "string" ? null : v.value, seq: decodeRecord(c.block(RECORD_BLOCK)).seq, file: this.#file.path };
  }

  /** The card in the slot as a card file holds it (its memory now, its issuer's keys), or null. */
  image(): CardFile | null {
    const c = this.#card;
    const keys = this.#file.data?.keys;
    return c && keys ? { uid: c.uid.slice(), memory: c.memory.slice(), keys } : null;
  }

  snapshot(): Record<string, unknown> {
    return { cardSlot: this.physical() };
  }

  get simulator(): Simulator {
    return this.#sim;
  }
}

/** The card-present contact the firmware's config wires (config.card.detect), if any. */
function detectOf(config: Record<string, unknown>): { pin: number; present: 0 | 1 } | null {
  const d = (config.card as { detect?: { pin?: unknown; present?: unknown } | null } | undefined)?.detect;
  if (!d || typeof d.pin !== "number") return null;
  return { pin: d.pin, present: d.present === 0 ? 0 : 1 };
}

/** The simulator's card slot, attached on first use. */
export function cardSlot(sim: Simulator): CardSlot {
  if (!sim.hasPlugin("card")) sim.use(new CardSlot(sim, { detect: detectOf(sim.config) }));
  return sim.plugin<CardSlot>("card");
}

ACTIONS["card.insert"] = async (sim, a) => {
  if (typeof a.file !== "string" || a.file === "") throw new ScriptError('card.insert needs a card file: {"file": "card.json"}');
  try {
    cardSlot(sim).insert(a.file);
  } catch (e) {
    throw new ScriptError(`card.insert: ${(e as Error).message}`);
  }
};
ACTIONS["card.remove"] = async (sim) => {
  cardSlot(sim).remove();
};
ACTIONS["card.topup"] = async (sim, a) => {
  if (typeof a.counts !== "number" || !Number.isInteger(a.counts) || a.counts < 1) throw new ScriptError("card.topup needs counts: a positive integer");
  try {
    return cardSlot(sim).topUp(a.counts);
  } catch (e) {
    throw new ScriptError(`card.topup: ${(e as Error).message}`);
  }
};
