// The firmware's SIM7600 driver and dialer on both engines, against the modem emulation and a real
// center on loopback: garbage on the line, a stalled modem (reset through its RESET line), a
// modem that is not there at all, and the link's snapshot.
import { onBothEngines } from "./helpers/engines";
import { withLinkRig, TERMINAL, type LinkRig } from "./helpers/link";

async function until(rig: LinkRig, done: (s: any) => boolean, maxMs: number, stepMs = 10_000): Promise<any> {
  for (let t = 0; t <= maxMs; t += stepMs) {
    const s = await rig.sim.snapshot();
    if (done(s)) return s;
    await rig.sim.advance(stepMs);
  }
  return rig.sim.snapshot();
}

const drained = (s: any) => s.outbox.items === 0 && s.outbox.acknowledged > 0 && s.uplink.state === "idle";

onBothEngines("garbage on the line is counted and skipped; the reports still go through", async (t, engine) => {
  await withLinkRig(engine, "2026-04-16T19:00", async (rig) => {
    rig.modem.fault({ kind: "garbage", lines: 40 });
    const s = await until(rig, drained, 1_800_000);
    t.true(drained(s), "the outbox drained");
    t.true(s.uplink.modem.garbage >= 1, "garbage lines were counted");
    t.is(rig.center.ingestor.counts.rejected, 0);
    t.is(s.outbox.acknowledged, rig.center.store.messageCount());
  });
});

onBothEngines("a stalled modem is reset through its RESET line and the session retried", async (t, engine) => {
  await withLinkRig(engine, "2026-04-16T19:00", async (rig) => {
    rig.modem.fault({ kind: "stall" });
    const s = await until(rig, drained, 3_600_000);
    t.true(drained(s), "delivered after the reset");
    t.true(rig.modem.resets >= 1, "the RESET line was pulled");
    t.true(s.uplink.modem.resets >= 1 && s.uplink.modem.timeouts >= 2);
    t.truthy(rig.center.store.terminal(TERMINAL)?.registeredAt);
  });
});

onBothEngines("no center at the address: sessions fail, back off, and nothing is lost", async (t, engine) => {
  await withLinkRig(
    engine,
    "2026-04-16T19:00",
    async (rig) => {
      await rig.sim.advance(3_600_000);
      const s = await rig.sim.snapshot();
      t.like(s.outbox.byKind, { registration: 1, test: 1 }, "registration and test call wait (with whatever else came up)");
      t.is(s.outbox.acknowledged, 0);
      t.regex(String(s.uplink.lastError), /socket open failed/);
      // 30 s, 60 s, 120 s, 300 s, 600 s, 1800 s: about six tries in the hour, not hundreds
      t.true(s.uplink.failures >= 4 && s.uplink.failures <= 8, `${s.uplink.failures} failures`);
      t.like(s.link, { sessionsOk: 0 });
      t.is(s.link.state, "registered", "every failed dial hung up the data session");
    },
    { link: { port: 9 } },
  );
});
