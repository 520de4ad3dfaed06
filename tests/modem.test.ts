// The SIM7600 emulation (host-sim/devices/modem.ts) at the AT level, without firmware: the
// dialect the driver relies on, real TCP through it to an echo server on loopback, and every
// injectable fault. Virtual time is driven here the way the simulator drives it (waiting for the
// modem's real work before each step). The echo server speaks no MQTT, so the modem cannot count
// replies owed: its quiet window (100 ms here) is what waits for the echo; the tests run serially.
import test from "ava";
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { IoHub } from "../host-sim/io/hub";
import { directDevice } from "../host-sim/io/direct-io";
import type Digital from "embedded:io/digital";
import type Serial from "embedded:io/serial";
import { ModemEmulator } from "../host-sim/devices/modem";

const RESET_PIN = 4;

class Bench {
  now = 1_000_000;
  hub = new IoHub(() => this.now);
  modem: ModemEmulator;
  rx = "";
  serial: Serial;
  reset: Digital;
  #pump: () => number;

  constructor() {
    this.modem = new ModemEmulator(this.hub, () => this.now, { resetPin: RESET_PIN, latencyMs: 50, quietMs: 100 });
    const { device, pump } = directDevice(this.hub);
    this.#pump = pump;
    const self = this;
    this.serial = new device.io.Serial({
      port: 1,
      receive: 16,
      transmit: 17,
      baud: 115200,
      onReadable() {
        const got = this.read();
        if (got) self.rx += Buffer.from(got as ArrayBuffer).toString("latin1");
      },
    });
    this.reset = new device.io.Digital({ pin: RESET_PIN, mode: 8 });
    this.reset.write(1);
  }

  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    for (;;) {
      const work = this.modem.realWork();
      if (work) await work;
      const next = this.hub.nextAt();
      if (next === null || next > target) break;
      this.now = Math.max(this.now, next);
      this.#pump();
    }
    this.now = target;
    this.#pump();
  }

  write(text: string | Uint8Array): void {
    this.serial.write(typeof text === "string" ? Buffer.from(text, "latin1") : text);
  }

  /** Sends a command line and returns what came back within `ms`. */
  async at(cmd: string, ms = 500): Promise<string> {
    this.rx = "";
    this.write(cmd + "\r");
    await this.advance(ms);
    return this.rx;
  }

  async booted(): Promise<void> {
    await this.advance(this.modem.bootMs + this.modem.registrationMs + 100);
    this.rx = "";
  }
}

async function echoServer(): Promise<{ server: Server; port: number; got: () => Buffer; sockets: Socket[]; close(): Promise<void> }> {
  const chunks: Buffer[] = [];
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on("data", (d) => {
      chunks.push(d);
      s.write(d);
    });
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    sockets,
    got: () => Buffer.concat(chunks),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Waits (real time, bounded) for something the real socket does on its own schedule. */
async function eventually(done: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!done() && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
}

async function online(b: Bench, port: number): Promise<void> {
  await b.booted();
  await b.at("ATE0");
  await b.at('AT+CGDCONT=1,"IP","iot.test"');
  const net = await b.at("AT+NETOPEN", 2000);
  if (!net.includes("+NETOPEN: 0")) throw new Error(`NETOPEN: ${JSON.stringify(net)}`);
  const open = await b.at(`AT+CIPOPEN=0,"TCP","127.0.0.1",${port}`, 1000);
  if (!open.includes("+CIPOPEN: 0,0")) throw new Error(`CIPOPEN: ${JSON.stringify(open)}`);
}

test.serial("bring-up, dial, a TCP round trip through +IPD, hang up", async (t) => {
  const b = new Bench();
  const echo = await echoServer();
  try {
    t.is(await b.at("AT", 100), "", "nothing answers while the modem boots");
    await b.booted();
    t.is(await b.at("AT"), "AT\r\r\nOK\r\n", "echo is on after boot");
    t.is(await b.at("ATE0"), "ATE0\r\r\nOK\r\n");
    t.is(await b.at("AT+CPIN?"), "\r\n+CPIN: READY\r\n\r\nOK\r\n");
    t.is(await b.at("AT+CSQ"), "\r\n+CSQ: 20,99\r\n\r\nOK\r\n");
    t.is(await b.at("AT+CREG?"), "\r\n+CREG: 0,1\r\n\r\nOK\r\n");
    t.is(await b.at("AT+CGREG?"), "\r\n+CGREG: 0,1\r\n\r\nOK\r\n");
    t.is(await b.at('AT+CGDCONT=1,"IP","iot.test"'), "\r\nOK\r\n");
    t.is(await b.at("AT+NETOPEN", 2000), "\r\nOK\r\n\r\n+NETOPEN: 0\r\n");
    t.is(await b.at("AT+NETOPEN"), "\r\n+IP ERROR: Network is already opened\r\n\r\nERROR\r\n");
    t.is(await b.at(`AT+CIPOPEN=0,"TCP","127.0.0.1",${echo.port}`, 1000), "\r\nOK\r\n\r\n+CIPOPEN: 0,0\r\n");
    t.is(await b.at("AT+CIPSEND=0,5", 50), "\r\n>");
    b.rx = "";
    b.write("hello");
    await b.advance(1000);
    t.is(b.rx, "\r\nOK\r\n\r\n+CIPSEND: 0,5,5\r\n\r\n+IPD5\r\nhello", "sent, and the echo came back as +IPD");
    t.is(echo.got().toString(), "hello", "the bytes went over a real socket");
    t.is(await b.at("AT+CIPCLOSE=0", 500), "\r\nOK\r\n\r\n+CIPCLOSE: 0,0\r\n");
    t.is(await b.at("AT+NETCLOSE", 500), "\r\nOK\r\n\r\n+NETCLOSE: 0\r\n");
    const snap = b.modem.snapshot().link as any;
    t.like(snap, { state: "registered", sessions: 1, sessionsOk: 1, bytes: { up: 5, down: 5 } });
  } finally {
    b.modem.close();
    await echo.close();
  }
});

test.serial("wrong commands get ERROR and change nothing", async (t) => {
  const b = new Bench();
  try {
    await b.booted();
    await b.at("ATE0");
    t.is(await b.at("AT+BOGUS"), "\r\nERROR\r\n");
    t.is(await b.at("HELLO"), "\r\nERROR\r\n");
    t.is(await b.at("AT+CIPSEND=0,5"), "\r\nERROR\r\n", "no socket");
    t.is(await b.at('AT+CIPOPEN=0,"TCP","center.example",1883'), "\r\nERROR\r\n", "numeric IPv4 only");
    t.is(await b.at('AT+CGDCONT=1,"IP"'), "\r\nERROR\r\n");
    t.is(await b.at("AT+CIPCLOSE=0"), "\r\nERROR\r\n");
    t.is(await b.at("AT+NETCLOSE"), "\r\n+NETCLOSE: 2\r\n\r\nERROR\r\n");
    t.is(b.modem.state, "registered");
  } finally {
    b.modem.close();
  }
});

test.serial("faults: no SIM, no registration, open fails, garbage lines", async (t) => {
  const b = new Bench();
  const echo = await echoServer();
  try {
    await b.booted();
    await b.at("ATE0");
    b.modem.fault({ kind: "no-sim" });
    t.is(await b.at("AT+CPIN?"), "\r\n+CME ERROR: 10\r\n");
    t.is(await b.at("AT+CREG?"), "\r\n+CREG: 0,0\r\n\r\nOK\r\n");
    b.modem.fault({ kind: "clear" });
    b.modem.fault({ kind: "no-registration" });
    t.is(await b.at("AT+CGREG?"), "\r\n+CGREG: 0,2\r\n\r\nOK\r\n");
    t.is(await b.at("AT+CSQ"), "\r\n+CSQ: 99,99\r\n\r\nOK\r\n");
    await b.at('AT+CGDCONT=1,"IP","iot.test"');
    t.is(await b.at("AT+NETOPEN", 2000), "\r\nOK\r\n\r\n+NETOPEN: 1\r\n", "no data session without registration");
    b.modem.fault({ kind: "clear" });
    t.is(await b.at("AT+NETOPEN", 2000), "\r\nOK\r\n\r\n+NETOPEN: 0\r\n");
    b.modem.fault({ kind: "open-fails", count: 2 });
    for (let i = 0; i < 2; i++) t.is(await b.at(`AT+CIPOPEN=0,"TCP","127.0.0.1",${echo.port}`, 2000), "\r\nOK\r\n\r\n+CIPOPEN: 0,2\r\n");
    t.is(await b.at(`AT+CIPOPEN=0,"TCP","127.0.0.1",${echo.port}`, 2000), "\r\nOK\r\n\r\n+CIPOPEN: 0,0\r\n", "the third attempt opens");
    b.modem.fault({ kind: "garbage", lines: 2 });
    await b.advance(100);
    const reply = await b.at("AT");
    t.true(reply.endsWith("\r\nOK\r\n"), "the answer still comes, after the noise");
    t.true(reply.length > 8, "garbage came first");
    t.deepEqual(b.modem.activeFaults(), []);
  } finally {
    b.modem.close();
    await echo.close();
  }
});

test.serial("faults: the link drops in the middle of a send; a stalled modem answers nothing until its RESET line is pulled", async (t) => {
  const b = new Bench();
  const echo = await echoServer();
  try {
    await online(b, echo.port);
    b.modem.fault({ kind: "drop-mid-send", afterBytes: 3 });
    await b.at("AT+CIPSEND=0,10", 50);
    b.rx = "";
    b.write("0123456789");
    await b.advance(1000);
    t.true(b.rx.includes("+IPCLOSE: 0,2"), `the network dropped the link: ${JSON.stringify(b.rx)}`);
    t.false(b.rx.includes("+CIPSEND: 0,10,10"));
    await eventually(() => echo.got().length >= 3);
    t.is(echo.got().toString(), "012", "only the first bytes got out");
    t.is(b.modem.state, "online");
    b.modem.fault({ kind: "stall" });
    t.is(await b.at("AT", 5000), "", "stalled");
    t.is(await b.at("AT+CRESET", 5000), "", "it cannot hear a reset command either");
    const resets = b.modem.resets;
    b.reset.write(0);
    await b.advance(300);
    b.reset.write(1);
    await b.booted();
    t.is(await b.at("AT"), "AT\r\r\nOK\r\n", "back after the reset pulse, echo on again");
    t.is(b.modem.resets, resets + 1);
    t.is(b.modem.state, "registered", "the reset took the data session down");
    b.modem.fault({ kind: "stall", ms: 1000 });
    t.is(await b.at("ATE0", 500), "");
    await b.advance(1000);
    t.is(await b.at("ATE0"), "ATE0\r\r\nOK\r\n", "a timed stall ends by itself");
  } finally {
    b.modem.close();
    await echo.close();
  }
});

test.serial("a peer that closes the connection yields +IPCLOSE: 0,1", async (t) => {
  const b = new Bench();
  const echo = await echoServer();
  try {
    await online(b, echo.port);
    await b.advance(100);
    b.rx = "";
    for (const s of echo.sockets) s.end();
    await new Promise((r) => setTimeout(r, 50));
    await b.advance(500);
    t.is(b.rx, "\r\n+IPCLOSE: 0,1\r\n");
    t.is(b.modem.state, "online");
  } finally {
    b.modem.close();
    await echo.close();
  }
});

test.serial("bad fault specifications are refused with the reason", (t) => {
  const b = new Bench();
  try {
    t.throws(() => b.modem.fault({ kind: "meteor" as any }), { message: /kind must be one of/ });
    t.throws(() => b.modem.fault({ kind: "open-fails", count: 0 }), { message: /count/ });
    t.throws(() => b.modem.fault({ kind: "slow" }), { message: /latencyMs/ });
    t.throws(() => b.modem.fault({ kind: "stall", ms: -5 }), { message: /ms/ });
  } finally {
    b.modem.close();
  }
});

/** A TLS 1.2 PSK echo server (the center's suites), keyed by identity; what it heard and which identities came. */
async function tlsEchoServer(keys: Record<string, Buffer>): Promise<{ port: number; got: () => string; identities: string[]; failed: () => number; close(): Promise<void> }> {
  const chunks: Buffer[] = [];
  const identities: string[] = [];
  let failed = 0;
  const sockets: import("node:tls").TLSSocket[] = [];
  const server = createTlsServer(
    {
      minVersion: "TLSv1.2",
      maxVersion: "TLSv1.2",
      ciphers: "PSK-AES128-GCM-SHA256:PSK-AES256-GCM-SHA384",
      pskCallback: (_s, identity) => {
        identities.push(identity);
        return keys[identity] ?? null;
      },
    },
    (s) => {
      sockets.push(s);
      s.on("data", (d) => {
        chunks.push(d);
        s.write(d);
      });
      s.on("error", () => {});
    },
  );
  server.on("tlsClientError", () => void failed++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as { port: number }).port,
    got: () => Buffer.concat(chunks).toString(),
    identities,
    failed: () => failed,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const KEY = Buffer.from("000102030405060708090a0b0c0d0e0f", "hex");

async function sslContext(b: Bench, key = KEY): Promise<void> {
  for (const c of ['"sslversion",0,3', '"authmode",0,0', '"ciphersuites",0,0x00A8', `"psk",0,"T0001","${key.toString("hex")}"`, '"ignorelocaltime",0,1']) {
    const r = await b.at(`AT+CSSLCFG=${c}`);
    if (r !== "\r\nOK\r\n") throw new Error(`CSSLCFG=${c}: ${JSON.stringify(r)}`);
  }
}

test.serial("SSL (CCH) commands: a REAL TLS 1.2 PSK round trip through +CCHRECV, the server sees the terminal's identity; hang up", async (t) => {
  const b = new Bench();
  const echo = await tlsEchoServer({ T0001: KEY });
  try {
    await b.booted();
    await b.at("ATE0");
    await b.at('AT+CGDCONT=1,"IP","iot.test"');
    await b.at("AT+NETOPEN", 2000);
    await sslContext(b);
    t.is(await b.at("AT+CCHSET=1,0"), "\r\nOK\r\n");
    t.is(await b.at("AT+CCHSTART", 500), "\r\nOK\r\n\r\n+CCHSTART: 0\r\n");
    t.is(await b.at("AT+CCHSSLCFG=0,0"), "\r\nOK\r\n");
    t.is(await b.at(`AT+CCHOPEN=0,"127.0.0.1",${echo.port},2`, 2000), "\r\nOK\r\n\r\n+CCHOPEN: 0,0\r\n");
    t.deepEqual(echo.identities, ["T0001"]);
    t.is(await b.at("AT+CIPSEND=0,5"), "\r\nERROR\r\n", "the TCP commands do not reach a TLS session");
    t.is(await b.at("AT+CCHSEND=0,5", 50), "\r\n>");
    b.rx = "";
    b.write("hello");
    await b.advance(1000);
    t.is(b.rx, "\r\nOK\r\n\r\n+CCHSEND: 0,0\r\n\r\n+CCHRECV: DATA,0,5\r\nhello", "sent, and the echo came back as +CCHRECV");
    t.is(echo.got(), "hello", "decrypted by the real server");
    t.is(await b.at("AT+CCHCLOSE=0", 500), "\r\nOK\r\n\r\n+CCHCLOSE: 0,0\r\n");
    t.is(await b.at("AT+CCHSTOP", 500), "\r\nOK\r\n\r\n+CCHSTOP: 0\r\n");
    await eventually(() => b.modem.wireUp > 0);
    t.true(b.modem.wireUp > 5 + 100 && b.modem.wireDown > 5 + 100, `the wire carried TLS (${b.modem.wireUp}/${b.modem.wireDown} bytes)`);
    t.like(b.modem.snapshot().link as any, { bytes: { up: 5, down: 5 }, tls: { sessions: 1, handshakesFailed: 0, started: false } });
  } finally {
    b.modem.close();
    await echo.close();
  }
});

test.serial("SSL (CCH) commands: a wrong key fails the real handshake (+CCHOPEN: 0,15); out-of-order and malformed commands get ERROR", async (t) => {
  const b = new Bench();
  const echo = await tlsEchoServer({ T0001: KEY });
  try {
    await b.booted();
    await b.at("ATE0");
    // out of order: nothing before AT+CCHSTART, nothing twice
    t.is(await b.at(`AT+CCHOPEN=0,"127.0.0.1",${echo.port},2`), "\r\nERROR\r\n", "AT+CCHOPEN before AT+CCHSTART");
    t.is(await b.at("AT+CCHSSLCFG=0,0"), "\r\nERROR\r\n", "AT+CCHSSLCFG before AT+CCHSTART");
    t.is(await b.at("AT+CCHSEND=0,5"), "\r\nERROR\r\n", "no session");
    t.is(await b.at("AT+CCHCLOSE=0"), "\r\nERROR\r\n", "no session");
    t.is(await b.at("AT+CCHSTOP"), "\r\nERROR\r\n", "not started");
    // malformed
    t.is(await b.at('AT+CSSLCFG="sslversion",0,9'), "\r\nERROR\r\n");
    t.is(await b.at('AT+CSSLCFG="psk",0,"T0001","not-hex"'), "\r\nERROR\r\n");
    t.is(await b.at('AT+CSSLCFG="psk",0,"T0001","abc"'), "\r\nERROR\r\n", "odd hex");
    t.is(await b.at('AT+CSSLCFG="bogus",0,1'), "\r\nERROR\r\n");
    t.is(await b.at('AT+CSSLCFG="authmode",12,0'), "\r\nERROR\r\n", "contexts 0-9");
    t.is(await b.at("AT+CCHSET=1,1"), "\r\nERROR\r\n", "manual receive mode is not emulated");
    t.is(await b.at("AT+CCHSTART", 500), "\r\nOK\r\n\r\n+CCHSTART: 0\r\n");
    t.is(await b.at("AT+CCHSTART"), "\r\nERROR\r\n", "already started");
    t.is(await b.at('AT+CCHOPEN=0,"center.example",8883,2'), "\r\nERROR\r\n", "numeric IPv4 only");
    t.is(await b.at(`AT+CCHOPEN=1,"127.0.0.1",${echo.port},2`), "\r\nERROR\r\n", "session 0 only");
    // a context without a key has nothing to offer a PSK server
    t.is(await b.at(`AT+CCHOPEN=0,"127.0.0.1",${echo.port},2`, 1000), "\r\nOK\r\n\r\n+CCHOPEN: 0,15\r\n");
    // the wrong key: the server refuses the real handshake
    await sslContext(b, Buffer.alloc(16, 7));
    t.is(await b.at("AT+CCHSSLCFG=0,0"), "\r\nOK\r\n");
    t.is(await b.at(`AT+CCHOPEN=0,"127.0.0.1",${echo.port},2`, 2000), "\r\nOK\r\n\r\n+CCHOPEN: 0,15\r\n");
    await eventually(() => echo.failed() > 0);
    t.is(echo.failed(), 1, "the server saw a failed handshake");
    t.is(echo.got(), "", "and no data");
    t.like(b.modem.snapshot().link as any, { tls: { sessions: 0, handshakesFailed: 2 } });
    // with the right key the same service opens
    await sslContext(b);
    t.is(await b.at(`AT+CCHOPEN=0,"127.0.0.1",${echo.port},2`, 2000), "\r\nOK\r\n\r\n+CCHOPEN: 0,0\r\n");
  } finally {
    b.modem.close();
    await echo.close();
  }
});
