import type { I2CTarget } from "../io/i2c-bus";
import { MifareClassic1K, MifareError } from "./mifare-classic";

/**
 * The NXP PN532 as the terminal sees it on I2C (address 0x24): host frames in (preamble, start
 * code, LEN/LCS, TFI D4, data, DCS, postamble), an ACK frame and a response frame out, every read
 * starting with the ready byte (0x01 ready, 0x00 busy). Commands: GetFirmwareVersion,
 * SAMConfiguration, RFConfiguration (retries), InListPassiveTarget (ISO14443A at 106 kbps),
 * InRelease and InDataExchange carrying MIFARE Classic commands to the card in the field.
 *
 * The card can be inserted or removed at any moment; `onExchange` lets a test act right before or
 * right after the card executes an exchange (pull the card, cut the power). A card that leaves
 * after executing a command but before answering has done it, and the PN532 reports a timeout:
 * exactly the doubt a real reader leaves the firmware in.
 */
export const PN532_ADDRESS = 0x24;
export const ACK = Object.freeze([0x00, 0x00, 0xff, 0x00, 0xff, 0x00]);
const SYNTAX_ERROR = Uint8Array.of(0x00, 0x00, 0xff, 0x01, 0xff, 0x7f, 0x81, 0x00);

/** InDataExchange status bytes (PN532 user manual, error codes). */
export const STATUS = Object.freeze({ ok: 0x00, timeout: 0x01, nack: 0x0b, auth: 0x14, context: 0x27 });

export type ExchangeHook = (index: number, phase: "before" | "after", mifareCommand: number) => void;

export class Pn532Emulator implements I2CTarget {
  readonly address: number;
  #card: MifareClassic1K | null = null;
  /** the PN532's belief: target 1 is activated */
  #listed = false;
  /** which stay of a card in the field target 1 was activated in (a card that left and came back is idle) */
  #fieldStay = 0;
  #selectedStay = -1;
  #sam = false;
  #retries = 0xff;
  #out: Array<{ frame: Uint8Array; busy: number }> = [];
  /** not-ready status reads before each response (the PN532 working; tests raise it) */
  responseBusyReads = 0;
  /** statistics */
  commands = 0;
  badFrames = 0;
  exchanges = 0;
  onExchange: ExchangeHook | null = null;

  constructor(address = PN532_ADDRESS) {
    this.address = address;
  }

  get card(): MifareClassic1K | null {
    return this.#card;
  }

  /** A card enters the field. */
  insert(card: MifareClassic1K): void {
    this.#card = card;
    this.#fieldStay++;
    card.reset();
  }

  /** The card leaves the field (its authentication and transfer register are lost). */
  remove(): MifareClassic1K | null {
    const card = this.#card;
    card?.reset();
    this.#card = null;
    this.#fieldStay++;
    return card;
  }

  /** The terminal's power dropped: the PN532 is back in its reset state, the field is off. */
  powerLost(): void {
    this.#sam = false;
    this.#retries = 0xff;
    this.#out = [];
    this.#listed = false;
    this.#fieldStay++;
    this.#card?.reset();
  }

  write(data: Uint8Array): boolean {
    if (data.length === 6 && ACK.every((b, i) => data[i] === b)) {
      this.#out = []; // the host aborts the running command
      return true;
    }
    const body = parseHostFrame(data);
    if (!body) {
      this.badFrames++;
      return true; // the bytes were clocked in; the PN532 just does not acknowledge the frame
    }
    this.commands++;
    this.#out = [{ frame: Uint8Array.from(ACK), busy: 0 }];
    const response = this.#command(body);
    if (response === "syntax") this.#out.push({ frame: SYNTAX_ERROR.slice(), busy: this.responseBusyReads });
    else if (response !== null) this.#out.push({ frame: responseFrame(body[0] + 1, response), busy: this.responseBusyReads });
    return true;
  }

  read(count: number): Uint8Array {
    const out = this.peek(count);
    const head = this.#out[0];
    if (!head) return out; // status 0x00: nothing for the host
    if (head.busy > 0) head.busy--;
    else if (count > 1) this.#out.shift(); // reading past the ready byte takes the frame (a status-only read leaves it waiting)
    return out;
  }

  /** What read(count) gives now, the PN532 left as it is: the ready byte, then as much of the frame as is clocked. */
  peek(count: number): Uint8Array {
    const out = new Uint8Array(count);
    const head = this.#out[0];
    if (!head || head.busy > 0) return out;
    out[0] = 0x01;
    if (count > 1) out.set(head.frame.subarray(0, count - 1), 1);
    return out;
  }

  #command(body: Uint8Array): Uint8Array | "syntax" | null {
    switch (body[0]) {
      case 0x02: // GetFirmwareVersion: IC PN532, version 1.6, supports ISO14443A/B and ISO18092
        return Uint8Array.of(0x32, 0x01, 0x06, 0x07);
      case 0x14: // SAMConfiguration: mode 1 (normal) .. 4
        if (body.length < 2 || body[1] < 1 || body[1] > 4) return "syntax";
        this.#sam = true;
        return new Uint8Array(0);
      case 0x32: // RFConfiguration; item 5 = MxRtyATR, MxRtyPSL, MxRtyPassiveActivation
        if (body.length >= 5 && body[1] === 0x05) this.#retries = body[4];
        return new Uint8Array(0);
      case 0x4a: {
        // InListPassiveTarget MaxTg BrTy (0 = 106 kbps type A)
        if (body.length < 3 || body[1] < 1 || body[1] > 2 || body[2] !== 0x00) return "syntax";
        const card = this.#sam ? this.#card : null;
        if (!card) return this.#retries === 0xff ? null : Uint8Array.of(0); // 0xFF retries: waits for ever
        card.reset();
        this.#listed = true;
        this.#selectedStay = this.#fieldStay;
        const r = new Uint8Array(6 + card.uid.length);
        r.set([1, 1, 0x00, 0x04, 0x08, card.uid.length]);
        r.set(card.uid, 6);
        return r;
      }
      case 0x52: // InRelease Tg
        this.#card?.reset();
        this.#listed = false;
        return Uint8Array.of(STATUS.ok);
      case 0x40:
        return this.#exchange(body);
      default:
        return "syntax";
    }
  }

  #exchange(body: Uint8Array): Uint8Array | "syntax" {
    if (body.length < 3) return "syntax";
    if (body[1] !== 1 || !this.#listed) return Uint8Array.of(STATUS.context);
    const cmd = body[2];
    const index = this.exchanges++;
    this.onExchange?.(index, "before", cmd);
    const card = this.#card;
    const stay = this.#fieldStay;
    if (!card || stay !== this.#selectedStay) return Uint8Array.of(STATUS.timeout); // nobody answers
    
    let result: Uint8Array;
    try {
      result = runMifare(card, cmd, body.subarray(3));
    } catch (e) {
      if (!(e instanceof MifareError)) throw e;
      return Uint8Array.of(e.kind === "auth" ? STATUS.auth : STATUS.nack);
    }
    this.onExchange?.(index, "after", cmd);
    if (this.#fieldStay !== stay) return Uint8Array.of(STATUS.timeout); // done, but the answer was lost
    const out = new Uint8Array(1 + result.length);
    out.set(result, 1);
    return out;
  }
}

function le32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

function runMifare(card: MifareClassic1K, cmd: number, args: Uint8Array): Uint8Array {
  const need = (n: number) => {
    if (args.length < n) throw new MifareError("nack", `MIFARE command 0x${cmd.toString(16)} is too short`);
  };
  need(1);
  const block = args[0];
  switch (cmd) {
    case 0x60:
    case 0x61:
      need(11);
      card.authenticate(cmd === 0x60 ? "A" : "B", block, args.subarray(1, 7), args.subarray(7, 11));
      return new Uint8Array(0);
    case 0x30:
      return card.read(block);
    case 0xa0:
      need(17);
      card.write(block, args.subarray(1, 17));
      return new Uint8Array(0);
    case 0xc0:
      need(5);
      card.decrement(block, le32(args, 1));
      return new Uint8Array(0);
    case 0xc1:
      need(5);
      card.increment(block, le32(args, 1));
      return new Uint8Array(0);
    case 0xc2:
      card.restore(block);
      return new Uint8Array(0);
    case 0xb0:
      card.transfer(block);
      return new Uint8Array(0);
  }
  throw new MifareError("nack", `unknown MIFARE command 0x${cmd.toString(16)}`);
}

/** The data of a host information frame (from the command code on), or null when it is malformed. */
export function parseHostFrame(d: Uint8Array): Uint8Array | null {
  if (d.length < 8 || d[0] !== 0x00 || d[1] !== 0x00 || d[2] !== 0xff) return null;
  const len = d[3];
  if (len < 2 || ((len + d[4]) & 0xff) !== 0 || d.length < 5 + len + 1) return null;
  if (d[5] !== 0xd4) return null;
  let sum = 0;
  for (let i = 5; i < 5 + len; i++) sum += d[i];
  if (((sum + d[5 + len]) & 0xff) !== 0) return null;
  return d.slice(6, 5 + len);
}

/** A PN532 → host information frame for `code` (the command + 1) and its data. */
export function responseFrame(code: number, data: Uint8Array): Uint8Array {
  const len = data.length + 2;
  const out = new Uint8Array(len + 7);
  out.set([0x00, 0x00, 0xff, len, (0x100 - len) & 0xff, 0xd5, code], 0);
  out.set(data, 7);
  let sum = 0xd5 + code;
  for (const b of data) sum += b;
  out[7 + data.length] = (0x100 - (sum & 0xff)) & 0xff;
  out[8 + data.length] = 0x00;
  return out;
}
