/**
 * The terminal's MQTT 3.1.1 client, as a pure state machine: no timers, no sockets. The caller
 * owns the transport (the modem's TCP socket) and the clock; it passes bytes and the time in,
 * and the client writes packets through `transport.write` and says, in each MqttStep, whether the
 * connection must be closed and when it next wants `tick()`.
 *
 * - CleanSession = 0 always: the center's broker keeps our session (and queues downlink
 *   messages) while the terminal is offline, as dial-up needs.
 * - QoS-1 PUBLISH pipelined up to `maxInflight`, each with a non-zero packet id, kept (encoded)
 *   until its PUBACK; after a reconnect the unacknowledged ones are re-sent with DUP = 1 and
 *   their original ids, before anything new (MQTT 3.1.1 §4.4). The caller's `tag` comes back
 *   in `acked`, so a persistent outbox removes an item only once the center has it.
 * - Subscribes to the downlink topics after the first CONNACK, and again whenever the broker
 *   has no session for us; incoming PUBLISH goes to `message`, and QoS 1 is acknowledged after
 *   the handler returned without throwing (so a message it failed on comes again next session).
 * - Keep-alive: a PINGREQ once nothing was sent, or nothing received, for the keep-alive
 *   interval; the connection is dead when nothing at all arrives within `pingTimeoutMs` of it.
 *
 * Typical loop:  step = client.connect(now) … step = client.onData(bytes, now) …
 * step = client.tick(now); if (step.close) { socket.close(); client.onTransportClosed(); }
 * else schedule tick at step.wakeAt.
 */

import { utf8Length, writeUtf8 } from "../lib/utf8-strict";
import { MqttError, MqttParser, type MqttPacket, type PublishPacket, type QoS, connackReason, encodePacket, encodePublish, setDup } from "../lib/mqtt";

export interface MqttClientOptions {
  clientId: string;
  username?: string;
  password?: string | Uint8Array;
  /** 0 turns keep-alive off (and with it dead-connection detection). */
  keepAliveSeconds: number;
  /** QoS-1 PUBLISH packets sent and not yet acknowledged, at most (1..1000). */
  maxInflight: number;
  /** Downlink topic filters; QoS 1 unless said otherwise. */
  subscriptions?: ReadonlyArray<string | { topic: string; qos: QoS }>;
  /** Largest packet accepted from the server (default 16 KiB). */
  maxPacketSize?: number;
  /** How long to wait for CONNACK (default 30 s). */
  connectTimeoutMs?: number;
  /** How long to wait for any packet after a PINGREQ (default: the keep-alive interval, at least 5 s). */
  pingTimeoutMs?: number;
}

/**
 * Where the client's packets go. `write` may throw (the connection then fails). The client keeps
 * a QoS-1 PUBLISH's buffer for re-sending and sets its DUP bit in place on a later session: a
 * transport that queues must not modify the bytes, and should copy them if it keeps them.
 */
export interface MqttTransport {
  write(bytes: Uint8Array): void;
}

export interface MessageInfo {
  qos: QoS;
  dup: boolean;
  retain: boolean;
}

export interface MqttClientEvents<Tag> {
  /** CONNACK accepted; re-sends (if any) are already written. */
  connected?(sessionPresent: boolean): void;
  /** The PUBACK for a publish arrived: the center has it. */
  acked?(tag: Tag, packetId: number): void;
  message?(topic: string, payload: Uint8Array, info: MessageInfo): void;
  /** SUBACK: the granted QoS per filter (0x80 = refused, also reported as an error). */
  subscribed?(granted: number[]): void;
  /** Something went wrong; if the connection cannot go on, the step says close. */
  error?(reason: string): void;
}

/** "closing": hung up or failed, nothing more is written; the caller closes the transport. */
export type MqttClientState = "disconnected" | "connecting" | "connected" | "closing";

/** What the caller must do after a call. */
export interface MqttStep {
  /** Close the transport now, then call onTransportClosed(). */
  close: boolean;
  /** Why, when close is true. */
  reason: string | null;
  /** Absolute time (ms) by which tick() must be called, or null if no timer is needed. */
  wakeAt: number | null;
}

interface Inflight<Tag> {
  tag: Tag;
  packet: Uint8Array; // encoded, DUP set in place before a re-send
}

const DEFAULT_CONNECT_TIMEOUT = 30000;
const MIN_PING_TIMEOUT = 5000;

export class MqttClient<Tag = unknown> {
  #transport: MqttTransport;
  #events: MqttClientEvents<Tag>;
  #connectPacket: Uint8Array;
  #subscribePacketBody: Array<{ topic: string; qos: QoS }>;
  #keepAliveMs: number;
  #maxInflight: number;
  #connectTimeoutMs: number;
  #pingTimeoutMs: number;
  #parser: MqttParser;

  #state: MqttClientState = "disconnected";
  #closeReason: string | null = null;
  #inflight = new Map<number, Inflight<Tag>>(); // insertion order = sending order
  #nextId = 1;
  #subscribeId = 0; // packet id of the SUBSCRIBE awaiting its SUBACK
  #subscribed = false;
  #sessionPresent = false;
  #connectDeadline = 0;
  #lastSent = 0;
  #lastReceived = 0;
  #pingSentAt = -1; // -1: no PINGREQ outstanding
  #expectClose = false;

  #stats = { sent: 0, received: 0, resent: 0, pings: 0, unknownAcks: 0, connects: 0 };

  constructor(options: MqttClientOptions, transport: MqttTransport, events: MqttClientEvents<Tag> = {}) {
    const o = options;
    if (typeof o.clientId !== "string" || o.clientId.length === 0) throw new MqttError("client: a client id is required (CleanSession = 0)");
    if (!Number.isInteger(o.keepAliveSeconds) || o.keepAliveSeconds < 0 || o.keepAliveSeconds > 0xffff) throw new MqttError("client: keepAliveSeconds must be 0..65535");
    if (!Number.isInteger(o.maxInflight) || o.maxInflight < 1 || o.maxInflight > 1000) throw new MqttError("client: maxInflight must be 1..1000");
    const password = typeof o.password === "string" ? encodeUtf8Bytes(o.password) : o.password;
    // Encoding once validates the options and saves re-encoding on every dial.
    this.#connectPacket = encodePacket({ type: "connect", clientId: o.clientId, cleanSession: false, keepAlive: o.keepAliveSeconds, username: o.username, password });
    this.#subscribePacketBody = (o.subscriptions ?? []).map((s) => (typeof s === "string" ? { topic: s, qos: 1 as QoS } : { topic: s.topic, qos: s.qos }));
    if (this.#subscribePacketBody.length > 0) encodePacket({ type: "subscribe", packetId: 1, subscriptions: this.#subscribePacketBody });
    this.#keepAliveMs = o.keepAliveSeconds * 1000;
    this.#maxInflight = o.maxInflight;
    this.#connectTimeoutMs = o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT;
    this.#pingTimeoutMs = o.pingTimeoutMs ?? (this.#keepAliveMs > MIN_PING_TIMEOUT ? this.#keepAliveMs : MIN_PING_TIMEOUT);
    this.#parser = new MqttParser(o.maxPacketSize);
    this.#transport = transport;
    this.#events = events;
  }

  get state(): MqttClientState {
    return this.#state;
  }
  /** Why the connection is closing ("disconnect" after a clean hang-up), while state is "closing". */
  get closeReason(): string | null {
    return this.#closeReason;
  }
  get sessionPresent(): boolean {
    return this.#sessionPresent;
  }
  get inflight(): number {
    return this.#inflight.size;
  }
  /** True when publish() would accept a message now. */
  get canPublish(): boolean {
    return this.#state === "connected" && this.#inflight.size < this.#maxInflight;
  }
  /** Connected, subscribed, and every publish acknowledged: a good moment to hang up. */
  get idle(): boolean {
    return this.#state === "connected" && this.#inflight.size === 0 && this.#subscribeId === 0;
  }
  /** Tags of the unacknowledged publishes, oldest first (they are re-sent on the next connect). */
  inflightTags(): Tag[] {
    const out: Tag[] = [];
    this.#inflight.forEach((e) => out.push(e.tag));
    return out;
  }
  get stats(): Readonly<{ sent: number; received: number; resent: number; pings: number; unknownAcks: number; connects: number }> {
    return this.#stats;
  }

  /** Starts a session on a freshly opened transport: writes CONNECT. */
  connect(nowMs: number): MqttStep {
    if (this.#state !== "disconnected") throw new MqttError(`client: connect() while ${this.#state}`);
    this.#parser.reset();
    this.#state = "connecting";
    this.#closeReason = null;
    this.#expectClose = false;
    this.#pingSentAt = -1;
    this.#subscribeId = 0;
    this.#connectDeadline = nowMs + this.#connectTimeoutMs;
    this.#lastReceived = nowMs;
    this.#stats.connects++;
    this.#write(this.#connectPacket, nowMs);
    return this.#step(nowMs);
  }

  /** Bytes from the transport, split anywhere. */
  onData(bytes: Uint8Array, nowMs: number): MqttStep {
    if (this.#state !== "connecting" && this.#state !== "connected") return this.#step(nowMs);
    this.#lastReceived = nowMs;
    try {
      this.#parser.feed(bytes, (p) => this.#onPacket(p, nowMs));
    } catch (e) {
      if (this.#state === "connecting" || this.#state === "connected") this.#fail(e instanceof MqttError ? e.message : `bad input: ${String(e)}`);
    }
    return this.#step(nowMs);
  }

  /** Timers: CONNACK timeout, keep-alive ping, dead connection. */
  tick(nowMs: number): MqttStep {
    if (this.#state === "connecting" && nowMs >= this.#connectDeadline) this.#fail(`no CONNACK within ${this.#connectTimeoutMs} ms`);
    else if (this.#state === "connected" && this.#keepAliveMs > 0) {
      if (this.#pingSentAt >= 0) {
        if (nowMs >= this.#pingSentAt + this.#pingTimeoutMs) this.#fail(`connection dead: nothing received within ${this.#pingTimeoutMs} ms of PINGREQ`);
      } else if (nowMs >= this.#pingDue()) {
        this.#pingSentAt = nowMs;
        this.#stats.pings++;
        this.#write(PINGREQ_BYTES, nowMs);
      }
    }
    return this.#step(nowMs);
  }

  /**
   * Sends a PUBLISH. QoS 1 (the default) returns its packet id and keeps it until its PUBACK,
   * which comes back as `acked(tag, id)`; QoS 0 returns 0. Throws MqttError if `canPublish` is
   * false or the topic or payload is not valid.
   */
  publish(topic: string, payload: Uint8Array, tag: Tag, nowMs: number, options?: { qos?: QoS; retain?: boolean }): number {
    if (this.#state !== "connected") throw new MqttError(`client: publish() while ${this.#state}`);
    const qos = options?.qos ?? 1;
    const retain = options?.retain === true;
    if (qos === 0) {
      this.#write(encodePublish(topic, payload, 0, 0, false, retain), nowMs);
      return 0;
    }
    if (this.#inflight.size >= this.#maxInflight) throw new MqttError(`client: ${this.#inflight.size} publishes in flight, the maximum`);
    const id = this.#allocateId();
    const packet = encodePublish(topic, payload, qos, id, false, retain);
    this.#inflight.set(id, { tag, packet }); // before writing: a failed write is re-sent next session
    this.#write(packet, nowMs);
    return id;
  }

  /** A clean hang-up: DISCONNECT, then close. Unacknowledged publishes stay for the next session. */
  disconnect(nowMs: number): MqttStep {
    if (this.#state === "connected") this.#write(DISCONNECT_BYTES, nowMs);
    if (this.#state === "connected" || this.#state === "connecting") {
      this.#state = "closing"; // nothing more goes out; the caller closes
      this.#closeReason = "disconnect";
      this.#expectClose = true;
    }
    return this.#step(nowMs);
  }

  /** The transport is closed (by us or by the peer or network). */
  onTransportClosed(): void {
    const was = this.#state;
    this.#state = "disconnected";
    this.#parser.reset();
    this.#pingSentAt = -1;
    this.#subscribeId = 0;
    if ((was === "connecting" || was === "connected") && !this.#expectClose) this.#emitError(`connection lost while ${was}`);
    this.#expectClose = false;
  }

  /** Forgets every unacknowledged publish (e.g. the outbox gave up on them); returns their tags. */
  abandonInflight(): Tag[] {
    const tags = this.inflightTags();
    this.#inflight.clear();
    return tags;
  }

  /** When tick() is next needed, or null. */
  get wakeAt(): number | null {
    if (this.#state === "connecting") return this.#connectDeadline;
    if (this.#state !== "connected" || this.#keepAliveMs === 0) return null;
    return this.#pingSentAt >= 0 ? this.#pingSentAt + this.#pingTimeoutMs : this.#pingDue();
  }

  // -------------------------------------------------------------------------------------------

  #pingDue(): number {
    const since = this.#lastSent < this.#lastReceived ? this.#lastSent : this.#lastReceived;
    return since + this.#keepAliveMs;
  }

  #step(nowMs: number): MqttStep {
    if (this.#state === "closing") return { close: true, reason: this.#closeReason, wakeAt: null };
    const at = this.wakeAt;
    return { close: false, reason: null, wakeAt: at === null ? null : at > nowMs ? at : nowMs };
  }

  #write(bytes: Uint8Array, nowMs: number): void {
    if (this.#state === "closing" || this.#state === "disconnected") return;
    try {
      this.#transport.write(bytes);
    } catch (e) {
      this.#fail(`transport write failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.#lastSent = nowMs;
    this.#stats.sent++;
  }

  #fail(reason: string): void {
    if (this.#state === "closing" || this.#state === "disconnected") return;
    this.#state = "closing";
    this.#closeReason = reason;
    this.#expectClose = true;
    this.#emitError(reason);
  }

  #emitError(reason: string): void {
    const handler = this.#events.error;
    if (!handler) return;
    try {
      handler(reason);
    } catch {
      // an error handler that throws has nobody left to tell
    }
  }

  #call(what: string, f: () => void): boolean {
    try {
      f();
      return true;
    } catch (e) {
      this.#emitError(`${what} handler threw: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  }

  #allocateId(): number {
    for (;;) {
      const id = this.#nextId;
      this.#nextId = id === 0xffff ? 1 : id + 1;
      if (!this.#inflight.has(id) && id !== this.#subscribeId) return id;
    }
  }

  #onPacket(p: MqttPacket, nowMs: number): void {
    if (this.#state !== "connecting" && this.#state !== "connected") return; // a handler hung up
    this.#stats.received++;
    this.#pingSentAt = -1; // anything at all proves the connection alive
    if (this.#state === "connecting") {
      if (p.type !== "connack") return this.#fail(`protocol error: ${p.type} before CONNACK`);
      if (p.returnCode !== 0) return this.#fail(`connection refused: ${connackReason(p.returnCode)}`);
      this.#onConnack(p.sessionPresent, nowMs);
      return;
    }
    switch (p.type) {
      case "publish":
        this.#onPublish(p, nowMs);
        return;
      case "puback": {
        const entry = this.#inflight.get(p.packetId);
        if (!entry) {
          this.#stats.unknownAcks++; // e.g. a late duplicate: harmless
          return;
        }
        this.#inflight.delete(p.packetId);
        const acked = this.#events.acked;
        if (acked) this.#call("acked", () => acked(entry.tag, p.packetId));
        return;
      }
      case "suback": {
        if (p.packetId !== this.#subscribeId) {
          this.#stats.unknownAcks++;
          return;
        }
        this.#subscribeId = 0;
        let ok = p.granted.length === this.#subscribePacketBody.length;
        for (let i = 0; i < p.granted.length; i++) {
          if (p.granted[i] === 0x80) {
            ok = false;
            this.#emitError(`subscription to ${this.#subscribePacketBody[i]?.topic ?? "?"} refused`);
          }
        }
        this.#subscribed = ok;
        const subscribed = this.#events.subscribed;
        if (subscribed) this.#call("subscribed", () => subscribed(p.granted));
        return;
      }
      case "pingresp":
        return;
      default:
        this.#fail(`protocol error: unexpected ${p.type} from the server`);
    }
  }

  #onConnack(sessionPresent: boolean, nowMs: number): void {
    this.#state = "connected";
    this.#sessionPresent = sessionPresent;
    // Re-send what the previous sessions left unacknowledged, same ids, DUP = 1, in order.
    this.#inflight.forEach((entry) => {
      setDup(entry.packet);
      this.#stats.resent++;
      this.#write(entry.packet, nowMs);
    });
    if (this.#subscribePacketBody.length > 0 && (!sessionPresent || !this.#subscribed)) {
      this.#subscribed = false;
      this.#subscribeId = this.#allocateId();
      this.#write(encodePacket({ type: "subscribe", packetId: this.#subscribeId, subscriptions: this.#subscribePacketBody }), nowMs);
    }
    const connected = this.#events.connected;
    if (connected && this.#state === "connected") this.#call("connected", () => connected(sessionPresent));
  }

  #onPublish(p: PublishPacket, nowMs: number): void {
    const message = this.#events.message;
    const info: MessageInfo = { qos: p.qos, dup: p.dup, retain: p.retain };
    const handled = message ? this.#call("message", () => message(p.topic, p.payload, info)) : true;
    if (p.qos === 1 && handled && p.packetId !== undefined) {
      this.#write(encodePacket({ type: "puback", packetId: p.packetId }), nowMs);
    }
  }
}

const PINGREQ_BYTES = Uint8Array.of(0xc0, 0x00);
const DISCONNECT_BYTES = Uint8Array.of(0xe0, 0x00);

function encodeUtf8Bytes(s: string): Uint8Array {
  // The password travels as bytes; a string one is sent as its UTF-8.
  const out = new Uint8Array(utf8Length(s));
  writeUtf8(s, out, 0);
  return out;
}
