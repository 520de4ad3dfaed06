import type { Engine, EngineName, LiveMemory, Meter } from "./engines/engine";
import { startNodeEngine } from "./engines/node-engine";
import { HostServices } from "./host-services";
import { VirtualClock } from "./clock";
import { type AheadEntry, IoHub } from "./io/hub";
import { FlashFile, type FlashValue } from "./storage/flash-file";
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
  /**
   * "batched" (the default): one round trip into the engine per host event, the firmware running
   * its own timers up to the host's next event in it (#step). "per-event": the reference it must
   * match, as before: a round trip for the events and one for the timers due, at every host or
   * firmware event (tests/sim-stepping.test.ts compares the two).
   */
  stepping?: "batched" | "per-event";
  /** Hears every host call out of the firmware, with the firmware's time at the call (tests). */
  onHostCall?: (op: string, args: unknown, t: number | undefined) => void;
}

export class SimulatorError extends Error {}

/** A simulated peripheral or field device: adds to the snapshot, reacts to power. */
export interface SimPlugin {
  readonly name: string;
  /** merged into the firmware's snapshot under these keys */
  snapshot?(): Record<string, unknown>;
  /** the terminal lost power (its bus devices may reset) */
  powerLost?(): void;
  /** Real-world work (a socket on loopback) that virtual time must wait for, or null; awaited before each step. */
  realWork?(): Promise<void> | null;
  /** True while real-world work is under way (realWork would wait): the firmware's run of timers stops. */
  busy?(): boolean;
  /**
   * True while a real exchange is open (the modem's socket to the center): what the real server
   * sends lands at the virtual instant it arrives at, so a step does not go on to the host's next
   * events (#next): one host event per step, realWork awaited between them, as before.
   */
  live?(): boolean;
  /** After each step of the firmware (e.g. write a card's file once for the step's block writes). */
  afterStep?(): void;
  /** When a run of virtual time (runUntil) is over: whatever was put off while it ran is done now. */
  settled?(): void;
}

/** More steps than this at one virtual instant means devices are feeding each other forever. */
const MAX_STEPS_AT_ONE_INSTANT = 10_000;

/**
 * One simulated terminal: the firmware on an engine, its flash, and the virtual clock. Power can be
 * cut at any moment (also in the middle of a flash write) and restored; the flash survives.
 */
export class Simulator {
  readonly engineName: EngineName;
  readonly clock: VirtualClock;
  /** the board's buses and pins; devices attach here and outlive power cuts */
  readonly io: IoHub;
  #plugins = new Map<string, SimPlugin>();
  #options: SimulatorOptions;
  #flash: FlashFile | null = null;
  #host: HostServices | null = null;
  #engine: Engine | null = null;
  #nextDue: number | null = null;
  /** the firmware's clock after the last step (null: not known), for the step that would do nothing (#step) */
  #firmwareNow: number | null = null;
  /** deliveries a step carries ahead of their instant (#step), and the hub's handles they were made with */
  #ahead: { entries: AheadEntry[]; epoch: number; later: Array<{ at: number; events: AheadEntry["events"] }> } | null = null;
  /** while a step of runUntil runs: its target, and the instant the host last went on to with how many times (#next) */
  #going: { to: number; last: number; steps: number } | null = null;
  /** instants of deliveries carried ahead by a step, and those the firmware took (the rest went back) */
  #aheadCarried = 0;
  #aheadTaken = 0;
  #meter: Meter = { compute: 0, lastCompute: 0, allocate: 0, heapCount: 0, calls: 0, collections: 0 };
  /** meter totals of engines already shut down (every boot is a new engine) */
  #pastCompute = 0;
  #pastCalls = 0;
  #memoryFlash: FlashFile | null = null;
  powerCuts = 0;
  /** Called before virtual time runs to a target (the demo writes its clock file ahead: host-sim/demo-clock.ts). */
  onRunTo: ((targetMs: number) => void) | null = null;
  /** Called after every step (a CLI's progress line). */
  onStep: (() => void) | null = null;
  /** round trips into the engine (commands) and out of it (host calls), by op, over every boot */
  #commands = new Map<string, number>();
  #hostCalls = new Map<string, number>();
  #pastCrossings = 0;
  #pastCrossed = new Map<string, number>();
  #pastServingMs = 0;

  private constructor(options: SimulatorOptions) {
    this.#options = options;
    this.engineName = options.engine;
    this.clock = new VirtualClock(options.startMs);
    this.io = new IoHub(() => this.clock.now);
  }

  /** Adds a simulated device (LCD, keypad, card reader, sensors, modem…). */
  use<T extends SimPlugin>(plugin: T): T {
    if (this.#plugins.has(plugin.name)) throw new SimulatorError(`${plugin.name} is already attached`);
    this.#plugins.set(plugin.name, plugin);
    return plugin;
  }

  plugin<T extends SimPlugin>(name: string): T {
    const p = this.#plugins.get(name);
    if (!p) throw new SimulatorError(`no ${name} in this simulator`);
    return p as T;
  }

  hasPlugin(name: string): boolean {
    return this.#plugins.has(name);
  }

  static async start(options: SimulatorOptions): Promise<Simulator> {
    const sim = new Simulator(options);
    await sim.powerOn();
    return sim;
  }

  /** The firmware's config: the manifest's, with this simulator's overrides (devices read their pins here). */
  get config(): Record<string, unknown> {
    return { ...manifestConfig(), ...(this.#options.config ?? {}) };
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
    const config = this.config;
    this.#host = new HostServices({
      flash: this.#flash,
      io: this.io,
      config,
      setClock: (ms) => {
        this.onRunTo?.(ms);
        this.clock.jump(ms);
      },
      follow: (ms) => this.clock.advanceTo(ms),
      holdAt: () => this.#holdAt(),
      next: (delivered, due) => this.#next(delivered, due),
      onCall: this.#options.onHostCall,
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

  /**
   * A new session: the power is cut, the terminal's flash erased (as it left the factory), and it
   * boots again at the same virtual time. The devices around it (sensors, card) stay as they are.
   */
  async factoryReset(): Promise<void> {
    if (this.#engine) await this.powerCut();
    this.replaceFlash([]);
    await this.powerOn();
  }

  /** With the power off: the flash erased and written with `entries` (a restored session). */
  replaceFlash(entries: { domain: string; key: string; value: FlashValue }[]): void {
    if (this.#engine) throw new SimulatorError("cut the power before replacing the flash");
    const path = this.#options.flashPath ?? null;
    const flash = path ? new FlashFile(path) : (this.#memoryFlash ??= new FlashFile(null));
    flash.powerUp();
    flash.eraseAll();
    for (const e of entries) flash.set(e.domain, e.key, e.value);
    if (path) flash.close();
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
    this.#commands.set(op, (this.#commands.get(op) ?? 0) + 1);
    // only a step says where the firmware's clock ends (#step); boot, advance and io.deliver move it too
    if (op === "boot" || op === "advance" || op === "io.deliver") this.#firmwareNow = null;
    const reply = JSON.parse(await this.#engine.command(JSON.stringify({ op, args })));
    this.#account();
    // the calls the firmware posted and had not sent yet came with the reply: served first, in order
    const postedError = reply.posted && reply.posted.length > 0 ? (this.#host?.servePosted(reply.posted) ?? null) : null;
    if (reply.powerCut || this.#host?.powerCut) {
      this.powerCuts++;
      await this.#shutdown();
      return undefined;
    }
    if (reply.error !== undefined) throw new SimulatorError(`firmware ${reply.error}`);
    if (postedError !== null) throw new SimulatorError(`firmware ${op}: a posted host call failed: ${postedError}`);
    this.#nextDue = reply.nextDue ?? null;
    return reply.value;
  }

  /** Runs the virtual clock forward by `ms`, stopping at every timer the firmware set. */
  async advance(ms: number): Promise<void> {
    await this.runUntil(this.clock.now + ms);
  }

  /**
   * Runs virtual time to `targetMs`: host device timers, events for the firmware and the
   * firmware's own timers, interleaved in time order. While the power is off, devices go on.
   */
  async runUntil(targetMs: number): Promise<void> {
    this.onRunTo?.(Math.max(targetMs, this.clock.now));
    let steps = 0;
    let last = this.clock.now;
    for (;;) {
      for (const p of this.#plugins.values()) {
        const work = p.realWork?.();
        if (work) await work;
      }
      const host = this.io.nextAt();
      const firmware = this.#engine ? this.#nextDue : null;
      const next = host === null ? firmware : firmware === null ? host : Math.min(host, firmware);
      if (next === null || next > targetMs) break;
      this.clock.advanceTo(next);
      if (this.clock.now === last) {
        if (++steps > MAX_STEPS_AT_ONE_INSTANT) throw new SimulatorError("devices and firmware keep waking each other at one instant");
      } else {
        steps = 0;
        last = this.clock.now;
      }
      await this.#step(targetMs, true);
    }
    this.clock.advanceTo(targetMs);
    await this.#step();
    for (const p of this.#plugins.values()) p.settled?.();
  }

  /** Lets everything due by now happen (after a script action, before a snapshot). */
  async settle(): Promise<void> {
    await this.runUntil(this.clock.now);
  }

  /**
   * One round trip into the engine: the events due now are delivered, then the firmware runs its
   * timers, not only those due now but on to `to` for as long as the host has nothing earlier to
   * do. Every host call out of the engine carries the firmware's time (the host's clock follows
   * it) and answers with `hold`, the host's next event (#holdAt): the firmware runs no timer due at
   * or after it, so the order of host and firmware events is exactly what one step per event
   * would give, with one round trip where there were many.
   *
   * The step also carries the deliveries of later instants that nothing can change any more: bytes
   * already on a UART line (IoHub.takeAhead: the sensors' answers to one PING round). The firmware
   * takes each at its instant as the host would have delivered it, for as long as that instant
   * comes before `hold`; those it did not take go back to the host's timeline (docs/architecture.md, Time).
   */
  async #step(to: number = this.clock.now, idle = false): Promise<void> {
    this.io.runDue();
    const events = this.io.takeEvents();
    if (this.#engine && this.#options.stepping === "per-event") {
      if (events.length > 0) await this.command("io.deliver", { events, at: this.clock.now });
      if (this.#engine) await this.command("advance", { to: this.clock.now });
    } else if (this.#engine && !(idle && events.length === 0 && this.#idle(to)) && !(events.length === 0 && this.#still(to))) {
      const base = this.clock.now;
      const later = to > base ? this.#takeAhead(to) : [];
      let value: any;
      // a step of runUntil goes on to the host's next events itself (#next); the last one, at the
      // run's target, does not: what the host does after it waits for the next run, as before
      if (idle && !this.#live()) this.#going = { to, last: base, steps: 0 };
      try {
        const args: Record<string, unknown> = { events, base, to: Math.max(base, to), hold: this.#holdAt() };
        if (later.length > 0) args.later = later;
        if (this.#going !== null) args.goOn = true;
        this.#firmwareNow = null;
        value = await this.command("step", args);
        if (value && typeof value.now === "number") {
          this.clock.advanceTo(value.now);
          this.#firmwareNow = value.now;
        }
      } finally {
        this.#going = null;
        this.#settleAhead(value?.delivered);
      }
    }
    for (const p of this.#plugins.values()) p.afterStep?.();
    this.onStep?.();
  }

  /**
   * The deliveries of later instants a step carries (IoHub.takeAhead), by instant; kept in
   * #ahead until the firmware says how many it took (#settleAhead).
   */
  #takeAhead(to: number): Array<{ at: number; events: AheadEntry["events"] }> {
    const ahead = this.io.takeAhead(to);
    if (ahead.length === 0) return [];
    const later: Array<{ at: number; events: AheadEntry["events"] }> = [];
    for (const e of ahead) {
      const last = later[later.length - 1];
      if (last && last.at === e.at) last.events = last.events.concat(e.events);
      else later.push({ at: e.at, events: e.events });
    }
    this.#ahead = { entries: ahead, epoch: this.io.handleEpoch, later };
    this.#aheadCarried += later.length;
    return later;
  }

  /** The firmware took the first `delivered` instants carried ahead: the others go back to the host's timeline. */
  #settleAhead(delivered: unknown): void {
    const ahead = this.#ahead;
    if (ahead === null) return;
    this.#ahead = null;
    const took = Number.isInteger(delivered) && (delivered as number) > 0 ? Math.min(delivered as number, ahead.later.length) : 0;
    this.#aheadTaken += took;
    const until = took > 0 ? ahead.later[took - 1].at : -Infinity;
    let n = 0;
    while (n < ahead.entries.length && ahead.entries[n].at <= until) n++;
    if (n < ahead.entries.length) this.io.restoreAhead(ahead.entries.slice(n));
  }

  /**
   * The firmware, held by the host's next event before the step's target, asks the host to go on
   * ("sim.next", shims/timer.ts heldBefore): what runUntil's loop would do with a step of its own,
   * done in the same round trip. The instants carried ahead are settled, the plugins hear the
   * step's end; then the clock goes to the host's next event, its timers run and its events (and
   * those of later instants carried ahead) are the answer, or null to end the step there: nothing
   * before the target, or real work under way (the loop awaits it between steps).
   */
  #next(delivered: unknown, due: unknown): unknown {
    this.#settleAhead(delivered);
    for (const p of this.#plugins.values()) p.afterStep?.();
    this.onStep?.();
    const going = this.#going;
    if (going === null || !this.#engine) return null;
    this.#nextDue = typeof due === "number" ? due : null;
    for (;;) {
      if (this.#holdAt() === 0 || this.#live()) return null;
      const next = this.io.nextAt();
      // the firmware asked with calls it had not sent (bytes on a UART) before a timer of its own:
      // when that timer comes before the host's next event, it runs first (no events, same instant)
      const own = this.#nextDue;
      if (own !== null && own <= going.to && (next === null || own < next)) return { events: [], base: this.clock.now };
      if (next === null || next > going.to) return null;
      this.clock.advanceTo(next);
      if (this.clock.now !== going.last) {
        going.last = this.clock.now;
        going.steps = 0;
      } else if (++going.steps > MAX_STEPS_AT_ONE_INSTANT) throw new SimulatorError("devices and firmware keep waking each other at one instant");
      this.io.runDue();
      const events = this.io.takeEvents();
      // nothing for the firmware and no timer of its own before the host's next event: the host
      // goes on alone, as runUntil skips such a step (#idle)
      if (events.length === 0 && this.#idle(going.to)) {
        for (const p of this.#plugins.values()) p.afterStep?.();
        continue;
      }
      const later = this.clock.now < going.to ? this.#takeAhead(going.to) : [];
      return later.length > 0 ? { events, base: this.clock.now, later } : { events, base: this.clock.now };
    }
  }

  /**
   * Whether a step with no events would do nothing in the firmware: no timer due now, and none due
   * before both `to` and the host's next event. Such a step is skipped inside runUntil (its only
   * effect would be the firmware's clock, which the next step or the last one of runUntil sets):
   * a host timer that gives the firmware nothing (a sensor hearing the air) costs no round trip.
   */
  #idle(to: number): boolean {
    const due = this.#nextDue;
    if (due === null) return true;
    if (due <= this.clock.now) return false;
    const hold = this.#holdAt();
    return due > to || (hold !== null && due >= hold);
  }

  #live(): boolean {
    for (const p of this.#plugins.values()) if (p.live?.()) return true;
    return false;
  }

  /**
   * Whether a step with no events to `to` would do nothing at all: the firmware's clock is already
   * there and none of its timers is due by then (the last step of a run that the loop's steps
   * brought to its target: a script's actions at one instant, a snapshot after a settle).
   */
  #still(to: number): boolean {
    return to === this.clock.now && this.#firmwareNow === to && (this.#nextDue === null || this.#nextDue > to);
  }

  /** When the firmware must stop running its own timers: the host's next event; 0 while real work is under way. */
  #holdAt(): number | null {
    for (const p of this.#plugins.values()) if (p.busy?.()) return 0;
    const host = this.io.nextAt();
    const ahead = this.#ahead;
    if (ahead === null || ahead.epoch === this.io.handleEpoch) return host;
    // a handle opened or closed since the step's later deliveries were made: those the firmware has
    // not reached are the host's again (delivered at their instant with the handles of then)
    const now = this.clock.now;
    const next = ahead.entries.find((e) => e.at > now);
    return next === undefined ? host : host === null ? next.at : Math.min(host, next.at);
  }

  /** The firmware's snapshot, with what the attached devices add (the LCD's text, the card…). */
  async snapshot(): Promise<Record<string, any>> {
    const snap = (await this.command("snapshot")) ?? {};
    for (const p of this.#plugins.values()) if (p.snapshot) Object.assign(snap, p.snapshot());
    return snap;
  }

  /**
   * Round trips so far: commands into the engine and host calls out of it, by op, and how many
   * requests crossed out of it (`crossings`: posted calls travel together, shims/bridge.ts), and the
   * instants of deliveries steps carried ahead (#step) and of those the firmware took.
   */
  roundTrips(): {
    commands: Record<string, number>;
    hostCalls: Record<string, number>;
    crossings: number;
    crossed: Record<string, number>;
    ahead: { carried: number; taken: number };
    servingMs: number;
  } {
    const hostCalls = new Map(this.#hostCalls);
    for (const [op, n] of this.#host?.calls ?? []) hostCalls.set(op, (hostCalls.get(op) ?? 0) + n);
    const crossed = new Map(this.#pastCrossed);
    for (const [op, n] of this.#host?.crossed ?? []) crossed.set(op, (crossed.get(op) ?? 0) + n);
    return {
      commands: Object.fromEntries(this.#commands),
      hostCalls: Object.fromEntries(hostCalls),
      crossings: this.#pastCrossings + (this.#host?.crossings ?? 0),
      crossed: Object.fromEntries(crossed),
      ahead: { carried: this.#aheadCarried, taken: this.#aheadTaken },
      servingMs: this.#pastServingMs + (this.#host?.servingMs ?? 0),
    };
  }

  meter(): Meter | null {
    return this.engineName === "xs" ? { ...this.#meter } : null;
  }

  /** Live XS slots and chunk bytes after a forced collection (XS only; bench/memory.ts). */
  async liveMemory(): Promise<LiveMemory | null> {
    return (await this.#engine?.liveMemory?.()) ?? null;
  }

  /** Forces a collection; the live slots after it (XS only; bench/memory.ts, per-deduction figure). */
  async collect(): Promise<number | null> {
    const live = (await this.#engine?.collect?.()) ?? null;
    this.#account();
    return live;
  }

  async close(): Promise<void> {
    await this.#shutdown();
    this.#memoryFlash = null;
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
    this.#firmwareNow = null;
    for (const [op, n] of this.#host?.calls ?? []) this.#hostCalls.set(op, (this.#hostCalls.get(op) ?? 0) + n);
    this.#host?.calls.clear();
    this.#pastCrossings += this.#host?.crossings ?? 0;
    if (this.#host) this.#host.crossings = 0;
    for (const [op, n] of this.#host?.crossed ?? []) this.#pastCrossed.set(op, (this.#pastCrossed.get(op) ?? 0) + n);
    this.#host?.crossed.clear();
    this.#pastServingMs += this.#host?.servingMs ?? 0;
    if (this.#host) this.#host.servingMs = 0;
    this.#flash?.disarm();
    this.io.reset();
    if (engine) for (const p of this.#plugins.values()) p.powerLost?.();
    if (this.#options.flashPath) this.#flash?.close();
    if (engine) await engine.close();
  }
}
