import * as mqtt from "mqtt-packet";
import { encodeMessage, upTopic } from "../../firmware/uplink/messages";
import type { Message } from "../../firmware/uplink/messages";
import { RawMqtt } from "./mqtt-raw";

/**
 * A terminal as MQTT 3.1.1 asks one to behave, for cluster tests: it knows several center
 * addresses (ports on loopback), keeps its QoS 1 reports until their PUBACK, and when its
 * connection drops it dials the next address and re-sends every unacknowledged report with DUP = 1
 * and the same packet id before anything new. Reports are numbered 1…total (seq = packet id).
 */
export class FailoverTerminal {
  readonly id: string;
  readonly #secret: string;
  readonly #ports: () => number[];
  readonly #report: (terminal: string, seq: number) => Message;
  readonly #window: number;
  /** seqs acknowledged, and by which port's node */
  readonly acked = new Map<number, number>();
  /** seqs sent and not yet acknowledged */
  readonly #inFlight = new Set<number>();
  #next = 1;
  #client: RawMqtt | null = null;
  /** the port of the node it is connected to now, or the last one */
  port = 0;
  /** connections made after the first (failovers) and reports re-sent with DUP */
  reconnects = 0;
  resent = 0;
  #portIndex: number;
  #total = 0;
  /** the highest seq it may send for now (a test holds the stream there, then lets it go on) */
  #allowed = Infinity;

  constructor(o: { id: string; secret: string; ports: () => number[]; first: number; window: number; report: (terminal: string, seq: number) => Message }) {
    this.id = o.id;
    this.#secret = o.secret;
    this.#ports = o.ports;
    this.#portIndex = o.first;
    this.#window = o.window;
    this.#report = o.report;
  }

  #publish(seq: number, dup: boolean): void {
    this.#client?.send({ cmd: "publish", topic: upTopic(this.id), payload: Buffer.from(encodeMessage(this.#report(this.id, seq))), qos: 1, messageId: seq, dup, retain: false } as mqtt.IPublishPacket);
  }

  /** Dials the addresses in turn until one accepts the login (CONNACK 0). */
  async #dial(deadline: number): Promise<RawMqtt> {
    for (;;) {
      const ports = this.#ports();
      const port = ports[this.#portIndex % ports.length];
      try {
        const { client, returnCode } = await RawMqtt.login(port, this.id, this.#secret, false);
        if (returnCode === 0) {
          this.port = port;
          return client;
        }
        client.close();
      } catch {
        // refused or dropped before CONNACK: the next address
      }
      this.#portIndex++;
      if (Date.now() > deadline) throw new Error(`${this.id}: no center accepted the login`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Sends no report past `seq` until allowed further. */
  hold(seq: number): void {
    this.#allowed = seq;
  }

  /** Sends up to `seq` (Infinity: all). */
  allow(seq = Infinity): void {
    this.#allowed = seq;
    this.#top();
  }

  #top(): void {
    if (!this.#client) return;
    while (this.#inFlight.size < this.#window && this.#next <= Math.min(this.#total, this.#allowed)) {
      this.#inFlight.add(this.#next);
      this.#publish(this.#next++, false);
    }
  }

  /** Sends reports 1…total, failing over as needed, until every one is acknowledged. */
  async run(total: number, timeoutMs: number): Promise<void> {
    this.#total = total;
    const deadline = Date.now() + timeoutMs;
    let first = true;
    while (this.acked.size < total) {
      if (Date.now() > deadline) throw new Error(`${this.id}: ${this.acked.size} of ${total} acknowledged in ${timeoutMs} ms`);
      const client = await this.#dial(deadline);
      this.#client = client;
      if (!first) this.reconnects++;
      first = false;
      // MQTT 3.1.1 §4.4: unacknowledged QoS 1 publishes again, DUP set, same ids, before new ones
      for (const seq of [...this.#inFlight].sort((a, b) => a - b)) {
        this.resent++;
        this.#publish(seq, true);
      }
      this.#top();
      while (this.acked.size < total) {
        let ack: mqtt.IPubackPacket | null;
        try {
          ack = (await client.next("puback", 15_000)) as mqtt.IPubackPacket | null;
        } catch {
          if (this.#inFlight.size === 0) continue; // held, nothing asked: nothing to wait for
          ack = null; // no answer for 15 s: treat the node as gone
        }
        if (!ack) break;
        const seq = ack.messageId ?? 0;
        if (this.#inFlight.delete(seq)) this.acked.set(seq, this.port);
        this.#top();
      }
      client.close();
      this.#client = null;
      this.#portIndex++; // that node is gone (or will not answer): the next address first
    }
  }

  close(): void {
    this.#client?.close();
  }
}
