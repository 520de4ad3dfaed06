import { decode } from "cbor-x";
import { createHash } from "node:crypto";
import { parsePlan } from "../firmware/core/plan";
import { Tariff, parseTariff } from "../firmware/core/tariff";
import { MESSAGES, Message, MessageError, messageFromCbor, upTopic } from "../firmware/uplink/messages";
import type { CenterStore } from "./store/center-store";
import { checkPeriodFee } from "./fee-check";
import { MediaFiles } from "./media-files";

export type IngestResult = { status: "stored"; message: Message } | { status: "duplicate"; message: Message } | { status: "rejected"; reason: string };

export interface IngestEvents {
  /** a new message was stored (not a duplicate) */
  stored?(m: Message): void;
  /** a media item became complete */
  mediaComplete?(terminal: string, mediaId: number, item: number, path: string): void;
}

const MAX_PAYLOAD = 64 * 1024;
/** bytes of a rejected message kept as a sample */
const REJECT_SAMPLE_BYTES = 256;

/**
 * Takes what a terminal published, validates it against the schema, and stores it exactly once:
 * the (terminal, seq) record and the kind's rows go in one transaction, so a duplicate (an MQTT
 * re-send with DUP, a retry after a lost PUBACK) changes nothing. Anything malformed is kept in
 * `rejects` with its bytes and a reason, counted, and acknowledged (re-sending it cannot help).
 */
export class Ingestor {
  readonly store: CenterStore;
  readonly media: MediaFiles;
  #events: IngestEvents;
  #tariffs = new Map<string, Tariff>();
  counts = { stored: 0, duplicate: 0, rejected: 0 };

  constructor(store: CenterStore, media: MediaFiles, events: IngestEvents = {}) {
    this.store = store;
    this.media = media;
    this.#events = events;
  }

  #tariff(terminal: string): Tariff {
    let t = this.#tariffs.get(terminal);
    if (!t) {
      const row = this.store.terminal(terminal);
      if (!row) throw new Error(`unknown terminal ${terminal}`);
      t = parseTariff(row.tariff);
      this.#tariffs.set(terminal, t);
    }
    return t;
  }

  /** Forget cached tariffs (after an admin changes one). */
  tariffChanged(terminal: string): void {
    this.#tariffs.delete(terminal);
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
      this.#validate(m);
      let completed: { mediaId: number; item: number; path: string; parts: number } | null = null;
      let replay = false;
      const fresh = this.store.transaction(() => {
        if (!this.store.recordMessage(terminal, m.seq, m.name, m.time, now)) return false;
        this.store.touchTerminal(terminal, now);
        const r = this.#apply(m, now);
        completed = r.completed;
        replay = r.replay;
        return true;
      });
      // A replay of an alarm already stored (same terminal and alarm id, a new seq): kept as a
      // message, but nobody is told twice.
      if (!fresh || replay) {
        this.counts.duplicate++;
        return { status: "duplicate", message: m };
      }
      this.counts.stored++;
      this.#events.stored?.(m);
      const c = completed as { mediaId: number; item: number; path: string; parts: number } | null;
      if (c) {
        this.media.removeParts(terminal, c.mediaId, c.item, c.parts); // only once the item is committed
        this.#events.mediaComplete?.(terminal, c.mediaId, c.item, c.path);
      }
      return { status: "stored", message: m };
    } catch (e) {
      return this.#reject(terminal, topic, payload, e, now);
    }
  }

  #reject(terminal: string, topic: string, payload: Uint8Array, e: unknown, now: number): IngestResult {
    const reason = (e instanceof Error ? e.message : String(e)).slice(0, 300);
    this.counts.rejected++;
    // Counted per terminal; the bytes kept only as a short sample in a capped table (store).
    this.store.insertReject({ at: now, terminal, topic, reason, payload: payload.slice(0, REJECT_SAMPLE_BYTES) });
    return { status: "rejected", reason };
  }

  /** Checks beyond the schema, before anything is written (a file included). */
  #validate(m: Message): void {
    const b = m.body as Record<string, any>;
    if (m.name === "media") {
      if (b.part >= b.parts || b.item >= b.items || (b.type !== "jpeg" && b.type !== "wav")) throw new MessageError("media", "part, item or type out of range");
    }
    if (m.name === "plan" && b.plan !== null) {
      try {
        parsePlan(b.plan, this.#tariff(m.terminal));
      } catch (e) {
        throw new MessageError("plan", (e as Error).message);
      }
    }
  }

  /** The kind's rows; a media item completed by this chunk, if any; whether it replays an alarm. */
  #apply(m: Message, now: number): { completed: { mediaId: number; item: number; path: string; parts: number } | null; replay: boolean } {
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
        const check = checkPeriodFee(this.#tariff(terminal), {
          pattern: b.pattern,
          intervals: b.intervals,
          images: b.images,
          guardedSeconds: b.guardedSeconds,
          rateSeconds: b.rateSeconds,
          yen: b.yen,
          contract: b.contract,
        });
        this.store.insertPeriod({
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
        });
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
