import type { Engine, EngineName, Meter } from "./engines/engine";
import { startNodeEngine } from "./engines/node-engine";
import { HostServices } from "./host-services";
import { VirtualClock } from "./clock";
import { FlashFile } from "./storage/flash-file";
import { firmwareBundle, manifestConfig } from "./project";

export interface SimulatorOptions {
  engine: EngineName;
  /** virtual wall-clock start, ms since 1970 */
  startMs: number;
  /** the flash file; null keeps flash in memory (lost when the simulator ends) */
  flashPath?: string | null;
  /** merged over the manifest's config */
  config?: Record<string, unknown>;
  log?: (line: string) => void;
}

export class SimulatorError extends Error {}

/**
 * One simulated terminal: the firmware on an engine, its flash, and the virtual clock. Power can be
 * cut at any moment (also in the middle of a flash write) and restored; the flash survives.
 */
export class Simulator {
  readonly engineName: EngineName;
  readonly clock: VirtualClock;
  #options: SimulatorOptions;
  #flash: FlashFile | null = null;
  #host: HostServices | null = null;
  #engine: Engine | null = null;
  #nextDue: number | null = null;
  #meter: Meter = { compute: 0, lastCompute: 0, allocate: 0, heapCount: 0, calls: 0 };
  /** meter totals of engines already shut down (every boot is a new engine) */
  #pastCompute = 0;
  #pastCalls = 0;
  #memoryFlash: FlashFile | null = null;
  powerCuts = 0;

  private constructor(options: SimulatorOptions) {
    this.#options = options;
    this.engineName = options.engine;
    this.clock = new VirtualClock(options.startMs);
  }

  static async start(options: SimulatorOptions): Promise<Simulator> {
    const sim = new Simulator(options);
    await sim.powerOn();
    return sim;
  }

  get powered(): boolean {
    return this.#engine !== null;
  }

  get flash(): FlashFile {
    if (!this.#flash) throw new SimulatorError("the terminal has no power");
    return this.#flash;
  }

  /** Boots the firmware from what the flash holds. */
  async powerOn(): Promise<void> {
    if (this.#engine) throw new SimulatorError("already powered");
    const path = this.#options.flashPath ?? null;
    // A file-backed flash is read back from the file, as a board reads its NVS after a cut.
    this.#flash = path ? new FlashFile(path) : (this.#memoryFlash ??= new FlashFile(null));
    this.#flash.powerUp();
    const config = { ...manifestConfig(), ...(this.#options.config ?? {}) };
    this.#host = new HostServices({
      flash: this.#flash,
      config,
      setClock: (ms) => this.clock.jump(ms),
      log: this.#options.log,
    });
    const host = this.#host;
    const line = (request: string) => host.handle(request);
    const bundle = firmwareBundle();
    this.#engine =
      this.engineName === "xs"
        ? await (await import("./engines/xs-engine")).startXsEngine(bundle, line)
        : await startNodeEngine(bundle, line);
    await this.command("boot", { now: this.clock.now });
  }

  /** Cuts the power now: the engine is gone, the flash keeps what was written. */
  async powerCut(): Promise<void> {
    this.powerCuts++;
    await this.#shutdown();
  }

  /** Arms a power cut `bytes` bytes into the coming flash writes. */
  armPowerCut(bytes: number): void {
    this.flash.armPowerCut(bytes);
  }

  /**
   * Sends a command to the firmware. Returns its value; undefined when the power failed during it
   * (the engine is then shut down, as a dead board would be).
   */
  async command(op: string, args?: unknown): Promise<any> {
    if (!this.#engine) throw new SimulatorError("the terminal has no power");
    const reply = JSON.parse(await this.#engine.command(JSON.stringify({ op, args })));
    this.#account();
    if (reply.powerCut || this.#host?.powerCut) {
      this.powerCuts++;
      await this.#shutdown();
      return undefined;
    }
    if (reply.error !== undefined) throw new SimulatorError(`firmware ${reply.error}`);
    this.#nextDue = reply.nextDue ?? null;
    return reply.value;
  }

  /** Runs the virtual clock forward by `ms`, stopping at every timer the firmware set. */
  async advance(ms: number): Promise<void> {
    await this.runUntil(this.clock.now + ms);
  }

  async runUntil(targetMs: number): Promise<void> {
    while (this.#engine && this.#nextDue !== null && this.#nextDue <= targetMs) {
      this.clock.advanceTo(this.#nextDue);
      await this.#advanceFirmware();
    }
    this.clock.advanceTo(targetMs);
    if (this.#engine) await this.#advanceFirmware();
  }

  async snapshot(): Promise<Record<string, any>> {
    return this.command("snapshot");
  }

  meter(): Meter | null {
    return this.engineName === "xs" ? { ...this.#meter } : null;
  }

  async close(): Promise<void> {
    await this.#shutdown();
    this.#memoryFlash = null;
  }

  async #advanceFirmware(): Promise<void> {
    await this.command("advance", { to: this.clock.now });
  }

  #account(): void {
    const m = this.#engine?.meter();
    if (!m) return;
    this.#meter = {
      ...m,
      compute: this.#pastCompute + m.compute,
      calls: this.#pastCalls + m.calls,
      allocate: Math.max(this.#meter.allocate, m.allocate),
    };
  }

  async #shutdown(): Promise<void> {
    const engine = this.#engine;
    this.#engine = null;
    this.#pastCompute = this.#meter.compute;
    this.#pastCalls = this.#meter.calls;
    this.#nextDue = null;
    this.#flash?.disarm();
    if (this.#options.flashPath) this.#flash?.close();
    if (engine) await engine.close();
  }
}
