/** The far end of a UART: the modem, the radio module. */
export interface UartPeer {
  /** bytes the firmware transmitted */
  receive(bytes: Uint8Array): void;
}

/**
 * A UART between the firmware and an emulated module. Bytes from the module reach the firmware
 * after the time the line needs at its baud rate (10 bits a byte), through the hub's event queue.
 */
export class Uart {
  readonly port: number;
  baud = 115200;
  #peer: UartPeer | null = null;
  #toFirmware: (bytes: Uint8Array, delayMs: number) => void;
  /** when the line from the module is next free (virtual ms) */
  #busyUntil = 0;
  #now: () => number;
  bytesIn = 0;
  bytesOut = 0;

  constructor(port: number, now: () => number, toFirmware: (bytes: Uint8Array, delayMs: number) => void) {
    this.port = port;
    this.#now = now;
    this.#toFirmware = toFirmware;
  }

  connect(peer: UartPeer | null): void {
    this.#peer = peer;
  }

  /** The firmware wrote these bytes. */
  fromFirmware(bytes: Uint8Array): void {
    this.bytesOut += bytes.length;
    this.#peer?.receive(bytes);
  }

  /** The module sends bytes to the firmware; they arrive after their time on the line. */
  send(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.bytesIn += bytes.length;
    const now = this.#now();
    const start = Math.max(now, this.#busyUntil);
    const lineMs = Math.ceil((bytes.length * 10 * 1000) / this.baud);
    this.#busyUntil = start + lineMs;
    this.#toFirmware(bytes.slice(), this.#busyUntil - now);
  }
}
