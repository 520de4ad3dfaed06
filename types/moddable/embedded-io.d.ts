// ECMA-419 IO classes under the module specifiers the Moddable SDK declares them (typings/embedded_io),
// with the same shapes, only the members the firmware uses. Where the SDK's runtime has a member
// its typings lack (close() on I2C, UDP and Listener), the firmware narrows locally, with a comment.

declare module "embedded:io/_common" {
  export type PinSpecifier = number;
  export type PortSpecifier = number;
}

declare module "embedded:io/i2c" {
  import type { PinSpecifier, PortSpecifier } from "embedded:io/_common";
  class I2C {
    constructor(options: {
      data: PinSpecifier;
      clock: PinSpecifier;
      hz: number;
      address: number;
      port?: PortSpecifier;
      format?: "buffer";
      target?: any;
    });
    write(value: ByteBuffer, stop?: boolean): void;
    read(byteLength: number, stop?: boolean): ArrayBuffer;
    read(buffer: ByteBuffer, stop?: boolean): number;
  }
  export default I2C;
}

declare module "embedded:io/digital" {
  import type { PinSpecifier } from "embedded:io/_common";
  type Edge = number;
  type Mode = number;
  class Digital {
    static readonly Input: number;
    static readonly InputPullUp: number;
    static readonly InputPullDown: number;
    static readonly InputPullUpDown: number;
    static readonly Output: number;
    static readonly OutputOpenDrain: number;
    static readonly Rising: Edge;
    static readonly Falling: Edge;
    constructor(
      options: {
        pin: PinSpecifier;
        mode: Mode;
        format?: "number";
        target?: any;
      } & ({ onReadable: (this: Digital) => void; edge: Edge } | { edge?: Edge }),
    );
    write(value: 0 | 1): void;
    read(): 0 | 1;
    close(): void;
  }
  export default Digital;
}

declare module "embedded:io/digitalbank" {
  type Mode = number;
  class DigitalBank {
    static readonly Input: number;
    static readonly InputPullUp: number;
    static readonly InputPullDown: number;
    static readonly Output: number;
    static readonly OutputOpenDrain: number;
    constructor(dictionary: {
      pins: number;
      mode: Mode;
      bank?: number | string;
      rises?: number;
      falls?: number;
      onReadable?: (this: DigitalBank, trigger: number) => void;
      format?: "number";
      target?: any;
    });
    close(): void;
    read(): number;
    write(value: number): void;
  }
  export default DigitalBank;
}

declare module "embedded:io/serial" {
  import type { PinSpecifier, PortSpecifier } from "embedded:io/_common";
  class Serial {
    constructor(
      options: ({ receive: PinSpecifier; transmit?: PinSpecifier } | { transmit: PinSpecifier }) & {
        baud: number;
        port: PortSpecifier;
        onReadable?: (this: Serial, bytes: number) => void;
        onWritable?: (this: Serial, bytes: number) => void;
        format?: "number" | "buffer";
        target?: any;
      },
    );
    close(): void;
    read(): number | ArrayBuffer | undefined;
    read(byteLength: number): ArrayBuffer | undefined;
    write(value: number | ByteBuffer): void;
  }
  export default Serial;
}

declare module "embedded:io/socket/tcp" {
  export type Options = (({ address: string } | { host: string }) & { port: number } | { from: TCP }) & {
    nodelay?: boolean;
    onReadable?: (this: TCP, bytes: number) => void;
    onWritable?: (this: TCP, bytes: number) => void;
    onError?: (this: TCP) => void;
    format?: "number" | "buffer";
    target?: any;
  };
  export default class TCP {
    constructor(options: Options);
    readonly remoteAddress: string | undefined;
    readonly remotePort: number | undefined;
    read(byteLength?: number): number | ArrayBuffer;
    write(value: number | ByteBuffer): void;
    close(): void;
  }
}

declare module "embedded:io/socket/udp" {
  class UDP {
    constructor(options: {
      port?: number;
      address?: string;
      onReadable?: (this: UDP, packets: number) => void;
      onError?: () => void;
      format?: "buffer";
      target?: any;
    });
    write(buffer: ByteBuffer, address: string, port: number): void;
    read(): ArrayBuffer & { address: string; port: number };
  }
  export default UDP;
}

declare module "embedded:io/socket/listener" {
  import TCP from "embedded:io/socket/tcp";
  class Listener {
    constructor(options: {
      port?: number;
      address?: string;
      onReadable?: (this: Listener, requests: number) => void;
      format?: "socket/tcp";
      target?: any;
    });
    read(): TCP | undefined;
    readonly port: number;
  }
  export default Listener;
}

// The host provider (typings/embedded_provider/builtin.d.ts): what `device` holds on a board.
declare module "embedded:provider/builtin" {
  import type Digital from "embedded:io/digital";
  import type DigitalBank from "embedded:io/digitalbank";
  import type I2C from "embedded:io/i2c";
  import type Serial from "embedded:io/serial";
  import type { PinSpecifier } from "embedded:io/_common";
  const device: {
    io: {
      Digital: typeof Digital;
      DigitalBank: typeof DigitalBank;
      I2C: typeof I2C;
      Serial: typeof Serial;
    };
    Digital: { default: ConstructorParameters<typeof Digital>[0] };
    DigitalBank: { default: ConstructorParameters<typeof DigitalBank>[0] };
    I2C: { default: ConstructorParameters<typeof I2C>[0] };
    Serial: { default: ConstructorParameters<typeof Serial>[0] };
    pin: { [name: string]: PinSpecifier };
  };
  export default device;
}
