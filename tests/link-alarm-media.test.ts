import { SMTPServer } from "smtp-server";
import { sensorField } from "../host-sim/devices/sensors";
import { at, installKit, onBothEngines } from "./helpers/engines";
import { TERMINAL, withLinkRig } from "./helpers/link";

/**
 * Issue #10 item 7 through the link: a trip in a guarded period makes the terminal's alarm message
 * say how many images and clips follow (3 JPEGs and 1 clip from the one camera); the center stores
 * those counts, its e-mail waits for the unit and attaches all four.
 */
const PLAN = {
  contract: "continuous",
  periods: [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, sensors: ["A0001", "A0002"], cameras: ["B0001"] }],
};

onBothEngines("the alarm message carries images 3 and clips 1; the center's e-mail waits for them and attaches them", async (t, engine) => {
  const mails: string[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _session, done) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        mails.push(Buffer.concat(chunks).toString("latin1"));
        done();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", () => r()));
  const port = (smtp.server.address() as { port: number }).port;
  try {
    await withLinkRig(
      engine,
      "2026-04-16T19:00",
      async (rig) => {
        const { sim, center } = rig;
        const site = center.store.sites()[0];
        center.web.notify.addDestination({ audience: "site", siteId: site.id, kind: "email", address: "tanaka@example.com", secret: null, createdAt: Date.now() });
        await installKit(sim, ["A0001", "A0002", "B0001"]);
        t.deepEqual(await sim.command("plan.set", { plan: PLAN }), { ok: true });
        await sim.runUntil(at("2026-04-16T20:30"));
        sensorField(sim).get("A0001").trip();
        await sim.advance(5_000);
        const local = (await sim.snapshot()).alarms[0];
        t.like(local, { seq: 1, media: 1, images: 3, clips: 1 }, "the hub knows what it asked of the camera");
        // let the link deliver the alarm and the unit (virtual time), then the notifier send (real time)
        let stored = false;
        for (let i = 0; i < 120 && !stored; i++) {
          await sim.advance(15_000);
          stored = center.store.media(TERMINAL).filter((m) => m.complete).length === 4;
        }
        t.true(stored, "the media unit reached the center");
        const alarm = center.store.alarms(TERMINAL)[0];
        t.like(alarm, { alarmId: 1, mediaId: 1, images: 3, clips: 1 });
        const deadline = Date.now() + 15_000;
        while (mails.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        t.is(mails.length, 1, "one e-mail");
        const raw = mails[0] ?? "";
        t.is((raw.match(/content-type:\s*image\/jpeg/gi) ?? []).length, 3, "3 JPEGs attached");
        t.is((raw.match(/content-type:\s*audio\/wav/gi) ?? []).length, 1, "the clip attached");
        t.regex(raw, /Images: 3 attached of 3 expected/);
        t.regex(raw, /Clips: 1 attached of 1 expected/);
      },
      { center: { smtp: { host: "127.0.0.1", port, ignoreTLS: true, from: "center@timeguard.test" }, notify: { pollMs: 20 } } },
    );
  } finally {
    await new Promise<void>((r) => smtp.close(() => r()));
  }
});
