/** A device on an emulated I2C bus (LCD backpack, PN532, …), spoken to at the byte level. */
export interface I2CTarget {
  readonly address: number;
  /** One write transaction's bytes; return false to NACK. */
  write(data: Uint8Array, stop: boolean): boolean;
  /** One read transaction; return null to NACK. */
  read(count: number, stop: boolean): Uint8Array | null;
  /**
   * What a read of `count` would give now, with no effect on the device (a read ahead:
   * host-services.ts). The first k bytes of it must be what a read of k gives, as on a real bus,
   * where a target sends byte after byte without knowing how many the controller will clock.
   */
  peek?(count: number): Uint8Array | null;
  /**
   * It acknowledges every write and nothing it does on one schedules host events (a PCF8574
   * backpack): the firmware may post its writes (shims/device.ts), served in order at the next
   * crossing, until the command ends (its next command asks again). So such a target is detached
   * only between commands (a script's or a test's action), never by a host timer.
   */
  readonly acksEveryWrite?: boolean;
}

export class I2CError extends Error {}

/** An I2C bus: the controller is the firmware; targets answer by address. */
export class I2CBus {
  #targets = new Map<number, I2CTarget>();
  transactions = 0;
  nacks = 0;

  attach(target: I2CTarget): void {
    if (this.#targets.has(target.address)) throw new Error(`I2C address 0x${target.address.toString(16)} is taken`);
    this.#targets.set(target.address, target);
  }

  detach(address: number): void {
    this.#targets.delete(address);
  }

  target(address: number): I2CTarget | undefined {
    return this.#targets.get(address);
  }

  write(address: number, data: Uint8Array, stop: boolean): void {
    this.transactions++;
    const t = this.#targets.get(address);
    if (!t || !t.write(data, stop)) {
      this.nacks++;
      throw new I2CError(`NACK from 0x${address.toString(16)} on write`);
    }
  }

  /** A target's read ahead (I2CTarget.peek), or null: no target, or one that cannot say. Not a transaction. */
  peek(address: number, count: number): Uint8Array | null {
    const data = this.#targets.get(address)?.peek?.(count) ?? null;
    return data && data.length === count ? data : null;
  }

  read(address: number, count: number, stop: boolean): Uint8Array {
    this.transactions++;
    const t = this.#targets.get(address);
    const data = t ? t.read(count, stop) : null;
    if (!data) {
      this.nacks++;
      throw new I2CError(`NACK from 0x${address.toString(16)} on read`);
    }
    if (data.length !== count) throw new I2CError(`0x${address.toString(16)} returned ${data.length} of ${count} bytes`);
    return data;
  }
}
