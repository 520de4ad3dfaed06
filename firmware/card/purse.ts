import { PN532Error, Status } from "../drivers/pn532";
import { HmacKey } from "../lib/sha256";
import type { Store } from "../platform/store";
import type { Seconds } from "../core/time";
import {
  BACKUP_BLOCK,
  CardError,
  CardIdentity,
  CardRecord,
  ID_BLOCK,
  RECORD_BLOCK,
  RecordKind,
  VALUE_BLOCK,
  decodeIdentity,
  decodeRecord,
  decodeValueBlock,
  encodeRecord,
  macRecord,
  recordMac,
  RecordMacKey,
  sameBytes,
  toHex,
} from "./layout";

/** What the purse needs of a reader: the PN532 driver's MIFARE operations. */
export interface CardPort {
  mifareAuthenticate(key: "A" | "B", block: number, keyBytes: Uint8Array, uid: Uint8Array): void;
  mifareRead(block: number): Uint8Array;
  mifareWrite(block: number, data: Uint8Array): void;
  mifareDecrement(block: number, amount: number): void;
  mifareRestore(block: number): void;
  mifareTransfer(block: number): void;
}

/** The terminal's secrets for the purse: key A (decrement only) and the record MAC key. */
export interface CardKeys {
  keyA: Uint8Array;
  macKey: Uint8Array;
}

/** A card as read: every block the purse uses, checked for format, not yet for policy. */
export interface CardView {
  uid: Uint8Array;
  uidHex: string;
  identity: CardIdentity;
  counts: number;
  backup: number;
  record: CardRecord;
  macOk: boolean;
}

/** An intended deduction, journaled before the card is touched. */
export interface Journal {
  card: number;
  uid: string;
  /** the record's sequence before the deduction (the deduction writes seq + 1) */
  seq: number;
  before: number;
  take: number;
  /** how `take` splits: counts toward the fee, counts of emergency surcharge */
  fee: number;
  surcharge: number;
  at: Seconds;
}

export interface LedgerRow {
  at: Seconds;
  kind: string;
  card?: number;
  counts?: number;
  before?: number;
  after?: number;
  fee?: number;
  surcharge?: number;
  note?: string;
}

interface Ledger {
  /** counts taken toward the fee, for the whole contract (cumulative) */
  taken: number;
  /** counts of emergency surcharge taken */
  surchargeTaken: number;
  /** [card id, last sequence seen, balance then], newest last */
  seen: Array<[number, number, number]>;
  /** deductions interrupted on cards that left: resolved when the card comes back */
  doubt: Journal[];
  /** the last deduction committed (finishes a commit cut short before the journal was deleted) */
  last: { card: number; seq: number } | null;
  tx: number;
  rows: LedgerRow[];
}

const KEY_JOURNAL = "cardjrnl";
const KEY_LEDGER = "cardledg";
const MAX_ROWS = 14;
const MAX_SEEN = 16;
export const MAX_DOUBT = 4;

/** Maps a reader failure to a CardError saying what happened. */
export function cardError(e: unknown, what: string): CardError {
  if (e instanceof CardError) return e;
  if (e instanceof PN532Error) {
    if (e.code === "status" && (e.status === Status.Timeout || e.status === Status.Context)) return new CardError("absent", `${what}: the card left the reader`);
    if (e.code === "status" && e.status === Status.MifareAuth) return new CardError("auth", `${what}: key A was refused (wrong key: not a card of this issuer)`);
    return new CardError("io", `${what}: ${e.message}`);
  }
  return new CardError("io", `${what}: ${e instanceof Error ? e.message : String(e)}`);
}

/** Reads and checks the card's blocks with key A (format only; `accept` applies the rules). */
export function readCard(port: CardPort, keys: { keyA: Uint8Array; macKey: RecordMacKey }, uid: Uint8Array): CardView {
  try {
    port.mifareAuthenticate("A", ID_BLOCK, keys.keyA, uid);
    const identity = decodeIdentity(port.mifareRead(ID_BLOCK));
    if (typeof identity === "string") throw new CardError("identity", identity);
    port.mifareAuthenticate("A", VALUE_BLOCK, keys.keyA, uid);
    const value = decodeValueBlock(port.mifareRead(VALUE_BLOCK));
    if (typeof value === "string") throw new CardError("format", `block ${VALUE_BLOCK} is not a valid value block: ${value}`);
    const backup = decodeValueBlock(port.mifareRead(BACKUP_BLOCK));
    if (typeof backup === "string") throw new CardError("format", `block ${BACKUP_BLOCK} (backup) is not a valid value block: ${backup}`);
    const record = decodeRecord(port.mifareRead(RECORD_BLOCK));
    const macOk = sameBytes(recordMac(keys.macKey, uid, identity, record), record.mac);
    return { uid, uidHex: toHex(uid), identity, counts: value.value, backup: backup.value, record, macOk };
  } catch (e) {
    throw cardError(e, "reading the card");
  }
}

export interface PurseOptions {
  store: Store;
  port: CardPort;
  keys: CardKeys;
  /** this terminal's tag in the records it writes */
  tag: number;
  maxCounts: number;
}

/**
 * The card purse: the rules a card must pass, and each deduction as a crash-safe transaction.
 *
 *   0 check the card is still as read (value, record)
 *   1 journal the intent in the Store          4 read the value block back
 *   2 backup ← value (restore, transfer)       5 write the record: seq + 1, new balance, MAC
 *   3 value ← value − n (decrement, transfer)  6 commit the ledger, 7 delete the journal
 *
 * A card pulled or a power cut at any point leaves the journal; `resolve` decides from the card
 * (value, record sequence, kind and tag) whether the deduction happened, finishes it or drops it.
 * While undecided, its counts are "in doubt": not taken, not asked again.
 */
export class Purse {
  #o: PurseOptions;
  /** key A and the record MAC key prepared once */
  #keys: { keyA: Uint8Array; macKey: HmacKey };
  #ledger: Ledger;
  #journal: Journal | null;

  constructor(options: PurseOptions) {
    this.#o = options;
    this.#keys = { keyA: options.keys.keyA, macKey: new HmacKey(options.keys.macKey) };
    const stored = options.store.readJson(KEY_LEDGER) as Ledger | undefined;
    this.#ledger = stored && typeof stored.taken === "number" ? stored : { taken: 0, surchargeTaken: 0, seen: [], doubt: [], last: null, tx: 0, rows: [] };
    const j = options.store.readJson(KEY_JOURNAL) as Journal | undefined;
    this.#journal = j && typeof j.card === "number" ? j : null;
    if (this.#journal) {
      const j0 = this.#journal;
      const last = this.#ledger.last;
      // A commit or a move to doubt cut short before the journal was deleted.
      if ((last && last.card === j0.card && last.seq === j0.seq + 1) || this.#ledger.doubt.some((d) => d.card === j0.card && d.seq === j0.seq)) {
        this.#journal = null;
        options.store.delete(KEY_JOURNAL);
      }
    }
  }

  get taken(): number {
    return this.#ledger.taken;
  }
  get surchargeTaken(): number {
    return this.#ledger.surchargeTaken;
  }
  get transactions(): number {
    return this.#ledger.tx;
  }
  get rows(): readonly LedgerRow[] {
    return this.#ledger.rows;
  }
  get journal(): Journal | null {
    return this.#journal;
  }
  get doubt(): readonly Journal[] {
    return this.#ledger.doubt;
  }
  /** Counts of unresolved deductions: [fee, surcharge]. */
  inDoubt(): { fee: number; surcharge: number } {
    let fee = 0;
    let surcharge = 0;
    for (const j of this.#journal ? this.#ledger.doubt.concat([this.#journal]) : this.#ledger.doubt) {
      fee += j.fee;
      surcharge += j.surcharge;
    }
    return { fee, surcharge };
  }

  lastSeen(card: number): { seq: number; balance: number } | null {
    for (const [id, seq, balance] of this.#ledger.seen) if (id === card) return { seq, balance };
    return null;
  }

  read(uid: Uint8Array): CardView {
    return readCard(this.#o.port, this.#keys, uid);
  }

  /** Appends a row to the ledger (policy decisions, insertions, refusals). */
  note(row: LedgerRow): void {
    this.#write({ ...this.#ledger, rows: this.#rows(row) });
  }

  /**
   * Settles what this card leaves in doubt (the journal or an older interrupted deduction).
   * Returns the card as it now is. Throws a CardError when the card cannot settle it.
   */
  resolve(view: CardView, at: Seconds): CardView {
    let v = view;
    const j = this.#journal;
    if (j && j.card === v.identity.cardId) {
      v = this.#settle(j, v, at, true);
    } else if (j) {
      // Another card is here: the interrupted deduction waits for its own card.
      if (this.#ledger.doubt.length >= MAX_DOUBT) throw new CardError("changed", `${MAX_DOUBT} cards already have an interrupted deduction; insert card ${j.card} first`);
      this.#write({ ...this.#ledger, doubt: this.#ledger.doubt.concat([j]), rows: this.#rows({ at, kind: "doubt", card: j.card, counts: j.take, note: "card left during a deduction; settled when it returns" }) });
      this.#journal = null;
      this.#o.store.delete(KEY_JOURNAL);
    }
    for (const d of this.#ledger.doubt.slice()) if (d.card === v.identity.cardId) v = this.#settle(d, v, at, false);
    return v;
  }

  /** The rules a card must pass before counts are taken from it. */
  accept(view: CardView): void {
    const id = view.identity.cardId;
    if (view.identity.revoked) throw new CardError("revoked", `card ${id} was revoked by the issuer`);
    if (!view.macOk) throw new CardError("mac", `card ${id}: the record's MAC does not match (altered, or not issued with this issuer's MAC key)`);
    if (view.record.balance !== view.counts) {
      throw new CardError("mac", `card ${id}: the balance ${view.counts} is not the ${view.record.balance} its record vouches for (altered, or an interrupted deduction elsewhere)`);
    }
    if (view.counts < 0 || view.counts > this.#o.maxCounts) throw new CardError("limit", `card ${id}: balance ${view.counts} is outside 0..${this.#o.maxCounts}`);
    const seen = this.lastSeen(id);
    if (seen && view.record.seq < seen.seq) {
      throw new CardError("clone", `card ${id} shows transaction ${view.record.seq} but this terminal already saw ${seen.seq}: a copy of an older state is refused`);
    }
  }

  /** Records that the card was seen at its sequence; returns the top-up seen since, if any. */
  see(view: CardView, at: Seconds): number {
    const id = view.identity.cardId;
    const seen = this.lastSeen(id);
    if (seen && seen.seq === view.record.seq && seen.balance === view.counts) return 0;
    const topUp = seen && view.record.seq > seen.seq && view.counts > seen.balance ? view.counts - seen.balance : 0;
    const rows = topUp > 0 ? this.#rows({ at, kind: "topup", card: id, counts: topUp, before: seen ? seen.balance : undefined, after: view.counts }) : this.#ledger.rows;
    this.#write({ ...this.#ledger, seen: this.#seen(id, view.record.seq, view.counts), rows });
    return topUp;
  }

  /** Takes `fee + surcharge` counts from an accepted card; returns the card after it. */
  deduct(view: CardView, fee: number, surcharge: number, at: Seconds): CardView {
    const take = fee + surcharge;
    if (this.#journal) throw new CardError("changed", "an interrupted deduction must be settled first");
    if (!Number.isInteger(take) || take <= 0 || fee < 0 || surcharge < 0) throw new RangeError(`bad deduction ${fee}+${surcharge}`);
    if (take > view.counts) throw new CardError("limit", `card ${view.identity.cardId} holds ${view.counts} counts, ${take} asked`);
    const port = this.#o.port;
    // The card in the field must still be the one read (a swap or a top-up in between is caught).
    try {
      port.mifareAuthenticate("A", VALUE_BLOCK, this.#o.keys.keyA, view.uid);
      const now = decodeValueBlock(port.mifareRead(VALUE_BLOCK));
      const record = decodeRecord(port.mifareRead(RECORD_BLOCK));
      if (typeof now === "string" || now.value !== view.counts || record.seq !== view.record.seq || !sameBytes(record.mac, view.record.mac)) {
        throw new CardError("changed", `card ${view.identity.cardId} changed since it was read`);
      }
    } catch (e) {
      throw cardError(e, `checking the card before taking ${take} counts`);
    }
    const j: Journal = { card: view.identity.cardId, uid: view.uidHex, seq: view.record.seq, before: view.counts, take, fee, surcharge, at };
    this.#o.store.writeJson(KEY_JOURNAL, j);
    this.#journal = j;
    try {
      port.mifareRestore(VALUE_BLOCK);
      port.mifareTransfer(BACKUP_BLOCK);
      port.mifareDecrement(VALUE_BLOCK, take);
      port.mifareTransfer(VALUE_BLOCK);
      const after = decodeValueBlock(port.mifareRead(VALUE_BLOCK));
      if (typeof after === "string" || after.value !== j.before - take) {
        throw new CardError("changed", `card ${j.card}: read back ${typeof after === "string" ? after : after.value}, expected ${j.before - take}`);
      }
    } catch (e) {
      throw cardError(e, `taking ${take} counts`);
    }
    return this.#finish(j, view, at, "debit");
  }

  /** Writes the record for a deduction known to be on the card, then commits it. */
  #finish(j: Journal, view: CardView, at: Seconds, kind: string): CardView {
    const record = macRecord(this.#keys.macKey, view.uid, view.identity, { seq: (j.seq + 1) >>> 0, balance: j.before - j.take, kind: RecordKind.Debit, tag: this.#o.tag });
    try {
      this.#o.port.mifareWrite(RECORD_BLOCK, encodeRecord(record));
    } catch (e) {
      throw cardError(e, "writing the card's record");
    }
    return this.#commit(j, { ...view, counts: record.balance, backup: j.before, record, macOk: true }, at, kind, true);
  }

  #commit(j: Journal, after: CardView, at: Seconds, kind: string, fromJournal: boolean): CardView {
    const ledger: Ledger = {
      taken: this.#ledger.taken + j.fee,
      surchargeTaken: this.#ledger.surchargeTaken + j.surcharge,
      seen: this.#seen(j.card, after.record.seq, after.counts),
      doubt: fromJournal ? this.#ledger.doubt : this.#ledger.doubt.filter((d) => !(d.card === j.card && d.seq === j.seq)),
      last: fromJournal ? { card: j.card, seq: (j.seq + 1) >>> 0 } : this.#ledger.last,
      tx: this.#ledger.tx + 1,
      rows: this.#rows({ at, kind, card: j.card, counts: j.take, before: j.before, after: j.before - j.take, fee: j.fee, surcharge: j.surcharge }),
    };
    this.#write(ledger);
    if (fromJournal) {
      this.#journal = null;
      this.#o.store.delete(KEY_JOURNAL);
    }
    return after;
  }

  #drop(j: Journal, at: Seconds, fromJournal: boolean, note: string): void {
    const doubt = fromJournal ? this.#ledger.doubt : this.#ledger.doubt.filter((d) => !(d.card === j.card && d.seq === j.seq));
    this.#write({ ...this.#ledger, doubt, rows: this.#rows({ at, kind: "rollback", card: j.card, counts: j.take, note }) });
    if (fromJournal) {
      this.#journal = null;
      this.#o.store.delete(KEY_JOURNAL);
    }
  }

  /** Decides an interrupted deduction from the card (see the class comment). */
  #settle(j: Journal, v: CardView, at: Seconds, fromJournal: boolean): CardView {
    if (v.uidHex !== j.uid) throw new CardError("clone", `card ${j.card} answers with UID ${v.uidHex}, journaled ${j.uid}: refused`);
    // Only a record this issuer vouches for decides the deduction: an edited one (its sequence
    // moved on, say) would otherwise commit or drop counts on a forgery. It changes nothing here;
    // the deduction stays in doubt until the card comes back as issued.
    if (!v.macOk) {
      throw new CardError("mac", `card ${j.card}: the record's MAC does not match (altered); its interrupted deduction of ${j.take} counts stays in doubt`);
    }
    const r = v.record;
    const last = this.#ledger.last;
    if (fromJournal && last && last.card === j.card && last.seq === j.seq + 1) {
      this.#journal = null;
      this.#o.store.delete(KEY_JOURNAL);
      return v;
    }
    if (r.seq === j.seq) {
      if (v.counts === j.before) {
        this.#drop(j, at, fromJournal, "interrupted before the card changed: nothing was taken");
        return v;
      }
      if (v.counts === j.before - j.take) return fromJournal ? this.#finish(j, v, at, "debit-completed") : this.#finishDoubt(j, v, at);
      throw new CardError("changed", `card ${j.card}: balance ${v.counts} fits neither ${j.before} nor ${j.before - j.take}`);
    }
    if (r.seq === ((j.seq + 1) >>> 0)) {
      if (r.kind === RecordKind.Debit && r.tag === this.#o.tag && r.balance === j.before - j.take) {
        return this.#commit(j, v, at, "debit-confirmed", fromJournal);
      }
      // Another party moved the card on from our starting point: ours never reached it.
      this.#drop(j, at, fromJournal, "the card moved on without this deduction: nothing was taken");
      return v;
    }
    if (r.seq > j.seq) {
      // Used elsewhere twice since: the record no longer tells. Never charge twice: count it as taken.
      return this.#commit(j, v, at, "debit-assumed", fromJournal);
    }
    throw new CardError("clone", `card ${j.card} shows transaction ${r.seq}, older than the interrupted ${j.seq}: refused`);
  }

  #finishDoubt(j: Journal, v: CardView, at: Seconds): CardView {
    const record = macRecord(this.#keys.macKey, v.uid, v.identity, { seq: (j.seq + 1) >>> 0, balance: j.before - j.take, kind: RecordKind.Debit, tag: this.#o.tag });
    try {
      this.#o.port.mifareWrite(RECORD_BLOCK, encodeRecord(record));
    } catch (e) {
      throw cardError(e, "writing the card's record");
    }
    return this.#commit(j, { ...v, counts: record.balance, record, macOk: true }, at, "debit-completed", false);
  }

  #rows(row: LedgerRow): LedgerRow[] {
    const rows = this.#ledger.rows.concat([row]);
    return rows.length > MAX_ROWS ? rows.slice(rows.length - MAX_ROWS) : rows;
  }

  #seen(card: number, seq: number, balance: number): Array<[number, number, number]> {
    const seen = this.#ledger.seen.filter((s) => s[0] !== card);
    seen.push([card, seq, balance]);
    return seen.length > MAX_SEEN ? seen.slice(seen.length - MAX_SEEN) : seen;
  }

  #write(ledger: Ledger): void {
    this.#o.store.writeJson(KEY_LEDGER, ledger);
    this.#ledger = ledger;
  }
}
