import * as mqtt from "mqtt-packet";
import { Socket, connect } from "node:net";

/** A bare MQTT 3.1.1 client over mqtt-packet, for tests that need to misbehave on purpose. */
export class RawMqtt {
  readonly socket: Socket;
  #packets: mqtt.Packet[] = [];
  #waiters: Array<() => void> = [];
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    const parser = mqtt.parser({ protocolVersion: 4 });
    parser.on("packet", (p) => {
      this.#packets.push(p);
      this.#wake();
    });
    parser.on("error", () => socket.destroy());
    socket.on("data", (d) => parser.parse(d));
    socket.on("close", () => {
      this.closed = true;
      this.#wake();
    });
    socket.on("error", () => undefined);
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** `from`: a loopback source address other than 127.0.0.1 (to stand for another client). */
  static async open(port: number, from?: string): Promise<RawMqtt> {
    const socket = connect({ port, host: "127.0.0.1", ...(from ? { localAddress: from } : {}) });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new RawMqtt(socket);
  }

  /** Connects; resolves with the CONNACK return code (0 = accepted). */
  static async login(port: number, id: string, secret: string, clean = false, from?: string): Promise<{ client: RawMqtt; returnCode: number; sessionPresent: boolean }> {
    const client = await RawMqtt.open(port, from);
    client.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: id, username: id, password: Buffer.from(secret), clean, keepalive: 60 } as mqtt.IConnectPacket);
    const ack = (await client.next("connack")) as mqtt.IConnackPacket;
    return { client, returnCode: ack.returnCode ?? -1, sessionPresent: ack.sessionPresent };
  }

  send(packet: mqtt.Packet): void {
    this.socket.write(mqtt.generate(packet));
  }

  raw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next packet of this kind (others are kept), or null when the connection closes first. */
  async next(cmd: string, timeoutMs = 5000): Promise<mqtt.Packet | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#packets.findIndex((p) => p.cmd === cmd);
      if (i >= 0) return this.#packets.splice(i, 1)[0];
      if (this.closed) return null;
      if (Date.now() > deadline) throw new Error(`no ${cmd} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async publish(topic: string, payload: Uint8Array, messageId: number, dup = false): Promise<boolean> {
    this.send({ cmd: "publish", topic, payload: Buffer.from(payload), qos: 1, messageId, dup, retain: false } as mqtt.IPublishPacket);
    const ack = await this.next("puback");
    return ack !== null && (ack as mqtt.IPubackPacket).messageId === messageId;
  }

  async subscribe(topic: string, messageId = 1): Promise<number[]> {
    this.send({ cmd: "subscribe", messageId, subscriptions: [{ topic, qos: 1 }] } as mqtt.ISubscribePacket);
    const ack = (await this.next("suback")) as mqtt.ISubackPacket | null;
    return ack ? (ack.granted as number[]) : [];
  }

  close(): void {
    this.socket.destroy();
  }
}
