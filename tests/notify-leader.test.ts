// In a cluster one node sends notifications: the leader (center/cluster.ts), asked through the
// notifier's `sends`. A node that loses the lead while a batch is going out finishes that batch
// (its requests are already on the wire) and sends no further one; the new leader sends the rest,
// each notification once.
import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MediaFiles } from "../center/media-files";
import { MediaLinks } from "../center/notify/links";
import { Notifier } from "../center/notify/notifier";
import { openStore } from "../center/store/open-store";
import { WebStores } from "../center/store/web-store";

test("a node that loses the lead while sending stops before its next batch; the new leader sends the rest, none twice", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-notify-leader-"));
  const store = openStore({ dataDir: dir });
  const web = new WebStores(store.db);
  const now = Date.UTC(2026, 10, 30, 12);
  let leading = true;
  const delivered: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      delivered.push(String(req.headers["x-timeguard-delivery"]));
      leading = false; // the lock went with this node's store connection while the batch was out
      res.end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const address = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  try {
    const destinationId = web.notify.addDestination({ audience: "operators", siteId: null, kind: "webhook", address, secret: "s3cret-for-the-hook", createdAt: now });
    for (let i = 0; i < 30; i++) {
      web.notify.addNotification({ destinationId, kind: "webhook", address, audience: "operators", siteId: null, terminal: "T0001", event: "credit", alarmId: null, faultId: null, subject: `Credit ran out ${i}`, status: "pending", nextAt: now, createdAt: now });
    }
    const notifier = (sends: () => boolean) =>
      new Notifier({ store, notify: web.notify, alarms: web.alarms, faults: web.faults, sites: web.sites, media: new MediaFiles(join(dir, "media")), links: new MediaLinks(web.settings), publicUrl: () => "http://127.0.0.1", now: () => now, sends });
    const old = notifier(() => leading);
    t.is(await old.runDue(), 20, "the batch under way when the lead went is finished (20 at a time), and no further one");
    t.is(delivered.length, 20);
    t.is(web.notify.dueNotifications(now, 100).length, 10, "the rest wait for the leader");
    t.is(await old.runDue(), 0, "a node that does not lead sends nothing");
    const leader = notifier(() => true);
    t.is(await leader.runDue(), 10);
    t.is(delivered.length, 30);
    t.is(new Set(delivered).size, 30, "each notification once");
    t.is(web.notify.dueNotifications(now, 100).length, 0);
    await old.stop();
    await leader.stop();
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
