// The sensor script actions through the CLI, as a person runs them: timeguard sim --script.
import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../host-sim/project";

const root = projectRoot();
const bin = join(root, "bin", "timeguard.js");

const SCRIPT = {
  start: "2026-04-16T19:00",
  actions: [
    { do: "sensor.add", type: "intrusion", id: "A0001" },
    { do: "sensor.add", type: "intrusion", id: "A0002" },
    { do: "sensor.add", type: "camera", id: "B0001", heartbeat: 120 },
    { do: "sensor.add", type: "camera", id: "B0002", link: "wifi" },
    { do: "wait", for: "10s" },
    { do: "pairing.confirm" },
    {
      do: "plan.set",
      plan: { contract: "single", periods: [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, sensors: ["A0001", "A0002"], cameras: ["B0001", "B0002"] }] },
    },
    { at: "2026-04-16T19:30", do: "sensor.trip", id: "A0001" },
    { at: "2026-04-16T20:30", do: "sensor.battery", id: "A0002", low: true },
    { do: "sensor.trip", id: "A0001" },
    { do: "wait", for: "1m" },
    { do: "sensor.remove", id: "B0001" },
    { do: "wait", for: "10m" },
    { do: "snapshot", label: "camera gone" },
  ],
};

for (const engine of ["xs", "node"]) {
  test(`[${engine}] timeguard sim --script: sensors, pairing, plan, trips, battery, unplug`, (t) => {
    const dir = mkdtempSync(join(tmpdir(), "tg-sensor-cli-"));
    try {
      const file = join(dir, "script.json");
      writeFileSync(file, JSON.stringify(SCRIPT));
      const r = spawnSync(process.execPath, [bin, "sim", "--engine", engine, "--script", file, "--json"], { cwd: root, encoding: "utf8", timeout: 300_000 });
      t.is(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      t.deepEqual(
        out.sensors.map((s: any) => [s.id, s.type, s.connected, s.operating, s.battery]),
        [
          ["A0001", "intrusion", true, true, "ok"],
          ["A0002", "intrusion", true, true, "low"],
          ["B0001", "camera", false, false, "ok"],
          ["B0002", "camera", true, true, "ok"],
        ],
      );
      t.is(out.alarms.length, 1, "the 19:30 trip was outside the period");
      t.like(out.alarms[0], { kind: "intrusion", sensor: "A0001", guarded: true, media: 1 });
      t.deepEqual(out.media[0].files.map((f: any) => f.name).sort(), [
        "B0001-1.jpg", "B0001-2.jpg", "B0001-3.jpg", "B0001.wav", "B0002-1.jpg", "B0002-2.jpg", "B0002-3.jpg", "B0002.wav",
      ]);
      t.is(out.sensorLink.ignoredDetects, 1);
      t.deepEqual(out.sim.results[0], { index: 5, do: "pairing.confirm", value: { ok: true, registered: ["A0001", "A0002", "B0001", "B0002"] } });
      t.is(out.sensorDevices.length, 4);
      // the bad: an unknown action argument gets a clear message and exit code 2
      writeFileSync(file, JSON.stringify([{ do: "sensor.add", type: "camera", id: "A0009" }]));
      const bad = spawnSync(process.execPath, [bin, "sim", "--engine", engine, "--script", file], { cwd: root, encoding: "utf8", timeout: 120_000 });
      t.is(bad.status, 2);
      t.regex(bad.stderr, /A0009 is not a camera/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
