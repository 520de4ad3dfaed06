import test from "ava";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../center/store/sql-store";
import type { SqliteDb } from "../center/store/sql-db";

const durable = (s: SqliteStore) => new Promise<void>((resolve, reject) => s.durable((e) => (e ? reject(e) : resolve())));

test("the WAL is checkpointed by the worker thread while commits go on: every committed row is there, before and after reopening, and the WAL stays bounded", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-wal-"));
  const path = join(dir, "center.sqlite");
  try {
    const store = new SqliteStore(path, { checkpointBytes: 256 * 1024 });
    t.teardown(() => store.close());
    t.is(store.db.pragma("wal_autocheckpoint", { simple: true }), 0, "no checkpoint inside a commit");
    const site = store.addSite("s");
    store.addTerminal({ id: "T0001", siteId: site, secretHash: "h", tariff: {} });
    let seq = 0;
    let maxWal = 0;
    for (let batch = 0; batch < 300; batch++) {
      store.transaction(() => {
        for (let k = 0; k < 100; k++) {
          seq++;
          t.true(store.recordMessage("T0001", seq, "test", seq, Date.now()));
        }
      });
      await durable(store);
      // every row committed so far is read back while a checkpoint may be running
      if (batch % 50 === 0) t.is(store.messageCount(), seq);
      maxWal = Math.max(maxWal, statSync(`${path}-wal`).size);
      // reports arrive over time (3 s here), as they do: checkpoints start at most every 200 ms
      await new Promise((r) => setTimeout(r, 10));
    }
    await store.checkpointer!.idle();
    const counts = store.checkpointer!.counts;
    t.true(counts.checkpoints > 0, `checkpoints ran (${JSON.stringify(counts)})`);
    t.true(counts.framesCopied > 0);
    const copied = counts.framesCopied * (store.db.pragma("page_size", { simple: true }) as number);
    t.true(maxWal < copied / 2, `the WAL was reused from its start (largest ${maxWal} bytes, ${copied} bytes went through it)`);
    t.is(store.messageCount(), 30_000);
    store.close();
    const again = new SqliteStore(path);
    t.is(again.messageCount(), 30_000, "all of it after reopening");
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("commits made while a WAL sync runs start their own without waiting for it to end; callers are answered in commit order, once a sync started after their commit ended", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-wal-"));
  try {
    const store = new SqliteStore(join(dir, "center.sqlite"));
    t.teardown(() => store.close());
    const db = store.db as SqliteDb;
    const site = store.addSite("s");
    store.addTerminal({ id: "T0001", siteId: site, secretHash: "h", tariff: {} });
    const answered: number[] = [];
    const all: Promise<void>[] = [];
    for (let batch = 0; batch < 40; batch++) {
      store.transaction(() => store.recordMessage("T0001", batch + 1, "test", batch, Date.now()));
      const started = db.syncCounts.started;
      all.push(
        new Promise<void>((resolve, reject) =>
          store.durable((e) => {
            if (e) return reject(e);
            t.true(db.syncCounts.started > started, `a sync started after commit ${batch}`);
            answered.push(batch);
            resolve();
          }),
        ),
      );
      // Batches come four in one turn of the event loop, when no sync can end (its end is a
      // callback): the second starts its own sync beside the first's, the third and fourth wait
      // and share the one that starts when either ends, whatever the machine's speed. Then a turn
      // passes, while syncs may still run.
      if (batch % 4 === 3) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(all);
    t.deepEqual(answered, Array.from({ length: 40 }, (_, i) => i), "in commit order");
    t.is(db.syncCounts.mostAtOnce, 2, "two syncs overlapped");
    t.true(db.syncCounts.started < 40, `commits that came together shared a sync (${db.syncCounts.started} syncs for 40 commits)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a database in memory has no checkpointer", (t) => {
  const store = new SqliteStore(":memory:");
  t.is(store.checkpointer, null);
  store.close();
});
