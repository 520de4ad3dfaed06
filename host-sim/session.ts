import { deriveSensorKey, sensorField, sensorMemoryProblem, WifiCamera, type SensorMemory } from "./devices/sensors";
import { cardSlot, type CardSlot } from "./devices/card-slot";
import { cardFromJson, cardToJson, type CardFile } from "./devices/card-file";
import { fromHex, sameBytes, toHex } from "../firmware/card/layout";
import type { FlashValue } from "./storage/flash-file";
import type { Simulator } from "./simulator";

/**
 * A simulator session saved to a file and restored from it: the terminal's flash, the virtual
 * clock, the field devices (their own flash: counters, event number; their battery and tamper
 * switch) and the card in the slot (its memory and its issuer's keys). Saving first lets the
 * terminal write its checkpoint, so the file holds the time guarded up to the saved instant.
 * Restoring is a power cut, the flash and the devices put back as saved, the clock set to the saved
 * instant and a boot from that flash: the terminal and its clock always travel together, so time
 * never runs backwards for the terminal that is restored.
 *
 * The file comes from outside (an upload on the page): every field is checked, sizes first.
 */
export const SESSION_FORMAT = "timeguard-sim-session/1";
/** a session file larger than this is refused before it is parsed */
export const MAX_SESSION_BYTES = 2 * 1024 * 1024;
const MAX_ENTRIES = 4096;
const MAX_VALUE_BYTES = 64 * 1024;
const MAX_DEVICES = 64;

export class SessionError extends Error {}

export interface SessionDevice {
  id: string;
  heartbeatSeconds: number;
  wifi: boolean;
  /** the device's own key when it is not the kit's (a sensor from another kit) */
  key: Uint8Array | null;
  memory: SensorMemory;
  powered: boolean;
  lowBattery: boolean;
  tamper: boolean;
}

export interface Session {
  clockMs: number;
  flash: { domain: string; key: string; value: FlashValue }[];
  devices: SessionDevice[];
  card: CardFile | null;
}

/** What the running simulator holds now (after the terminal's checkpoint). */
export async function captureSession(sim: Simulator): Promise<Session> {
  if (!sim.powered) throw new SessionError("the terminal has no power: nothing to save");
  await sim.command("checkpoint");
  const devices: SessionDevice[] = [];
  if (sim.hasPlugin("sensors")) {
    const field = sensorField(sim);
    for (const d of field.devices()) {
      const kitKey = deriveSensorKey(field.kitKey, d.id);
      devices.push({
        id: d.id,
        heartbeatSeconds: d.heartbeatSeconds,
        wifi: d instanceof WifiCamera,
        key: sameBytes(kitKey, d.key) ? null : d.key.slice(),
        memory: d.memory(),
        powered: d.powered,
        lowBattery: d.lowBattery,
        tamper: d.tamper,
      });
    }
  }
  const card = sim.hasPlugin("card") ? sim.plugin<CardSlot>("card").image() : null;
  return { clockMs: sim.clock.now, flash: sim.flash.entries(), devices, card };
}

export function sessionToJson(s: Session): string {
  return (
    JSON.stringify({
      format: SESSION_FORMAT,
      clockMs: s.clockMs,
      flash: s.flash.map((e) => ({ domain: e.domain, key: e.key, t: e.value.t, v: e.value.t === "a" ? toHex(e.value.v) : e.value.v })),
      devices: s.devices.map((d) => ({ ...d, key: d.key ? toHex(d.key) : null })),
      card: s.card ? cardToJson(s.card) : null,
    }) + "\n"
  );
}

/** Reads a session file's text; anything wrong is refused with what and where. */
export function parseSession(text: string): Session {
  if (text.length > MAX_SESSION_BYTES) throw new SessionError(`a session file is at most ${MAX_SESSION_BYTES} bytes`);
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new SessionError(`not JSON: ${(e as Error).message}`);
  }
  if (!o || typeof o !== "object" || Array.isArray(o)) throw new SessionError("a session is a JSON object");
  if (o.format !== SESSION_FORMAT) throw new SessionError(`format must be ${SESSION_FORMAT}`);
  if (typeof o.clockMs !== "number" || !Number.isSafeInteger(o.clockMs) || o.clockMs < 0) throw new SessionError("clockMs must be a non-negative integer");
  if (!Array.isArray(o.flash) || o.flash.length > MAX_ENTRIES) throw new SessionError(`flash must be a list of at most ${MAX_ENTRIES} entries`);
  const seen = new Set<string>();
  const flash = o.flash.map((e: unknown, i: number) => {
    const where = `flash[${i}]`;
    const r = record(e, where);
    const domain = name(r.domain, `${where}.domain`);
    const key = name(r.key, `${where}.key`);
    const id = `${domain}\u0000${key}`;
    if (seen.has(id)) throw new SessionError(`${where}: ${domain}/${key} appears twice`);
    seen.add(id);
    return { domain, key, value: flashValue(r, where) };
  });
  if (!Array.isArray(o.devices) || o.devices.length > MAX_DEVICES) throw new SessionError(`devices must be a list of at most ${MAX_DEVICES}`);
  const ids = new Set<string>();
  const devices = o.devices.map((e: unknown, i: number) => {
    const where = `devices[${i}]`;
    const r = record(e, where);
    if (typeof r.id !== "string" || !/^[ABCD][0-9]{4}$/.test(r.id)) throw new SessionError(`${where}.id must be an ID code like A0001`);
    if (ids.has(r.id)) throw new SessionError(`${where}: ${r.id} appears twice`);
    ids.add(r.id);
    if (!isInt(r.heartbeatSeconds, 1, 65535)) throw new SessionError(`${where}.heartbeatSeconds must be whole seconds, 1..65535`);
    for (const flag of ["wifi", "powered", "lowBattery", "tamper"] as const) {
      if (typeof r[flag] !== "boolean") throw new SessionError(`${where}.${flag} must be true or false`);
    }
    if (r.wifi === true && r.id[0] !== "B") throw new SessionError(`${where}: only cameras are on Wi-Fi`);
    let key: Uint8Array | null = null;
    if (r.key !== null) {
      key = fromHex(r.key, 16);
      if (!key) throw new SessionError(`${where}.key must be null or 32 hex digits`);
    }
    const m = record(r.memory, `${where}.memory`);
    const problem = sensorMemoryProblem(m);
    if (problem) throw new SessionError(`${where}.memory needs ${problem.field}: ${problem.want}`);
    return {
      id: r.id,
      heartbeatSeconds: r.heartbeatSeconds as number,
      wifi: r.wifi as boolean,
      key,
      memory: { counter: m.counter as number, terminalCounter: m.terminalCounter as number, eventNumber: m.eventNumber as number },
      powered: r.powered as boolean,
      lowBattery: r.lowBattery as boolean,
      tamper: r.tamper as boolean,
    };
  });
  let card: CardFile | null = null;
  if (o.card !== null) {
    const c = record(o.card, "card");
    try {
      card = cardFromJson(c, (field) => `card.${field}`);
    } catch (e) {
      throw new SessionError((e as Error).message);
    }
  }
  return { clockMs: o.clockMs, flash, devices, card };
}

/**
 * Puts the simulator back as `s` says: power cut, flash replaced, clock set, devices and card put
 * back, power on. `cardPath` is where the restored card's file is written (the card follows every
 * change the terminal makes to it, as a card file does).
 */
export async function restoreSession(sim: Simulator, s: Session, cardPath: string): Promise<void> {
  if (sim.powered) await sim.powerCut();
  sim.replaceFlash(s.flash);
  sim.clock.jump(s.clockMs);
  if (sim.hasPlugin("sensors") || s.devices.length > 0) {
    const field = sensorField(sim);
    for (const d of field.devices()) field.discard(d.id);
    for (const d of s.devices) {
      const device = field.add(d.id, { heartbeatSeconds: d.heartbeatSeconds, wifi: d.wifi, key: d.key ?? undefined, memory: d.memory });
      if (!d.powered) device.unplug();
      else {
        if (d.lowBattery) device.setBattery(true);
        if (d.tamper) device.setTamper(true);
      }
    }
  }
  if (sim.hasPlugin("card") || s.card) {
    const slot = cardSlot(sim);
    slot.remove();
    if (s.card) slot.insertImage(s.card, cardPath);
  }
  await sim.powerOn();
}

function record(v: unknown, where: string): Record<string, unknown> {
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new SessionError(`${where} must be an object`);
  return v as Record<string, unknown>;
}

function name(v: unknown, where: string): string {
  if (typeof v !== "string" || v.length < 1 || v.length > 64 || !/^[\x21-\x7e]+$/.test(v)) throw new SessionError(`${where} must be 1..64 printable characters`);
  return v;
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
}

function flashValue(r: Record<string, unknown>, where: string): FlashValue {
  switch (r.t) {
    case "b":
      if (typeof r.v !== "boolean") throw new SessionError(`${where}.v must be true or false`);
      return { t: "b", v: r.v };
    case "i":
      if (!isInt(r.v, -0x80000000, 0x7fffffff)) throw new SessionError(`${where}.v must be a 32-bit integer`);
      return { t: "i", v: r.v };
    case "s":
      if (typeof r.v !== "string" || r.v.length > MAX_VALUE_BYTES) throw new SessionError(`${where}.v must be a string of at most ${MAX_VALUE_BYTES} characters`);
      return { t: "s", v: r.v };
    case "a": {
      if (typeof r.v !== "string" || r.v.length > MAX_VALUE_BYTES * 2 || r.v.length % 2 !== 0) throw new SessionError(`${where}.v must be hex of at most ${MAX_VALUE_BYTES} bytes`);
      const bytes = fromHex(r.v, r.v.length / 2);
      if (!bytes) throw new SessionError(`${where}.v must be hex digits`);
      return { t: "a", v: bytes };
    }
    default:
      throw new SessionError(`${where}.t must be b, i, s or a`);
  }
}
