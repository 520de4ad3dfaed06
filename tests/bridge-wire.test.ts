// The bridge's bytes (host-sim/shims/bridge.ts toWire, fromWire): every transfer between host and
// firmware crosses as canonical padded base64, decoded for each I2C read and UART delivery. Two
// ways to code it, one answer: xsnap's native Base64 under XS, and a table a sextet in the Node
// engine's bare context; they agree with the host's side (Buffer, host-sim/io/wire-bytes.ts), and
// anything but canonical padded base64 is refused on both sides.
import test from "ava";
import { build } from "esbuild";
import { Script, createContext } from "node:vm";
import { bytesOfWire, wireOf } from "../host-sim/io/wire-bytes";
import { underXs } from "./helpers/xs-run";

const ALL = Uint8Array.from({ length: 256 }, (_, i) => i);
/** every length modulo 3, every byte value, and the empty transfer */
const SAMPLES: number[][] = [[], [0], [255], [1, 2], [0xfb, 0xff], [1, 2, 3], [...ALL], [...ALL.subarray(0, 254)], [...ALL.subarray(3, 253)]];
const GOOD = SAMPLES.map((b) => Buffer.from(b).toString("base64"));
const BAD = ["A", "AAE", "AA-_", "AA_=", "AB==", "AAB=", "A===", "=AAA", "A=AA", "AA=A", "AAAA AAA", "é0AA", "\u0100\u0100AA", "AAA\ud800"];

/** What each input decodes to (as a list of byte values) or the error it gives, and each sample encoded, by the coder under test. */
const SOURCE = `
import { fromWire, toWire } from "./host-sim/shims/bridge";
const decoded = ${JSON.stringify([...GOOD, ...BAD])}.map((s) => {
  try {
    return Array.from(fromWire(s));
  } catch (e) {
    return "error: " + e.message;
  }
});
const encoded = ${JSON.stringify(SAMPLES)}.map((b) => toWire(Uint8Array.from(b)));
// a view into a larger buffer is coded from its own bytes only
const view = toWire(Uint8Array.from([9, 1, 2, 3, 9]).subarray(1, 4));
const out = { decoded, encoded, view };
`;

const expected = {
  decoded: [...SAMPLES, ...BAD.map(() => "error: host sent bad base64")],
  encoded: GOOD,
  view: Buffer.from([1, 2, 3]).toString("base64"),
};

test("the host's side: Buffer's base64 out; only canonical padded base64 back, within the size asked", (t) => {
  t.deepEqual(SAMPLES.map((b) => wireOf(Uint8Array.from(b))), GOOD);
  t.deepEqual(GOOD.map((s) => Array.from(bytesOfWire(s))), SAMPLES);
  for (const s of BAD) t.throws(() => bytesOfWire(s), { message: /canonical padded base64/ }, s);
  t.throws(() => bytesOfWire(12), { message: /canonical padded base64/ });
  t.throws(() => bytesOfWire("AAAAAA==", 3), { message: /more than 3/ });
  t.deepEqual(Array.from(bytesOfWire("AAAA", 3)), [0, 0, 0]);
});

test("...the engine's in a context without Base64 (the Node engine's): the same bytes both ways", async (t) => {
  const out = await build({ stdin: { contents: SOURCE + "(globalThis as any).out = out;", resolveDir: process.cwd(), sourcefile: "wire-vm.ts", loader: "ts" }, bundle: true, write: false, format: "iife", platform: "neutral", target: "es2022", logLevel: "warning" });
  const context = createContext({});
  new Script(out.outputFiles[0].text).runInContext(context);
  t.is(new Script("typeof Base64").runInContext(context), "undefined");
  t.deepEqual(JSON.parse(JSON.stringify(context.out)), expected);
});

test("...and under XS (xsnap's native Base64): the same bytes both ways", async (t) => {
  const [out] = await underXs(SOURCE + "declare const issueCommand: (b: ArrayBuffer) => ArrayBuffer;\nissueCommand(new TextEncoder().encode(JSON.stringify(out)).buffer);");
  t.deepEqual(out, expected);
});
