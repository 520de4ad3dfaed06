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
  const reply = JSON.parse(r.host.handle(JSON.stringify({ op: "io.i2c.writeRead", args: { h, data: "0000ff", writeStop: true, count: 3, stop: true }, t: 1_100 })));
  t.is(reply.value, "010707");
  t.deepEqual(seen, ["w3", "r3"]);
  t.deepEqual(
    r.log.slice(1).map((l) => l.split(" ").slice(0, 2).join(" ")),
    ["1100 io.i2c.write", "1100 io.i2c.read"],
  );
  r.io.i2c(0).detach(0x24);
  const nack = JSON.parse(r.host.handle(JSON.stringify({ op: "io.i2c.writeRead", args: { h, data: "00", writeStop: true, count: 3, stop: true }, t: 1_200 })));
  t.is(nack.op, "io.i2c.write");
  t.regex(nack.error, /NACK from 0x24 on write/);
});

test("flash bytes may come as latin1 text or base64 (cheaper than hex under XS): stored as the same bytes; anything else is refused with a clear error and stores nothing", (t) => {
  const r = rig();
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  const put = (key: string, value: unknown) => JSON.parse(r.host.handle(JSON.stringify({ op: "pref.set", args: { domain: "d", key, value }, t: 1_010 })));
  t.is(put("k", { t: "l", v: String.fromCharCode(...bytes) }).error, undefined);
  t.deepEqual(r.flash.get("d", "k"), { t: "a", v: bytes });
  for (const n of [0, 1, 2, 3, 4, 255, 256]) {
    t.is(put("b" + n, { t: "b64", v: Buffer.from(bytes.subarray(0, n)).toString("base64") }).error, undefined, `base64 of ${n} bytes`);
    t.deepEqual(r.flash.get("d", "b" + n), { t: "a", v: bytes.slice(0, n) });
  }
  // read back as the host always sends bytes: hex
  t.is(JSON.parse(r.host.handle(JSON.stringify({ op: "pref.get", args: { domain: "d", key: "k" } }))).value.v, Buffer.from(bytes).toString("hex"));
  const bad: Array<[string, unknown, RegExp]> = [
    ["wide", { t: "l", v: "ab\u0100" }, /latin1 bytes expected/],
    ["long", { t: "l", v: "x".repeat(4001) }, /latin1 bytes expected/],
    ["num", { t: "l", v: 12 }, /latin1 bytes expected/],
    ["unpadded", { t: "b64", v: "AAE" }, /base64 bytes expected/],
    ["alphabet", { t: "b64", v: "AA-_" }, /base64 bytes expected/],
    ["longb64", { t: "b64", v: "A".repeat(5340) }, /base64 bytes expected/],
  ];
  for (const [key, value, why] of bad) {
    t.regex(String(put(key, value).error), why, key);
    t.is(r.flash.get("d", key), undefined, key);
  }
});
