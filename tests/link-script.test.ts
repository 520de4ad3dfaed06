// `timeguard sim --script` with the link's actions: link.fault and link.dial, and the snapshot's
// "link" (the modem emulation) and "outbox"/"uplink" (the firmware) parts.
import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../host-sim/project";

const root = projectRoot();
const bin = join(root, "bin", "timeguard.js");

function sim(script: unknown, engine = "xs") {
  const dir = mkdtempSync(join(tmpdir(), "tg-link-script-"));
  try {
    const path = join(dir, "script.json");
    writeFileSync(path, JSON.stringify(script));
    const r = spawnSync(process.execPath, [bin, "sim", "--engine", engine, "--script", path, "--json"], { cwd: root, encoding: "utf8", timeout: 120_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const engine of ["xs", "node"]) {
  test(`[${engine}] link.fault no-sim: the terminal's dial fails on the SIM, the outbox keeps its items`, (t) => {
    const r = sim(
      {
        start: "2026-04-16T19:00",
        actions: [
          { do: "link.fault", kind: "no-sim" },
          { do: "link.dial" },
          { do: "wait", for: "2m" },
          { do: "snapshot", label: "no SIM" },
        ],
      },
      engine,
    );
    t.is(r.code, 0, r.err);
    const s = JSON.parse(r.out);
    const shot = s.sim.snapshots[0].snapshot;
    t.deepEqual(shot.link.faults.active, ["no-sim"]);
    t.is(shot.link.faults.injected[0].kind, "no-sim");
    t.regex(shot.uplink.lastError, /SIM/);
    t.like(shot.outbox, { byKind: { registration: 1, test: 1 }, acknowledged: 0 });
  });
}

test("link.fault with an unknown kind is a usage error naming the kinds", (t) => {
  const r = sim([{ do: "link.fault", kind: "meteor" }]);
  t.not(r.code, 0);
  t.regex(r.err, /kind must be one of no-sim, no-registration/);
});
