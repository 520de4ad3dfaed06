/**
 * The terminal's Wi-Fi network, emulated: a small LAN in virtual time where the firmware (at
 * FIRMWARE_ADDRESS, the terminal's own soft access point) and host devices (Wi-Fi sensors,
 * cameras) exchange UDP datagrams and TCP streams. Delivery takes LAN_DELAY_MS; a datagram to a
 * port nobody bound is lost, as on a real network; a TCP connect to a port nobody listens on is
 * refused. The IoHub gives the firmware's ECMA-419 UDP/Listener/TCP objects handles on it.
 */
export const FIRMWARE_ADDRESS = "192.168.4.1";
export const LAN_DELAY_MS = 1;

export type Datagram = (bytes: Uint8Array, address: string, port: number) => void;

export interface StreamEnds {
  onData(bytes: Uint8Array): void;
  onClose(): void;
}

/** One end of a TCP connection. */
export class TcpEnd {
  #peer: TcpEnd | null = null;
  #lan: Lan;
  #handlers: StreamEnds | null = null;
  #pending: Uint8Array[] = [];
  #closed = false;
  readonly remoteAddress: string;
  readonly remotePort: number;

  constructor(lan: Lan, remoteAddress: string, remotePort: number) {
    this.#lan = lan;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
  }

  static pair(lan: Lan, a: [string, number], b: [string, number]): [TcpEnd, TcpEnd] {
    const x = new TcpEnd(lan, b[0], b[1]);
    const y = new TcpEnd(lan, a[0], a[1]);
    x.#peer = y;
    y.#peer = x;
    return [x, y];
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Who hears this end's incoming bytes; bytes that came before are handed over now. */
  attach(handlers: StreamEnds): void {
    this.#handlers = handlers;
    const pending = this.#pending;
    this.#pending = [];
    for (const b of pending) handlers.onData(b);
    if (this.#closed) handlers.onClose();
  }

  write(bytes: Uint8Array): void {
    if (this.#closed) throw new Error("socket closed");
    const peer = this.#peer;
    const copy = bytes.slice();
    if (peer) this.#lan.schedule(LAN_DELAY_MS, () => peer.#receive(copy));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const peer = this.#peer;
    if (peer) this.#lan.schedule(LAN_DELAY_MS, () => peer.#peerClosed());
  }

  #receive(bytes: Uint8Array): void {
    if (this.#closed) return;
    if (this.#handlers) this.#handlers.onData(bytes);
    else this.#pending.push(bytes);
  }

  #peerClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers?.onClose();
  }
}

export class Lan {
  readonly schedule: (delayMs: number, run: () => void) => unknown;
  #udp = new Map<string, Datagram>();
  #listeners = new Map<string, (end: TcpEnd) => void>();
  #nextPort = 49152;
  datagrams = 0;
  lost = 0;
  connections = 0;

  constructor(schedule: (delayMs: number, run: () => void) => unknown) {
    this.schedule = schedule;
  }

  ephemeralPort(): number {
    return this.#nextPort++;
  }

  bindUdp(address: string, port: number, receive: Datagram): () => void {
    const key = `${address}:${port}`;
    if (this.#udp.has(key)) throw new Error(`UDP ${key} is in use`);
    this.#udp.set(key, receive);
    return () => {
      if (this.#udp.get(key) === receive) this.#udp.delete(key);
    };
  }

  sendUdp(from: [string, number], to: [string, number], bytes: Uint8Array): void {
    this.datagrams++;
    const copy = bytes.slice();
    this.schedule(LAN_DELAY_MS, () => {
      const receive = this.#udp.get(`${to[0]}:${to[1]}`);
      if (receive) receive(copy, from[0], from[1]);
      else this.lost++;
    });
  }

  listen(address: string, port: number, accept: (end: TcpEnd) => void): () => void {
    const key = `${address}:${port}`;
    if (this.#listeners.has(key)) throw new Error(`TCP ${key} is in use`);
    this.#listeners.set(key, accept);
    return () => {
      if (this.#listeners.get(key) === accept) this.#listeners.delete(key);
    };
  }

  /** Opens a connection; the server side is accepted after the LAN delay. Throws when refused. */
  connect(from: string, to: [string, number]): TcpEnd {
    const accept = this.#listeners.get(`${to[0]}:${to[1]}`);
    if (!accept) throw new Error(`connection refused by ${to[0]}:${to[1]}`);
    this.connections++;
    const [client, server] = TcpEnd.pair(this, [from, this.ephemeralPort()], to);
    this.schedule(LAN_DELAY_MS, () => accept(server));
    return client;
  }
}
