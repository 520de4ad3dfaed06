// The bridge's hex (host-sim/shims/bridge.ts): every byte the host sends the firmware comes as hex
// and is decoded for each I2C read and UART delivery. Three ways to decode it, one answer: with
// the engine's TextEncoder (xsnap, and this Node process), and by character codes where there is
// none (the Node engine's bare context); anything but pairs of hex digits is refused.
import test from "ava";
import { build } from "esbuild";
import { Script, createContext } from "node:vm";
import { fromHex, toHex } from "../host-sim/shims/bridge";
import { underXs } from "./helpers/xs-run";

const ALL = Uint8Array.from({ length: 256 }, (_, i) => i);
const GOOD = [toHex(ALL), toHex(ALL).toUpperCase(), "", "0aF9"];
const BAD = ["abc", "0g", "zz", " 0", "é0", "\u0100\u0100", "f\ud800", "0x"];

/** What each input decodes to (hex again) or the error it gives, by the decoder under test. */
const SOURCE = `
import { fromHex, toHex } from "./host-sim/shims/bridge";
const out = ${JSON.stringify([...GOOD, ...BAD])}.map((s) => {
  try {
    return toHex(fromHex(s));
  } catch (e) {
    return "error: " + e.message;
  }
});
`;

const expected = [...GOOD.map((s) => s.toLowerCase()), ...BAD.map(() => "error: host sent bad hex")];

test("hex from the host decodes to the same bytes with TextEncoder (this process)", (t) => {
  t.deepEqual(fromHex(toHex(ALL)), ALL);
  t.deepEqual(
    [...GOOD, ...BAD].map((s) => {
      try {
        return toHex(fromHex(s));
      } catch (e) {
        return "error: " + (e as Error).message;
      }
    }),
    expected,
  );
});

test("...and by character codes in a context without TextEncoder (the Node engine's)", async (t) => {
  const out = await build({ stdin: { contents: SOURCE + "(globalThis as any).out = out;", resolveDir: process.cwd(), sourcefile: "hex-vm.ts", loader: "ts" }, bundle: true, write: false, format: "iife", platform: "neutral", target: "es2022", logLevel: "warning" });
  const context = createContext({});
  new Script(out.outputFiles[0].text).runInContext(context);
  t.is(new Script("typeof TextEncoder").runInContext(context), "undefined");
  t.deepEqual(JSON.parse(JSON.stringify(context.out)), expected);
});

test("...and under XS (xsnap's native TextEncoder)", async (t) => {
  const [out] = await underXs(SOURCE + "declare const issueCommand: (b: ArrayBuffer) => ArrayBuffer;\nissueCommand(new TextEncoder().encode(JSON.stringify(out)).buffer);");
  t.deepEqual(out, expected);
});
