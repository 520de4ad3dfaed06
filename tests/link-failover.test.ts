import test from "ava";
import { TERMINAL, withLinkRig } from "./helpers/link";
import { freePort } from "./helpers/pg-cluster";

// A terminal given the center's nodes as a list (config.link.address) dials the first; when a
// session with it fails it moves to the next, and stays with the one that answers.

test("[xs] the first node listed is down: the terminal's next dial goes to the second, registers there, and stays with it", async (t) => {
  const down = await freePort(); // nothing listens there
  const live = await freePort();
  await withLinkRig(
    "xs",
    "2026-04-16T19:00",
    async (rig) => {
      const registered = () => rig.center.store.terminal(TERMINAL)?.registeredAt != null;
      let s: any = null;
      for (let m = 0; m < 30 && !registered(); m++) {
        await rig.sim.advance(60_000);
        s = await rig.sim.snapshot();
      }
      t.true(registered(), `registered through the second node (uplink: ${JSON.stringify(s?.uplink)})`);
      t.true(s.uplink.failures >= 1, "the session with the first node failed");
      t.is(s.uplink.server, `127.0.0.1:${live}`, "the next dial stays with the node that answered");
      t.is(rig.center.ingestor.counts.rejected, 0);
    },
    { center: { mqttPort: live }, link: { address: [`127.0.0.1:${down}`, `127.0.0.1:${live}`] } },
  );
});
