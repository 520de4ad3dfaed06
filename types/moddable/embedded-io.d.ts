// ECMA-419 IO as the Moddable SDK's host provider exposes it on the `device` global
// (modules/io: "include": "$(MODDABLE)/modules/io/manifest.json"). Only what the firmware uses.
// Drivers take an options object that carries its IO class (`io`), Moddable style:
//   new HD44780({ ...device.I2C.default, io: device.io.I2C, address: 0x27 })

declare namespace EmbeddedIO {
  type Buffer = ArrayBuffer | ArrayBufferView;

  interface I2COptions {
    data: number;
    clock: number;
    hz: number;
    address: number;
    port?: number;
    timeout?: number;
  }
  interface I2C {
    /** reads `count` bytes (or fills `buffer`); throws on NACK */
    read(count: number, stop?: boolean): ArrayBuffer;
    read(buffer: ArrayBufferView, stop?: boolean): void;
    /** writes; throws on NACK */
    write(buffer: Buffer, stop?: boolean): void;
    close(): void;
  }
  interface I2CConstructor {
    new (options: I2COptions): I2C;
  }

  interface DigitalOptions {
    pin: number;
    mode: number;
    edge?: number;
    onReadable?: (this: Digital) => void;
  }
  interface Digital {
    read(): number;
    write(value: number): void;
    close(): void;
  }
  interface DigitalConstructor {
    new (options: DigitalOptions): Digital;
    readonly Input: number;
    readonly InputPullUp: number;
    readonly InputPullDown: number;
    readonly Output: number;
    readonly OutputOpenDrain: number;
    readonly Rising: number;
    readonly Falling: number;
  }

  interface DigitalBankOptions {
    pins: number;
    mode: number;
    rises?: number;
    falls?: number;
    bank?: number;
    onReadable?: (this: DigitalBank, triggered: number) => void;
  }
  interface DigitalBank {
    /** the levels of the bank's pins as a bit mask */
    read(): number;
    /** drives the bank's output pins from a bit mask */
    write(bits: number): void;
    close(): void;
  }
  interface DigitalBankConstructor {
    new (options: DigitalBankOptions): DigitalBank;
  }

  interface SerialOptions {
    port: number;
    receive: number;
    transmit: number;
    baud: number;
    format?: "buffer" | "number";
    /** called with the number of bytes ready to read */
    onReadable?: (this: Serial, count: number) => void;
    onWritable?: (this: Serial, count: number) => void;
    onError?: (this: Serial) => void;
  }
  interface Serial {
    /** everything ready (or at most `count` bytes); undefined when nothing is there */
    read(count?: number): ArrayBuffer | undefined;
    /** throws when the output is full */
    write(buffer: Buffer): void;
    close(): void;
  }
  interface SerialConstructor {
    new (options: SerialOptions): Serial;
  }

  // Sockets, as Moddable's host provider exposes them under device.network (udp, tcp, listener).
  interface UDPOptions {
    /** local port; omitted: an ephemeral one */
    port?: number;
    /** called with the number of datagrams waiting */
    onReadable?: (this: UDP, count: number) => void;
    onError?: (this: UDP) => void;
  }
  interface UDP {
    /** one datagram, with the sender's numeric IPv4 address and port; undefined when none */
    read(): (ArrayBuffer & { address: string; port: number }) | undefined;
    write(buffer: Buffer, address: string, port: number): void;
    close(): void;
  }
  interface UDPConstructor {
    new (options: UDPOptions): UDP;
  }
  /** What Listener.read() gives: passed as `from` to the TCP constructor. */
  interface AcceptedSocket {
    readonly __accepted: unique symbol;
  }
  interface ListenerOptions {
    port: number;
    /** called with the number of connections waiting */
    onReadable?: (this: Listener, count: number) => void;
  }
  interface Listener {
    read(): AcceptedSocket | undefined;
    close(): void;
  }
  interface ListenerConstructor {
    new (options: ListenerOptions): Listener;
  }
  interface TCPOptions {
    /** an accepted connection (Listener.read()); or address and port to connect out */
    from?: AcceptedSocket;
    address?: string;
    port?: number;
    onReadable?: (this: TCP, count: number) => void;
    onWritable?: (this: TCP, count: number) => void;
    /** the connection failed or the peer closed it */
    onError?: (this: TCP) => void;
  }
  interface TCP {
    read(count?: number): ArrayBuffer | undefined;
    write(buffer: Buffer): void;
    close(): void;
  }
  interface TCPConstructor {
    new (options: TCPOptions): TCP;
  }

  interface Device {
    readonly network: {
      readonly udp: { readonly io: UDPConstructor };
      readonly tcp: { readonly io: TCPConstructor };
      readonly listener: { readonly io: ListenerConstructor };
    };
    readonly io: {
      readonly I2C: I2CConstructor;
      readonly Digital: DigitalConstructor;
      readonly DigitalBank: DigitalBankConstructor;
      readonly Serial: SerialConstructor;
    };
    readonly I2C: { readonly default: { io: I2CConstructor; data: number; clock: number; hz?: number; port?: number } };
    readonly Serial: { readonly default: { io: SerialConstructor; port: number; receive: number; transmit: number } };
  }
}

declare const device: EmbeddedIO.Device;
