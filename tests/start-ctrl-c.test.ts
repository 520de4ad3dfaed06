import test from "ava";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../host-sim/project";

// Ctrl-C on a terminal sends SIGINT to the whole foreground process group: `timeguard start` and
// the XS engine's worker it spawned. The worker must not die first, or the stop cannot ask the
// firmware to record the time guarded (it printed "timeguard-firmware exited" with a stack, exit 1).
test("timeguard start under XS, Ctrl-C to its whole process group: a clean stop (exit 0, no stack) that saves the demo", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-ctrlc-"));
  try {
    const child = spawn(
      process.execPath,
      [join(projectRoot(), "bin", "timeguard.js"), "start", "--engine", "xs", "--data", dir, "--http-port", "0", "--mqtt-port", "0", "--mqtt-tls-port", "0", "--sim-port", "0"],
      { stdio: ["ignore", "pipe", "pipe"], detached: true }, // a process group of its own, as a shell gives a job
    );
    let out = "";
    let err = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const deadline = Date.now() + 90_000;
    while (!/Ctrl-C stops/.test(out)) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill("SIGKILL");
        t.fail(`start did not come up: ${out}${err}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1500)); // the virtual clock runs on in real time
    // while running, demo.json holds a promise ahead of the clock (a crash resumes there); a clean
    // stop replaces it with the exact time the terminal recorded, which is behind that promise
    const before = JSON.parse(readFileSync(join(dir, "demo.json"), "utf8")) as { clockMs: number };
    process.kill(-child.pid!, "SIGINT"); // what the terminal's Ctrl-C does: the whole group
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 60_000);
    const code = await exited;
    clearTimeout(timer);
    t.is(code, 0, err);
    t.notRegex(err, /exited|\bat .*\.js:\d+/, "no dead engine, no stack trace");
    const after = JSON.parse(readFileSync(join(dir, "demo.json"), "utf8")) as { clockMs: number };
    t.true(after.clockMs < before.clockMs, `the exact stop time ${after.clockMs} was saved, not the promise ${before.clockMs} a crash leaves`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
