import type I2C from "embedded:io/i2c";

/** The SDK's I2C runtime has close(); its typing (typings/embedded_io/i2c.d.ts) does not declare it. */
type ClosableI2C = I2C & { close(): void };

/**
 * NXP PN532 NFC controller on I2C (address 0x24), in the style of the SDK's sensor drivers
 * (modules/drivers/sensors/tmp117): the bus options spread over the driver's defaults, private
 * fields, frozen tables, configure(), close().
 *
 *   const reader = new PN532({ sensor: { ...device.I2C.default, io: device.io.I2C, address: 0x24 } });
 *
 * Errors: a command that fails throws a PN532Error from the call, as the SDK's I2C throws from a
 * failed transfer (a card transaction stops where it failed); nothing here is asynchronous, so
 * there is no onError.
 *
 * Host frames: 00 00 FF LEN LCS D4 cmd data… DCS 00. The PN532 acknowledges each with the ACK
 * frame 00 00 FF 00 FF 00, then answers 00 00 FF LEN LCS D5 cmd+1 data… DCS 00. On I2C every read
 * starts with a ready byte (bit 0 set: a frame follows). Everything read is checked (lengths,
 * checksums, TFI, command code); a bad or missing answer is counted and thrown as a PN532Error,
 * never trusted. Waiting is bounded by a number of ready-byte polls, not by a clock.
 */
export const Command = Object.freeze({
  GetFirmwareVersion: 0x02,
  SAMConfiguration: 0x14,
  RFConfiguration: 0x32,
  InDataExchange: 0x40,
  InListPassiveTarget: 0x4a,
  InRelease: 0x52,
});

/** MIFARE Classic commands carried by InDataExchange. */
export const Mifare = Object.freeze({
  AuthA: 0x60,
  AuthB: 0x61,
  Read: 0x30,
  Write: 0xa0,
  Decrement: 0xc0,
  Increment: 0xc1,
  Restore: 0xc2,
  Transfer: 0xb0,
});

/** InDataExchange status bytes (PN532 user manual §7.1). */
export const Status = Object.freeze({ Ok: 0x00, Timeout: 0x01, RfProtocol: 0x0b, MifareAuth: 0x14, Context: 0x27 });

export type PN532ErrorCode = "timeout" | "frame" | "bus" | "syntax" | "status";

export class PN532Error extends Error {
  /** a class field rather than an assignment to the inherited name in the constructor: Error.prototype is frozen on a board (xsl freezes the built-ins), so assigning its inherited name throws */
  override readonly name = "PN532Error";
  readonly code: PN532ErrorCode;
  /** the InDataExchange status byte when code is "status" */
  readonly status: number;
  constructor(code: PN532ErrorCode, message: string, status = -1) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/** The I2C bus: `{...device.I2C.default, io: device.io.I2C}`, with address and hz if not the defaults. */
export interface PN532Bus {
  io: typeof I2C;
  data: number;
  clock: number;
  hz?: number;
  port?: number;
  address?: number;
}

export interface PN532Options {
  sensor: PN532Bus;
  /** ready-byte polls before a missing ACK or answer is a timeout */
  polls?: number;
}

export interface PN532Stats {
  commands: number;
  timeouts: number;
  badFrames: number;
  busErrors: number;
}

const ACK_FRAME = Object.freeze([0x00, 0x00, 0xff, 0x00, 0xff, 0x00]);
const MAX_DATA = 40;

export class PN532 {
  #io: ClosableI2C;
  #polls: number;
  #tx = new Uint8Array(8 + MAX_DATA);
  #stats: PN532Stats = { commands: 0, timeouts: 0, badFrames: 0, busErrors: 0 };

  constructor(options: PN532Options) {
    this.#io = <ClosableI2C>new options.sensor.io({ hz: 100_000, address: 0x24, ...options.sensor });
    this.#polls = options.polls ?? 20;
  }

  /** What may change after construction: the ready-byte polls before a timeout. */
  configure(options: { polls?: number }): void {
    if (options.polls !== undefined) {
      if (!Number.isInteger(options.polls) || options.polls < 1) throw new RangeError("PN532: polls must be a positive integer");
      this.#polls = options.polls;
    }
  }

  get stats(): Readonly<PN532Stats> {
    return { ...this.#stats };
  }

  close(): void {
    this.#io.close();
  }

  /** IC, version, revision and supported protocols; 0x32 is a PN532. */
  firmwareVersion(): { ic: number; version: number; revision: number; support: number } {
    const r = this.#command(Command.GetFirmwareVersion, [], 4);
    if (r.length !== 4) throw this.#bad("GetFirmwareVersion answered with the wrong length");
    return { ic: r[0], version: r[1], revision: r[2], support: r[3] };
  }

  /** Normal mode, no SAM: wakes the PN532 for reading cards. */
  samConfiguration(): void {
    this.#command(Command.SAMConfiguration, [0x01, 0x14, 0x01], 0);
  }

  /** How often InListPassiveTarget tries before answering "no card" (0xFF would wait for ever). */
  setPassiveRetries(retries: number): void {
    this.#command(Command.RFConfiguration, [0x05, 0xff, 0x01, retries & 0xff], 0);
  }

  /** The UID of the ISO14443A card in the field (selected as target 1), or null when there is none. */
  listPassiveTarget(): Uint8Array | null {
    const r = this.#command(Command.InListPassiveTarget, [0x01, 0x00], 20);
    if (r.length < 1) throw this.#bad("InListPassiveTarget answered without a target count");
    if (r[0] === 0) return null;
    // Tg, SENS_RES (2), SEL_RES, NFCID length, NFCID
    if (r.length < 6 || r[1] !== 1 || r[5] < 4 || r[5] > 10 || r.length < 6 + r[5]) throw this.#bad("InListPassiveTarget answered with a malformed target");
    return r.slice(6, 6 + r[5]);
  }

  /** Releases target 1 (the card's selection and authentication end). */
  release(): void {
    this.#command(Command.InRelease, [0x01], 1);
  }

  mifareAuthenticate(key: "A" | "B", block: number, keyBytes: Uint8Array, uid: Uint8Array): void {
    const args = [key === "A" ? Mifare.AuthA : Mifare.AuthB, block];
    for (let i = 0; i < 6; i++) args.push(keyBytes[i]);
    for (let i = uid.length - 4; i < uid.length; i++) args.push(uid[i]);
    this.#exchange(args, 0);
  }

  mifareRead(block: number): Uint8Array {
    const r = this.#exchange([Mifare.Read, block], 16);
    if (r.length !== 16) throw this.#bad(`read of block ${block} returned ${r.length} bytes`);
    return r;
  }

  mifareWrite(block: number, data: Uint8Array): void {
    if (data.length !== 16) throw new RangeError("a MIFARE block is 16 bytes");
    const args = [Mifare.Write, block];
    for (let i = 0; i < 16; i++) args.push(data[i]);
    this.#exchange(args, 0);
  }

  mifareDecrement(block: number, amount: number): void {
    this.#exchange(valueArgs(Mifare.Decrement, block, amount), 0);
  }

  mifareIncrement(block: number, amount: number): void {
    this.#exchange(valueArgs(Mifare.Increment, block, amount), 0);
  }

  mifareRestore(block: number): void {
    this.#exchange(valueArgs(Mifare.Restore, block, 0), 0);
  }

  mifareTransfer(block: number): void {
    this.#exchange([Mifare.Transfer, block], 0);
  }

  #exchange(args: number[], max: number): Uint8Array {
    const r = this.#command(Command.InDataExchange, [0x01].concat(args), 1 + max);
    if (r.length < 1) throw this.#bad("InDataExchange answered without a status");
    const status = r[0] & 0x3f;
    if (status !== Status.Ok) throw new PN532Error("status", statusText(status, args[0], args[1]), status);
    return r.subarray(1);
  }

  /** Sends one command, waits for its ACK and answer; returns the answer's data (after cmd+1). */
  #command(cmd: number, args: number[], maxData: number): Uint8Array {
    this.#stats.commands++;
    const len = args.length + 2;
    if (len > MAX_DATA) throw new RangeError("PN532 command too long");
    const tx = this.#tx;
    tx[0] = 0x00;
    tx[1] = 0x00;
    tx[2] = 0xff;
    tx[3] = len;
    tx[4] = (0x100 - len) & 0xff;
    tx[5] = 0xd4;
    tx[6] = cmd;
    let sum = 0xd4 + cmd;
    for (let i = 0; i < args.length; i++) {
      tx[7 + i] = args[i];
      sum += args[i];
    }
    tx[7 + args.length] = (0x100 - (sum & 0xff)) & 0xff;
    tx[8 + args.length] = 0x00;
    this.#write(tx.subarray(0, 9 + args.length));

    const ack = this.#poll(7, "ACK");
    for (let i = 0; i < 6; i++) if (ack[1 + i] !== ACK_FRAME[i]) throw this.#bad(`no ACK for command 0x${cmd.toString(16)}`);

    const rx = this.#poll(1 + 9 + maxData, "answer");
    // rx[0] ready byte; frame from rx[1]: 00 00 FF LEN LCS TFI code data… DCS 00
    if (rx[1] !== 0x00 || rx[2] !== 0x00 || rx[3] !== 0xff) throw this.#bad("answer without a start code");
    const n = rx[4];
    if (((n + rx[5]) & 0xff) !== 0) throw this.#bad("answer length checksum is wrong");
    if (n === 1 && rx[6] === 0x7f) throw new PN532Error("syntax", `the PN532 reported a syntax error for command 0x${cmd.toString(16)}`);
    if (n < 2 || 6 + n + 1 > rx.length) throw this.#bad("answer length out of range");
    let dsum = 0;
    for (let i = 6; i < 6 + n; i++) dsum += rx[i];
    if (((dsum + rx[6 + n]) & 0xff) !== 0) throw this.#bad("answer data checksum is wrong");
    if (rx[6] !== 0xd5 || rx[7] !== cmd + 1) throw this.#bad(`answer is not for command 0x${cmd.toString(16)}`);
    return rx.slice(8, 6 + n);
  }

  /** Reads `count` bytes until the ready byte says a frame is there. */
  #poll(count: number, what: string): Uint8Array {
    for (let i = 0; i < this.#polls; i++) {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(this.#io.read(count));
      } catch (e) {
        this.#stats.busErrors++;
        throw new PN532Error("bus", `I2C read failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (bytes.length === count && (bytes[0] & 1) === 1) return bytes;
    }
    this.#stats.timeouts++;
    throw new PN532Error("timeout", `the PN532 did not send its ${what}`);
  }

  #write(bytes: Uint8Array): void {
    try {
      this.#io.write(bytes);
    } catch (e) {
      this.#stats.busErrors++;
      throw new PN532Error("bus", `I2C write failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  #bad(message: string): PN532Error {
    this.#stats.badFrames++;
    return new PN532Error("frame", message);
  }
}

function valueArgs(cmd: number, block: number, amount: number): number[] {
  return [cmd, block, amount & 0xff, (amount >>> 8) & 0xff, (amount >>> 16) & 0xff, (amount >>> 24) & 0xff];
}

function statusText(status: number, mifareCmd: number, block: number): string {
  const what = `MIFARE 0x${mifareCmd.toString(16)} on block ${block}`;
  switch (status) {
    case Status.Timeout:
      return `${what}: the card did not answer (removed?)`;
    case Status.MifareAuth:
      return `${what}: authentication failed (wrong key)`;
    case Status.RfProtocol:
      return `${what}: the card refused it (access bits or block format)`;
    case Status.Context:
      return `${what}: no card selected`;
  }
  return `${what}: PN532 error 0x${status.toString(16)}`;
}
