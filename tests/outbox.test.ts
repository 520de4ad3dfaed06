// The persistent outbox (firmware/uplink/outbox.ts) on the crash-safe Store over the emulated
// flash: a power cut at every byte of a queue-send-acknowledge scenario never reuses a sequence
// number, never loses an item queued before the cut, never keeps one acknowledged before it.
import test from "ava";
import fc from "fast-check";
import { KeyValueBackend, Store } from "../firmware/platform/store";
import { MAX_ITEMS, MAX_ROUTINE, Outbox, OutboxFull, PRIORITY } from "../firmware/uplink/outbox";
import { decodeMessageBytes } from "../firmware/uplink/messages";
import { FlashFile, PowerCutError } from "../host-sim/storage/flash-file";

function backend(flash: FlashFile): KeyValueBackend {
  return {
    get(key) {
      const v = flash.get("tg", key);
      return v && v.t === "a" ? (v.v.slice().buffer as ArrayBuffer) : undefined;
    },
    set(key, value) {
      flash.set("tg", key, { t: "a", v: new Uint8Array(value) });
    },
    delete(key) {
      flash.delete("tg", key);
    },
  };
}

const T0 = 1776333600;
const alarm = (n: number) => ({ alarmId: n, sensor: "A0001", event: "intrusion", contactId: 130, pattern: 1 });
const warning = (n: number) => ({ code: `w${n}`, text: `warning number ${n}` });

type Step = { op: "alarm" | "warning"; n: number } | { op: "media"; unit: number; parts: number } | { op: "send" };

const SCENARIO: Step[] = [
  { op: "warning", n: 1 },
  { op: "alarm", n: 1 },
  { op: "media", unit: 1, parts: 3 },
  { op: "send" },
  { op: "warning", n: 2 },
  { op: "send" },
  { op: "send" },
  { op: "alarm", n: 2 },
  { op: "send" },
  { op: "send" },
  { op: "send" },
  { op: "send" },
];

/** What the center saw: seq → identity of the message ("w1", "a1", "m1.0"…). */
class Center {
  bySeq = new Map<number, string>();
  reused: string[] = [];
  receive(seq: number, what: string): void {
    const had = this.bySeq.get(seq);
    if (had !== undefined && had !== what) this.reused.push(`${seq}: ${had} then ${what}`);
    this.bySeq.set(seq, what);
  }
}

function identity(box: Outbox, seq: number): string {
  const it = box.items().find((i) => i.seq === seq)!;
  if (it.media) return `m${it.media[0]}.${it.media[2]}`;
  const m = decodeMessageBytes(box.body(seq)!);
  return m.name === "alarm" ? `a${m.body.alarmId}` : `w${String(m.body.code).slice(1)}`;
}

/** Runs the scenario; returns what completed (queued, acknowledged) before a cut, if any. */
function run(box: Outbox, center: Center, steps: Step[], queued: Set<string>, acked: Set<string>, pubacked = new Set<string>()): void {
  for (const s of steps) {
    if (s.op === "alarm") {
      box.enqueue("alarm", alarm(s.n), T0, PRIORITY.alarm);
      queued.add(`a${s.n}`);
    } else if (s.op === "warning") {
      box.enqueue("warning", warning(s.n), T0, PRIORITY.routine);
      queued.add(`w${s.n}`);
    } else if (s.op === "media") {
      box.enqueueMedia(s.unit, [s.parts], T0);
      for (let p = 0; p < s.parts; p++) queued.add(`m${s.unit}.${p}`);
    } else {
      const first = box.items()[0];
      if (!first) continue;
      const what = identity(box, first.seq);
      center.receive(first.seq, what);
      pubacked.add(what); // the center has it: from here on, the item may go
      const done = box.acknowledge(first.seq);
      acked.add(what);
      if (done?.unitDone != null) box.mediaDone(done.unitDone);
    }
  }
}

test("a power cut at every byte: no sequence number reused, nothing queued lost, nothing acknowledged kept", (t) => {
  let cuts = 0;
  for (let budget = 0; ; budget++) {
    const flash = new FlashFile(null);
    flash.powerUp();
    const center = new Center();
    const queued = new Set<string>();
    const acked = new Set<string>();
    const pubacked = new Set<string>();
    flash.armPowerCut(budget);
    let cut = false;
    try {
      run(new Outbox(new Store(backend(flash)), "T0001"), center, SCENARIO, queued, acked, pubacked);
    } catch (e) {
      if (!(e instanceof PowerCutError)) throw e;
      cut = true;
    }
    if (!cut) break; // the whole scenario fits in the budget: every cut point was tried
    cuts++;
    flash.powerUp();
    const box = new Outbox(new Store(backend(flash)), "T0001");
    const present = new Set(box.items().map((i) => identity(box, i.seq)));
    for (const q of queued) if (!pubacked.has(q)) t.true(present.has(q), `cut at ${budget}: ${q} was queued, not acknowledged, and must still be there`);
    for (const a of acked) t.false(present.has(a), `cut at ${budget}: ${a} was acknowledged and must be gone`);
    for (const it of box.items()) t.true(it.seq < box.nextSeq);
    // drain what is left: the center must never see one seq carry two messages
    while (box.size > 0) run(box, center, [{ op: "send" }], queued, acked);
    // and new messages after the cut get fresh numbers
    run(box, center, [{ op: "warning", n: 9 }, { op: "send" }], queued, acked);
    t.deepEqual(center.reused, [], `cut at ${budget}: a sequence number was reused`);
  }
  t.true(cuts > 100, `tried ${cuts} cut points`);
});

test("order: alarms first, then media oldest first, then routine items", (t) => {
  const flash = new FlashFile(null);
  flash.powerUp();
  const box = new Outbox(new Store(backend(flash)), "T0001");
  box.enqueue("warning", warning(1), T0, PRIORITY.routine);
  box.enqueueMedia(4, [2, 1], T0);
  box.enqueue("alarm", alarm(5), T0 + 1, PRIORITY.alarm);
  box.enqueue("warning", warning(2), T0 + 2, PRIORITY.routine);
  box.enqueue("alarm", alarm(6), T0 + 3, PRIORITY.alarm);
  t.deepEqual(
    box.items().map((i) => identity(box, i.seq)),
    ["a5", "a6", "m4.0", "m4.1", "m4.0", "w1", "w2"],
  );
  t.deepEqual(box.byKind(), { warning: 2, media: 3, alarm: 2 });
  t.is(box.enqueueMedia(4, [1], T0), 0, "a unit is queued once");
});

test("full: routine items are refused and counted; alarms make room by evicting the oldest routine items", (t) => {
  const flash = new FlashFile(null);
  flash.powerUp();
  const box = new Outbox(new Store(backend(flash)), "T0001");
  for (let n = 0; n < MAX_ROUTINE; n++) box.enqueue("warning", warning(n), T0, PRIORITY.routine);
  t.throws(() => box.enqueue("warning", warning(99), T0, PRIORITY.routine), { instanceOf: OutboxFull });
  t.is(box.refused, 1);
  for (let n = 0; n < MAX_ITEMS - MAX_ROUTINE; n++) box.enqueue("alarm", alarm(n), T0, PRIORITY.alarm);
  t.is(box.size, MAX_ITEMS);
  box.enqueue("alarm", alarm(1000), T0, PRIORITY.alarm);
  t.is(box.size, MAX_ITEMS);
  t.is(box.refused, 2, "the evicted routine item is counted");
  t.false(box.items().some((i) => i.priority === PRIORITY.routine && identity(box, i.seq) === "w0"), "the oldest routine item went");
  // it all survives a reboot
  const again = new Outbox(new Store(backend(flash)), "T0001");
  t.is(again.size, MAX_ITEMS);
  t.is(again.refused, 2);
});

test("bad bodies are refused with the field named; nothing is queued", (t) => {
  const flash = new FlashFile(null);
  flash.powerUp();
  const box = new Outbox(new Store(backend(flash)), "T0001");
  const e = t.throws(() => box.enqueue("alarm", { ...alarm(1), sensor: 12 }, T0, PRIORITY.alarm));
  t.regex(String(e?.message), /sensor/);
  t.is(box.size, 0);
  t.is(box.nextSeq, 1);
});

test("property: any interleaving of queue and acknowledge keeps seqs unique and increasing, across reboots", (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constant("q"), fc.constant("a"), fc.constant("m"), fc.constant("reboot")), { maxLength: 40 }),
      (ops) => {
        const flash = new FlashFile(null);
        flash.powerUp();
        let box = new Outbox(new Store(backend(flash)), "T0001");
        const seen = new Set<number>();
        let last = 0;
        let unit = 0;
        for (const op of ops) {
          if (op === "reboot") box = new Outbox(new Store(backend(flash)), "T0001");
          else if (op === "a") {
            const first = box.items()[0];
            if (first) box.acknowledge(first.seq);
          } else if (op === "m") {
            box.enqueueMedia(++unit, [2, 1], T0);
          } else {
            try {
              const seq = box.enqueue("warning", warning(1), T0, PRIORITY.routine);
              if (seen.has(seq) || seq <= last) return false;
              seen.add(seq);
              last = seq;
            } catch (e) {
              if (!(e instanceof OutboxFull)) throw e;
            }
          }
        }
        const seqs = box.items().map((i) => i.seq);
        return new Set(seqs).size === seqs.length && seqs.every((s) => s < box.nextSeq);
      },
    ),
  );
  t.pass();
});

test("a big media unit takes one entry per file; parts acknowledged in any order; done when all are", (t) => {
  const flash = new FlashFile(null);
  flash.powerUp();
  let box = new Outbox(new Store(backend(flash)), "T0001");
  box.enqueue("alarm", alarm(1), T0, PRIORITY.alarm);
  const files = Array.from({ length: 12 }, () => 16); // 12 files of 32 KB: 192 messages
  t.is(box.enqueueMedia(7, files, T0), 192);
  t.is(box.size, 193);
  t.is(box.byKind().media, 192);
  const seqs = box.items().filter((i) => i.media).map((i) => i.seq);
  t.is(new Set(seqs).size, 192, "every part has its own sequence number");
  t.throws(() => box.enqueueMedia(8, [40], T0), { instanceOf: OutboxFull }, "a file of more parts than a mask holds is refused");
  // acknowledge in a scrambled order, with reboots in between
  const order = seqs.slice().sort((a, b) => ((a * 7919) % 193) - ((b * 7919) % 193));
  let done = -1;
  order.forEach((seq, k) => {
    if (k % 50 === 0) box = new Outbox(new Store(backend(flash)), "T0001");
    const r = box.acknowledge(seq);
    t.truthy(r, `seq ${seq} acknowledged once`);
    t.is(box.acknowledge(seq), null, "a second PUBACK for it changes nothing");
    if (r!.unitDone !== null) done = r!.unitDone;
    t.is(r!.unitDone !== null, k === order.length - 1, "the unit is done with its last part, not before");
  });
  t.is(done, 7);
  t.deepEqual(box.finishedUnits(), [7]);
  box.mediaDone(7);
  t.deepEqual(box.items().map((i) => i.kind), [5], "the alarm is left");
  t.is(box.acknowledged, 192);
});

test("withdraw: a waiting item superseded by a newer one goes without being sent; a media file cannot be withdrawn", (t) => {
  const flash = new FlashFile(null);
  flash.powerUp();
  const box = new Outbox(new Store(backend(flash)), "T0001");
  const old = box.enqueue("sensors", { table: [["A0001", "intrusion", true, true, "ok"]] }, T0, PRIORITY.routine);
  box.enqueueMedia(3, [1], T0);
  t.true(box.withdraw(old));
  t.false(box.withdraw(old), "once");
  t.false(box.withdraw(box.items()[0].seq), "media parts are not withdrawn");
  t.is(box.body(old), undefined, "its body is gone");
  t.is(box.withdrawn, 1);
  t.is(box.acknowledged, 0, "not counted as acknowledged");
  const again = new Outbox(new Store(backend(flash)), "T0001");
  t.is(again.size, 1);
  t.is(again.withdrawn, 1);
});
