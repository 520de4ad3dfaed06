import type Serial from "embedded:io/serial";
import Timer from "timer";
import { Deframer, Rejection } from "./frame";

/** Where a link hands what it hears: whole frames (CRC good) and the refusals it counted. */
export interface LinkReceiver {
  frame(bytes: Uint8Array, link: SensorLink): void;
  reject(why: Rejection): void;
}

/** A way to the sensors: the UART radio, or the Wi-Fi endpoint. */
export interface SensorLink {
  readonly name: string;
  /** a media stream (Wi-Fi TCP): the hub does not answer the sensor on it */
  readonly media?: boolean;
  /** sends one whole frame (to every sensor in range: the frame carries its ID) */
  send(frame: Uint8Array): void;
  close(): void;
}

export interface SensorRadioOptions {
  /** the UART: `{...device.Serial.default, io: device.io.Serial, port, receive, transmit, baud}` */
  serial: { io: typeof Serial; port: number; receive: number; transmit: number; baud: number };
  /** a partial frame older than this is dropped as truncated (ms) */
  gapMs?: number;
  receiver: LinkReceiver;
  /** a frame the UART would not take (output full): lost, as on the air; counted too */
  onError?: (message: string) => void;
}

/**
 * The sub-GHz radio module on a UART, in transparent mode: what the terminal writes goes on the
 * air as it is, and what the module hears comes back as bytes. The framing (sync, length, CRC) is
 * ours (frame.ts); this driver finds the frames in the byte stream and hands them on. In the SDK's
 * driver style: the serial options spread over the defaults, private fields, close(); a frame the
 * UART refuses is counted and reported through onError (the hub's timers recover), malformed
 * frames go to the receiver's reject().
 */
export class SensorRadio implements SensorLink {
  readonly name = "radio";
  #serial: Serial;
  #deframer: Deframer;
  #gapMs: number;
  #gapTimer: ReturnType<typeof Timer.set> | undefined = undefined;
  #writeErrors = 0;
  #bytesIn = 0;
  #onError: (message: string) => void;

  constructor(options: SensorRadioOptions) {
    const receiver = options.receiver;
    this.#gapMs = options.gapMs ?? 50;
    this.#onError = options.onError ?? (() => {});
    this.#deframer = new Deframer(
      (bytes) => receiver.frame(bytes, this),
      (why) => receiver.reject(why),
    );
    const self = this;
    this.#serial = new options.serial.io({
      format: "buffer",
      ...options.serial,
      onReadable() {
        self.#readable();
      },
    });
  }

  get writeErrors(): number {
    return this.#writeErrors;
  }
  get bytesIn(): number {
    return this.#bytesIn;
  }

  send(frame: Uint8Array): void {
    try {
      this.#serial.write(frame);
    } catch {
      this.#writeErrors++; // output full: the frame is lost, as on the air; the hub's timers recover
      this.#onError("radio: UART output full, frame lost");
    }
  }

  #readable(): void {
    for (;;) {
      const got = this.#serial.read();
      if (typeof got !== "object") break; // undefined: nothing left (a number only in "number" format)
      const bytes = new Uint8Array(got);
      this.#bytesIn += bytes.length;
      this.#deframer.push(bytes);
    }
    if (this.#gapTimer !== undefined) Timer.clear(this.#gapTimer);
    this.#gapTimer = undefined;
    if (this.#deframer.pending > 0) {
      this.#gapTimer = Timer.set(() => {
        this.#gapTimer = undefined;
        this.#deframer.expire();
      }, this.#gapMs);
    }
  }

  close(): void {
    if (this.#gapTimer !== undefined) Timer.clear(this.#gapTimer);
    this.#gapTimer = undefined;
    this.#serial.close();
  }
}
