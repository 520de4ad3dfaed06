import type Listener from "embedded:io/socket/listener";
import type TCP from "embedded:io/socket/tcp";
import type UDP from "embedded:io/socket/udp";
import { Deframer, MAX_FRAME, Rejection } from "./frame";
import type { LinkReceiver, SensorLink } from "./radio";

export interface SensorWifiOptions {
  /** the socket classes: the modules embedded:io/socket/udp, …/listener and …/tcp on a board */
  udp: typeof UDP;
  listener: typeof Listener;
  tcp: typeof TCP;
  /** UDP port the terminal hears frames on */
  port: number;
  /** TCP port cameras send media on */
  mediaPort: number;
  receiver: LinkReceiver;
}

/** At most this many cameras send media at once; more are refused (closed) and counted. */
const MAX_MEDIA_CONNECTIONS = 4;
const MAX_PEERS = 16;

/** A sensor on Wi-Fi, as the hub answers it: datagrams to the address and port it spoke from. */
/** The SDK's UDP and Listener runtimes have close(); their typings (typings/embedded_io/socket) do not declare it. */
type ClosableUDP = UDP & { close(): void };
type ClosableListener = Listener & { close(): void };

class WifiPeer implements SensorLink {
  readonly name = "wifi";
  readonly address: string;
  readonly port: number;
  #udp: UDP;
  #errors: { count: number };

  constructor(udp: UDP, address: string, port: number, errors: { count: number }) {
    this.#udp = udp;
    this.address = address;
    this.port = port;
    this.#errors = errors;
  }

  send(frame: Uint8Array): void {
    try {
      this.#udp.write(frame, this.address, this.port);
    } catch {
      this.#errors.count++; // lost, as a datagram may be; the hub's timers recover
    }
  }

  close(): void {}
}

/** One camera's media connection: a stream of MEDIA frames, found by the same deframer as the radio's. */
class MediaConnection implements SensorLink {
  readonly name = "wifi-media";
  /** replies do not go here: the hub keeps answering the camera by UDP */
  readonly media = true;
  #socket: TCP;
  #deframer: Deframer;
  #done: (c: MediaConnection) => void;

  constructor(tcp: typeof TCP, from: TCP, receiver: LinkReceiver, done: (c: MediaConnection) => void) {
    this.#done = done;
    this.#deframer = new Deframer(
      (bytes) => receiver.frame(bytes, this),
      (why: Rejection) => receiver.reject(why),
    );
    const self = this;
    this.#socket = new tcp({
      from,
      onReadable() {
        for (;;) {
          const got = self.#socket.read();
          if (typeof got !== "object") break; // undefined: nothing left (a number only in "number" format)
          self.#deframer.push(new Uint8Array(got));
        }
      },
      onError() {
        self.#deframer.expire(); // what was left of a frame when the camera hung up was truncated
        self.close();
      },
    });
  }

  send(frame: Uint8Array): void {
    this.#socket.write(frame);
  }

  close(): void {
    this.#socket.close();
    this.#done(this);
  }
}

/**
 * The terminal's Wi-Fi endpoint for sensors and cameras: sensor-link frames one per UDP datagram
 * on `port`, media as a TCP stream of MEDIA frames on `mediaPort` (docs/protocols.md). Frames go
 * to the same hub as the radio's; the hub answers each sensor on the link it last spoke on.
 */
export class SensorWifi {
  #udp: ClosableUDP;
  #listener: ClosableListener;
  #peers: WifiPeer[] = [];
  #connections: MediaConnection[] = [];
  #receiver: LinkReceiver;
  #errors = { count: 0 };
  refusedConnections = 0;

  constructor(options: SensorWifiOptions) {
    const receiver = (this.#receiver = options.receiver);
    const self = this;
    this.#udp = <ClosableUDP>new options.udp({
      port: options.port,
      onReadable() {
        for (;;) {
          const d = self.#udp.read();
          if (d === undefined) break;
          if (d.byteLength > MAX_FRAME) {
            receiver.reject("oversized");
            continue;
          }
          receiver.frame(new Uint8Array(d), self.#peer(d.address, d.port));
        }
      },
    });
    this.#listener = <ClosableListener>new options.listener({
      port: options.mediaPort,
      onReadable() {
        for (;;) {
          const from = self.#listener.read();
          if (from === undefined) break;
          const c = new MediaConnection(options.tcp, from, self.#receiver, (done) => {
            self.#connections = self.#connections.filter((x) => x !== done);
          });
          if (self.#connections.length >= MAX_MEDIA_CONNECTIONS) {
            self.refusedConnections++;
            c.close();
          } else self.#connections.push(c);
        }
      },
    });
  }

  get writeErrors(): number {
    return this.#errors.count;
  }

  #peer(address: string, port: number): WifiPeer {
    for (const p of this.#peers) if (p.address === address && p.port === port) return p;
    const p = new WifiPeer(this.#udp, address, port, this.#errors);
    this.#peers.push(p);
    if (this.#peers.length > MAX_PEERS) this.#peers.shift();
    return p;
  }

  close(): void {
    for (const c of this.#connections.slice()) c.close();
    this.#listener.close();
    this.#udp.close();
  }
}
