import test from "ava";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCenter } from "../center/center";
import { seedDemo } from "../center/demo";
import { projectRoot } from "../host-sim/project";
import { simSummary } from "../cli/sim";

const root = projectRoot();
const bin = join(root, "bin", "timeguard.js");

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function withTakenPort(f: (port: number) => Promise<void>): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  try {
    await f((server.address() as { port: number }).port);
  } finally {
    server.close();
  }
}

/** Runs the CLI without waiting for it synchronously (the taken port's server must keep answering). */
function runAsync(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

for (const [name, args] of [
  ["center", (dir: string, p: number) => ["center", "--data", dir, "--http-port", String(p), "--mqtt-port", "0"]],
  ["sim-web", (_dir: string, p: number) => ["sim-web", "--engine", "node", "--port", String(p)]],
  ["start", (dir: string, p: number) => ["start", "--engine", "node", "--data", dir, "--http-port", "0", "--mqtt-port", "0", "--sim-port", String(p)]],
] as const) {
  test(`timeguard ${name} on a port in use: one line naming the port, exit code 2, no hang`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "tg-port-"));
    try {
      await withTakenPort(async (port) => {
        const r = await runAsync(...args(dir, port));
        t.is(r.code, 2, r.err);
        t.is(r.err.trim().split("\n").length, 1, r.err);
        t.regex(r.err, new RegExp(`^timeguard ${name}: 127\\.0\\.0\\.1:${port} is already in use`));
        t.notRegex(r.err, /\bat .*\.js:\d+/, "no stack trace");
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("numeric flags: negative and zero values get the flag's own message and exit code 2", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-flags-"));
  try {
    const card = run("estimate", "--tariff", "examples/tariff.json", "--plan", "examples/plan-period-1.json", "--card", "-5");
    t.is(card.code, 2);
    t.regex(card.err, /--card must be a whole number of counts, got -5/);
    t.notRegex(card.err, /ambiguous/);
    const zero = run("card", "issue", "--file", join(dir, "c.json"), "--counts", "0");
    t.is(zero.code, 2);
    t.regex(zero.err, /--counts must be a whole number ≥ 1, got 0/);
    const neg = run("card", "issue", "--file", join(dir, "c.json"), "--counts", "-3");
    t.is(neg.code, 2);
    t.regex(neg.err, /--counts must be .* got -3/);
    const speed = run("sim-web", "--speed", "-2");
    t.is(speed.code, 2);
    t.regex(speed.err, /--speed must be a number above 0 .* got -2/);
    const port = run("center", "--data", dir, "--http-port", "70000");
    t.is(port.code, 2);
    t.regex(port.err, /--http-port must be a whole number from 0 to 65,535, got 70000/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("card show after a top-up says what the backup copy is", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-card-"));
  try {
    const file = join(dir, "c.json");
    t.is(run("card", "issue", "--file", file, "--counts", "472", "--id", "7").code, 0);
    t.is(run("card", "topup", "--file", file, "--counts", "100").code, 0);
    const show = run("card", "show", "--file", file);
    t.is(show.code, 0, show.err);
    t.regex(show.out, /counts 572 \(472 before the last transaction, kept as the backup copy\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("sim without --json: a short summary, absent parts 'not fitted', no fault wording", (t) => {
  const r = run("sim", "--engine", "node", "--for", "1h");
  t.is(r.code, 0, r.err);
  const lines = r.out.trim().split("\n");
  t.true(lines.length < 25, `${lines.length} lines`);
  t.regex(r.out, /^terminal T0001 under NODE, .* on its clock \(\+09:00\)/);
  t.regex(r.out, /card reader: not fitted/);
  t.regex(r.out, /cellular modem: not fitted/);
  t.notRegex(r.out, /NACK|not answering/);
  t.is(r.err, "", "no progress line when stderr is not a terminal");
});

test("center export without --json prints tables; --terminal refuses to move a terminal to another site without --move-terminal", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-export-"));
  try {
    const center = await startCenter({ dataDir: dir, mqttPort: 0, httpPort: 0 });
    seedDemo(center);
    await center.close();
    const r = run("center", "export", "--data", dir);
    t.is(r.code, 0, r.err);
    t.regex(r.out, /^Sites \(1\)\n +id +name +terminals\n +1 +Demo home +T0001/m);
    t.regex(r.out, /Periods \(0; start and end on the terminal's clock, \+09:00\)/);
    t.regex(r.out, /Totals per terminal\n +terminal +periods +yen/);
    t.throws(() => JSON.parse(r.out));
    const json = run("center", "export", "--data", dir, "--json");
    t.is(JSON.parse(json.out).sites[0].name, "Demo home");

    const move = run("center", "--data", dir, "--http-port", "0", "--mqtt-port", "0", "--terminal", "T0001:SECRET:Tanaka home");
    t.is(move.code, 2);
    t.regex(move.err, /terminal T0001 belongs to site "Demo home" .* --move-terminal/);
    const after = JSON.parse(run("center", "export", "--data", dir, "--json").out);
    t.deepEqual(after.sites.map((s: any) => [s.name, s.terminals]), [["Demo home", ["T0001"]]], "nothing moved");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("scenario --out: the result goes to the file, and a short summary of it to stdout (nothing on stderr when piped)", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-scenario-out-"));
  try {
    const out = join(dir, "result.json");
    const r = run("scenario", "scenarios/fire-unguarded.json", "--engine", "node", "--out", out);
    t.is(r.code, 0, r.err);
    t.is(r.err, "", "no progress line when stderr is not a terminal");
    const result = JSON.parse(readFileSync(out, "utf8"));
    t.is(result.alarms.length, 1);
    t.regex(r.out, /^terminal T0001 under NODE: 0 periods closed at the center, 0 yen, 0 counts taken from the card\n/);
    t.regex(r.out, /\ncenter: 1 alarm \(\d+ media items?\), 1 notification, 0 operator actions\n/);
    t.regex(r.out, /\n {2}\|C0001 FIRE {10}\|\n/, "the LCD at the end");
    t.regex(r.out, new RegExp(`\\nwrote ${out.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} \\(the whole result, JSON\\)\\n$`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("flags a stranger got wrong: a negative --media-wait, --from without --smtp, a huge --for or script, a --flash or --out that cannot be, counts past the card's maximum, an unreadable card file: one line each, exit code 2", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-flags2-"));
  const long = join(dir, "long.json");
  writeFileSync(long, JSON.stringify([{ do: "wait", for: "99999d" }]));
  try {
    const cases: Array<[string[], RegExp]> = [
      [["center", "--data", dir, "--media-wait", "-1"], /^timeguard center: --media-wait must be seconds from 1 to 3600, got -1\n$/],
      [["center", "--data", dir, "--from", "x@example.com"], /^timeguard center: --from is the sender of the e-mails sent through --smtp HOST:PORT; give --smtp too\n$/],
      [["center", "--data", dir, "--smtp", "127.0.0.1:99999"], /^timeguard center: --smtp must be HOST:PORT \(port 1 to 65535\), got 127\.0\.0\.1:99999\n$/],
      [["sim", "--engine", "node", "--for", "99999d"], /^timeguard sim: --for must be at most 366d \(a year of virtual time\), got 99999d\n$/],
      [["sim", "--engine", "node", "--for", "-1h"], /^timeguard sim: --for: bad duration "-1h"/],
      [["card", "issue", "--file", join(dir, "c.json"), "--counts", "100001"], /^timeguard card: --counts must be at most 100,000 \(the card's maximum balance\), got 100001\n$/],
      [["card", "issue", "--file", join(dir, "c.json"), "--counts", "5", "--id", "4294967296"], /^timeguard card: --id must be at most 4,294,967,295, got 4294967296\n$/],
      [["card", "issue", "--file", join(dir, "c.json"), "--counts", "5", "--max", "2147483648"], /^timeguard card: --max must be at most 2,147,483,647/],
      [["card", "issue", "--file", join(dir, "no-such-folder", "c.json"), "--counts", "5"], /^timeguard card: --file .*c\.json: cannot write there \(ENOENT for .*no-such-folder\)\n$/],
      [["card", "show", "--file", join(dir, "missing.json")], /^timeguard card: cannot read the card file .*missing\.json: ENOENT\n$/],
      [["card", "topup", "--file", "examples/tariff.json", "--counts", "5"], /^timeguard card: examples\/tariff\.json is not a timeguard-card\/1 card file\n$/],
      [["sim", "--engine", "node", "--flash", join(dir, "no-such-folder", "t.flash")], /^timeguard sim: --flash .*t\.flash: cannot make it there \(ENOENT for .*no-such-folder\)\n$/],
      [["sim", "--engine", "node", "--flash", dir], /^timeguard sim: --flash .* is not a file \(give the flash image's file name; it is made if missing\)\n$/],
      [["sim-web", "--engine", "node", "--port", "0", "--flash", dir], /^timeguard sim-web: --flash .* is not a file/],
      [["sim", "--engine", "node", "--script", long], /^timeguard sim: the script would run 99,999 days of virtual time; at most 366\n$/],
      [["scenario", long, "--engine", "node"], /^timeguard scenario: scenario .* would run 99,999 days of virtual time; at most 366\n$/],
      [["scenario", "scenarios/fire-unguarded.json", "--engine", "node", "--out", join(dir, "no-such-folder", "r.json")], /^timeguard scenario: --out .*r\.json: cannot write there \(ENOENT for .*no-such-folder\)\n$/],
      [["scenario", "scenarios/fire-unguarded.json", "--engine", "node", "--out", dir], /^timeguard scenario: --out .* is a folder \(give a file name\)\n$/],
    ];
    for (const [args, message] of cases) {
      const r = run(...args);
      t.is(r.code, 2, `${args.join(" ")}: ${r.err}`);
      t.regex(r.err, message, args.join(" "));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("scenario --data refuses a folder with data in it (another run's, or the demo's var/), and leaves it as it was", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-scenario-data-"));
  try {
    writeFileSync(join(dir, "demo.json"), "{}\n");
    const r = run("scenario", "scenarios/fire-unguarded.json", "--engine", "node", "--data", dir, "--out", join(dir, "r.json"));
    t.is(r.code, 2);
    t.is(r.err, `timeguard scenario: --data ${dir} is not empty: a scenario keeps its center in a new or empty folder (the demo's is var/)\n`);
    t.deepEqual(readdirSync(dir), ["demo.json"], "nothing written there");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("timeguard with no command: the usage on stderr and exit code 2; --help: on stdout and exit code 0", (t) => {
  const bare = run();
  t.is(bare.code, 2);
  t.is(bare.out, "");
  t.regex(bare.err, /^timeguard — pay-per-use home security/);
  const help = run("--help");
  t.is(help.code, 0);
  t.is(help.err, "");
  t.regex(help.out, /^timeguard — pay-per-use home security/);
});

test("timeguard start on a --data that is a file, or with the demo's card file broken: one line saying what and the way out, exit code 2", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-start-bad-"));
  const ports = ["--http-port", "0", "--mqtt-port", "0", "--mqtt-tls-port", "0", "--sim-port", "0", "--engine", "node"];
  try {
    const file = join(dir, "a-file");
    writeFileSync(file, "x\n");
    const notDir = run("start", "--data", file, ...ports);
    t.is(notDir.code, 2, notDir.err);
    t.is(notDir.err, `timeguard start: --data ${file}: cannot keep the data there (EEXIST): give a folder\n`);

    const demo = join(dir, "demo");
    mkdirSync(demo);
    writeFileSync(join(demo, "demo.json"), JSON.stringify({ format: 1, clockMs: Date.UTC(2026, 3, 16, 10) }) + "\n");
    writeFileSync(join(demo, "card-6000.json"), "{}\n");
    const card = run("start", "--data", demo, ...ports);
    t.is(card.code, 2, card.err);
    t.is(card.err, `timeguard start: ${join(demo, "card-6000.json")} is not a timeguard-card/1 card file (--fresh starts the demo over)\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("sim's summary writes yen, counts and flash writes with thousands separators, as estimate does", (t) => {
  const text = simSummary(
    { terminal: "T0001", time: "2026-05-06T00:00", boots: 2, guarding: false, owedYen: 50976, countsDue: 5097, periodsClosed: 2, card: { present: true, counts: 6000 }, storage: { writes: 34690 } },
    "node",
    { card: true, modem: false, radio: false },
  );
  t.regex(text, /fee owed 50,976 yen \(5,097 counts\) · periods closed 2/);
  t.regex(text, /\ncard: 6,000 counts\n/);
  t.regex(text, /\nflash: 34,690 writes$/);
});

test("a PostgreSQL store that is not there: one line naming it, exit code 1, no stack", (t) => {
  // port 1 on loopback: nothing listens, the connection is refused at once
  for (const args of [["center", "export", "--store", "postgres://tg@127.0.0.1:1/tg"], ["center", "user", "list", "--store", "postgres://tg@127.0.0.1:1/tg"]]) {
    const r = run(...args);
    t.is(r.code, 1, r.err);
    t.is(r.err, "timeguard center: the PostgreSQL store (--store): connect ECONNREFUSED 127.0.0.1:1\n", args.join(" "));
  }
});

test("output into a pipe whose reader has gone (timeguard … | head): a quiet exit, no EPIPE stack", async (t) => {
  const child = spawn(process.execPath, [bin, "sim", "--engine", "node", "--for", "1h"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.destroy(); // the reader is gone before the first line is written
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  t.is(code, 0, err);
  t.notRegex(err, /EPIPE|\bat .*\.js:\d+/);
});
