// The terminal's side of the encrypted link (issue #12, item 10): the firmware's SIM7600 driver opens
// TLS 1.2 PSK through the modem's SSL commands (AT+CSSLCFG, AT+CCHSTART, AT+CCHOPEN, AT+CCHSEND,
// +CCHRECV), the emulated modem makes a REAL TLS-PSK connection (node:tls) to a real center's
// --mqtt-tls-port, and the center stores what the terminal reports. A wrong key fails the real
// handshake; the outbox keeps everything until the key is right.
import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCenter } from "../center/center";
import { parseTime } from "../firmware/core/time";
import { readLinkTls } from "../firmware/uplink/link-tls";
import { attachLcd } from "../host-sim/devices/lcd-pcf8574";
import { linkModem } from "../host-sim/devices/modem";
import { manifestConfig } from "../host-sim/project";
import { Simulator } from "../host-sim/simulator";
import { SECRET, TERMINAL, withLinkRig, type LinkRig } from "./helpers/link";

async function until(rig: { sim: Simulator }, done: () => boolean | Promise<boolean>, maxMs: number, stepMs: number): Promise<boolean> {
  for (let t = 0; t < maxMs; t += stepMs) {
    if (await done()) return true;
    await rig.sim.advance(stepMs);
  }
  return done();
}

function idle(s: any): boolean {
  return s.outbox.items === 0 && s.outbox.acknowledged > 0 && s.uplink.state === "idle";
}

test("[xs] over TLS 1.2 PSK through the modem's CCH commands: registration and the test call reach the center once; the key is nowhere to be seen", async (t) => {
  await withLinkRig(
    "xs",
    "2026-04-16T19:00",
    async (rig: LinkRig) => {
      const { sim, center, modem } = rig;
      attachLcd(sim);
      const psk = center.linkPsk(TERMINAL).toString("hex");
      const ok = await until(rig, async () => idle(await sim.snapshot()) && center.store.terminal(TERMINAL)?.registeredAt != null, 600_000, 5_000);
      t.true(ok, "the outbox empties");
      await sim.advance(60_000);
      const s = await sim.snapshot();
      t.is(s.uplink.security, "tls-psk");
      t.is(s.uplink.state, "idle", "hung up after the session");
      t.true(s.link.tls.sessions >= 1, "the sessions were TLS");
      t.is(s.link.tls.handshakesFailed, 0);
      t.false(s.link.tls.started, "AT+CCHSTOP after the session");
      t.is(center.broker.counts.tlsHandshakesFailed, 0);
      // the network saw TLS records: more bytes than the MQTT inside them, both ways
      t.true(modem.wireUp > modem.bytesUp && modem.wireDown > modem.bytesDown, `wire ${modem.wireUp}/${modem.wireDown} vs MQTT ${modem.bytesUp}/${modem.bytesDown}`);
      const term = center.store.terminal(TERMINAL)!;
      t.truthy(term.registeredAt);
      t.truthy(term.lastTest);
      t.is(center.ingestor.counts.duplicate, 0);
      t.is(center.ingestor.counts.rejected, 0);
      t.is(s.outbox.acknowledged, center.store.messageCount(), "every message the terminal had acknowledged is in the center");
      // the key: not in the snapshot (uplink, modem driver, the LCD's text)
      t.truthy(s.lcd, "the LCD is in the snapshot");
      t.false(JSON.stringify(s).toLowerCase().includes(psk), "the key does not appear");
    },
    { tls: true },
  );
});

test("[xs] a wrong key: the real handshake fails (counted by the center), nothing is stored, the outbox keeps it all; with the right key it all goes once", async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), "tg-link-tls-"));
  const flashPath = join(dataDir, "terminal.flash");
  const center = await startCenter({ dataDir: join(dataDir, "center"), mqttPort: 0, httpPort: 0, mqttTlsPort: 0 });
  center.addTerminal({ id: TERMINAL, secret: SECRET, site: "Tanaka house" });
  const base = manifestConfig();
  const config = (psk: string) => ({ link: { ...(base.link as object), address: "127.0.0.1", port: center.mqttTlsPort, secret: SECRET, psk } });
  const startMs = parseTime("2026-04-16T19:00", "start") * 1000;
  try {
    // provisioned with another terminal's key
    const wrong = center.linkPsk("T0002").toString("hex");
    let sim = await Simulator.start({ engine: "xs", startMs, flashPath, config: config(wrong) });
    let modem = linkModem(sim);
    let before: any;
    try {
      await sim.advance(1_800_000);
      before = await sim.snapshot();
      t.is(center.store.messageCount(), 0, "nothing stored");
      t.true(before.outbox.items >= 2, `registration and the test call still wait (${before.outbox.items})`);
      t.is(before.outbox.acknowledged, 0);
      t.regex(String(before.uplink.lastError), /TLS open failed \(TLS handshake failed 15\)/);
      t.true(before.link.tls.handshakesFailed >= 2, "the modem's handshakes failed");
      t.true(center.broker.counts.tlsHandshakesFailed >= 2, "and the center counted them");
      t.true(before.uplink.failures >= 2 && before.uplink.sessions < 12, "retries, with backoff");
      t.false(JSON.stringify(before).toLowerCase().includes(wrong), "the key does not appear");
    } finally {
      await sim.close();
      modem.close();
    }
    // the right key provisioned (the same flash: the outbox as the terminal left it)
    sim = await Simulator.start({ engine: "xs", startMs: startMs + 1_800_000, flashPath, config: config(center.linkPsk(TERMINAL).toString("hex")) });
    modem = linkModem(sim);
    try {
      const ok = await until({ sim }, async () => idle(await sim.snapshot()) && center.store.terminal(TERMINAL)?.registeredAt != null, 3_600_000, 10_000);
      t.true(ok, "the outbox empties");
      const s = await sim.snapshot();
      t.true(s.outbox.acknowledged >= before.outbox.items, "what waited went");
      t.is(s.outbox.acknowledged, center.store.messageCount(), "each stored once");
      t.is(center.ingestor.counts.duplicate, 0);
      t.truthy(center.store.terminal(TERMINAL)?.lastTest);
    } finally {
      await sim.close();
      modem.close();
    }
  } finally {
    await center.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("over TLS: a failed open (+CCHOPEN: 0,14), drops in mid-send (+CCHCLOSE: 0,9), garbage on the line, a stalled modem reset; every report still arrives exactly once", async (t) => {
  await withLinkRig(
    "node",
    "2026-04-16T19:00",
    async (rig: LinkRig) => {
      const { sim, center, modem } = rig;
      modem.fault({ kind: "open-fails", count: 1 });
      await sim.advance(60_000);
      t.regex(String((await sim.snapshot()).uplink.lastError), /TLS open failed \(connect failed 14\)/);
      modem.fault({ kind: "stall" });
      await sim.command("link.dial");
      t.true(await until(rig, () => modem.resets >= 1, 600_000, 10_000), "the stalled modem was reset (and its SSL service with it)");
      modem.fault({ kind: "drop-mid-send", count: 2, afterBytes: 20 });
      modem.fault({ kind: "garbage", lines: 10 });
      await sim.command("link.dial");
      const ok = await until(rig, async () => modem.drops >= 2 && idle(await sim.snapshot()), 3_600_000, 10_000);
      t.true(ok, "the outbox drained");
      const s = await sim.snapshot();
      t.true(modem.drops >= 2, "the drops happened");
      t.true(s.link.tls.sessions >= 3, "a new TLS session after each drop");
      t.regex(String(s.uplink.modem.dropped), /^[1-9]/, "the driver saw the link go");
      t.is(center.ingestor.counts.rejected, 0);
      t.is(center.ingestor.counts.duplicate, 0);
      t.is(s.outbox.acknowledged, center.store.messageCount(), "each stored once");
    },
    { tls: true },
  );
});

test("the demo stack (timeguard start, scenarios) provisions the terminal's key from the center and reports over TLS; --plain-link keeps it in clear", async (t) => {
  const { startDemoStack } = await import("../host-sim/demo-stack");
  const { DEMO } = await import("../center/demo");
  for (const link of ["tls", "plain"] as const) {
    const dir = mkdtempSync(join(tmpdir(), "tg-demo-tls-"));
    const stack = await startDemoStack({ engine: "node", dataDir: dir, startMs: parseTime("2026-04-16T19:00", "t") * 1000, memoryFlash: true, link });
    try {
      t.is(stack.center.mqttTlsPort !== null, link === "tls");
      const ok = await until(stack, () => stack.center.store.terminal(DEMO.terminal)?.registeredAt != null, 600_000, 5_000);
      t.true(ok, `${link}: the demo terminal registered`);
      const s = await stack.sim.snapshot();
      t.is(s.uplink.security, link === "tls" ? "tls-psk" : "plain");
      t.is(s.link.tls.sessions > 0, link === "tls", `${link}: TLS sessions ${s.link.tls.sessions}`);
    } finally {
      await stack.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test("link.psk in the config: hex of 16-32 bytes turns TLS on (identity: the terminal ID unless link.pskIdentity); a bad one is refused without echoing it", (t) => {
  const withLink = (link: Record<string, unknown>) => readLinkTls(link, "T0001");
  t.is(withLink({}), null, "no key: plain TCP");
  t.deepEqual(withLink({ psk: "00112233445566778899AABBCCDDEEFF" }), { identity: "T0001", psk: "00112233445566778899aabbccddeeff" });
  t.deepEqual(withLink({ psk: "ab".repeat(32), pskIdentity: "T0001-b" }), { identity: "T0001-b", psk: "ab".repeat(32) });
  for (const bad of ["00112233", "zz".repeat(16), "ab".repeat(33), "abc".repeat(11), 12345]) {
    const e = t.throws(() => withLink({ psk: bad }));
    t.is(e?.message, "config.link.psk: must be 16-32 bytes in hex");
  }
  t.throws(() => withLink({ psk: "ab".repeat(16), pskIdentity: 'T0001","x' }), { message: /link.pskIdentity/ }, "an identity that would break the AT command");
});

test("the modem stops answering at the very command that carries the key: the timeout names the command without the key", async (t) => {
  await withLinkRig(
    "node",
    "2026-04-16T19:00",
    async (rig: LinkRig) => {
      const { sim, center, modem } = rig;
      const psk = center.linkPsk(TERMINAL).toString("hex");
      // the modem goes silent (for 20 s) as the key command reaches it
      const receive = modem.receive.bind(modem);
      let seen = false;
      modem.receive = (bytes: Uint8Array) => {
        if (!seen && Buffer.from(bytes).toString("latin1").includes('AT+CSSLCFG="psk"')) {
          seen = true;
          modem.fault({ kind: "stall", ms: 20_000 });
        }
        receive(bytes);
      };
      const failed = await until(rig, async () => /timeout/.test(String((await sim.snapshot()).uplink.lastError)), 600_000, 2_000);
      t.true(seen && failed, "the key command timed out");
      const s = await sim.snapshot();
      t.is(s.uplink.lastError, 'TLS setup: timeout on AT+CSSLCFG="psk",0,…');
      t.false(JSON.stringify(s).toLowerCase().includes(psk), "the key does not appear");
      // and the terminal goes on: the next dial gets through
      t.true(await until(rig, async () => idle(await sim.snapshot()), 3_600_000, 10_000), "delivered later");
    },
    { tls: true },
  );
});
