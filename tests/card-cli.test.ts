import test from "ava";
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../host-sim/project";
import { readCardFile, writeCardFile } from "../host-sim/devices/card-file";
import { ENGINES, tempDir } from "./helpers/card-sim";

const BIN = join(projectRoot(), "bin", "timeguard.js");

function tg(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test("card issue, show, topup and revoke on a card file; wrong keys, broken blocks and a balance past the maximum are refused", (t) => {
  const dir = tempDir();
  const f = join(dir, "c.json");
  const issued = tg(["card", "issue", "--file", f, "--counts", "472", "--id", "4242", "--uid", "0a0b0c0d"]);
  t.is(issued.code, 0, issued.err);
  t.regex(issued.out, /issued card 4242 \(uid 0a0b0c0d\) with 472 counts/);
  t.is(tg(["card", "issue", "--file", f, "--counts", "1"]).code, 1, "a card is issued once");

  const shown = JSON.parse(tg(["card", "show", "--file", f, "--json"]).out);
  t.like(shown, { id: 4242, issuer: 1, counts: 472, backup: 472, seq: 1, lastKind: "issue", macOk: true, consistent: true, revoked: false });

  const up = tg(["card", "topup", "--file", f, "--counts", "28"]);
  t.is(up.code, 0, up.err);
  t.regex(up.out, /472 \+ 28 = 500 counts \(transaction 2\)/);

  const past = tg(["card", "topup", "--file", f, "--counts", "99600"]);
  t.is(past.code, 1);
  t.regex(past.err, /100100 counts is past the maximum balance 100000/);

  const keys = join(dir, "wrong-keys.json");
  writeFileSync(keys, JSON.stringify({ issuer: 1, keyA: "a0a1a2a3a4a5", keyB: "000000000000", macKey: "54696d6567756172642d6d61632d3031" }));
  const wrong = tg(["card", "topup", "--file", f, "--counts", "1", "--keys", keys]);
  t.is(wrong.code, 1);
  t.regex(wrong.err, /the card refused the key .*key B.*wrong key for this card/);

  // A value block whose inverse does not match.
  const broken = join(dir, "broken.json");
  t.is(tg(["card", "issue", "--file", broken, "--counts", "10"]).code, 0);
  const img = readCardFile(broken);
  img.memory[4 * 16 + 5] ^= 0x80;
  writeCardFile(broken, img);
  const b = tg(["card", "topup", "--file", broken, "--counts", "1"]);
  t.is(b.code, 1);
  t.regex(b.err, /block 4 is a malformed value block \(the value's inverse copy does not match\)/);
  const bs = tg(["card", "show", "--file", broken]);
  t.is(bs.code, 1);
  t.regex(bs.out, /problems: block 4 is a malformed value block/);

  const rv = tg(["card", "revoke", "--file", f]);
  t.is(rv.code, 0, rv.err);
  t.like(JSON.parse(tg(["card", "show", "--file", f, "--json"]).out), { revoked: true, counts: 500, lastKind: "revoke", macOk: true });
  t.regex(tg(["card", "topup", "--file", f, "--counts", "1"]).err, /revoked: no top-up/);

  t.is(tg(["card", "frobnicate", "--file", f]).code, 2);
  t.is(tg(["card", "topup", "--file", f, "--counts", "-3"]).code, 2);
});

for (const engine of ENGINES) {
  test(`[${engine}] timeguard sim with card.insert / card.remove: period 1 paid from a 472-count card, 444 left in the file`, (t) => {
    const dir = tempDir();
    const card = join(dir, "card.json");
    t.is(tg(["card", "issue", "--file", card, "--counts", "472"]).code, 0);
    const script = join(dir, "s.json");
    writeFileSync(
      script,
      JSON.stringify({
        start: "2026-04-16T19:00",
        actions: [
          ...["A0001", "A0002", "B0001"].map((id) => ({ do: "sensor.add", id })),
          { do: "wait", for: "5s" },
          { do: "pairing.confirm" },
          { do: "plan.set", plan: { contract: "continuous", periods: [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, sensors: 2, cameras: 1 }] } },
          { do: "card.insert", file: card },
          { at: "2026-04-16T23:05", do: "snapshot", label: "paid" },
          { do: "card.remove" },
          { do: "wait", for: "1m" },
        ],
      }),
    );
    const out = execFileSync(process.execPath, [BIN, "sim", "--engine", engine, "--script", script, "--json"], { encoding: "utf8" });
    const r = JSON.parse(out);
    const paid = r.sim.snapshots[0].snapshot;
    t.is(paid.card.counts, 444);
    t.is(paid.card.taken, 28);
    t.is(paid.owedYen, 288);
    t.is(r.card.present, false, "removed at the end");
    t.like(JSON.parse(tg(["card", "show", "--file", card, "--json"]).out), { counts: 444, backup: 445, seq: 29, lastKind: "debit", macOk: true, consistent: true });
  });
}
