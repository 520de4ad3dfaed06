/**
 * The firmware as the host simulator runs it, under XS and under Node alike. It boots the same
 * firmware/main.ts a board runs, and adds the simulator's command port: the host moves the virtual
 * clock and reads snapshots through it. (On a board the terminal is driven by its own timers and
 * peripherals; this port does not exist there.)
 */
import { deliver } from "./shims/device-global";
import { Components, boot } from "../firmware/main";
import { PowerCut, hostCall, takePosted, toHex } from "./shims/bridge";
import { PN532 } from "../firmware/drivers/pn532";
import { advanceTo, heldBefore, nextDue, reach, reachAhead, runTimers, setHold, setNow, virtualNow } from "./shims/timer";

let components: Components | null = null;

type Events = Parameters<typeof deliver>[0];
type Later = Array<{ at: number; events: Events }>;

function booted(): Components {
  if (!components) throw new Error("firmware not booted");
  return components;
}

function hub() {
  return booted().sensors;
}

function running() {
  return booted().terminal;
}

const commands: Record<string, (args: any) => unknown> = {
  boot(args: { now: number }) {
    setNow(args.now);
    components = boot();
    return null;
  },
  advance(args: { to: number }) {
    const ran = advanceTo(args.to);
    return { now: virtualNow(), ran };
  },
  /**
   * the simulator's step: deliver the host's events, then those of later instants it carries
   * (`later`: bytes already on a line, simulator.ts #step), each at its own instant and only while
   * that instant comes before the host's next event; then run the timers up to `to` unless held
   * (shims/timer.ts). `delivered`: how many of the later instants were taken. With `goOn`, a step
   * held by the host's next event before `to` asks the host for it ("sim.next": simulator.ts #next)
   * and goes on with what it answers, as a step of its own would, until the host answers null.
   */
  step(args: { events: Events; base: number; to: number; hold: number | null; later?: Later; goOn?: boolean }) {
    setHold(args.hold);
    let ran = 0;
    let delivered = 0;
    let events = args.events;
    let base = args.base;
    let later = args.later;
    for (;;) {
      if (events.length > 0) {
        ran += reach(base);
        deliver(events);
      }
      delivered = 0;
      for (const l of later ?? []) {
        if (!reachAhead(l.at)) break;
        if (l.events.length > 0) deliver(l.events);
        delivered++;
      }
      ran += runTimers(base, args.to, args.goOn === true);
      if (!args.goOn || !heldBefore(args.to)) break;
      const next = hostCall("sim.next", { delivered, due: nextDue() }) as { events: Events; base: number; later?: Later } | null;
      if (next === null) break;
      if (!Array.isArray(next.events) || typeof next.base !== "number") throw new Error("sim.next: bad answer");
      events = next.events;
      base = next.base;
      later = next.later;
    }
    return { now: virtualNow(), ran, delivered };
  },
  /** the host's events at its instant `at` (the clock first brought there: shims/timer.ts reach) */
  "io.deliver"(args: { events: Parameters<typeof deliver>[0]; at?: number }) {
    setHold(null);
    if (typeof args.at === "number") reach(args.at);
    return deliver(args.events);
  },
  /** a planned power-down: the terminal records the time guarded up to now (Terminal.checkpointNow) */
  checkpoint() {
    running().checkpointNow();
    return null;
  },
  snapshot() {
    return running().snapshot();
  },
  /** What the UI is told the card holds (null: no card), for runs without the card reader (issue #4). */
  "ui.card"(args: { counts: number | null }) {
    const n = args?.counts;
    if (n !== null && (typeof n !== "number" || !Number.isInteger(n))) throw new Error("counts must be an integer or null");
    booted().ui.card = { counts: () => n };
    booted().ui.changed();
    return null;
  },
  "plan.set"(args: { plan: unknown }) {
    return running().setPlan(args.plan);
  },
  "tariff.set"(args: { tariff: unknown }) {
    return running().setTariff(args.tariff);
  },
  estimate(args: { plan: unknown; card?: number }) {
    return running().estimate(args.plan, args.card ?? null);
  },
  "pairing.open"() {
    return hub().openPairing();
  },
  "pairing.confirm"() {
    return hub().confirmPairing();
  },
  /** dial the center now (the link's own schedule decides otherwise) */
  "link.dial"() {
    booted().uplink.dialNow();
    return null;
  },
  /** asks the PN532 its firmware version `count` times through a driver of its own: I2C traffic
   * with no card logic, so bench/memory.ts can tell the host IO bridge's allocations apart */
  "pn532.version"(args: { count: number }) {
    const reader = new PN532({ sensor: { ...device.I2C.default, io: device.io.I2C } });
    try {
      for (let i = 0; i < args.count; i++) reader.firmwareVersion();
    } finally {
      reader.close();
    }
    return null;
  },
  /** a stored media file, hex (what the link will send) */
  "media.read"(args: { unit: number; file: number }) {
    const bytes = hub().media.readFile(args.unit, args.file);
    return bytes ? toHex(bytes) : null;
  },
};

function handle(request: string): string {
  let op = "?";
  try {
    const msg = JSON.parse(request) as { op: string; args: unknown };
    op = msg.op;
    const command = commands[op];
    if (!command) return JSON.stringify({ error: `unknown command ${op}` });
    const value = command(msg.args);
    // Every reply tells the host when the firmware next needs the clock to move, and carries the
    // calls still posted (shims/bridge.ts), which the host serves first.
    return JSON.stringify({ value: value === undefined ? null : value, nextDue: nextDue(), posted: takePosted() });
  } catch (e) {
    if (e instanceof PowerCut) return JSON.stringify({ powerCut: true });
    const err = e as Error;
    return JSON.stringify({ error: `${op}: ${err && err.message ? err.message : String(e)}`, stack: err && err.stack, posted: takePosted() });
  }
}

(globalThis as any).__tgCommand = handle;
