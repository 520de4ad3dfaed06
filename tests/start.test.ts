import test from "ava";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../host-sim/project";

test("timeguard start: the center and the simulated terminal come up, print their pages and logins, and stop on SIGINT", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-start-"));
  const child = spawn(process.execPath, [join(projectRoot(), "bin", "timeguard.js"), "start", "--data", dir, "--http-port", "0", "--mqtt-port", "0", "--mqtt-tls-port", "0", "--sim-port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  try {
    const deadline = Date.now() + 60_000;
    while (!/Ctrl-C stops/.test(out)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`start did not come up: ${out}\n${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const sim = /terminal \(simulator page\): (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
    const center = /center: +(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
    t.truthy(sim);
    t.truthy(center);
    t.regex(out, /under XS/);
    t.regex(out, /operator operator \/ operator-demo-1/);
    // The kit's devices announce themselves in the first virtual seconds after boot, at real-time
    // speed: the page is read until all four are found (or 30 s have passed).
    let state = await (await fetch(`${sim}api/state`)).json();
    for (const until = Date.now() + 30_000; state.lcd.lines[0] !== "Setup        4 found" && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 250));
      state = await (await fetch(`${sim}api/state`)).json();
    }
    t.is(state.engine, "xs");
    t.is(state.lcd.lines[0], "Setup        4 found", "plug and play found the kit's two PIR sensors and two cameras");
    // the demo terminal dials the center's TLS 1.2 PSK port with its provisioned key
    t.regex(out, /TLS 1\.2 PSK on 127\.0\.0\.1:\d+, which the terminal dials/);
    t.is(state.link?.security, "tls-psk");
    const login = await fetch(`${center}login`);
    t.is(login.status, 200);
    const form = await login.text();
    t.regex(form, /<h2>Demo logins<\/h2>/, "the demo's login page names its logins");
    for (const [user, password] of [["admin", "admin-demo-1"], ["operator", "operator-demo-1"], ["manager", "manager-demo-1"]]) {
      t.regex(form, new RegExp(`<td><code>${user}</code></td><td><code>${password}</code></td>`));
    }
    child.kill("SIGINT");
    t.is(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
