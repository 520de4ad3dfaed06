/**
 * MQTT 3.1.1 packet codec for the terminal (XS-safe, Uint8Array only).
 *
 * Supported packets, both ways: CONNECT (with an optional will), CONNACK, PUBLISH (QoS 0 and 1),
 * PUBACK, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT.
 * QoS 2 (PUBLISH with QoS 2, PUBREC, PUBREL, PUBCOMP) is not: the terminal never asks for it,
 * so receiving it is reported as an error like any malformed packet.
 *
 * `encodePacket` allocates exactly one Uint8Array of the packet's size. `MqttParser` is fed
 * chunks split anywhere and hands out whole packets; a packet larger than its maximum is
 * rejected as soon as its fixed header is read, before any of it is buffered.
 */

import { decodeUtf8Strict, utf8Length, writeUtf8 } from "./utf8-strict";

// Compiled once here: XS compiles a regular expression literal each time it is evaluated (~0.1 ms).
/** an MQTT error's prefix */
const MQTT_PREFIX = /^mqtt: /;

export class MqttError extends Error {
  /** a class field rather than an assignment to the inherited name in the constructor: Error.prototype is frozen on a board (xsl freezes the built-ins), so assigning its inherited name throws */
  override readonly name = "MqttError";
  constructor(message: string) {
    super(`mqtt: ${message}`);
  }
}

export type QoS = 0 | 1;

export interface ConnectPacket {
  type: "connect";
  clientId: string;
  cleanSession: boolean;
  keepAlive: number; // seconds, 0 = off
  username?: string;
  password?: Uint8Array;
  will?: { topic: string; payload: Uint8Array; qos: QoS; retain: boolean };
}
export interface ConnackPacket {
  type: "connack";
  sessionPresent: boolean;
  returnCode: number; // 0 accepted, 1..5 refused (see connackReason)
}
export interface PublishPacket {
  type: "publish";
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  dup: boolean;
  retain: boolean;
  packetId?: number; // present (1..65535) exactly when qos > 0
}
export interface PubackPacket {
  type: "puback";
  packetId: number;
}
export interface SubscribePacket {
  type: "subscribe";
  packetId: number;
  subscriptions: Array<{ topic: string; qos: 0 | 1 | 2 }>;
}
export interface SubackPacket {
  type: "suback";
  packetId: number;
  granted: number[]; // 0, 1, 2, or 0x80 (failure)
}
export interface UnsubscribePacket {
  type: "unsubscribe";
  packetId: number;
  topics: string[];
}
export interface UnsubackPacket {
  type: "unsuback";
  packetId: number;
}
export interface EmptyPacket {
  type: "pingreq" | "pingresp" | "disconnect";
}
export type MqttPacket =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | PubackPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | EmptyPacket;

export const CONNECT = 1;
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const SUBSCRIBE = 8;
export const SUBACK = 9;
export const UNSUBSCRIBE = 10;
export const UNSUBACK = 11;
export const PINGREQ = 12;
export const PINGRESP = 13;
export const DISCONNECT = 14;

/** The largest remaining length the 4-byte varint can carry (256 MiB − 1). */
export const MAX_REMAINING_LENGTH = 268435455;
/** Default for MqttParser: what the terminal accepts from the center. */
export const DEFAULT_MAX_PACKET = 16384;

const CONNACK_REASONS = Object.freeze([
  "accepted",
  "unacceptable protocol version",
  "identifier rejected",
  "server unavailable",
  "bad user name or password",
  "not authorized",
]);

export function connackReason(code: number): string {
  return CONNACK_REASONS[code] ?? `reserved return code ${code}`;
}

// ---------------------------------------------------------------------------------------------
// Encoding

function checkPacketId(id: unknown, what: string): number {
  if (typeof id !== "number" || !Number.isInteger(id) || id < 1 || id > 0xffff) throw new MqttError(`${what}: packet id must be 1..65535, got ${String(id)}`);
  return id;
}

function stringSize(s: string, what: string): number {
  if (typeof s !== "string") throw new MqttError(`${what} must be a string`);
  const n = utf8Length(s);
  if (n > 0xffff) throw new MqttError(`${what} is ${n} bytes, more than 65535`);
  if (s.indexOf("\u0000") >= 0) throw new MqttError(`${what} contains U+0000`);
  return n + 2;
}

function topicNameSize(topic: string, what: string): number {
  const n = stringSize(topic, what);
  if (n === 2) throw new MqttError(`${what} is empty`);
  if (topic.indexOf("+") >= 0 || topic.indexOf("#") >= 0) throw new MqttError(`${what} contains a wildcard`);
  return n;
}

function topicFilterSize(filter: string, what: string): number {
  const n = stringSize(filter, what);
  if (n === 2) throw new MqttError(`${what} is empty`);
  const hash = filter.indexOf("#");
  if (hash >= 0 && (hash !== filter.length - 1 || (hash > 0 && filter.charCodeAt(hash - 1) !== 0x2f))) throw new MqttError(`${what}: '#' must be last, after a '/'`);
  for (let i = filter.indexOf("+"); i >= 0; i = filter.indexOf("+", i + 1)) {
    if ((i > 0 && filter.charCodeAt(i - 1) !== 0x2f) || (i + 1 < filter.length && filter.charCodeAt(i + 1) !== 0x2f)) throw new MqttError(`${what}: '+' must fill a whole level`);
  }
  return n;
}

function bytesSize(b: Uint8Array, what: string): number {
  if (!(b instanceof Uint8Array)) throw new MqttError(`${what} must be a Uint8Array`);
  if (b.length > 0xffff) throw new MqttError(`${what} is ${b.length} bytes, more than 65535`);
  return b.length + 2;
}

class Out {
  pos = 0;
  readonly b: Uint8Array;
  constructor(first: number, remaining: number) {
    if (remaining > MAX_REMAINING_LENGTH) throw new MqttError(`packet of ${remaining} bytes is too large for MQTT`);
    let n = 1;
    for (let r = remaining; r >= 128; r = Math.floor(r / 128)) n++;
    this.b = new Uint8Array(1 + n + remaining);
    this.b[this.pos++] = first;
    let r = remaining;
    do {
      let d = r % 128;
      r = Math.floor(r / 128);
      if (r > 0) d |= 0x80;
      this.b[this.pos++] = d;
    } while (r > 0);
  }
  u8(v: number): void {
    this.b[this.pos++] = v;
  }
  u16(v: number): void {
    this.b[this.pos++] = v >> 8;
    this.b[this.pos++] = v & 0xff;
  }
  str(s: string, size: number): void {
    this.u16(size - 2);
    this.pos = writeUtf8(s, this.b, this.pos);
  }
  bin(v: Uint8Array): void {
    this.b.set(v, this.pos);
    this.pos += v.length;
  }
}

/** Bytes of the fixed header + remaining length for a body of `remaining` bytes. */
export function packetSize(remaining: number): number {
  return 1 + (remaining < 128 ? 1 : remaining < 16384 ? 2 : remaining < 2097152 ? 3 : 4) + remaining;
}

/** Encodes one packet; throws MqttError if it cannot be a valid MQTT 3.1.1 packet. */
export function encodePacket(p: MqttPacket): Uint8Array {
  switch (p.type) {
    case "connect":
      return encodeConnect(p);
    case "connack": {
      const o = new Out(CONNACK << 4, 2);
      o.u8(p.sessionPresent ? 1 : 0);
      if (!Number.isInteger(p.returnCode) || p.returnCode < 0 || p.returnCode > 255) throw new MqttError("connack return code must be 0..255");
      o.u8(p.returnCode);
      return o.b;
    }
    case "publish":
      return encodePublish(p.topic, p.payload, p.qos, p.packetId ?? 0, p.dup, p.retain);
    case "puback":
    case "unsuback": {
      const o = new Out((p.type === "puback" ? PUBACK : UNSUBACK) << 4, 2);
      o.u16(checkPacketId(p.packetId, p.type));
      return o.b;
    }
    case "subscribe": {
      checkPacketId(p.packetId, "subscribe");
      const subs = p.subscriptions;
      if (!Array.isArray(subs) || subs.length === 0) throw new MqttError("subscribe needs at least one topic filter");
      let size = 2;
      for (let i = 0; i < subs.length; i++) {
        const q = subs[i].qos;
        if (q !== 0 && q !== 1 && q !== 2) throw new MqttError(`subscribe: QoS must be 0, 1 or 2, got ${String(q)}`);
        size += topicFilterSize(subs[i].topic, "subscribe topic filter") + 1;
      }
      const o = new Out((SUBSCRIBE << 4) | 2, size);
      o.u16(p.packetId);
      for (let i = 0; i < subs.length; i++) {
        o.str(subs[i].topic, utf8Length(subs[i].topic) + 2);
        o.u8(subs[i].qos);
      }
      return o.b;
    }
    case "suback": {
      checkPacketId(p.packetId, "suback");
      const g = p.granted;
      if (!Array.isArray(g) || g.length === 0) throw new MqttError("suback needs at least one return code");
      const o = new Out(SUBACK << 4, 2 + g.length);
      o.u16(p.packetId);
      for (let i = 0; i < g.length; i++) {
        if (g[i] !== 0 && g[i] !== 1 && g[i] !== 2 && g[i] !== 0x80) throw new MqttError(`suback: return code must be 0, 1, 2 or 128, got ${g[i]}`);
        o.u8(g[i]);
      }
      return o.b;
    }
    case "unsubscribe": {
      checkPacketId(p.packetId, "unsubscribe");
      const topics = p.topics;
      if (!Array.isArray(topics) || topics.length === 0) throw new MqttError("unsubscribe needs at least one topic filter");
      let size = 2;
      for (let i = 0; i < topics.length; i++) size += topicFilterSize(topics[i], "unsubscribe topic filter");
      const o = new Out((UNSUBSCRIBE << 4) | 2, size);
      o.u16(p.packetId);
      for (let i = 0; i < topics.length; i++) o.str(topics[i], utf8Length(topics[i]) + 2);
      return o.b;
    }
    case "pingreq":
      return new Out(PINGREQ << 4, 0).b;
    case "pingresp":
      return new Out(PINGRESP << 4, 0).b;
    case "disconnect":
      return new Out(DISCONNECT << 4, 0).b;
    default:
      throw new MqttError(`cannot encode packet type ${String((p as { type: unknown }).type)}`);
  }
}

function encodeConnect(p: ConnectPacket): Uint8Array {
  if (!Number.isInteger(p.keepAlive) || p.keepAlive < 0 || p.keepAlive > 0xffff) throw new MqttError("connect: keep-alive must be 0..65535 seconds");
  let size = 10 + stringSize(p.clientId, "client id");
  let flags = p.cleanSession ? 0x02 : 0;
  const w = p.will;
  if (w) {
    if (w.qos !== 0 && w.qos !== 1) throw new MqttError("connect: will QoS must be 0 or 1");
    size += topicNameSize(w.topic, "will topic") + bytesSize(w.payload, "will payload");
    flags |= 0x04 | (w.qos << 3) | (w.retain ? 0x20 : 0);
  }
  if (p.username !== undefined) {
    size += stringSize(p.username, "user name");
    flags |= 0x80;
  }
  if (p.password !== undefined) {
    if (p.username === undefined) throw new MqttError("connect: a password needs a user name in MQTT 3.1.1");
    size += bytesSize(p.password, "password");
    flags |= 0x40;
  }
  const o = new Out(CONNECT << 4, size);
  o.u16(4);
  o.u8(0x4d); // M
  o.u8(0x51); // Q
  o.u8(0x54); // T
  o.u8(0x54); // T
  o.u8(4); // protocol level 3.1.1
  o.u8(flags);
  o.u16(p.keepAlive);
  o.str(p.clientId, utf8Length(p.clientId) + 2);
  if (w) {
    o.str(w.topic, utf8Length(w.topic) + 2);
    o.u16(w.payload.length);
    o.bin(w.payload);
  }
  if (p.username !== undefined) o.str(p.username, utf8Length(p.username) + 2);
  if (p.password !== undefined) {
    o.u16(p.password.length);
    o.bin(p.password);
  }
  return o.b;
}

/** PUBLISH; `packetId` is ignored for QoS 0. The DUP flag is bit 3 of byte 0 (see setDup). */
export function encodePublish(topic: string, payload: Uint8Array, qos: QoS, packetId: number, dup = false, retain = false): Uint8Array {
  if (qos !== 0 && qos !== 1) throw new MqttError(`publish: QoS must be 0 or 1, got ${String(qos)}`);
  if (!(payload instanceof Uint8Array)) throw new MqttError("publish: payload must be a Uint8Array");
  if (qos === 0 && dup) throw new MqttError("publish: DUP must be 0 for QoS 0");
  const topicSize = topicNameSize(topic, "publish topic");
  const o = new Out((PUBLISH << 4) | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0), topicSize + (qos ? 2 : 0) + payload.length);
  o.str(topic, topicSize);
  if (qos) o.u16(checkPacketId(packetId, "publish"));
  o.bin(payload);
  return o.b;
}

/** Sets the DUP flag of an encoded QoS-1 PUBLISH in place (for a re-send). */
export function setDup(encodedPublish: Uint8Array): void {
  if (encodedPublish[0] >> 4 !== PUBLISH || (encodedPublish[0] & 6) === 0) throw new MqttError("setDup: not a QoS-1 PUBLISH");
  encodedPublish[0] |= 8;
}

// ---------------------------------------------------------------------------------------------
// Decoding

class In {
  pos = 0;
  constructor(
    readonly b: Uint8Array,
    readonly what: string,
  ) {}
  left(): number {
    return this.b.length - this.pos;
  }
  need(n: number, field: string): void {
    if (this.b.length - this.pos < n) throw new MqttError(`${this.what}: truncated ${field}`);
  }
  u8(field: string): number {
    this.need(1, field);
    return this.b[this.pos++];
  }
  u16(field: string): number {
    this.need(2, field);
    const v = (this.b[this.pos] << 8) | this.b[this.pos + 1];
    this.pos += 2;
    return v;
  }
  id(field = "packet id"): number {
    const v = this.u16(field);
    if (v === 0) throw new MqttError(`${this.what}: ${field} is 0`);
    return v;
  }
  str(field: string): string {
    const n = this.u16(`${field} length`);
    this.need(n, field);
    const s = decodeUtf8Strict(this.b, this.pos, this.pos + n);
    if (s === null) throw new MqttError(`${this.what}: ${field} is not valid UTF-8`);
    if (s.indexOf("\u0000") >= 0) throw new MqttError(`${this.what}: ${field} contains U+0000`);
    this.pos += n;
    return s;
  }
  bin(field: string): Uint8Array {
    const n = this.u16(`${field} length`);
    this.need(n, field);
    this.pos += n;
    return this.b.subarray(this.pos - n, this.pos);
  }
  end(): void {
    if (this.pos !== this.b.length) throw new MqttError(`${this.what}: ${this.b.length - this.pos} unexpected bytes at the end`);
  }
}

function flagsMustBe(type: number, flags: number, expected: number, what: string): void {
  if (flags !== expected) throw new MqttError(`${what}: fixed-header flags must be ${expected}, got ${flags} (type ${type})`);
}

/**
 * Decodes the body of one packet, given the first byte of its fixed header. Byte arrays in the
 * result (payload, password) are views into `body`: hand in a buffer the packet may keep.
 */
export function decodeBody(first: number, body: Uint8Array): MqttPacket {
  const type = first >> 4;
  const flags = first & 15;
  switch (type) {
    case CONNECT: {
      flagsMustBe(type, flags, 0, "connect");
      const r = new In(body, "connect");
      const name = r.str("protocol name");
      const level = r.u8("protocol level");
      if (name !== "MQTT" || level !== 4) throw new MqttError(`connect: protocol ${name} level ${level} is not MQTT 3.1.1`);
      const cf = r.u8("connect flags");
      if (cf & 1) throw new MqttError("connect: reserved connect flag is set");
      const keepAlive = r.u16("keep-alive");
      const p: ConnectPacket = { type: "connect", clientId: r.str("client id"), cleanSession: (cf & 2) !== 0, keepAlive };
      const willQos = (cf >> 3) & 3;
      if (cf & 4) {
        if (willQos > 1) throw new MqttError(`connect: will QoS ${willQos} is not supported`);
        const topic = r.str("will topic");
        const payload = r.bin("will payload");
        p.will = { topic, payload, qos: willQos as QoS, retain: (cf & 0x20) !== 0 };
      } else if (willQos || cf & 0x20) throw new MqttError("connect: will QoS/retain set without a will");
      if (cf & 0x80) p.username = r.str("user name");
      if (cf & 0x40) {
        if (!(cf & 0x80)) throw new MqttError("connect: password flag without user name flag");
        p.password = r.bin("password");
      }
      r.end();
      return p;
    }
    case CONNACK: {
      flagsMustBe(type, flags, 0, "connack");
      if (body.length !== 2) throw new MqttError(`connack: remaining length must be 2, got ${body.length}`);
      if (body[0] & 0xfe) throw new MqttError("connack: reserved acknowledge flags are set");
      return { type: "connack", sessionPresent: (body[0] & 1) === 1, returnCode: body[1] };
    }
    case PUBLISH: {
      const qos = (flags >> 1) & 3;
      if (qos === 3) throw new MqttError("publish: QoS 3 is malformed");
      if (qos === 2) throw new MqttError("publish: QoS 2 is not supported");
      const dup = (flags & 8) !== 0;
      if (qos === 0 && dup) throw new MqttError("publish: DUP set on a QoS-0 message");
      const r = new In(body, "publish");
      const topic = r.str("topic");
      if (topic.length === 0) throw new MqttError("publish: empty topic");
      if (topic.indexOf("+") >= 0 || topic.indexOf("#") >= 0) throw new MqttError("publish: wildcard in topic name");
      const p: PublishPacket = { type: "publish", topic, payload: body, qos: qos as QoS, dup, retain: (flags & 1) !== 0 };
      if (qos) p.packetId = r.id();
      p.payload = body.subarray(r.pos);
      return p;
    }
    case PUBACK:
    case UNSUBACK: {
      const what = type === PUBACK ? "puback" : "unsuback";
      flagsMustBe(type, flags, 0, what);
      if (body.length !== 2) throw new MqttError(`${what}: remaining length must be 2, got ${body.length}`);
      const r = new In(body, what);
      return { type: what, packetId: r.id() };
    }
    case SUBSCRIBE: {
      flagsMustBe(type, flags, 2, "subscribe");
      const r = new In(body, "subscribe");
      const p: SubscribePacket = { type: "subscribe", packetId: r.id(), subscriptions: [] };
      while (r.left() > 0) {
        const topic = r.str("topic filter");
        const q = r.u8("requested QoS");
        if (q > 2) throw new MqttError(`subscribe: requested QoS byte ${q} is malformed`);
        validateFilter(topic, "subscribe");
        p.subscriptions.push({ topic, qos: q as 0 | 1 | 2 });
      }
      if (p.subscriptions.length === 0) throw new MqttError("subscribe: no topic filter");
      return p;
    }
    case SUBACK: {
      flagsMustBe(type, flags, 0, "suback");
      const r = new In(body, "suback");
      const p: SubackPacket = { type: "suback", packetId: r.id(), granted: [] };
      if (r.left() === 0) throw new MqttError("suback: no return code");
      while (r.left() > 0) {
        const g = r.u8("return code");
        if (g !== 0 && g !== 1 && g !== 2 && g !== 0x80) throw new MqttError(`suback: return code ${g} is malformed`);
        p.granted.push(g);
      }
      return p;
    }
    case UNSUBSCRIBE: {
      flagsMustBe(type, flags, 2, "unsubscribe");
      const r = new In(body, "unsubscribe");
      const p: UnsubscribePacket = { type: "unsubscribe", packetId: r.id(), topics: [] };
      while (r.left() > 0) {
        const topic = r.str("topic filter");
        validateFilter(topic, "unsubscribe");
        p.topics.push(topic);
      }
      if (p.topics.length === 0) throw new MqttError("unsubscribe: no topic filter");
      return p;
    }
    case PINGREQ:
    case PINGRESP:
    case DISCONNECT: {
      const what = type === PINGREQ ? "pingreq" : type === PINGRESP ? "pingresp" : "disconnect";
      flagsMustBe(type, flags, 0, what);
      if (body.length !== 0) throw new MqttError(`${what}: remaining length must be 0, got ${body.length}`);
      return { type: what };
    }
    case 5:
    case 6:
    case 7:
      throw new MqttError(`packet type ${type} (QoS 2 flow) is not supported`);
    default:
      throw new MqttError(`packet type ${type} is reserved`);
  }
}

function validateFilter(topic: string, what: string): void {
  try {
    topicFilterSize(topic, "topic filter");
  } catch (e) {
    throw new MqttError(`${what}: ${(e as Error).message.replace(MQTT_PREFIX, "")}`);
  }
}

/** Decodes exactly one complete packet (fixed header included); no bytes may follow it. */
export function decodePacket(bytes: Uint8Array, maxPacketSize = MAX_REMAINING_LENGTH + 5): MqttPacket {
  let packet: MqttPacket | undefined;
  let count = 0;
  const parser = new MqttParser(maxPacketSize);
  parser.feed(bytes, (p) => {
    packet = p;
    count++;
  });
  if (count !== 1 || parser.buffered !== 0 || !packet) throw new MqttError(count === 0 ? "truncated packet" : "more than one packet");
  return packet;
}

// ---------------------------------------------------------------------------------------------
// Streaming

/**
 * Reassembles packets from a byte stream. `feed` may be given chunks of any size split at any
 * point; it calls `onPacket` for each whole packet, in order. On a malformed or oversized packet
 * it throws MqttError and stays failed (every later feed throws too) until `reset()`: after an
 * error the stream cannot be resynchronised, and the connection must be dropped. If `onPacket`
 * throws, its exception comes out of `feed` and the parser is failed likewise.
 */
export class MqttParser {
  readonly maxPacketSize: number;
  #first = 0;
  #header = 0; // bytes of the fixed header read so far (0: waiting for a packet)
  #remaining = 0;
  #multiplier = 1;
  #body: Uint8Array | null = null;
  #filled = 0;
  #failed: string | null = null;

  constructor(maxPacketSize = DEFAULT_MAX_PACKET) {
    if (!(maxPacketSize >= 2)) throw new MqttError("maximum packet size must be at least 2");
    this.maxPacketSize = maxPacketSize;
  }

  /** Bytes held of an incomplete packet. */
  get buffered(): number {
    return this.#header + this.#filled;
  }

  get failed(): string | null {
    return this.#failed;
  }

  reset(): void {
    this.#header = 0;
    this.#body = null;
    this.#filled = 0;
    this.#failed = null;
  }

  feed(chunk: Uint8Array, onPacket: (packet: MqttPacket) => void): void {
    if (this.#failed !== null) throw new MqttError(`parser failed earlier (${this.#failed}); reset it`);
    if (!(chunk instanceof Uint8Array)) throw this.#fail("input must be a Uint8Array");
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.#body === null) {
        // fixed header: type/flags byte, then 1 to 4 bytes of remaining length
        const b = chunk[i++];
        if (this.#header === 0) {
          this.#first = b;
          this.#header = 1;
          this.#remaining = 0;
          this.#multiplier = 1;
          continue;
        }
        this.#header++;
        this.#remaining += (b & 127) * this.#multiplier;
        this.#multiplier *= 128;
        if (b & 128) {
          if (this.#header === 5) throw this.#fail("remaining length longer than 4 bytes");
          continue;
        }
        const total = this.#header + this.#remaining;
        if (total > this.maxPacketSize) throw this.#fail(`packet of ${total} bytes exceeds the maximum of ${this.maxPacketSize}`);
        // Whole body already in this chunk: one copy, no staging.
        if (n - i >= this.#remaining) {
          const body = chunk.slice(i, i + this.#remaining);
          i += this.#remaining;
          this.#header = 0;
          this.#deliver(this.#first, body, onPacket);
          continue;
        }
        this.#body = new Uint8Array(this.#remaining);
        this.#filled = 0;
      }
      const body = this.#body;
      const take = body.length - this.#filled < n - i ? body.length - this.#filled : n - i;
      body.set(chunk.subarray(i, i + take), this.#filled);
      this.#filled += take;
      i += take;
      if (this.#filled === body.length) {
        this.#body = null;
        this.#filled = 0;
        this.#header = 0;
        this.#deliver(this.#first, body, onPacket);
      }
    }
  }

  #deliver(first: number, body: Uint8Array, onPacket: (packet: MqttPacket) => void): void {
    let packet: MqttPacket;
    try {
      packet = decodeBody(first, body);
    } catch (e) {
      throw this.#fail(e instanceof MqttError ? e.message.replace(MQTT_PREFIX, "") : String(e));
    }
    try {
      onPacket(packet);
    } catch (e) {
      // The rest of the chunk is lost with the exception: the stream cannot be trusted any more.
      this.#fail("packet handler threw");
      throw e;
    }
  }

  #fail(reason: string): MqttError {
    this.#failed = reason;
    this.#body = null;
    return new MqttError(reason);
  }
}
