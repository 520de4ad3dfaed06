import test from "ava";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeyValueBackend, Store } from "../firmware/platform/store";
import { crc32 } from "../firmware/lib/crc32";
import { FlashFile, PowerCutError } from "../host-sim/storage/flash-file";

function backend(flash: FlashFile, domain = "tg"): KeyValueBackend {
  return {
    get(key) {
      const v = flash.get(domain, key);
      return v && v.t === "a" ? (v.v.slice().buffer as ArrayBuffer) : undefined;
    },
    set(key, value) {
      flash.set(domain, key, { t: "a", v: new Uint8Array(value) });
    },
    delete(key) {
      flash.delete(domain, key);
    },
  };
}

function tempFile(): { path: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), "tg-store-"));
  return { path: join(dir, "flash.bin"), done: () => rmSync(dir, { recursive: true, force: true }) };
}

const OLD = { plan: "old", n: 1 };
const NEW = { plan: "new, and longer than the old one", n: 2, list: [1, 2, 3, 4, 5, 6, 7, 8] };

test("a power cut at every byte of a write leaves the previous or the new value", (t) => {
  const f = tempFile();
  try {
    let sawOld = 0;
    let sawNew = 0;
    for (let cut = 0; ; cut++) {
      rmSync(f.path, { force: true });
      const flash = new FlashFile(f.path);
      new Store(backend(flash)).writeJson("plan", OLD);
      new Store(backend(flash)).writeJson("plan", OLD); // both slots hold a value now
      flash.armPowerCut(cut);
      let completed = true;
      try {
        new Store(backend(flash)).writeJson("plan", NEW);
      } catch (e) {
        t.true(e instanceof PowerCutError);
        completed = false;
      }
      flash.close();
      const after = new Store(backend(new FlashFile(f.path))).readJson("plan");
      if (JSON.stringify(after) === JSON.stringify(OLD)) sawOld++;
      else if (JSON.stringify(after) === JSON.stringify(NEW)) sawNew++;
      else t.fail(`torn after a cut at byte ${cut}: ${JSON.stringify(after)}`);
      if (completed) {
        t.deepEqual(after, NEW);
        break;
      }
    }
    t.true(sawOld > 50, `old value seen after ${sawOld} cuts`);
    t.is(sawNew, 1);
  } finally {
    f.done();
  }
});

test("a power cut at any step of a delete never brings an old value back", (t) => {
  for (let cut = 0; cut < 40; cut++) {
    const flash = new FlashFile(null);
    const store = new Store(backend(flash));
    store.writeJson("k", OLD);
    store.writeJson("k", NEW);
    flash.armPowerCut(cut);
    try {
      store.delete("k");
    } catch (e) {
      t.true(e instanceof PowerCutError);
    }
    flash.powerUp();
    const v = new Store(backend(flash)).readJson("k");
    t.true(v === undefined || JSON.stringify(v) === JSON.stringify(NEW), `cut ${cut}: ${JSON.stringify(v)}`);
  }
});

test("corrupt slots are rejected and counted; the other slot is used", (t) => {
  const flash = new FlashFile(null);
  const store = new Store(backend(flash));
  store.writeJson("k", OLD);
  store.writeJson("k", NEW); // slot 1 now
  const raw = flash.get("tg", "k.1");
  if (!raw || raw.t !== "a") return t.fail("no slot");
  const damaged = raw.v.slice();
  damaged[damaged.length - 3] ^= 0x40;
  flash.set("tg", "k.1", { t: "a", v: damaged });
  const fresh = new Store(backend(flash));
  t.deepEqual(fresh.readJson("k"), OLD);
  t.is(fresh.rejected, 1);
  flash.set("tg", "k.0", { t: "a", v: new Uint8Array([1, 2, 3]) });
  t.is(new Store(backend(flash)).readJson("k"), undefined);
});

test("the store refuses bad keys and oversized values with a clear error", (t) => {
  const store = new Store(backend(new FlashFile(null)));
  t.throws(() => store.write("a-key-that-is-too-long", new Uint8Array(1)), { message: /bad key/ });
  t.throws(() => store.write("", new Uint8Array(1)), { message: /bad key/ });
  t.throws(() => store.write("big", new Uint8Array(4000)), { message: /more than 3990/ });
});

test("the flash file drops a record torn by a host crash and keeps everything before it", (t) => {
  const f = tempFile();
  try {
    const flash = new FlashFile(f.path);
    flash.set("tg", "a", { t: "i", v: 7 });
    flash.set("tg", "b", { t: "s", v: "kept" });
    flash.close();
    const good = statSync(f.path).size;
    // Half a record, as a crash in the middle of an append leaves it.
    const whole = readFileSync(f.path);
    appendFileSync(f.path, whole.subarray(0, 9));
    const again = new FlashFile(f.path);
    t.deepEqual(again.get("tg", "a"), { t: "i", v: 7 });
    t.deepEqual(again.get("tg", "b"), { t: "s", v: "kept" });
    t.is(again.droppedAtLoad, 9);
    t.is(statSync(f.path).size, good, "the damaged tail is cut off");
    // Garbage in the middle: everything after it is ignored, nothing before it is lost.
    again.close();
    const bytes = readFileSync(f.path);
    bytes[bytes.length - 2] ^= 0xff;
    writeFileSync(f.path, bytes);
    const third = new FlashFile(f.path);
    t.deepEqual(third.get("tg", "a"), { t: "i", v: 7 });
    t.is(third.get("tg", "b"), undefined);
  } finally {
    f.done();
  }
});

test("the flash file compacts its log and loses nothing", (t) => {
  const f = tempFile();
  try {
    const flash = new FlashFile(f.path);
    const store = new Store(backend(flash));
    for (let i = 0; i < 3000; i++) store.writeJson("ckpt", i);
    store.writeJson("plan", NEW);
    flash.close();
    t.true(statSync(f.path).size < 300 * 1024, `log is ${statSync(f.path).size} bytes`);
    const back = new Store(backend(new FlashFile(f.path)));
    t.is(back.readJson("ckpt"), 2999);
    t.deepEqual(back.readJson("plan"), NEW);
  } finally {
    f.done();
  }
});

test("eraseAll (a simulator's new session): every key gone, and still gone when the file is read back", (t) => {
  const f = tempFile();
  try {
    const flash = new FlashFile(f.path);
    flash.set("tg", "pin", { t: "s", v: "1234" });
    flash.set("tg", "owed", { t: "i", v: 288 });
    flash.set("other", "x", { t: "b", v: true });
    flash.eraseAll();
    t.deepEqual([flash.keys("tg"), flash.keys("other")], [[], []]);
    flash.set("tg", "after", { t: "i", v: 1 });
    flash.close();
    const back = new FlashFile(f.path);
    t.deepEqual(back.keys("tg"), ["after"]);
    t.deepEqual(back.keys("other"), []);
    back.close();
  } finally {
    f.done();
  }
});

test("writes alternate between a key's two slots, one Store going on from what the flash holds, the sequence past 2^32 included", (t) => {
  const cells = new Map<string, ArrayBuffer>();
  const mem: KeyValueBackend = {
    get: (key) => cells.get(key)?.slice(0),
    set: (key, value) => void cells.set(key, value.slice(0)),
    delete: (key) => void cells.delete(key),
  };
  const seqOf = (name: string) => new DataView(cells.get(name)!).getUint32(4, true);
  const store = new Store(mem);
  store.writeJson("k", 1);
  t.deepEqual([...cells.keys()], ["k.0"]);
  store.writeJson("k", 2);
  t.deepEqual([seqOf("k.0"), seqOf("k.1")], [1, 2]);
  store.writeJson("k", 3); // over the older slot, by the head this Store keeps
  t.deepEqual([seqOf("k.0"), seqOf("k.1")], [3, 2]);
  t.is(store.readJson("k"), 3);
  // the slots at the last two sequence numbers: a new Store finds the last newest, and the next write wraps to 0 in the other slot
  const renumber = (name: string, seq: number) => {
    const record = new Uint8Array(cells.get(name)!);
    new DataView(record.buffer).setUint32(4, seq, true);
    new DataView(record.buffer).setUint32(0, crc32(record, 4), true);
    cells.set(name, record.buffer);
  };
  renumber("k.0", 0xffffffff);
  renumber("k.1", 0xfffffffe);
  const again = new Store(mem);
  t.is(again.readJson("k"), 3);
  again.writeJson("k", 4);
  t.deepEqual([seqOf("k.0"), seqOf("k.1")], [0xffffffff, 0]);
  t.is(new Store(mem).readJson("k"), 4, "sequence 0 after 2^32 - 1 is the newer");
  again.writeJson("k", 5);
  t.deepEqual([seqOf("k.0"), seqOf("k.1")], [1, 0]);
  t.is(new Store(mem).readJson("k"), 5);
});
