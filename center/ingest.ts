import { decode } from "cbor-x";
import { createHash } from "node:crypto";
import { parsePlan } from "../firmware/core/plan";
import { MESSAGES, Message, MessageError, messageFromCbor, upTopic } from "../firmware/uplink/messages";
import type { CenterStore } from "./store/center-store";
import { isStoreFailure } from "./store/sql-db";
import { ContractAccount, checkPeriod, foldPeriods } from "./fee-check";
import { Tariffs } from "./tariffs";
import { MediaFiles } from "./media-files";

export type IngestResult = { status: "stored"; message: Message } | { status: "duplicate"; message: Message } | { status: "rejected"; reason: string };

export interface IngestEvents {
  /** a new message was stored (not a duplicate) */
  stored?(m: Message): void;
  /** a media item became complete */
  mediaComplete?(terminal: string, mediaId: number, item: number, path: string): void;
}

export interface IngestOptions {
  /** most reports in one transaction (default 1024); a full batch is committed at once */
  maxBatch?: number;
  /** the center's clock, ms since 1970 (received_at, supervision); injectable for tests */
  now?: () => number;
  /** the center's tariff versions (center/tariffs.ts); a read-only set by default */
  tariffs?: Tariffs;
}

const MAX_PAYLOAD = 64 * 1024;
/** bytes of a rejected message kept as a sample */
const REJECT_SAMPLE_BYTES = 256;

type Completed = { mediaId: number; item: number; path: string; parts: number };
type Done = (r: IngestResult | Error) => void;
type Pending =
  | { kind: "message"; terminal: string; message: Message; now: number; done: Done; topic: string; payload: Uint8Array }
  | { kind: "reject"; terminal: string; topic: string; payload: Uint8Array; reason: string; now: number; done: Done };

/**
 * Takes what a terminal published, validates it against the schema, and stores it exactly once:
 * the (terminal, seq) record and the kind's rows go in one transaction, so a duplicate (an MQTT
 * re-send with DUP, a retry after a lost PUBACK) changes nothing. Anything malformed is kept in
 * `rejects` with its bytes and a reason, counted, and acknowledged (re-sending it cannot help).
 *
 * Group commit: `submit` validates at once and queues; the queue is written in ONE transaction
 * (each report in a savepoint of its own, so one bad report cannot undo the others) at the end of
 * the event-loop turn that queued it, or as soon as `maxBatch` reports wait. Each report's `done`
 * runs only after that transaction has committed: the broker sends the PUBACK then, so an
 * acknowledged report is a stored one. The terminal's last-seen time and the supervision record
 * are written once per terminal per batch, inside the same transaction.
 */
export class Ingestor {
  readonly store: CenterStore;
  readonly media: MediaFiles;
  readonly tariffs: Tariffs;
  #events: IngestEvents;
  /** each terminal's contract as the center has folded it so far (its own totals) */
  #accounts = new Map<string, ContractAccount>();
  #queue: Pending[] = [];
  #scheduled = false;
  readonly #maxBatch: number;
  readonly #now: () => number;
  counts = { stored: 0, duplicate: 0, rejected: 0 };
  /** transactions written (reports per batch = handled / batches) */
  batches = 0;

  constructor(store: CenterStore, media: MediaFiles, events: IngestEvents = {}, o: IngestOptions = {}) {
    this.store = store;
    this.media = media;
    this.#events = events;
    this.#maxBatch = o.maxBatch ?? 1024;
    this.#now = o.now ?? Date.now;
    this.tariffs = o.tariffs ?? new Tariffs({ store, send: () => undefined });
  }

  /** The terminal's account before a period starting at `start` (refolded when one arrives out of order). */
  #account(terminal: string, start: number): ContractAccount {
    const cached = this.#accounts.get(terminal);
    if (cached && cached.lastStart < start) return cached;
    return foldPeriods(this.tariffs.lookup(terminal), this.store.periods(terminal).filter((r) => r.start < start));
  }

  /** Forget a terminal's cached account and tariffs (re-created, or its tariff changed). */
  tariffChanged(terminal: string): void {
    this.#accounts.delete(terminal);
    this.tariffs.forget(terminal);
  }

  /** Validates and stores one report now (with anything already queued); for callers without a broker. */
  ingest(terminal: string, topic: string, payload: Uint8Array, now = this.#now()): IngestResult {
    let result: IngestResult | Error | undefined;
    this.submit(terminal, topic, payload, (r) => (result = r), now);
    this.flush(true);
    if (result instanceof Error) throw result;
    return result as IngestResult;
  }

  /**
   * Validates a report and queues it for the next batch; `done` gets the result once the batch is
   * committed, or an Error when the commit failed (nothing of the batch was stored: no PUBACK).
   */
  submit(terminal: string, topic: string, payload: Uint8Array, done: Done, now = this.#now()): void {
    let m: Message;
    try {
      if (topic !== upTopic(terminal)) throw new MessageError("topic", `${topic} is not ${upTopic(terminal)}`);
      if (payload.length > MAX_PAYLOAD) throw new MessageError("payload", `${payload.length} bytes, more than ${MAX_PAYLOAD}`);
      let value: unknown;
      try {
        value = decode(payload);
      } catch (e) {
        throw new MessageError("payload", `not CBOR (${(e as Error).message})`);
      }
      m = messageFromCbor(value);
      if (m.terminal !== terminal) throw new MessageError("terminal", `${m.terminal} published by ${terminal}`);
      if (!isUplink(m)) throw new MessageError("kind", `${m.name} is not an uplink message`);
      this.#validate(m);
    } catch (e) {
      this.#enqueue({ kind: "reject", terminal, topic, payload, reason: e instanceof Error ? e.message : String(e), now, done });
      return;
    }
    this.#enqueue({ kind: "message", terminal, message: m, now, done, topic, payload });
  }

  #enqueue(p: Pending): void {
    this.#queue.push(p);
    if (this.#queue.length >= this.#maxBatch) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.flush();
      });
    }
  }

  /**
   * Writes everything queued in one transaction and, once it is on disk (store.durable: the WAL
   * synced in libuv's pool while the event loop takes the next batch), answers each report.
   * `wait`: sync on the event loop and answer before returning.
   */
  flush(wait = false): void {
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    const results: Array<{ r: IngestResult; completed: Completed | null }> = [];
    try {
      this.store.transaction(() => {
        const seen = new Map<string, { at: number; test: boolean }>();
        for (const p of batch) {
          if (p.kind === "reject") {
            results.push({ r: this.#reject(p.terminal, p.topic, p.payload, p.reason, p.now), completed: null });
            continue;
          }
          const m = p.message;
          try {
            let completed: Completed | null = null;
            let replay = false;
            // A savepoint per report: a report that fails half-way leaves no rows behind.
            const fresh = this.store.attempt(() => {
              if (!this.store.recordMessage(p.terminal, m.seq, m.name, m.time, p.now)) return false;
              const r = this.#apply(m, p.now);
              completed = r.completed;
              replay = r.replay;
              return true;
            });
            // A replay of an alarm already stored (same terminal and alarm id, a new seq): kept as
            // a message, but nobody is told twice.
            if (!fresh || replay) {
              results.push({ r: { status: "duplicate", message: m }, completed: null });
              continue;
            }
            const s = seen.get(p.terminal);
            seen.set(p.terminal, { at: p.now, test: (s?.test ?? false) || m.name === "test" });
            results.push({ r: { status: "stored", message: m }, completed });
          } catch (e) {
            // The store failing (busy, full, I/O) is not the report's fault: the whole batch fails
            // unacknowledged and is sent again. Only a report's own fault is rejected (and answered).
            if (isStoreFailure(e)) throw e;
            results.push({ r: this.#reject(p.terminal, p.topic, p.payload, e instanceof Error ? e.message : String(e), p.now), completed: null });
          }
        }
        for (const [terminal, s] of seen) {
          this.store.touchTerminal(terminal, s.at);
          this.store.noteHeard(terminal, s.at, s.test);
        }
      });
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.#accounts.clear(); // folded from rows that were not stored: fold again from the store
      this.tariffs.rolledBack(); // a confirmation the batch wrote is not in the store either
      for (const p of batch) p.done(err);
      return;
    }
    this.batches++;
    if (wait) {
      this.store.durableNow();
      this.#answer(batch, results);
    } else {
      this.store.durable((err) => {
        if (err) for (const p of batch) p.done(err);
        else this.#answer(batch, results);
      });
    }
  }

  #answer(batch: Pending[], results: Array<{ r: IngestResult; completed: Completed | null }>): void {
    for (let i = 0; i < batch.length; i++) {
      const { r, completed } = results[i];
      try {
        if (r.status === "stored") {
          this.counts.stored++;
          this.#events.stored?.(r.message);
          if (completed) {
            this.media.removeParts(batch[i].terminal, completed.mediaId, completed.item, completed.parts); // only once the item is committed
            this.#events.mediaComplete?.(batch[i].terminal, completed.mediaId, completed.item, completed.path);
          }
        } else if (r.status === "duplicate") this.counts.duplicate++;
        else this.counts.rejected++;
      } catch (e) {
        process.emitWarning(`ingest event for ${batch[i].terminal}: ${(e as Error).stack ?? e}`); // stored all the same
      }
      batch[i].done(r);
    }
  }

  #reject(terminal: string, topic: string, payload: Uint8Array, reason: string, now: number): IngestResult {
    // Counted per terminal; the bytes kept only as a short sample in a capped table (store).
    this.store.insertReject({ at: now, terminal, topic, reason: reason.slice(0, 300), payload: payload.slice(0, REJECT_SAMPLE_BYTES) });
    return { status: "rejected", reason };
  }

  /** Checks beyond the schema, before anything is queued or written (a file included). */
  #validate(m: Message): void {
    const b = m.body as Record<string, any>;
    if (m.name === "media") {
      if (b.part >= b.parts || b.item >= b.items || (b.type !== "jpeg" && b.type !== "wav")) throw new MessageError("media", "part, item or type out of range");
    }
    if (m.name === "plan" && b.plan !== null) {
      try {
        parsePlan(b.plan, this.tariffs.current(m.terminal));
      } catch (e) {
        throw new MessageError("plan", (e as Error).message);
      }
    }
  }

  /** The kind's rows; a media item completed by this chunk, if any; whether it replays an alarm. */
  #apply(m: Message, now: number): { completed: Completed | null; replay: boolean } {
    const none = { completed: null, replay: false };
    const b = m.body as Record<string, any>;
    const terminal = m.terminal;
    switch (m.name) {
      case "registration":
        this.store.setRegistered(terminal, b.firmware, now);
        return none;
      case "sensors":
        this.store.replaceSensors(
          terminal,
          (b.table as unknown[]).map((r, i) => {
            if (!Array.isArray(r) || r.length !== 5 || typeof r[0] !== "string") throw new MessageError(`sensors.table[${i}]`, "must be [id, type, connected, operating, battery]");
            return { id: r[0], type: String(r[1]), connected: Boolean(r[2]), operating: Boolean(r[3]), battery: String(r[4]) };
          }),
          now,
        );
        return none;
      case "plan":
        this.store.insertPlan(terminal, m.seq, m.time, b.plan);
        return none;
      case "period": {
        const before = this.#account(terminal, b.start);
        const check = checkPeriod(this.tariffs.lookup(terminal), before, b as never);
        const stored = this.store.insertPeriod({
          terminal,
          seq: m.seq,
          start: b.start,
          end: b.end,
          pattern: b.pattern,
          sensors: b.sensors,
          cameras: b.cameras,
          yenPerHour: b.yenPerHour,
          guardedSeconds: b.guardedSeconds,
          baseYen: b.baseYen,
          yen: b.yen,
          images: b.images,
          intervals: b.intervals,
          rateSeconds: b.rateSeconds,
          permille: b.permille,
          contract: b.contract,
          countsTaken: b.countsTaken ?? null,
          cardId: b.cardId ?? null,
          debtYen: b.debtYen ?? null,
          centerRateSeconds: check.rateSeconds,
          centerYen: check.yen,
          feeMismatch: check.mismatch,
          tariffVersion: b.tariffVersion ?? null,
          owedYen: b.owedYen ?? null,
          takenTotal: b.takenTotal ?? null,
          surchargeTotal: b.surchargeTotal ?? null,
          centerOwedYen: check.owedYen,
        });
        // One row per period whatever its sequence number: a re-sent period changes nothing.
        if (stored) {
          if (check.account.lastStart > (this.#accounts.get(terminal)?.lastStart ?? -1)) this.#accounts.set(terminal, check.account);
          else this.#accounts.delete(terminal);
          if (typeof b.tariffVersion === "number" && this.tariffs.version(terminal, b.tariffVersion)) this.tariffs.confirmed(terminal, b.tariffVersion);
        }
        return none;
      }
      case "alarm":
        if (!this.store.insertAlarm({
          terminal,
          alarmId: b.alarmId,
          seq: m.seq,
          time: m.time,
          sensor: b.sensor,
          event: b.event,
          contactId: b.contactId,
          pattern: b.pattern,
          mediaId: b.mediaId ?? null,
          images: b.images ?? null,
          clips: b.clips ?? null,
          receivedAt: now,
        }))
          return { completed: null, replay: true };
        return none;
      case "media": {
        const sha256 = createHash("sha256").update(b.data).digest("hex");
        const row = this.store.addMediaChunk({
          terminal,
          mediaId: b.mediaId,
          item: b.item,
          alarmId: b.alarmId,
          items: b.items,
          type: b.type,
          part: b.part,
          parts: b.parts,
          bytes: b.data.length,
          sha256,
        });
        if (row.partState === "other") throw new MessageError("media", `part ${b.part} of item ${b.item} of media ${b.mediaId} came before with other bytes`);
        if (row.partState === "new" && !row.complete) this.media.writePart(terminal, b.mediaId, b.item, b.part, b.data);
        if (row.partsReceived === row.parts && !row.complete) {
          const file = this.media.assemble(terminal, b.mediaId, b.item, b.parts, b.type);
          this.store.completeMedia(terminal, b.mediaId, b.item, file.path, file.bytes);
          return { completed: { mediaId: b.mediaId, item: b.item, path: file.path, parts: b.parts }, replay: false };
        }
        return none;
      }
      case "test":
        this.store.insertTestCall({ terminal, seq: m.seq, time: m.time, boots: b.boots, outbox: b.outbox, signal: b.signal ?? null });
        this.store.setLastTest(terminal, m.time);
        if (typeof b.tariffVersion === "number" && this.tariffs.version(terminal, b.tariffVersion)) this.tariffs.confirmed(terminal, b.tariffVersion);
        return none;
      case "card":
        this.store.insertCardEvent({
          terminal,
          seq: m.seq,
          time: m.time,
          event: b.event,
          cardId: b.cardId ?? null,
          counts: b.counts ?? null,
          delta: b.delta ?? null,
          debtYen: b.debtYen ?? null,
          note: b.note ?? null,
        });
        return none;
      case "warning":
        this.store.insertWarning({ terminal, seq: m.seq, time: m.time, code: b.code, text: b.text });
        return none;
    }
    throw new MessageError("kind", `${m.name} is not handled`);
  }
}

function isUplink(m: Message): boolean {
  return MESSAGES[m.name].direction === "up";
}
