import type { IoHub } from "../io/hub";
import type { Uart, UartPeer } from "../io/uart";

/** Anything on the air: a sensor, a camera, the attacker. */
export interface AirStation {
  /** bytes heard on the air (a whole transmission) */
  hear(bytes: Uint8Array): void;
}

/**
 * The sub-GHz radio module on the terminal's UART 2, in transparent mode, and the air around it.
 * What the firmware writes is transmitted as it is after the air delay; what a station transmits
 * reaches every other station and, through the module, the firmware's UART (at the UART's baud).
 * The module knows nothing of our framing: a truncated or corrupted transmission arrives as such.
 */
export class RadioModule implements UartPeer {
  readonly port: number;
  /** ms from the start of a transmission to its being heard */
  airDelayMs = 2;
  #io: IoHub;
  #uart: Uart;
  #stations = new Set<AirStation>();
  transmissions = 0;
  /** fault injection: the next this many station transmissions never reach the terminal */
  dropToFirmware = 0;
  /** fault injection: the next this many transmissions of the terminal reach no station */
  dropFromFirmware = 0;
  dropped = 0;
  bytesToFirmware = 0;
  bytesFromFirmware = 0;

  constructor(io: IoHub, port = 2) {
    this.#io = io;
    this.port = port;
    this.#uart = io.uart(port);
    this.#uart.connect(this);
  }

  join(station: AirStation): void {
    this.#stations.add(station);
  }

  leave(station: AirStation): void {
    this.#stations.delete(station);
  }

  /** The firmware wrote bytes to the module: they go on the air. */
  receive(bytes: Uint8Array): void {
    this.bytesFromFirmware += bytes.length;
    if (this.dropFromFirmware > 0) {
      this.dropFromFirmware--;
      this.dropped++;
      return;
    }
    this.#broadcast(null, bytes);
  }

  /** A station transmits: every other station hears it, and the module passes it to the firmware. */
  transmit(from: AirStation | null, bytes: Uint8Array): void {
    this.transmissions++;
    this.#broadcast(from, bytes);
    if (this.dropToFirmware > 0) {
      this.dropToFirmware--;
      this.dropped++;
      return;
    }
    this.#io.schedule(this.airDelayMs, () => {
      this.bytesToFirmware += bytes.length;
      this.#uart.send(bytes);
    });
  }

  #broadcast(from: AirStation | null, bytes: Uint8Array): void {
    const copy = bytes.slice();
    for (const s of this.#stations) {
      if (s === from) continue;
      this.#io.schedule(this.airDelayMs, () => s.hear(copy));
    }
  }

  snapshot(): Record<string, unknown> {
    return {
      transmissions: this.transmissions,
      dropped: this.dropped,
      bytesToFirmware: this.bytesToFirmware,
      bytesFromFirmware: this.bytesFromFirmware,
      baud: this.#uart.baud,
    };
  }
}
