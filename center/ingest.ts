import { decode } from "cbor-x";
import { MESSAGES, Message, MessageError, messageFromCbor, upTopic } from "../firmware/uplink/messages";
import type { CenterStore } from "./store/center-store";
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

const MAX_PAYLOAD = 64 * 1024;

/**
 * Takes what a terminal published, validates it against the schema, and stores it exactly once:
 * the (terminal, seq) record and the kind's rows go in one transaction, so a duplicate (an MQTT
 * re-send with DUP, a retry after a lost PUBACK) changes nothing. Anything malformed is kept in
 * `rejects` with its bytes and a reason, counted, and acknowledged (re-sending it cannot help).
 */
export class Ingestor {
  readonly store: CenterStore;
  readonly media: MediaFiles;
  readonly tariffs: Tariffs;
  #events: IngestEvents;
  /** each terminal's contract as the center has folded it so far (its own totals) */
  #accounts = new Map<string, ContractAccount>();
  counts = { stored: 0, duplicate: 0, rejected: 0 };

  constructor(store: CenterStore, media: MediaFiles, events: IngestEvents = {}, tariffs?: Tariffs) {
    this.store = store;
    this.media = media;
    this.#events = events;
    this.tariffs = tariffs ?? new Tariffs({ store, send: () => undefined });
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

  ingest(terminal: string, topic: string, payload: Uint8Array, now = Date.now()): IngestResult {
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
    } catch (e) {
      return this.#reject(terminal, topic, payload, e, now);
    }
    try {
      if (m.name === "media") {
        const b = m.body as { mediaId: number; item: number; part: number; data: Uint8Array };
        this.media.writePart(terminal, b.mediaId, b.item, b.part, b.data);
      }
      let completed: { mediaId: number; item: number; path: string } | null = null;
      const fresh = this.store.transaction(() => {
        if (!this.store.recordMessage(terminal, m.seq, m.name, m.time, now)) return false;
        this.store.touchTerminal(terminal, now);
        completed = this.#apply(m, now);
        return true;
      });
      if (!fresh) {
        this.counts.duplicate++;
        return { status: "duplicate", message: m };
      }
      this.counts.stored++;
      this.#events.stored?.(m);
      const c = completed as { mediaId: number; item: number; path: string } | null;
      if (c) this.#events.mediaComplete?.(terminal, c.mediaId, c.item, c.path);
      return { status: "stored", message: m };
    } catch (e) {
      return this.#reject(terminal, topic, payload, e, now);
    }
  }

  #reject(terminal: string, topic: string, payload: Uint8Array, e: unknown, now: number): IngestResult {
    const reason = e instanceof Error ? e.message : String(e);
    this.counts.rejected++;
    this.store.insertReject({ at: now, terminal, topic, reason, payload: payload.slice(0, MAX_PAYLOAD) });
    return { status: "rejected", reason };
  }

  /** The kind's rows; returns a media item completed by this chunk, if any. */
  #apply(m: Message, now: number): { mediaId: number; item: number; path: string } | null {
    const b = m.body as Record<string, any>;
    const terminal = m.terminal;
    switch (m.name) {
      case "registration":
        this.store.setRegistered(terminal, b.firmware, now);
        return null;
      case "sensors":
        this.store.replaceSensors(
          terminal,
          (b.table as unknown[]).map((r, i) => {
            if (!Array.isArray(r) || r.length !== 5 || typeof r[0] !== "string") throw new MessageError(`sensors.table[${i}]`, "must be [id, type, connected, operating, battery]");
            return { id: r[0], type: String(r[1]), connected: Boolean(r[2]), operating: Boolean(r[3]), battery: String(r[4]) };
          }),
          now,
        );
        return null;
      case "plan":
        this.store.insertPlan(terminal, m.seq, m.time, b.plan);
        return null;
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
        return null;
      }
      case "alarm":
        this.store.insertAlarm({
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
        });
        return null;
      case "media": {
        if (b.part >= b.parts || b.item >= b.items || (b.type !== "jpeg" && b.type !== "wav")) {
          throw new MessageError("media", "part, item or type out of range");
        }
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
        });
        if (row.partsReceived === row.parts && !row.complete) {
          const file = this.media.assemble(terminal, b.mediaId, b.item, b.parts, b.type);
          this.store.completeMedia(terminal, b.mediaId, b.item, file.path, file.bytes);
          return { mediaId: b.mediaId, item: b.item, path: file.path };
        }
        return null;
      }
      case "test":
        this.store.insertTestCall({ terminal, seq: m.seq, time: m.time, boots: b.boots, outbox: b.outbox, signal: b.signal ?? null });
        this.store.setLastTest(terminal, m.time);
        if (typeof b.tariffVersion === "number" && this.tariffs.version(terminal, b.tariffVersion)) this.tariffs.confirmed(terminal, b.tariffVersion);
        return null;
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
        return null;
      case "warning":
        this.store.insertWarning({ terminal, seq: m.seq, time: m.time, code: b.code, text: b.text });
        return null;
    }
    throw new MessageError("kind", `${m.name} is not handled`);
  }
}

function isUplink(m: Message): boolean {
  return MESSAGES[m.name].direction === "up";
}
