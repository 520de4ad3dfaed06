import test from "ava";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../host-sim/project";

// One `timeguard start` per demo folder: a second one on the same --data with other ports ran a
// second terminal on the same flash, clock file and center database (the two overwrote each other).

const bin = join(projectRoot(), "bin", "timeguard.js");
const PORTS = ["--http-port", "0", "--mqtt-port", "0", "--mqtt-tls-port", "0", "--sim-port", "0"];

function startDemo(dir: string): { child: ChildProcess; up: Promise<string>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [bin, "start", "--engine", "node", "--data", dir, ...PORTS], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const up = new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      if (/Ctrl-C stops/.test(out)) {
        clearInterval(timer);
        resolve(out);
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`start exited: ${out}`));
      }
    }, 100);
  });
  return { child, up, exited };
}

test("a second timeguard start on a demo folder in use: one line naming the running one, exit code 2, the first one untouched", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-lock-"));
  const first = startDemo(dir);
  try {
    const shown = await first.up;
    t.is(readFileSync(join(dir, "running.pid"), "utf8").trim(), `${first.child.pid} timeguard start`);
    for (const extra of [[], ["--fresh"]]) {
      const second = spawnSync(process.execPath, [bin, "start", "--engine", "node", "--data", dir, ...PORTS, ...extra], { encoding: "utf8", timeout: 60_000 });
      t.is(second.status, 2, second.stderr);
      t.is(second.stderr, `timeguard start: the demo in ${dir}/ is already running (timeguard start, process ${first.child.pid}): stop that one first (Ctrl-C), or give this one another --data folder\n`);
    }
    t.true(existsSync(join(dir, "terminal.flash")), "--fresh did not wipe the running demo");
    // nor does a center of its own get the demo's center folder
    const center = spawnSync(process.execPath, [bin, "center", "--data", join(dir, "center"), "--http-port", "0", "--mqtt-port", "0"], { encoding: "utf8", timeout: 60_000 });
    t.is(center.status, 2, center.stderr);
    t.is(center.stderr, `timeguard center: ${join(dir, "center")}/ is the center of the demo that timeguard start (process ${first.child.pid}) is running: stop it first, or give this center another --data folder\n`);
    const sim = /terminal \(simulator page\): (http:\/\/127\.0\.0\.1:\d+\/)/.exec(shown)![1];
    t.is((await (await fetch(`${sim}api/state`)).json()).terminal.plan !== undefined, true, "the first one still answers");
    first.child.kill("SIGINT");
    t.is(await first.exited, 0);
    t.false(existsSync(join(dir, "running.pid")), "a clean stop releases the folder");
  } finally {
    if (first.child.exitCode === null) first.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a running.pid left by a process that is gone (a crash) is taken over", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-lock-stale-"));
  const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  writeFileSync(join(dir, "running.pid"), `${gone.stdout}\n`);
  const demo = startDemo(dir);
  try {
    await demo.up;
    t.is(readFileSync(join(dir, "running.pid"), "utf8").trim(), `${demo.child.pid} timeguard start`);
    demo.child.kill("SIGINT");
    t.is(await demo.exited, 0);
  } finally {
    if (demo.child.exitCode === null) demo.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a second timeguard center on one SQLite folder: one line naming the running one, exit code 2; the first is released at its stop", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-lock-center-"));
  const first = spawn(process.execPath, [bin, "center", "--data", dir, "--http-port", "0", "--mqtt-port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  first.stdout!.on("data", (d) => (out += d));
  first.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => first.on("close", resolve));
  try {
    const deadline = Date.now() + 60_000;
    while (!/web on http/.test(out)) {
      if (Date.now() > deadline || first.exitCode !== null) throw new Error(`center did not come up: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const second = spawnSync(process.execPath, [bin, "center", "--data", dir, "--http-port", "0", "--mqtt-port", "0"], { encoding: "utf8", timeout: 60_000 });
    t.is(second.status, 2, second.stderr);
    t.is(second.stderr, `timeguard center: ${dir}/ is in use by timeguard center (process ${first.pid}): one center per SQLite file; stop that one first, or give this one another --data folder\n`);
    first.kill("SIGINT");
    t.is(await exited, 0);
    t.false(existsSync(join(dir, "running.pid")));
  } finally {
    if (first.exitCode === null) first.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
