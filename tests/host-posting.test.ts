import test from "ava";
import { HostServices } from "../host-sim/host-services";
import { IoHub } from "../host-sim/io/hub";
import type { I2CTarget } from "../host-sim/io/i2c-bus";
import { FlashFile } from "../host-sim/storage/flash-file";

// The host's side of posted calls and paired I2C transfers (host-sim/shims/bridge.ts, device.ts):
// a batch, or a write carried by its read, is served as the calls it stands for, in order, each at
// its own instant, in one crossing.

function rig() {
  let now = 1_000;
  const io = new IoHub(() => now);
  const flash = new FlashFile(null);
  flash.powerUp();
  const log: string[] = [];
  const host = new HostServices({
    flash,
    io,
    config: {},
    setClock: () => undefined,
    follow: (ms) => {
      now = Math.max(now, ms);
    },
    onCall: (op, args, t) => log.push(`${t} ${op} ${JSON.stringify(args)}`),
  });
  return { io, flash, host, log, now: () => now };
}

const set = (key: string, v: number, t: number) => ({ op: "pref.set", args: { domain: "d", key, value: { t: "i", v } }, t });

/** bytes as they cross the bridge: base64 (host-sim/io/wire-bytes.ts) */
const b64 = (...bytes: number[]) => Buffer.from(bytes).toString("base64");

test("a batch of posted calls is served call by call, in order, at each call's instant, in one crossing", (t) => {
  const r = rig();
  const reply = JSON.parse(r.host.handle(JSON.stringify({ op: "batch", args: [set("a", 1, 1_010), set("b", 2, 1_020), { op: "pref.delete", args: { domain: "d", key: "a" }, t: 1_030 }], t: 1_040 })));
  t.is(reply.error, undefined);
  t.is(r.flash.get("d", "a"), undefined);
  t.deepEqual(r.flash.get("d", "b"), { t: "i", v: 2 });
  t.deepEqual(
    r.log.map((l) => l.split(" ").slice(0, 2).join(" ")),
    ["1010 pref.set", "1020 pref.set", "1030 pref.delete"],
  );
  t.is(r.now(), 1_030, "the host's clock followed each call, not the flush");
  t.is(r.host.calls.get("pref.set"), 2);
  t.is(r.host.crossings, 1);
  // the same calls carried by a command's reply
  t.is(r.host.servePosted([set("c", 3, 1_050)]), null);
  t.deepEqual(r.flash.get("d", "c"), { t: "i", v: 3 });
});

test("a power cut met inside a batch ends the terminal there: later posted calls never reach the flash", (t) => {
  const r = rig();
  r.flash.armPowerCut(0);
  const reply = JSON.parse(r.host.handle(JSON.stringify({ op: "batch", args: [set("a", 1, 1_010), set("b", 2, 1_020)], t: 1_020 })));
  t.true(reply.powerCut);
  t.true(r.host.powerCut);
  t.is(r.flash.get("d", "b"), undefined);
  t.deepEqual(JSON.parse(r.host.handle(JSON.stringify({ op: "pref.get", args: { domain: "d", key: "b" } }))), { powerCut: true });
});

test("only calls that answer nothing may be posted; a bad batch is refused whole with a clear error", (t) => {
  const r = rig();
  const reply = JSON.parse(r.host.handle(JSON.stringify({ op: "batch", args: [set("a", 1, 1), { op: "pref.get", args: { domain: "d", key: "a" }, t: 1 }] })));
  t.regex(reply.error, /pref\.get cannot be posted/);
  t.regex(JSON.parse(r.host.handle(JSON.stringify({ op: "batch", args: "nope" }))).error, /a list of at most 64/);
  t.is(r.flash.writes, 0);
});

test("an I2C write carried by its read is served as the write and then the read; a NACK names the write", (t) => {
  const r = rig();
  const seen: string[] = [];
  const target: I2CTarget = {
    address: 0x24,
    write: (data) => (seen.push(`w${data.length}`), true),
    read: (count) => (seen.push(`r${count}`), Uint8Array.of(1, ...new Array(count - 1).fill(7))),
  };
  r.io.i2c(0).attach(target);
  const h = JSON.parse(r.host.handle(JSON.stringify({ op: "io.open", args: { kind: "i2c", address: 0x24 } }))).value;
  const reply = JSON.parse(r.host.handle(JSON.stringify({ op: "io.i2c.writeRead", args: { h, data: b64(0, 0, 0xff), writeStop: true, count: 3, stop: true }, t: 1_100 })));
  t.is(reply.value, b64(1, 7, 7));
  t.deepEqual(seen, ["w3", "r3"]);
  t.deepEqual(
    r.log.slice(1).map((l) => l.split(" ").slice(0, 2).join(" ")),
    ["1100 io.i2c.write", "1100 io.i2c.read"],
  );
  r.io.i2c(0).detach(0x24);
  const nack = JSON.parse(r.host.handle(JSON.stringify({ op: "io.i2c.writeRead", args: { h, data: b64(0), writeStop: true, count: 3, stop: true }, t: 1_200 })));
  t.is(nack.op, "io.i2c.write");
  t.regex(nack.error, /NACK from 0x24 on write/);
});

test("calls posted before a call travel with it: served first, in order, at their own instants, then the call, in one crossing; a failure among them is the batch's and the call is not made", (t) => {
  const r = rig();
  const reply = JSON.parse(r.host.handle(JSON.stringify({ op: "pref.get", args: { domain: "d", key: "a" }, t: 1_030, posted: [set("a", 1, 1_010), set("b", 2, 1_020)] })));
  t.deepEqual(reply.value, { t: "i", v: 1 }, "the call saw what was posted before it");
  t.deepEqual(
    r.log.map((l) => l.split(" ").slice(0, 2).join(" ")),
    ["1010 pref.set", "1020 pref.set", "1030 pref.get"],
  );
  t.is(r.host.crossings, 1);
  t.deepEqual(Object.fromEntries(r.host.crossed), { "pref.get": 1 });
  const bad = JSON.parse(r.host.handle(JSON.stringify({ op: "pref.get", args: { domain: "d", key: "b" }, t: 1_040, posted: [{ op: "pref.keys", args: { domain: "d" }, t: 1_040 }] })));
  t.is(bad.op, "batch");
  t.regex(bad.error, /pref\.keys cannot be posted/);
  t.is(r.log.length, 3, "neither the bad batch nor the call after it was served");
});

test("read ahead: a write carried by its read also brings what the next read on the device would give, the device left as it is; the posted read is served as the read and checked", (t) => {
  const r = rig();
  const frames = [Uint8Array.of(1, 0xaa, 0xbb), Uint8Array.of(1, 0xcc, 0xdd, 0xee)];
  const target: I2CTarget = {
    address: 0x24,
    write: () => true,
    read: (count) => {
      const f = frames.shift() ?? Uint8Array.of(0);
      const out = new Uint8Array(count);
      out.set(f.subarray(0, count));
      return out;
    },
    peek: (count) => {
      const out = new Uint8Array(count);
      out.set((frames[0] ?? Uint8Array.of(0)).subarray(0, count));
      return out;
    },
  };
  r.io.i2c(0).attach(target);
  const h = JSON.parse(r.host.handle(JSON.stringify({ op: "io.open", args: { kind: "i2c", address: 0x24 } }))).value;
  const reply = JSON.parse(r.host.handle(JSON.stringify({ op: "io.i2c.writeRead", args: { h, data: b64(0), writeStop: true, count: 3, stop: true, ahead: 6 }, t: 1_100 })));
  t.deepEqual(reply.value, { data: b64(1, 0xaa, 0xbb), next: b64(1, 0xcc, 0xdd, 0xee, 0, 0) });
  t.is(frames.length, 1, "the look ahead took nothing from the device");
  t.is(r.host.calls.get("io.i2c.read"), 1, "the look ahead is not a call");
  // the firmware took 4 of those bytes for its next read and posted the read: it is served and matches
  const ok = JSON.parse(r.host.handle(JSON.stringify({ op: "batch", args: [{ op: "io.i2c.read", args: { h, count: 4, stop: true }, t: 1_100, expect: b64(1, 0xcc, 0xdd, 0xee) }], t: 1_100 })));
  t.is(ok.error, undefined);
  t.is(frames.length, 0);
  t.deepEqual(
    r.log.slice(1).map((l) => l.split(" ").slice(0, 3).join(" ")),
    ["1100 io.i2c.write " + JSON.stringify({ h, data: b64(0), stop: true }), `1100 io.i2c.read {"h":${h},"count":3,"stop":true}`, `1100 io.i2c.read {"h":${h},"count":4,"stop":true}`],
  );
  // a read ahead the device did not give (it changed in between): an error, never silently used
  const wrong = JSON.parse(r.host.handle(JSON.stringify({ op: "batch", args: [{ op: "io.i2c.read", args: { h, count: 2, stop: true }, t: 1_200, expect: b64(1, 0xcc) }], t: 1_200 })));
  t.regex(wrong.error, /read ahead: the firmware took 01cc, the read gave 0000/);
  t.regex(JSON.parse(r.host.handle(JSON.stringify({ op: "io.i2c.writeRead", args: { h, data: b64(0), writeStop: true, count: 1, stop: true, ahead: 1000 } }))).error, /ahead must be an integer from 1 to 64/);
});

test("a target that acknowledges every write (an LCD backpack) tells the firmware so with the write's answer; its posted writes are served in order", (t) => {
  const r = rig();
  const seen: string[] = [];
  const lcd: I2CTarget = { address: 0x27, acksEveryWrite: true, write: (d) => (seen.push(`lcd ${d.length}`), true), read: (n) => new Uint8Array(n) };
  const other: I2CTarget = { address: 0x24, write: (d) => (seen.push(`other ${d.length}`), true), read: (n) => new Uint8Array(n) };
  r.io.i2c(0).attach(lcd);
  r.io.i2c(0).attach(other);
  const open = (address: number) => JSON.parse(r.host.handle(JSON.stringify({ op: "io.open", args: { kind: "i2c", address } }))).value;
  const hl = open(0x27);
  const ho = open(0x24);
  t.is(JSON.parse(r.host.handle(JSON.stringify({ op: "io.i2c.write", args: { h: hl, data: b64(1, 2), stop: true }, t: 1_100 }))).value, "post");
  t.is(JSON.parse(r.host.handle(JSON.stringify({ op: "io.i2c.write", args: { h: ho, data: b64(1), stop: true }, t: 1_100 }))).value, null);
  const reply = JSON.parse(
    r.host.handle(JSON.stringify({ op: "io.i2c.write", args: { h: ho, data: b64(2), stop: true }, t: 1_300, posted: [{ op: "io.i2c.write", args: { h: hl, data: b64(3, 4, 5), stop: true }, t: 1_200 }] })),
  );
  t.is(reply.error, undefined);
  t.deepEqual(seen, ["lcd 2", "other 1", "lcd 3", "other 1"]);
  t.deepEqual(
    r.log.slice(2).map((l) => l.split(" ").slice(0, 2).join(" ")),
    ["1100 io.i2c.write", "1100 io.i2c.write", "1200 io.i2c.write", "1300 io.i2c.write"],
  );
});

test("flash bytes come in canonical padded base64, as every transfer: stored as the same bytes and read back the same way; anything else is refused with a clear error and stores nothing", (t) => {
  const r = rig();
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  const put = (key: string, value: unknown) => JSON.parse(r.host.handle(JSON.stringify({ op: "pref.set", args: { domain: "d", key, value }, t: 1_010 })));
  for (const n of [0, 1, 2, 3, 4, 255, 256]) {
    t.is(put("b" + n, { t: "b64", v: Buffer.from(bytes.subarray(0, n)).toString("base64") }).error, undefined, `base64 of ${n} bytes`);
    t.deepEqual(r.flash.get("d", "b" + n), { t: "a", v: bytes.slice(0, n) });
  }
  t.is(JSON.parse(r.host.handle(JSON.stringify({ op: "pref.get", args: { domain: "d", key: "b256" } }))).value.v, Buffer.from(bytes).toString("base64"));
  const bad: Array<[string, unknown]> = [
    ["unpadded", { t: "b64", v: "AAE" }],
    ["alphabet", { t: "b64", v: "AA-_" }],
    ["not canonical", { t: "b64", v: "AB==" }],
    ["stray pad", { t: "b64", v: "A=AA" }],
    ["too long", { t: "b64", v: "A".repeat(5340) }],
    ["not text", { t: "b64", v: 12 }],
    ["hex as before", { t: "a", v: "00ff" }],
    ["latin1 as before", { t: "l", v: "ab" }],
  ];
  for (const [key, value] of bad) {
    t.regex(String(put(key, value).error), /bad preference value/, key);
    t.is(r.flash.get("d", key), undefined, key);
  }
});
