// The census bench/memory.ts takes of the XS heap (host-sim/engines/xs-heap.ts): read from an
// xsnap snapshot, the slots made since an earlier snapshot of the same machine are found, charged
// to what keeps them alive, and named by the heap's own names (a class, a variable).
import test from "ava";
import { startXsEngine } from "../host-sim/engines/xs-engine";
import { HeapCensus, HeapGrowth } from "../host-sim/engines/xs-heap";

const SCRIPT = `
(() => {
  const kept = new Map();
  class Widget { #parts = [1, 2, 3]; name; constructor(n) { this.name = "w" + n; } }
  let holder = null;
  globalThis.__tgCommand = (request) => {
    if (request === "widgets") for (let i = 0; i < 10; i++) kept.set("k" + i, new Widget(i));
    if (request === "callback") holder = { callback: () => kept.size, other: [4, 5, 6, 7] };
    return "ok";
  };
})();
`;

test("a snapshot census finds what was made since an earlier snapshot, by class and by the variable that keeps it", async (t) => {
  const engine = await startXsEngine(SCRIPT, () => "null");
  try {
    const first = await engine.liveMemory!();
    const before = new HeapCensus(first.snapshot);
    t.is(before.heap.count, first.slots, "every live slot read");
    t.is(before.unreached(), 0, "every slot reached from the machine's roots");
    await engine.command("widgets");
    const second = await engine.liveMemory!();
    const growth = new HeapGrowth(before, new HeapCensus(second.snapshot));
    // the heap grew by what was made: nothing old was lost
    t.is(growth.made(), second.slots - first.slots);
    const widgets = growth.byHolder().find((r) => r.what === "Widget");
    t.truthy(widgets);
    t.is(widgets!.objects, 10, "ten Widgets, each held by the Map's entries");
    const cells = growth.variables("kept");
    t.is(cells.length, 1);
    const inMap = growth.heldBy(cells[0]);
    // the Map keeps the widgets (with their #parts arrays) and the keys: all that was made
    t.true(inMap.slots >= widgets!.slots, `${inMap.slots} slots in the Map, ${widgets!.slots} in the Widgets`);
    t.true(inMap.slots <= growth.made());
    t.true(inMap.chunkBytes > 0, "the arrays' and strings' chunks counted");

    await engine.command("callback");
    const third = await engine.liveMemory!();
    const g3 = new HeapGrowth(before, new HeapCensus(third.snapshot));
    const holder = g3.variables("holder");
    t.is(holder.length, 1);
    const all = g3.heldBy(holder[0]);
    const withoutCallback = g3.heldBy(holder[0], new Set(["callback"]));
    t.true(withoutCallback.slots > 0, "the object and its array");
    t.true(all.slots - withoutCallback.slots >= 3, `a function handed over is left out (${all.slots} -> ${withoutCallback.slots})`);
    t.deepEqual(g3.variables("nothing by this name"), []);
  } finally {
    await engine.close();
  }
});
