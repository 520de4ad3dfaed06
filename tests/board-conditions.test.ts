/**
 * The host engines hold the firmware to a board's conditions that the toolchain (not on npm) would
 * otherwise be the first to show: built-ins frozen as xsl freezes them, every module main reaches
 * listed (and preloaded) in manifest.json, `device` only what the SDK's host provider gives.
 */
import test from "ava";
import { build } from "esbuild";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { startNodeEngine } from "../host-sim/engines/node-engine";
import { startXsEngine } from "../host-sim/engines/xs-engine";
import { makeDevice } from "../host-sim/shims/device";
import { specifierOf, unlisted } from "../scripts/manifest-modules.mjs";

const root = process.cwd();
const manifest = JSON.parse(readFileSync(join(root, "manifest.json"), "utf8"));

/** A bundle whose command port runs `body` and answers what it returned or the error it threw. */
function probe(body: string): string {
  return `globalThis.__tgCommand = () => { try { return "ok:" + String((() => { ${body} })()); } catch (e) { return "threw:" + e.name + ": " + e.message; } };`;
}

for (const [name, start] of [["xs", startXsEngine], ["node", startNodeEngine]] as const) {
  test(`[${name}] built-ins are frozen as xsl freezes them: an Error subclass assigning this.name throws`, async (t) => {
    const engine = await start(
      probe(`class E extends Error { constructor() { super("m"); this.name = "E"; } } return new E().name;`),
      () => "null",
    );
    try {
      const got = await engine.command("{}");
      t.regex(got, /^threw:TypeError/, got);
    } finally {
      await engine.close();
    }
  });

  test(`[${name}] built-ins are frozen: Array.prototype, Object.prototype, Math; the global object and class fields are not`, async (t) => {
    const engine = await start(
      probe(`
        const frozen = [Array.prototype, Object.prototype, Function.prototype, Error.prototype, Uint8Array.prototype,
          Object.getPrototypeOf(Uint8Array.prototype), Math, JSON, Map.prototype, Promise.prototype, Object.getPrototypeOf([][Symbol.iterator]())]
          .every((o) => Object.isFrozen(o));
        class F extends Error { name = "F"; }
        globalThis.__probe = 1;
        return frozen + "," + new F().name + "," + globalThis.__probe;`),
      () => "null",
    );
    try {
      t.is(await engine.command("{}"), "ok:true,F,1");
    } finally {
      await engine.close();
    }
  });
}

test("every firmware module main reaches is listed in manifest.json modules, under the specifier its importers use", async (t) => {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["firmware/main.ts"],
    bundle: true,
    write: false,
    metafile: true,
    platform: "neutral",
    format: "esm",
    external: ["timer", "preference", "mc/config", "rtc", "time", "embedded:*"],
    logLevel: "silent",
  });
  const files = Object.keys(result.metafile.inputs).filter((f) => f.startsWith("firmware/"));
  t.true(files.length > 30, `main reaches ${files.length} firmware modules`);
  t.deepEqual(files.map((f) => unlisted(manifest, f)).filter((why) => why !== null), []);
  // and the check sees a missing entry: without "uplink/*" the uplink modules are unlisted
  const { ["uplink/*"]: _dropped, ...rest } = manifest.modules;
  t.regex(unlisted({ modules: rest }, "firmware/uplink/link.ts") ?? "", /does not list firmware\/uplink\/link\.ts as "uplink\/link"/);
  t.is(unlisted(manifest, "firmware/platform/esp32/rtc.ts"), null, "rtc is imported by its bare name");
});

test("every firmware module is preloaded by name (module code and frozen tables in flash, not in the XS heap)", (t) => {
  const preload = new Set<string>(manifest.preload);
  const files = readdirSync(join(root, "firmware"), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => `firmware/${f.split("\\").join("/")}`);
  t.true(files.length > 30);
  t.deepEqual(files.filter((f) => !preload.has(specifierOf(manifest, f) ?? "")), []);
  for (const p of manifest.preload as string[]) t.false(p.includes("*"), `preload "${p}": mcconfig matches wildcards against JavaScript modules only`);
});

test("the firmware's device is what the SDK's host provider (esp32/nodemcu) exports: no device.network, sockets are modules", (t) => {
  const { device, sockets } = makeDevice(() => 0);
  t.deepEqual(Object.keys(device).sort(), ["I2C", "Serial", "io", "pin"]);
  t.deepEqual(Object.keys(device.io).sort(), ["Digital", "DigitalBank", "I2C", "Serial"]);
  t.like(device.I2C.default, { data: 21, clock: 22 });
  t.deepEqual(Object.keys(sockets).sort(), ["Listener", "TCP", "UDP"]);
  const bundle = readFileSync(join(root, "dist/firmware-host.js"), "utf8");
  t.false(/device\.network/.test(bundle), "the bundle never reads device.network");
});
