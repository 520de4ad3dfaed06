/**
 * `embedded:provider/builtin` for a `mcconfig -p lin` build (the Moddable SDK's Linux simulator).
 * The SDK has no host provider for lin, and a PC has no I2C bus, GPIO or board UARTs: this gives
 * the esp32/nodemcu provider's shape with buses on which nothing answers: an I2C transfer fails as
 * a NACK does (the drivers count it and carry on), pins read idle-high, a UART never receives and
 * drops what it is sent. It lets the firmware link and boot on lin with no board attached; it is not
 * part of an esp32 build. Preloaded, it installs the `device` global as the SDK's `system` module
 * does on a board (modules/io/system/system.js).
 */
import type Digital from "embedded:io/digital";
import type DigitalBank from "embedded:io/digitalbank";
import type I2C from "embedded:io/i2c";
import type Serial from "embedded:io/serial";

class AbsentI2C {
  constructor(_options: { data: number; clock: number; hz: number; address: number }) {}
  read(_what: number | ByteBuffer, _stop?: boolean): never {
    throw new Error("I2C: no bus on lin (NACK)");
  }
  write(_buffer: ByteBuffer, _stop?: boolean): never {
    throw new Error("I2C: no bus on lin (NACK)");
  }
  close(): void {}
}

class IdleDigital {
  static readonly Input = 0;
  static readonly InputPullUp = 1;
  static readonly InputPullDown = 2;
  static readonly InputPullUpDown = 3;
  static readonly Output = 8;
  static readonly OutputOpenDrain = 9;
  static readonly Rising = 1;
  static readonly Falling = 2;
  constructor(_options: { pin: number; mode: number }) {}
  read(): 0 | 1 {
    return 1;
  }
  write(_value: 0 | 1): void {}
  close(): void {}
}

class IdleDigitalBank {
  static readonly Input = 0;
  static readonly InputPullUp = 1;
  static readonly InputPullDown = 2;
  static readonly InputPullUpDown = 3;
  static readonly Output = 8;
  static readonly OutputOpenDrain = 9;
  #pins: number;
  constructor(options: { pins: number; mode: number }) {
    this.#pins = options.pins >>> 0;
  }
  read(): number {
    return this.#pins;
  }
  write(_value: number): void {}
  close(): void {}
}

class SilentSerial {
  constructor(_options: { port: number; baud: number }) {}
  read(): undefined {
    return undefined;
  }
  write(_value: number | ByteBuffer): void {}
  close(): void {}
}

// typed as the SDK's IO classes, whose members the firmware uses
const io = {
  I2C: AbsentI2C as unknown as typeof I2C,
  Digital: IdleDigital as unknown as typeof Digital,
  DigitalBank: IdleDigitalBank as unknown as typeof DigitalBank,
  Serial: SilentSerial as unknown as typeof Serial,
};
const device = {
  I2C: { default: { io: io.I2C, data: 21, clock: 22 } },
  Serial: { default: { io: io.Serial, port: 1, receive: 3, transmit: 1 } },
  io,
  pin: { button: 0, led: 2 },
};
(globalThis as any).device = Object.freeze(device);
Object.freeze(device.I2C);
Object.freeze(device.I2C.default);
Object.freeze(device.Serial);
Object.freeze(device.Serial.default);
Object.freeze(device.io);
Object.freeze(device.pin);
export default device;
