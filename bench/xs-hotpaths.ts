/**
 * The firmware's hot paths timed inside an xsnap worker (the XS engine the simulator runs), each
 * in a loop, in microseconds a call (wall time: run on a quiet machine; the load is printed): a
 * sensor frame's MAC, CRC-32 and a flash record of the card ledger's size, the bytes of a flash
 * write and of a sensor frame as hex and in base64 as the bridge codes them (host-sim/shims/bridge.ts
 * toWire, fromWire), and a regular expression as a
 * literal evaluated each call against a module constant (firmware/platform/store.ts checkKey).
 * Run: npm run build && node dist/bench/xs-hotpaths.js
 */
import * as os from "node:os";
import { bundleForXs, runInXs } from "../host-sim/engines/xs-script";
import { projectRoot } from "../host-sim/project";

const SOURCE = `
import { HmacKey } from "./firmware/lib/sha256";
import { crc32 } from "./firmware/lib/crc32";
import { Store } from "./firmware/platform/store";
import { fromWire, toHex, toWire } from "./host-sim/shims/bridge";
declare const print: (s: string) => void;
function time(name: string, n: number, f: () => void): void {
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f();
    best = Math.min(best, ((performance.now() - t0) / n) * 1000);
  }
  print("  " + name.padEnd(52) + best.toFixed(1).padStart(8) + " us");
}
const key = new HmacKey(new Uint8Array(16).fill(7));
const frame = new Uint8Array(20).map((_, i) => i * 13);
const record = new Uint8Array(1600).map((_, i) => (i * 7) & 127);
const mem = new Map<string, ArrayBuffer>();
const store = new Store({ get: (k) => mem.get(k), set: (k, v) => { mem.set(k, v); }, delete: (k) => { mem.delete(k); } });
const rx: Record<string, number> = { A0001: 1234, A0002: 2345, A0003: 3456 };
const KEY = /^[A-Za-z0-9_-]+$/;
let x = 0;
print("best of 5 loops, microseconds a call");
time("HMAC-SHA256 of a 20-byte sensor frame (prepared key)", 500, () => { x ^= key.mac(frame)[0]; });
time("CRC-32 of 1,600 bytes (a card ledger record)", 100, () => { x ^= crc32(record); });
time("Store.writeJson of the sensors' rx counters", 500, () => { rx.A0001++; store.writeJson("sn_rx", rx); });
time("1,600 bytes as hex, a loop a byte (shims/bridge toHex)", 100, () => { x ^= toHex(record).length; });
time("1,600 bytes in base64 (toWire: xsnap's native Base64)", 100, () => { x ^= toWire(record).length; });
const reply = record.subarray(0, 24);
const replyWire = toWire(reply);
time("a 24-byte sensor frame to the host as hex (a loop a byte)", 2000, () => { x ^= toHex(reply).length; });
time("the same in base64, as the bridge sends (toWire)", 2000, () => { x ^= toWire(reply).length; });
time("the same from the host, base64 to bytes (fromWire)", 2000, () => { x ^= fromWire(replyWire)[3]; });
time("a regular expression literal, evaluated and tested", 500, () => { x ^= /^[A-Za-z0-9_-]+$/.test("sn_rx") ? 1 : 0; });
time("the same expression from a module constant, tested", 500, () => { x ^= KEY.test("sn_rx") ? 1 : 0; });
print(String(x).length > 0 ? "" : "?");
`;

async function main(): Promise<void> {
  const code = await bundleForXs(SOURCE, projectRoot(), { preference: "./host-sim/shims/preference.ts", timer: "./host-sim/shims/timer.ts" });
  console.log(`firmware hot paths under XS (xsnap), load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  await runInXs("xs-hotpaths", code);
}

await main();
