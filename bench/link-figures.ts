/**
 * Figures for the cellular link, measured on the real thing: the firmware under XS dials the
 * emulated SIM7600, which carries it over real TCP to a real center (aedes + SQLite) on loopback.
 *
 *  1. Bytes on the air (TCP payload, both directions) per message kind, as sent: the MQTT PUBLISH
 *     with its CBOR payload, plus the PUBACK — against the same content as JSON (field names,
 *     media as base64) in the same PUBLISH. Captured from the modem's socket, decoded with the
 *     schema, re-encoded as JSON.
 *  2. Seconds per dial-up session (modem bring-up to hang-up, in virtual time) with the modelled
 *     latency, for a few latencies; and the bytes each session moved.
 *
 * Run: node scripts/build.mjs && node dist/bench/link-figures.js
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqttPacket from "mqtt-packet";
import { startCenter } from "../center/center";
import { linkModem } from "../host-sim/devices/modem";
import { sensorField } from "../host-sim/devices/sensors";
import { manifestConfig } from "../host-sim/project";
import { Simulator } from "../host-sim/simulator";
import { parseTime } from "../firmware/core/time";
import { MESSAGES, decodeMessageBytes, type Message } from "../firmware/uplink/messages";

const TERMINAL = "T0001";
const SECRET = "bench-secret";
const PLAN = {
  contract: "continuous",
  periods: [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, sensors: ["A0001", "A0002"], cameras: ["B0001"] }],
};
const at = (s: string) => parseTime(s, "t") * 1000;

interface Captured {
  name: string;
  cborPublish: number;
  jsonPublish: number;
}

interface Session {
  label: string;
  seconds: number;
  up: number;
  down: number;
  messages: number;
}

/** The message as JSON with field names (what a JSON protocol would send). */
function asJson(m: Message): string {
  return JSON.stringify({ kind: m.name, terminal: m.terminal, seq: m.seq, time: m.time, body: plain(m.body) });
}

/** Decoded CBOR as JSON data: maps become objects, bytes base64. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function publishSize(topic: string, payload: Buffer, messageId: number): number {
  return mqttPacket.generate({ cmd: "publish", topic, payload, qos: 1, messageId, retain: false, dup: false } as any).length;
}

async function run(latencyMs: number): Promise<{ captured: Captured[]; sessions: Session[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), "tg-bench-link-"));
  const center = await startCenter({ dataDir, mqttPort: 0, httpPort: 0 });
  center.addTerminal({ id: TERMINAL, secret: SECRET, site: "bench" });
  const link = { ...(manifestConfig().link as object), address: "127.0.0.1", port: center.mqttPort, secret: SECRET };
  const sim = await Simulator.start({ engine: "xs", startMs: at("2026-04-16T19:00"), config: { link } });
  const modem = linkModem(sim, { latencyMs });
  const captured: Captured[] = [];
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on("packet", (p: any) => {
    if (p.cmd !== "publish") return;
    const m = decodeMessageBytes(new Uint8Array(p.payload));
    const cbor = publishSize(p.topic, p.payload, p.messageId) + 4; // + its PUBACK
    const json = publishSize(p.topic, Buffer.from(asJson(m)), p.messageId) + 4;
    captured.push({ name: m.name, cborPublish: cbor, jsonPublish: json });
  });
  modem.tap = (direction, bytes) => {
    if (direction === "up") parser.parse(Buffer.from(bytes));
  };
  const sessions: Session[] = [];
  let seen = 0;
  let up = 0;
  let down = 0;
  const collect = async (label: string) => {
    const s = await sim.snapshot();
    const u = s.uplink;
    if (u.sessions > seen && u.state === "idle" && u.lastSession) {
      seen = u.sessions;
      sessions.push({ label, seconds: u.lastSession.ms / 1000, up: modem.bytesUp - up, down: modem.bytesDown - down, messages: u.lastSession.sent });
      up = modem.bytesUp;
      down = modem.bytesDown;
    }
  };
  const runFor = async (label: string, ms: number, step = 5_000) => {
    for (let t = 0; t < ms; t += step) {
      await sim.advance(step);
      await collect(label);
    }
  };
  try {
    await runFor("first boot: registration + daily test call", 60_000);
    const field = sensorField(sim);
    for (const id of ["A0001", "A0002", "B0001"]) field.add(id);
    await sim.advance(5_000);
    await sim.command("pairing.confirm");
    await sim.command("plan.set", { plan: PLAN });
    await runFor("sensor table + plan (batched, 10 min)", 900_000, 30_000);
    await sim.runUntil(at("2026-04-16T20:30"));
    await collect("?");
    field.get("A0001").trip();
    await runFor("alarm + media unit (3 JPEG + WAV)", 120_000, 2_000);
    await sim.runUntil(at("2026-04-16T23:00"));
    await runFor("period report (batched, 10 min)", 900_000, 30_000);
  } finally {
    await sim.close();
    modem.close();
    await center.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return { captured, sessions };
}

function pad(s: string | number, n: number): string {
  const t = String(s);
  return t.length >= n ? t : " ".repeat(n - t.length) + t;
}

async function main(): Promise<void> {
  const first = await run(60);
  console.log("Bytes on the air per message (MQTT PUBLISH + PUBACK, TCP payload), CBOR as sent vs the same content as JSON");
  console.log(`${"message".padEnd(34)}${pad("n", 4)}${pad("CBOR B", 10)}${pad("JSON B", 10)}${pad("JSON/CBOR", 11)}`);
  const byName = new Map<string, { n: number; cbor: number; json: number }>();
  for (const c of first.captured) {
    const e = byName.get(c.name) ?? { n: 0, cbor: 0, json: 0 };
    e.n++;
    e.cbor += c.cborPublish;
    e.json += c.jsonPublish;
    byName.set(c.name, e);
  }
  for (const name of Object.keys(MESSAGES)) {
    const e = byName.get(name);
    if (!e) continue;
    console.log(`${name.padEnd(34)}${pad(e.n, 4)}${pad(Math.round(e.cbor / e.n), 10)}${pad(Math.round(e.json / e.n), 10)}${pad((e.json / e.cbor).toFixed(2), 11)}`);
  }
  const period = byName.get("period");
  const alarm = byName.get("alarm");
  const media = byName.get("media");
  if (period) console.log(`${"= per period report".padEnd(34)}${pad("", 4)}${pad(period.cbor / period.n, 10)}${pad(period.json / period.n, 10)}${pad((period.json / period.cbor).toFixed(2), 11)}`);
  if (alarm && media) {
    const c = alarm.cbor + media.cbor;
    const j = alarm.json + media.json;
    console.log(`${"= per alarm with its media unit".padEnd(34)}${pad("", 4)}${pad(c, 10)}${pad(j, 10)}${pad((j / c).toFixed(2), 11)}`);
  }
  console.log("");
  console.log("Dial-up sessions (virtual seconds from modem bring-up to hang-up; bytes are TCP payload)");
  console.log(`${"session".padEnd(44)}${pad("latency", 9)}${pad("seconds", 9)}${pad("msgs", 6)}${pad("up B", 8)}${pad("down B", 8)}`);
  const runs = [{ latency: 60, r: first }];
  for (const latency of [20, 300]) runs.push({ latency, r: await run(latency) });
  for (const { latency, r } of runs) {
    for (const s of r.sessions) {
      console.log(`${s.label.padEnd(44)}${pad(latency + " ms", 9)}${pad(s.seconds.toFixed(2), 9)}${pad(s.messages, 6)}${pad(s.up, 8)}${pad(s.down, 8)}`);
    }
  }
  console.log("");
  console.log("The session time is mostly the modem's own bring-up (boot, registration, PDP activation: modelled");
  console.log("in host-sim/devices/modem.ts); the ingest rate of the center is the center's bench.");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
