import { BLOCK_BYTES, decodeAccessBits, decodeValueBlock, encodeValueBlock } from "../../firmware/card/layout";

/**
 * A MIFARE Classic 1K card as the reader sees it: 16 sectors of 4 blocks, each sector's trailer
 * holding key A, the access bits and key B. What the card enforces is modelled: authentication
 * per sector with key A or B, the access conditions of every block (a malformed access pattern
 * blocks the sector for good), block 0 read-only, the value-block format checked by increment,
 * decrement and restore, which work in the card's internal transfer register; transfer writes the
 * register to a block. Crypto1 itself is not modelled (keys are compared; see docs/card.md).
 */
export type KeyType = "A" | "B";

/** The card did not do what was asked: `nack` (it refused), `auth` (authentication failed). */
export class MifareError extends Error {
  readonly kind: "nack" | "auth";
  constructor(kind: "nack" | "auth", message: string) {
    super(message);
    this.name = "MifareError";
    this.kind = kind;
  }
}

type Who = 0 | 1 | 2 | 3; // never, A, B, A|B
const N = 0, A = 1, B = 2, AB = 3;

/** Data blocks: [read, write, increment, decrement/transfer/restore] by C1C2C3. */
const DATA_RIGHTS: Readonly<Record<number, readonly Who[]>> = Object.freeze({
  0b000: [AB, AB, AB, AB],
  0b010: [AB, N, N, N],
  0b100: [AB, B, N, N],
  0b110: [AB, B, B, AB],
  0b001: [AB, N, N, AB],
  0b011: [B, B, N, N],
  0b101: [B, N, N, N],
  0b111: [N, N, N, N],
});

/** Trailers: [key A write, access bits read, access bits write, key B read, key B write]. */
const TRAILER_RIGHTS: Readonly<Record<number, readonly Who[]>> = Object.freeze({
  0b000: [A, A, N, A, A],
  0b010: [N, A, N, A, N],
  0b100: [B, AB, N, N, B],
  0b110: [N, AB, N, N, N],
  0b001: [A, A, A, A, A],
  0b011: [B, AB, B, N, B],
  0b101: [N, AB, B, N, N],
  0b111: [N, AB, N, N, N],
});

function allows(who: Who, key: KeyType): boolean {
  return key === "A" ? (who & A) !== 0 : (who & B) !== 0;
}

export class MifareClassic1K {
  readonly uid: Uint8Array;
  readonly memory: Uint8Array;
  #auth: { sector: number; key: KeyType } | null = null;
  #register: { value: number; addr: number } | null = null;
  /** operations the card refused, and authentications that failed */
  nacks = 0;
  authFailures = 0;
  /** called after every change of the memory (the card file writes itself back) */
  onChange: (() => void) | null = null;

  constructor(uid: Uint8Array, memory: Uint8Array) {
    if (uid.length !== 4) throw new Error("a MIFARE Classic 1K here has a 4-byte UID");
    if (memory.length !== 1024) throw new Error("a MIFARE Classic 1K has 1024 bytes");
    this.uid = uid.slice();
    this.memory = memory;
  }

  /** The field dropped or the card was halted: authentication and the register are gone. */
  reset(): void {
    this.#auth = null;
    this.#register = null;
  }

  get authenticatedSector(): number | null {
    return this.#auth ? this.#auth.sector : null;
  }

  block(n: number): Uint8Array {
    return this.memory.subarray(n * 16, n * 16 + 16);
  }

  /** Authenticates to the sector of `block` (the key and the UID the reader sent). */
  authenticate(key: KeyType, blockNo: number, keyBytes: Uint8Array, uid: Uint8Array): void {
    this.#checkBlock(blockNo);
    this.reset();
    const sector = blockNo >> 2;
    const trailer = this.block(sector * 4 + 3);
    const ok = (() => {
      if (uid.length !== 4 || uid.some((b, i) => b !== this.uid[i])) return false;
      if (keyBytes.length !== 6) return false;
      if (key === "B") {
        // A key B that the access conditions let be read cannot authenticate.
        const access = decodeAccessBits(trailer[6], trailer[7], trailer[8]);
        if (access && TRAILER_RIGHTS[access[3]][3] !== N) return false;
      }
      const stored = key === "A" ? trailer.subarray(0, 6) : trailer.subarray(10, 16);
      return stored.every((b, i) => b === keyBytes[i]);
    })();
    if (!ok) {
      this.authFailures++;
      throw new MifareError("auth", `authentication with key ${key} to sector ${sector} failed`);
    }
    this.#auth = { sector, key };
  }

  read(blockNo: number): Uint8Array {
    const { key, rights, trailer } = this.#access(blockNo);
    if (trailer) {
      const out = this.block(blockNo).slice();
      out.fill(0, 0, 6); // key A never reads
      if (!allows(rights[1], key)) out.fill(0, 6, 10);
      if (!allows(rights[3], key)) out.fill(0, 10, 16);
      return out;
    }
    if (!allows(rights[0], key)) this.#nack(`read of block ${blockNo} is not allowed with key ${key}`);
    return this.block(blockNo).slice();
  }

  write(blockNo: number, data: Uint8Array): void {
    if (data.length !== BLOCK_BYTES) this.#nack("a write carries 16 bytes");
    if (blockNo === 0) this.#nack("block 0 (manufacturer) is read-only");
    const { key, rights, trailer } = this.#access(blockNo);
    const current = this.block(blockNo);
    if (trailer) {
      // Each part of a trailer may only change if its write right is given to this key.
      const changes = (from: number, to: number) => data.subarray(from, to).some((b, i) => b !== current[from + i]);
      if (changes(0, 6) && !allows(rights[0], key)) this.#nack(`key A of sector ${blockNo >> 2} may not be written with key ${key}`);
      if (changes(6, 10) && !allows(rights[2], key)) this.#nack(`the access bits of sector ${blockNo >> 2} may not be written with key ${key}`);
      if (changes(10, 16) && !allows(rights[4], key)) this.#nack(`key B of sector ${blockNo >> 2} may not be written with key ${key}`);
    } else if (!allows(rights[1], key)) {
      this.#nack(`write of block ${blockNo} is not allowed with key ${key}`);
    }
    current.set(data);
    this.onChange?.();
  }

  increment(blockNo: number, operand: number): void {
    const v = this.#valueOp(blockNo, 2, "increment");
    this.#register = { value: (v.value + (operand >>> 0)) | 0, addr: v.addr };
  }

  decrement(blockNo: number, operand: number): void {
    const v = this.#valueOp(blockNo, 3, "decrement");
    this.#register = { value: (v.value - (operand >>> 0)) | 0, addr: v.addr };
  }

  restore(blockNo: number): void {
    const v = this.#valueOp(blockNo, 3, "restore");
    this.#register = { value: v.value, addr: v.addr };
  }

  transfer(blockNo: number): void {
    const { key, rights, trailer } = this.#access(blockNo);
    if (trailer || !allows(rights[3], key)) this.#nack(`transfer to block ${blockNo} is not allowed with key ${key}`);
    if (!this.#register) this.#nack("transfer without a value in the register");
    const r = this.#register as { value: number; addr: number };
    this.block(blockNo).set(encodeValueBlock(r.value, r.addr));
    this.#register = null;
    this.onChange?.();
  }

  #valueOp(blockNo: number, right: number, what: string): { value: number; addr: number } {
    const { key, rights, trailer } = this.#access(blockNo);
    if (trailer || !allows(rights[right], key)) this.#nack(`${what} of block ${blockNo} is not allowed with key ${key}`);
    const v = decodeValueBlock(this.block(blockNo));
    if (typeof v === "string") this.#nack(`${what} of block ${blockNo}: not a value block (${v})`);
    return v as { value: number; addr: number };
  }

  #access(blockNo: number): { key: KeyType; rights: readonly Who[]; trailer: boolean } {
    this.#checkBlock(blockNo);
    const sector = blockNo >> 2;
    if (!this.#auth || this.#auth.sector !== sector) this.#nack(`not authenticated to sector ${sector}`);
    const t = this.block(sector * 4 + 3);
    const access = decodeAccessBits(t[6], t[7], t[8]);
    if (!access) this.#nack(`sector ${sector} is blocked: its access bits are malformed`);
    const index = blockNo & 3;
    const trailer = index === 3;
    const c = (access as readonly number[])[index];
    return { key: (this.#auth as { key: KeyType }).key, rights: trailer ? TRAILER_RIGHTS[c] : DATA_RIGHTS[c], trailer };
  }

  #checkBlock(blockNo: number): void {
    if (!Number.isInteger(blockNo) || blockNo < 0 || blockNo >= 64) this.#nack(`no block ${blockNo} on a 1K card`);
  }

  #nack(message: string): never {
    this.nacks++;
    // A real card answers a refused command with a NAK and drops its authentication.
    this.reset();
    throw new MifareError("nack", message);
  }
}

/** Block 0 as a card leaves the factory: UID, BCC, SAK 0x08, ATQA 0x0004, manufacturer bytes. */
export function manufacturerBlock(uid: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set(uid, 0);
  out[4] = uid[0] ^ uid[1] ^ uid[2] ^ uid[3];
  out[5] = 0x08;
  out[6] = 0x04;
  out[7] = 0x00;
  for (let i = 8; i < 16; i++) out[i] = 0x62 + i;
  return out;
}
