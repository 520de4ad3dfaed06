import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import {
  BACKUP_BLOCK,
  CardIdentity,
  FORMAT_VERSION,
  ID_ACCESS,
  ID_BLOCK,
  ID_TRAILER,
  PURSE_ACCESS,
  PURSE_TRAILER,
  RECORD_BLOCK,
  RecordKind,
  TRANSPORT_ACCESS,
  VALUE_BLOCK,
  decodeAccessBits,
  decodeIdentity,
  decodeRecord,
  decodeValueBlock,
  encodeIdentity,
  encodeRecord,
  encodeTrailer,
  encodeValueBlock,
  fromHex,
  macRecord,
  recordMac,
  sameBytes,
  toHex,
} from "../../firmware/card/layout";
import { MifareClassic1K, MifareError, manufacturerBlock } from "./mifare-classic";

/**
 * Simulated card files: what a card holds (its UID and 1K memory image) and, alongside, the keys
 * its issuer keeps. The card reader's emulation and the issuer tool both open them.
 *
 *   {
 *     "format": "timeguard-card/1",
 *     "uid": "1a2b3c4d",
 *     "memory": ["<32 hex digits: block 0>", …, "<block 63>"],
 *     "issuer": { "issuer": 1, "keyA": "<12 hex>", "keyB": "<12 hex>", "macKey": "<32 hex>" }
 *   }
 *
 * The issuer's operations (issue, top-up, revoke, show) go through the card model as a desktop
 * reader would, so the card's keys and access bits are enforced on the issuer too.
 */
export const CARD_FORMAT = "timeguard-card/1";

export interface IssuerKeys {
  issuer: number;
  keyA: Uint8Array;
  keyB: Uint8Array;
  macKey: Uint8Array;
}

/** The demo issuer: the terminal's manifest config carries its key A and MAC key. */
export const DEMO_ISSUER_JSON = Object.freeze({ issuer: 1, keyA: "a0a1a2a3a4a5", keyB: "b0b1b2b3b4b5", macKey: "54696d6567756172642d6d61632d3031" });

export class CardFileError extends Error {}

export interface CardFile {
  uid: Uint8Array;
  memory: Uint8Array;
  keys: IssuerKeys;
}

export function parseKeys(input: unknown, where: string): IssuerKeys {
  const o = (input ?? {}) as Record<string, unknown>;
  const issuer = o.issuer;
  if (typeof issuer !== "number" || !Number.isInteger(issuer) || issuer < 0 || issuer > 0xffff) throw new CardFileError(`${where}.issuer must be an integer 0..65535`);
  const keyA = fromHex(o.keyA, 6);
  const keyB = fromHex(o.keyB, 6);
  const macKey = fromHex(o.macKey, 16);
  if (!keyA) throw new CardFileError(`${where}.keyA must be 12 hex digits`);
  if (!keyB) throw new CardFileError(`${where}.keyB must be 12 hex digits`);
  if (!macKey) throw new CardFileError(`${where}.macKey must be 32 hex digits`);
  return { issuer, keyA, keyB, macKey };
}

export function keysToJson(k: IssuerKeys): Record<string, unknown> {
  return { issuer: k.issuer, keyA: toHex(k.keyA), keyB: toHex(k.keyB), macKey: toHex(k.macKey) };
}

export function readCardFile(path: string): CardFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CardFileError(`cannot read the card file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new CardFileError(`the card file ${path} is not JSON: ${(e as Error).message}`);
  }
  if (!o || o.format !== CARD_FORMAT) throw new CardFileError(`${path} is not a ${CARD_FORMAT} card file`);
  return cardFromJson(o, (field) => `${path}: ${field}`);
}

/** A card as a card file holds it (UID, memory as 64 blocks of hex, the issuer's keys), without the format tag. */
export function cardToJson(card: CardFile): { uid: string; memory: string[]; issuer: Record<string, unknown> } {
  const memory: string[] = [];
  for (let i = 0; i < 64; i++) memory.push(toHex(card.memory.subarray(i * 16, i * 16 + 16)));
  return { uid: toHex(card.uid), memory, issuer: keysToJson(card.keys) };
}

/** A card from `cardToJson`'s form, every field checked; `name(field)` names a field in a refusal. */
export function cardFromJson(o: Record<string, unknown>, name: (field: string) => string): CardFile {
  const uid = fromHex(o.uid, 4);
  if (!uid) throw new CardFileError(`${name("uid")} must be 8 hex digits`);
  if (!Array.isArray(o.memory) || o.memory.length !== 64) throw new CardFileError(`${name("memory")} must be 64 blocks`);
  const memory = new Uint8Array(1024);
  o.memory.forEach((b, i) => {
    const bytes = fromHex(b, 16);
    if (!bytes) throw new CardFileError(`${name(`memory[${i}]`)} must be 32 hex digits`);
    memory.set(bytes, i * 16);
  });
  return { uid, memory, keys: parseKeys(o.issuer, name("issuer")) };
}

/** Writes the file aside and renames it over (a crash leaves the old or the new file). */
export function writeCardFile(path: string, card: CardFile): void {
  const text = JSON.stringify({ format: CARD_FORMAT, ...cardToJson(card) }, null, 1) + "\n";
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** A card as it leaves the factory: block 0, every trailer FF…FF / transport access / FF…FF. */
export function blankMemory(uid: Uint8Array): Uint8Array {
  const memory = new Uint8Array(1024);
  memory.set(manufacturerBlock(uid), 0);
  const ff = new Uint8Array(6).fill(0xff);
  for (let s = 0; s < 16; s++) memory.set(encodeTrailer(ff, TRANSPORT_ACCESS, ff), (s * 4 + 3) * 16);
  return memory;
}

/** What `card show` reports. */
export interface CardReport {
  uid: string;
  issued: boolean;
  id: number | null;
  issuer: number | null;
  revoked: boolean | null;
  counts: number | null;
  backup: number | null;
  seq: number | null;
  lastKind: string | null;
  lastBy: string | null;
  macOk: boolean | null;
  consistent: boolean;
  problems: string[];
}

const KIND_NAMES: Record<number, string> = { 1: "issue", 2: "topup", 3: "debit", 4: "revoke" };

/** The issuer's desk: key B operations on one card. */
export class Issuer {
  readonly card: MifareClassic1K;
  readonly keys: IssuerKeys;

  constructor(card: MifareClassic1K, keys: IssuerKeys) {
    this.card = card;
    this.keys = keys;
  }

  /** Personalises a blank card: identity, the purse's value blocks and record, then the keys. */
  issue(cardId: number, counts: number, maxCounts: number): void {
    if (!Number.isInteger(cardId) || cardId < 1 || cardId > 0xffffffff) throw new CardFileError("the card id must be 1..4294967295");
    this.#checkCounts(counts, maxCounts, "issue");
    const ff = new Uint8Array(6).fill(0xff);
    const c = this.card;
    const identity: CardIdentity = { version: FORMAT_VERSION, revoked: false, issuer: this.keys.issuer, cardId };
    this.#op("personalising the card (it must be blank, with transport keys)", () => {
      c.authenticate("A", ID_BLOCK, ff, c.uid);
      c.write(ID_BLOCK, encodeIdentity(identity));
      c.write(ID_TRAILER, encodeTrailer(this.keys.keyA, ID_ACCESS, this.keys.keyB));
      c.authenticate("A", VALUE_BLOCK, ff, c.uid);
      c.write(VALUE_BLOCK, encodeValueBlock(counts, VALUE_BLOCK));
      c.write(BACKUP_BLOCK, encodeValueBlock(counts, VALUE_BLOCK));
      c.write(RECORD_BLOCK, encodeRecord(macRecord(this.keys.macKey, c.uid, identity, { seq: 1, balance: counts, kind: RecordKind.Issue, tag: 0 })));
      c.write(PURSE_TRAILER, encodeTrailer(this.keys.keyA, PURSE_ACCESS, this.keys.keyB));
    });
  }

  /** Adds counts with key B: backup, increment, transfer, read back, new record. */
  topUp(counts: number, maxCounts: number): { before: number; after: number; seq: number } {
    if (!Number.isInteger(counts) || counts < 1) throw new CardFileError("a top-up adds at least 1 count");
    const s = this.#purse("top up");
    if (s.identity.revoked) throw new CardFileError(`card ${s.identity.cardId} is revoked: no top-up`);
    const after = s.counts + counts;
    this.#checkCounts(after, maxCounts, "top-up");
    const c = this.card;
    this.#op("topping up", () => {
      c.restore(VALUE_BLOCK);
      c.transfer(BACKUP_BLOCK);
      c.increment(VALUE_BLOCK, counts);
      c.transfer(VALUE_BLOCK);
      const v = decodeValueBlock(c.read(VALUE_BLOCK));
      if (typeof v === "string" || v.value !== after) throw new CardFileError(`read back ${typeof v === "string" ? v : v.value}, expected ${after}`);
      c.write(RECORD_BLOCK, encodeRecord(macRecord(this.keys.macKey, c.uid, s.identity, { seq: s.seq + 1, balance: after, kind: RecordKind.TopUp, tag: 0 })));
    });
    return { before: s.counts, after, seq: s.seq + 1 };
  }

  /** Marks the card revoked (terminals refuse it); the record is re-MACed over the new flags. */
  revoke(): { counts: number } {
    const c = this.card;
    let identity: CardIdentity | null = null;
    this.#op("revoking", () => {
      c.authenticate("B", ID_BLOCK, this.keys.keyB, c.uid);
      const id = decodeIdentity(c.read(ID_BLOCK));
      if (typeof id === "string") throw new CardFileError(`not an issued card: ${id}`);
      identity = { ...id, revoked: true };
      c.write(ID_BLOCK, encodeIdentity(identity));
    });
    let counts = 0;
    this.#op("revoking", () => {
      c.authenticate("B", VALUE_BLOCK, this.keys.keyB, c.uid);
      const v = decodeValueBlock(c.read(VALUE_BLOCK));
      counts = typeof v === "string" ? 0 : v.value;
      const r = decodeRecord(c.read(RECORD_BLOCK));
      c.write(RECORD_BLOCK, encodeRecord(macRecord(this.keys.macKey, c.uid, identity as unknown as CardIdentity, { seq: r.seq + 1, balance: counts, kind: RecordKind.Revoke, tag: 0 })));
    });
    return { counts };
  }

  /** Everything the issuer can see and check, without changing the card. */
  show(): CardReport {
    const c = this.card;
    const problems: string[] = [];
    const out: CardReport = {
      uid: toHex(c.uid), issued: false, id: null, issuer: null, revoked: null, counts: null, backup: null,
      seq: null, lastKind: null, lastBy: null, macOk: null, consistent: false, problems,
    };
    const trailer = c.block(PURSE_TRAILER);
    if (decodeAccessBits(trailer[6], trailer[7], trailer[8])?.join() === [0, 0, 0, 1].join()) {
      problems.push("blank card (transport configuration): not issued");
      return out;
    }
    let identity: CardIdentity | null = null;
    try {
      c.authenticate("B", ID_BLOCK, this.keys.keyB, c.uid);
      const id = decodeIdentity(c.read(ID_BLOCK));
      if (typeof id === "string") problems.push(`block ${ID_BLOCK}: ${id}`);
      else identity = id;
      c.authenticate("B", VALUE_BLOCK, this.keys.keyB, c.uid);
      const v = decodeValueBlock(c.read(VALUE_BLOCK));
      const b = decodeValueBlock(c.read(BACKUP_BLOCK));
      const r = decodeRecord(c.read(RECORD_BLOCK));
      out.issued = true;
      if (identity) Object.assign(out, { id: identity.cardId, issuer: identity.issuer, revoked: identity.revoked });
      if (typeof v === "string") problems.push(`block ${VALUE_BLOCK} is a malformed value block: ${v}`);
      else out.counts = v.value;
      if (typeof b === "string") problems.push(`block ${BACKUP_BLOCK} (backup) is a malformed value block: ${b}`);
      else out.backup = b.value;
      out.seq = r.seq;
      out.lastKind = KIND_NAMES[r.kind] ?? `unknown (${r.kind})`;
      out.lastBy = r.tag === 0 ? "issuer" : `terminal tag ${r.tag}`;
      if (identity) {
        out.macOk = sameBytes(recordMac(this.keys.macKey, c.uid, identity, r), r.mac);
        if (!out.macOk) problems.push("the record's MAC does not match");
      }
      if (out.counts !== null && r.balance !== out.counts) problems.push(`the record vouches for ${r.balance} counts, the value block holds ${out.counts} (an interrupted deduction?)`);
      out.consistent = problems.length === 0;
    } catch (e) {
      if (!(e instanceof MifareError)) throw e;
      problems.push(e.kind === "auth" ? `key B was refused: these are not this card's keys (${e.message})` : e.message);
    } finally {
      c.reset();
    }
    return out;
  }

  #purse(what: string): { identity: CardIdentity; counts: number; seq: number } {
    const c = this.card;
    let result: { identity: CardIdentity; counts: number; seq: number } | null = null;
    this.#op(what, () => {
      c.authenticate("B", ID_BLOCK, this.keys.keyB, c.uid);
      const identity = decodeIdentity(c.read(ID_BLOCK));
      if (typeof identity === "string") throw new CardFileError(`cannot ${what}: ${identity}`);
      c.authenticate("B", VALUE_BLOCK, this.keys.keyB, c.uid);
      const v = decodeValueBlock(c.read(VALUE_BLOCK));
      if (typeof v === "string") throw new CardFileError(`cannot ${what}: block ${VALUE_BLOCK} is a malformed value block (${v})`);
      const r = decodeRecord(c.read(RECORD_BLOCK));
      if (!sameBytes(recordMac(this.keys.macKey, c.uid, identity, r), r.mac)) throw new CardFileError(`cannot ${what}: the record's MAC does not match (altered card, or not our MAC key)`);
      if (r.balance !== v.value) {
        throw new CardFileError(`cannot ${what}: the value block holds ${v.value} but the record vouches for ${r.balance}; a deduction was interrupted: put the card back in its terminal to settle it`);
      }
      result = { identity, counts: v.value, seq: r.seq };
    });
    return result as unknown as { identity: CardIdentity; counts: number; seq: number };
  }

  #checkCounts(counts: number, max: number, what: string): void {
    if (!Number.isInteger(counts) || counts < 0) throw new CardFileError(`${what}: counts must be a non-negative integer`);
    if (counts > max) throw new CardFileError(`${what}: ${counts} counts is past the maximum balance ${max}`);
  }

  #op(what: string, run: () => void): void {
    try {
      run();
    } catch (e) {
      if (e instanceof MifareError) {
        this.card.reset();
        if (e.kind === "auth") throw new CardFileError(`${what}: the card refused the key (${e.message}); wrong key for this card`);
        throw new CardFileError(`${what}: the card refused (${e.message})`);
      }
      throw e;
    }
  }
}

/** A new card file: a blank card with `uid`, personalised by the issuer with `counts`. */
export function issueCardFile(path: string, options: { uid: Uint8Array; cardId: number; counts: number; keys: IssuerKeys; maxCounts: number; overwrite?: boolean }): CardFile {
  if (existsSync(path) && !options.overwrite) throw new CardFileError(`${path} exists: a card is issued once (use topup, or another file)`);
  const card = new MifareClassic1K(options.uid, blankMemory(options.uid));
  new Issuer(card, options.keys).issue(options.cardId, options.counts, options.maxCounts);
  const file = { uid: card.uid, memory: card.memory, keys: options.keys };
  writeCardFile(path, file);
  return file;
}

/** Opens a card file as a live card: every change of its memory is written back to the file. */
export function openCard(path: string): { card: MifareClassic1K; file: CardFile } {
  const file = readCardFile(path);
  const card = new MifareClassic1K(file.uid, file.memory);
  card.onChange = () => writeCardFile(path, { ...file, memory: card.memory });
  return { card, file };
}
