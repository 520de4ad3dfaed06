import test from "ava";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../host-sim/project";
import { WebClient } from "./helpers/center-web";
import { storeEngines } from "./helpers/stores";

const bin = join(projectRoot(), "bin", "timeguard.js");

/** `timeguard …` with `input` on its standard input (asynchronous: the other tests' centers keep running). */
function run(args: string[], input = ""): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.stdin.on("error", () => undefined); // a command that exits before reading all of it
    child.stdin.end(input);
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** `timeguard center …` in the background, until it prints where it listens. */
async function center(args: string[]): Promise<{ child: ChildProcess; host: string; mqttPort: number; base: string; out: () => string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [bin, "center", "--http-port", "0", "--mqtt-port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const deadline = Date.now() + 30_000;
  let m: RegExpExecArray | null;
  while (!(m = /MQTT on ([^\s]+):(\d+), web on (http:\/\/[^\s]+)\//.exec(out))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error(`the center did not come up: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    host: m[1],
    mqttPort: Number(m[2]),
    base: m[3],
    out: () => out,
    stop: async () => {
      child.kill("SIGINT");
      return exited;
    },
  };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "tg-center-cli-"));
}

test("center user add reads the password from stdin and it logs in over HTTP; passwd changes it and ends sessions; remove refuses the login", async (t) => {
  const dir = tmp();
  try {
    const added = await run(["center", "user", "add", "--data", dir, "--user", "chief", "--role", "admin"], "chief-pass-0001\n");
    t.is(added.code, 0, added.err);
    t.regex(added.out, /user chief added \(admin\)/);
    t.is((await run(["center", "user", "add", "--data", dir, "--user", "watch", "--role", "operator"], "watch-pass-0001\n")).code, 0);

    const c = await center(["--data", dir]);
    try {
      t.is(c.host, "127.0.0.1", "loopback unless --listen says otherwise");
      const admin = new WebClient(c.base);
      const ok = await admin.login("chief", "chief-pass-0001");
      t.is(ok.status, 303);
      t.is(ok.headers.get("location"), "/admin");
      t.is((await admin.get("/admin")).status, 200);

      // passwd while the center runs: the old password stops working, the session ends
      const changed = await run(["center", "user", "passwd", "--data", dir, "--user", "chief"], "chief-pass-0002\n");
      t.is(changed.code, 0, changed.err);
      t.is((await admin.get("/api/me")).status, 401, "the session of the old password ended");
      t.is((await new WebClient(c.base).login("chief", "chief-pass-0001")).status, 401);
      t.is((await new WebClient(c.base).login("chief", "chief-pass-0002")).status, 303);

      // remove: the login is refused and the live session ends
      const op = new WebClient(c.base);
      t.is((await op.login("watch", "watch-pass-0001")).status, 303);
      t.is((await op.get("/operator")).status, 200);
      const removed = await run(["center", "user", "remove", "--data", dir, "--user", "watch"]);
      t.is(removed.code, 0, removed.err);
      t.is((await op.get("/api/me")).status, 401);
      t.is((await new WebClient(c.base).login("watch", "watch-pass-0001")).status, 401);
      t.deepEqual((await run(["center", "user", "list", "--data", dir])).out.trim().split("\n"), ["chief\tadmin"]);
    } finally {
      t.is(await c.stop(), 0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("center user: bad role, unknown or missing site, duplicate user, weak or empty password and the last admin get a clear error and exit code 2", async (t) => {
  const dir = tmp();
  try {
    t.is((await run(["center", "user", "add", "--data", dir, "--user", "chief", "--role", "admin"], "chief-pass-0001\n")).code, 0);
    const cases: Array<[string[], string, RegExp]> = [
      [["add", "--user", "x", "--role", "boss"], "long-enough-1\n", /--role must be admin, operator or manager, got boss/],
      [["add", "--user", "x", "--role", "manager"], "long-enough-1\n", /--site SITE is required for a manager/],
      [["add", "--user", "x", "--role", "manager", "--site", "Nowhere"], "long-enough-1\n", /no site called "Nowhere"/],
      [["add", "--user", "x", "--role", "operator", "--site", "Nowhere"], "long-enough-1\n", /--site is for a manager only/],
      [["add", "--user", "chief", "--role", "operator"], "long-enough-1\n", /the user chief exists/],
      [["add", "--user", "x", "--role", "operator"], "", /the password is empty/],
      [["add", "--user", "x", "--role", "operator"], "short\n", /password: at least 10 characters/],
      [["add", "--user", "x", "--role", "operator"], "x".repeat(201) + "\n", /password: at most 200 characters/],
      [["add", "--user", "x", "--role", "operator"], "long-enough-1\nsecond line\n", /more than one line/],
      [["add", "--user", "x", "--role", "operator"], "y".repeat(5000), /more than 4096 bytes/],
      [["add", "--user", "bad name!", "--role", "operator"], "long-enough-1\n", /--user must be 1 to 40 letters/],
      [["passwd", "--user", "ghost"], "long-enough-1\n", /no user called ghost/],
      [["passwd", "--user", "chief"], "short\n", /password: at least 10 characters/],
      [["remove", "--user", "chief"], "", /chief is the last admin/],
    ];
    for (const [args, input, message] of cases) {
      const [action, ...rest] = args;
      const r = await run(["center", "user", action, "--data", dir, ...rest], input);
      t.is(r.code, 2, `${args.join(" ")}: ${r.err}`);
      t.regex(r.err, message, args.join(" "));
    }
    t.deepEqual((await run(["center", "user", "list", "--data", dir])).out.trim().split("\n"), ["chief\tadmin"], "nothing was added or removed");
    const missing = join(dir, "nothing-here");
    const r = await run(["center", "user", "add", "--data", missing, "--user", "x", "--role", "operator"], "");
    t.is(r.code, 2);
    t.false(existsSync(missing), "a refused first user leaves no data directory behind");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("center --listen binds the given address only, for the web and MQTT", async (t) => {
  const dir = tmp();
  try {
    t.is((await run(["center", "--data", dir, "--listen", "center.example"])).code, 2);
    const c = await center(["--data", dir, "--listen", "127.0.0.2"]);
    try {
      t.is(c.host, "127.0.0.2");
      const hint = /no users yet; add the first admin with: timeguard center user add/;
      for (const until = Date.now() + 30_000; !hint.test(c.out()) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
      t.regex(c.out(), hint, "the line after the address");
      t.is((await fetch(`${c.base}/api/health`)).status, 200);
      const port = Number(new URL(c.base).port);
      const reach = (host: string, p: number) =>
        new Promise<boolean>((resolve) => {
          const s = connect({ host, port: p }, () => (s.destroy(), resolve(true)));
          s.on("error", () => resolve(false));
        });
      t.false(await reach("127.0.0.1", port), "the web is not on 127.0.0.1");
      t.true(await reach("127.0.0.2", c.mqttPort));
      t.false(await reach("127.0.0.1", c.mqttPort), "MQTT is not on 127.0.0.1");
    } finally {
      t.is(await c.stop(), 0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("center --trusted-proxy: the login limit keys on X-Forwarded-For from that proxy, so one client's failures do not refuse another", async (t) => {
  const dir = tmp();
  try {
    t.is((await run(["center", "user", "add", "--data", dir, "--user", "chief", "--role", "admin"], "chief-pass-0001\n")).code, 0);
    t.is((await run(["center", "--data", dir, "--trusted-proxy", "proxy.example"])).code, 2);
    const c = await center(["--data", dir, "--trusted-proxy", "127.0.0.1"]);
    try {
      const attacker = { "x-forwarded-for": "203.0.113.9" };
      // 20 wrong logins on 20 names (no account backoff) fill the attacker's address limit
      for (let i = 0; i < 20; i++) t.is((await new WebClient(c.base).login(`guess${i}`, "wrong-password-1", attacker)).status, 401);
      t.is((await new WebClient(c.base).login("guess20", "wrong-password-1", attacker)).status, 429);
      const user = new WebClient(c.base);
      t.is((await user.login("chief", "chief-pass-0001", { "x-forwarded-for": "198.51.100.7" })).status, 303, "another client behind the same proxy logs in");
    } finally {
      t.is(await c.stop(), 0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const postgres = storeEngines().find((e) => e.name === "postgres")!;

postgres.test("center --store postgres://… runs the center on PostgreSQL: user add, login over HTTP, export read the same database", async (t) => {
  const dir = tmp();
  try {
    const url = postgres.fresh() as string;
    const added = await run(["center", "user", "add", "--store", url, "--user", "chief", "--role", "admin"], "chief-pass-0001\n");
    t.is(added.code, 0, added.err);
    const c = await center(["--data", dir, "--store", url, "--terminal", "T0001:s3cret-one:Tanaka home"]);
    try {
      t.regex(c.out(), /store PostgreSQL postgres:\/\/postgres@127\.0\.0\.1:\d+\/tg_/);
      t.false(existsSync(join(dir, "center.sqlite")), "no SQLite file: the data is in PostgreSQL");
      const admin = new WebClient(c.base);
      t.is((await admin.login("chief", "chief-pass-0001")).status, 303);
      t.is((await admin.get("/admin")).status, 200);
    } finally {
      t.is(await c.stop(), 0);
    }
    const exported = await run(["center", "export", "--store", url, "--json"]);
    t.is(exported.code, 0, exported.err);
    t.deepEqual((JSON.parse(exported.out) as { sites: Array<{ name: string; terminals: string[] }> }).sites.map((x) => [x.name, x.terminals]), [["Tanaka home", ["T0001"]]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("center --store refuses anything but sqlite or a postgres:// URL", async (t) => {
  const dir = tmp();
  try {
    const r = await run(["center", "--data", dir, "--store", "mysql://db.example/x"]);
    t.is(r.code, 2);
    t.regex(r.err, /--store must be sqlite or a postgres:\/\//);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
