// The firmware's MQTT client state machine, driven with server packets made by mqtt-packet and
// its output read back by mqtt-packet's parser: pipelining, PUBACK matching, DUP re-send after a
// reconnect, subscriptions, keep-alive and dead-connection detection, hostile input.
import test from "ava";
import fc from "fast-check";
import mqttPacket from "mqtt-packet";
import { MqttError } from "../firmware/lib/mqtt";
import { MqttClient, type MqttClientOptions, type MqttStep } from "../firmware/net/mqtt-client";

type Theirs = Record<string, unknown> & { cmd: string };

const gen = (p: Record<string, unknown>): Uint8Array => new Uint8Array(mqttPacket.generate(p as never, { protocolVersion: 4 }));
const CONNACK = (sessionPresent = false, returnCode = 0) => gen({ cmd: "connack", sessionPresent, returnCode });
const PUBACK = (messageId: number) => gen({ cmd: "puback", messageId });
const SUBACK = (messageId: number, granted: number[]) => gen({ cmd: "suback", messageId, granted });
const PINGRESP = gen({ cmd: "pingresp" });
const PUBLISH = (topic: string, payload: Uint8Array, qos: 0 | 1, messageId?: number, dup = false) =>
  gen({ cmd: "publish", topic, payload: Buffer.from(payload), qos, dup, retain: false, ...(qos ? { messageId } : {}) });

/** What the client wrote, decoded by mqtt-packet (the oracle); `take()` returns and forgets them. */
class Wire {
  #parser = mqttPacket.parser({ protocolVersion: 4 });
  #packets: Theirs[] = [];
  bytes = 0;
  failWrites = false;
  constructor() {
    this.#parser.on("packet", (p) => this.#packets.push(p as unknown as Theirs));
    this.#parser.on("error", (e: Error) => {
      throw e;
    });
  }
  write(b: Uint8Array): void {
    if (this.failWrites) throw new Error("modem buffer full");
    this.bytes += b.length;
    this.#parser.parse(Buffer.from(b)); // a copy: the client may later set DUP in its own buffer
  }
  take(): Theirs[] {
    const out = this.#packets;
    this.#packets = [];
    return out;
  }
}

interface Log {
  connected: boolean[];
  acked: Array<[string, number]>;
  messages: Array<[string, string]>;
  subscribed: number[][];
  errors: string[];
}

function setup(options: Partial<MqttClientOptions> = {}, handlers: { message?: () => void } = {}) {
  const wire = new Wire();
  const log: Log = { connected: [], acked: [], messages: [], subscribed: [], errors: [] };
  const client = new MqttClient<string>(
    { clientId: "T0001", username: "T0001", password: "secret", keepAliveSeconds: 60, maxInflight: 4, subscriptions: ["tg/t/T0001/down"], ...options },
    wire,
    {
      connected: (s) => log.connected.push(s),
      acked: (tag, id) => log.acked.push([tag, id]),
      message: (topic, payload) => {
        handlers.message?.();
        log.messages.push([topic, Buffer.from(payload).toString()]);
      },
      subscribed: (g) => log.subscribed.push(g),
      error: (r) => log.errors.push(r),
    },
  );
  return { wire, log, client };
}

/** Connects at `now`, answers CONNACK (and SUBACK when a SUBSCRIBE went out). */
function open(c: ReturnType<typeof setup>, now = 0, sessionPresent = false): Theirs[] {
  c.client.connect(now);
  const connect = c.wire.take();
  c.client.onData(CONNACK(sessionPresent), now);
  const after = c.wire.take();
  const sub = after.find((p) => p.cmd === "subscribe");
  if (sub) c.client.onData(SUBACK(sub.messageId as number, [1]), now);
  return [...connect, ...after];
}

test("connect: CONNECT with CleanSession 0, credentials and keep-alive; then SUBSCRIBE to the downlink", (t) => {
  const c = setup();
  const step = c.client.connect(1000);
  t.deepEqual(step, { close: false, reason: null, wakeAt: 31000 }, "wakes for the CONNACK timeout");
  t.is(c.client.state, "connecting");
  const [connect] = c.wire.take();
  t.like(connect, { cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: false, clientId: "T0001", keepalive: 60, username: "T0001" });
  t.is(Buffer.from(connect.password as Buffer).toString(), "secret");
  t.false(c.client.canPublish);
  t.throws(() => c.client.publish("tg/t/T0001/up", Uint8Array.of(1), "a", 1000), { instanceOf: MqttError, message: /while connecting/ });

  const s2 = c.client.onData(CONNACK(false), 1500);
  t.is(c.client.state, "connected");
  t.deepEqual(c.log.connected, [false]);
  t.is(s2.wakeAt, 61500, "next: keep-alive, 60 s after the last packet each way (SUBSCRIBE and CONNACK at 1.5 s)");
  const [sub] = c.wire.take();
  t.like(sub, { cmd: "subscribe", subscriptions: [{ topic: "tg/t/T0001/down", qos: 1 }] });
  t.true((sub.messageId as number) > 0);
  t.false(c.client.idle, "not idle until the SUBACK");
  c.client.onData(SUBACK(sub.messageId as number, [1]), 1600);
  t.deepEqual(c.log.subscribed, [[1]]);
  t.true(c.client.idle);
  t.deepEqual(c.log.errors, []);
  t.throws(() => c.client.connect(2000), { instanceOf: MqttError });
});

test("QoS-1 publishes are pipelined up to maxInflight and matched to out-of-order PUBACKs", (t) => {
  const c = setup({ maxInflight: 3 });
  open(c);
  const ids = ["m1", "m2", "m3"].map((tag, i) => c.client.publish("tg/t/T0001/up", Uint8Array.of(i), tag, 10));
  t.is(new Set(ids).size, 3);
  t.true(ids.every((id) => id >= 1 && id <= 0xffff));
  const sent = c.wire.take();
  t.deepEqual(
    sent.map((p) => [p.cmd, p.qos, p.dup, p.messageId, [...(p.payload as Buffer)]]),
    ids.map((id, i) => ["publish", 1, false, id, [i]]),
    "all three are on the wire before any PUBACK",
  );
  t.false(c.client.canPublish);
  t.throws(() => c.client.publish("tg/t/T0001/up", Uint8Array.of(9), "m4", 10), { instanceOf: MqttError, message: /in flight/ });
  t.is(c.client.inflight, 3);

  c.client.onData(PUBACK(ids[1]), 20);
  t.deepEqual(c.log.acked, [["m2", ids[1]]]);
  t.true(c.client.canPublish);
  const id4 = c.client.publish("tg/t/T0001/up", Uint8Array.of(4), "m4", 20);
  t.false(ids.includes(id4) && id4 !== ids[1], "a new id not in use");
  // two PUBACKs in one chunk, reversed, plus one for an id we never sent
  const chunk = Buffer.concat([PUBACK(id4), PUBACK(ids[2]), PUBACK(999), PUBACK(ids[0])]);
  c.client.onData(new Uint8Array(chunk), 30);
  t.deepEqual(c.log.acked, [
    ["m2", ids[1]],
    ["m4", id4],
    ["m3", ids[2]],
    ["m1", ids[0]],
  ]);
  t.is(c.client.stats.unknownAcks, 1);
  t.is(c.client.inflight, 0);
  t.true(c.client.idle);
  // a second PUBACK for the same id does not ack twice
  c.client.onData(PUBACK(ids[0]), 40);
  t.is(c.log.acked.length, 4);
  t.deepEqual(c.log.errors, []);
});

test("after a reconnect, unacknowledged publishes are re-sent first, DUP = 1, same ids, in order", (t) => {
  const c = setup({ maxInflight: 4 });
  open(c);
  const ids = ["a", "b", "c"].map((tag) => c.client.publish("tg/t/T0001/up", new Uint8Array(Buffer.from(`payload-${tag}`)), tag, 100));
  c.wire.take();
  c.client.onData(PUBACK(ids[1]), 200);
  c.client.onTransportClosed(); // the network dropped us
  t.is(c.client.state, "disconnected");
  t.deepEqual(c.log.errors, ["connection lost while connected"]);
  t.deepEqual(c.client.inflightTags(), ["a", "c"]);

  c.client.connect(5000);
  t.like(c.wire.take()[0], { cmd: "connect", clean: false });
  c.client.onData(CONNACK(true), 5100);
  const resent = c.wire.take();
  t.deepEqual(
    resent.map((p) => [p.cmd, p.dup, p.qos, p.messageId, Buffer.from(p.payload as Buffer).toString()]),
    [
      ["publish", true, 1, ids[0], "payload-a"],
      ["publish", true, 1, ids[2], "payload-c"],
    ],
    "session present and already subscribed: no SUBSCRIBE, only the re-sends",
  );
  t.is(c.client.stats.resent, 2);
  t.deepEqual(c.log.connected, [false, true]);
  // new publishes after the re-sends are fresh (DUP 0) and do not reuse in-flight ids
  const id = c.client.publish("tg/t/T0001/up", Uint8Array.of(7), "d", 5200);
  t.false(id === ids[0] || id === ids[2]);
  t.like(c.wire.take()[0], { cmd: "publish", dup: false, messageId: id });
  c.client.onData(new Uint8Array(Buffer.concat([PUBACK(ids[2]), PUBACK(id), PUBACK(ids[0])])), 5300);
  t.deepEqual(
    c.log.acked.map(([tag]) => tag),
    ["b", "c", "d", "a"],
  );

  // Without a session on the broker, the client subscribes again (after the re-sends).
  c.client.publish("tg/t/T0001/up", Uint8Array.of(8), "e", 5400);
  c.wire.take();
  c.client.disconnect(5500);
  c.client.onTransportClosed();
  c.client.connect(9000);
  c.wire.take();
  c.client.onData(CONNACK(false), 9100);
  t.deepEqual(
    c.wire.take().map((p) => [p.cmd, p.dup]),
    [
      ["publish", true],
      ["subscribe", false],
    ],
  );
});

test("a clean hang-up: DISCONNECT, close, nothing lost", (t) => {
  const c = setup();
  open(c);
  c.client.publish("tg/t/T0001/up", Uint8Array.of(1), "x", 10);
  c.wire.take();
  const step = c.client.disconnect(20);
  t.deepEqual(step, { close: true, reason: "disconnect", wakeAt: null });
  t.deepEqual(
    c.wire.take().map((p) => p.cmd),
    ["disconnect"],
  );
  // bytes arriving before the socket is closed are ignored
  c.client.onData(PUBACK(1), 25);
  t.is(c.log.acked.length, 0);
  c.client.onTransportClosed();
  t.deepEqual(c.log.errors, [], "an expected close is not an error");
  t.deepEqual(c.client.inflightTags(), ["x"]);
  t.deepEqual(c.client.abandonInflight(), ["x"]);
  t.is(c.client.inflight, 0);
});

test("incoming PUBLISH reaches the handler; QoS 1 is acknowledged, QoS 0 not; a throwing handler gets no PUBACK", (t) => {
  let throwNext = false;
  const c = setup(
    {},
    {
      message: () => {
        if (throwNext) {
          throwNext = false;
          throw new Error("store full");
        }
      },
    },
  );
  open(c);
  c.client.onData(PUBLISH("tg/t/T0001/down", new Uint8Array(Buffer.from("plan")), 1, 42), 10);
  t.deepEqual(c.log.messages, [["tg/t/T0001/down", "plan"]]);
  t.like(c.wire.take(), [{ cmd: "puback", messageId: 42 }]);
  c.client.onData(PUBLISH("tg/t/T0001/down", new Uint8Array(Buffer.from("hello")), 0), 20);
  t.deepEqual(c.log.messages[1], ["tg/t/T0001/down", "hello"]);
  t.deepEqual(c.wire.take(), []);
  throwNext = true;
  c.client.onData(PUBLISH("tg/t/T0001/down", Uint8Array.of(1), 1, 43), 30);
  t.deepEqual(c.wire.take(), [], "no PUBACK: the broker sends it again next session");
  t.regex(c.log.errors[0], /message handler threw: store full/);
  t.is(c.client.state, "connected");
  // duplicates are delivered (the application de-duplicates) and acknowledged again
  c.client.onData(PUBLISH("tg/t/T0001/down", new Uint8Array(Buffer.from("plan")), 1, 42, true), 40);
  t.is(c.log.messages.length, 3);
  t.like(c.wire.take(), [{ cmd: "puback", messageId: 42 }]);
});

test("server bytes split anywhere, even one at a time, are handled the same", (t) => {
  const c = setup({ maxInflight: 2 });
  c.client.connect(0);
  c.wire.take();
  const id1 = 1;
  const stream = Buffer.concat([CONNACK(false), SUBACK(1, [1]), PUBLISH("tg/t/T0001/down", Uint8Array.of(5, 6), 1, 7), PINGRESP]);
  for (const b of stream) c.client.onData(Uint8Array.of(b), 10);
  t.deepEqual(c.log.connected, [false]);
  t.deepEqual(c.log.subscribed, [[1]]);
  t.is(c.log.messages.length, 1);
  t.deepEqual(
    c.wire.take().map((p) => p.cmd),
    ["subscribe", "puback"],
  );
  t.is(id1, 1);
  t.deepEqual(c.log.errors, []);
});

test("keep-alive: PINGREQ after the interval of silence, dead connection when nothing answers", (t) => {
  const c = setup({ keepAliveSeconds: 60, pingTimeoutMs: 10000 });
  open(c, 0);
  c.wire.take();
  t.is(c.client.wakeAt, 60000);
  let step: MqttStep = c.client.tick(59999);
  t.deepEqual(c.wire.take(), []);
  step = c.client.tick(60000);
  t.deepEqual(
    c.wire.take().map((p) => p.cmd),
    ["pingreq"],
  );
  t.is(step.wakeAt, 70000, "waits 10 s for the answer");
  c.client.tick(65000);
  t.deepEqual(c.wire.take(), [], "one PINGREQ at a time");
  c.client.onData(PINGRESP, 61000);
  t.is(c.client.wakeAt, 120000, "next ping a full interval after the last PINGREQ");
  // sending alone does not postpone the ping when nothing comes back
  c.client.publish("tg/t/T0001/up", Uint8Array.of(1), "p", 100000);
  t.is(c.client.tick(100000).wakeAt, 121000, "61 s + 60 s: nothing received since 61 s");
  c.client.onData(PUBACK(1), 110000);
  t.is(c.client.wakeAt, 160000, "now the send side is the older: 100 s + 60 s");
  c.wire.take();
  c.client.tick(160000);
  t.deepEqual(
    c.wire.take().map((p) => p.cmd),
    ["pingreq"],
  );
  step = c.client.tick(169999);
  t.false(step.close);
  step = c.client.tick(170000);
  t.true(step.close);
  t.regex(step.reason ?? "", /dead/);
  t.is(c.client.state, "closing");
  t.is(c.log.errors.length, 1);
  // nothing is written any more, further ticks keep saying close, data is ignored
  c.client.tick(180000);
  c.client.onData(PINGRESP, 180000);
  t.deepEqual(c.wire.take(), []);
  t.true(c.client.tick(190000).close);
  c.client.onTransportClosed();
  t.is(c.client.state, "disconnected");
  t.is(c.log.errors.length, 1, "the failure is reported once");
  t.deepEqual(c.client.tick(200000), { close: false, reason: null, wakeAt: null });
});

test("any packet after a PINGREQ proves the connection alive", (t) => {
  const c = setup({ keepAliveSeconds: 10, pingTimeoutMs: 5000 });
  open(c, 0);
  c.client.tick(10000);
  t.is(c.client.stats.pings, 1);
  c.client.onData(PUBLISH("tg/t/T0001/down", Uint8Array.of(1), 0), 12000);
  t.false(c.client.tick(15000).close);
  t.is(c.client.state, "connected");
});

test("keep-alive 0 sends no pings and needs no timer", (t) => {
  const c = setup({ keepAliveSeconds: 0 });
  open(c, 0);
  c.wire.take();
  t.is(c.client.wakeAt, null);
  t.deepEqual(c.client.tick(1e9), { close: false, reason: null, wakeAt: null });
  t.deepEqual(c.wire.take(), []);
});

test("no CONNACK in time, or a refusal, closes the connection", (t) => {
  const c = setup({ connectTimeoutMs: 20000 });
  c.client.connect(0);
  t.false(c.client.tick(19999).close);
  const step = c.client.tick(20000);
  t.true(step.close);
  t.regex(step.reason ?? "", /no CONNACK within 20000 ms/);
  c.client.onTransportClosed();

  c.client.connect(30000);
  const refused = c.client.onData(CONNACK(false, 4), 30100);
  t.true(refused.close);
  t.is(refused.reason, "connection refused: bad user name or password");
  t.is(c.log.connected.length, 0);
});

test("protocol violations and garbage from the server close the connection", (t) => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["PUBLISH before CONNACK", PUBLISH("x", Uint8Array.of(1), 0), /before CONNACK/],
    ["garbage", Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), /./],
    ["QoS 2", gen({ cmd: "publish", topic: "x", payload: Buffer.alloc(1), qos: 2, messageId: 1, dup: false, retain: false }), /QoS 2/],
    ["oversized", PUBLISH("tg/t/T0001/down", new Uint8Array(5000), 0), /exceeds the maximum of 1024/],
    ["second CONNACK", CONNACK(false), /unexpected connack/],
    ["SUBSCRIBE from the server", gen({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "a", qos: 0 }] }), /unexpected subscribe/],
  ];
  for (const [what, bytes, re] of cases) {
    const c = setup({ maxPacketSize: 1024 });
    if (what === "PUBLISH before CONNACK") c.client.connect(0);
    else open(c);
    c.wire.take();
    const step = c.client.onData(bytes.subarray(0, bytes.length), 50);
    t.true(step.close, what);
    t.regex(step.reason ?? "", re, what);
    t.is(c.log.errors.length, 1, what);
    t.deepEqual(c.wire.take(), [], `${what}: nothing more is written`);
  }
});

test("a transport write that throws fails the connection; the publish is kept for the next session", (t) => {
  const c = setup();
  open(c);
  c.wire.failWrites = true;
  const id = c.client.publish("tg/t/T0001/up", Uint8Array.of(1), "w", 10);
  t.is(c.client.state, "closing");
  t.true(c.client.tick(11).close);
  t.regex(c.log.errors[0], /transport write failed: modem buffer full/);
  c.client.onTransportClosed();
  c.wire.failWrites = false;
  c.client.connect(100);
  c.client.onData(CONNACK(true), 110);
  t.like(
    c.wire.take().find((p) => p.cmd === "publish"),
    { dup: true, messageId: id },
  );
});

test("SUBACK refusing a filter is reported; the next session subscribes again even with a session", (t) => {
  const c = setup({ subscriptions: ["tg/t/T0001/down", { topic: "tg/all/down", qos: 0 }] });
  c.client.connect(0);
  c.client.onData(CONNACK(false), 1);
  const [, sub] = c.wire.take();
  t.like(sub, { cmd: "subscribe", subscriptions: [{ topic: "tg/t/T0001/down", qos: 1 }, { topic: "tg/all/down", qos: 0 }] });
  c.client.onData(SUBACK(sub.messageId as number, [1, 0x80]), 2);
  t.deepEqual(c.log.errors, ["subscription to tg/all/down refused"]);
  t.is(c.client.state, "connected");
  c.client.disconnect(3);
  c.client.onTransportClosed();
  c.client.connect(10);
  c.wire.take();
  c.client.onData(CONNACK(true), 11);
  t.deepEqual(
    c.wire.take().map((p) => p.cmd),
    ["subscribe"],
  );
});

test("options are validated", (t) => {
  const w = new Wire();
  t.throws(() => new MqttClient({ clientId: "", keepAliveSeconds: 60, maxInflight: 1 }, w), { instanceOf: MqttError, message: /client id/ });
  t.throws(() => new MqttClient({ clientId: "a", keepAliveSeconds: -1, maxInflight: 1 }, w), { instanceOf: MqttError });
  t.throws(() => new MqttClient({ clientId: "a", keepAliveSeconds: 60, maxInflight: 0 }, w), { instanceOf: MqttError });
  t.throws(() => new MqttClient({ clientId: "a", keepAliveSeconds: 60, maxInflight: 1, subscriptions: ["a/#/b"] }, w), { instanceOf: MqttError });
  t.throws(() => new MqttClient({ clientId: "a", keepAliveSeconds: 60, maxInflight: 1, password: "p" }, w), { instanceOf: MqttError, message: /user name/ });
  const c = setup();
  open(c);
  t.throws(() => c.client.publish("tg/+/up", Uint8Array.of(1), "bad", 1), { instanceOf: MqttError, message: /wildcard/ });
  t.is(c.client.inflight, 0, "a refused publish takes no slot");
});

test("packet ids wrap from 65535 to 1, never 0, and skip ids still in flight", (t) => {
  const c = setup({ maxInflight: 2, keepAliveSeconds: 0 });
  open(c);
  c.wire.take();
  const held = c.client.publish("t/up", Uint8Array.of(0), "held", 0); // stays in flight throughout
  let previous = held;
  let wrapped = false;
  for (let i = 0; i < 70000; i++) {
    const id = c.client.publish("t/up", Uint8Array.of(1), "x", 0);
    t.not(id, 0);
    t.not(id, held);
    if (id < previous) wrapped = true;
    previous = id;
    c.client.onData(PUBACK(id), 0);
    if (i % 5000 === 0) c.wire.take();
  }
  t.true(wrapped);
  t.is(c.client.inflight, 1);
  t.deepEqual(c.client.inflightTags(), ["held"]);
});

test("model: any interleaving of publishes, PUBACKs, drops and reconnects acks each tag exactly once", (t) => {
  type Cmd =
    | { k: "publish" }
    | { k: "ack"; pick: number }
    | { k: "dupAck"; pick: number }
    | { k: "drop"; sessionPresent: boolean }
    | { k: "tick"; ms: number };
  const cmd: fc.Arbitrary<Cmd> = fc.oneof(
    { weight: 4, arbitrary: fc.constant({ k: "publish" as const }) },
    { weight: 4, arbitrary: fc.record({ k: fc.constant("ack" as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("dupAck" as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("drop" as const), sessionPresent: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 40000 }) }) },
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5 }), fc.array(cmd, { maxLength: 80 }), (maxInflight, cmds) => {
      const c = setup({ maxInflight, keepAliveSeconds: 30, pingTimeoutMs: 1e9 });
      let now = 0;
      open(c, now);
      c.wire.take();
      let n = 0;
      const published = new Map<string, number>(); // tag → id
      const onWire = new Map<number, string>(); // id → payload tag, from what the server saw
      const ackedIds: number[] = [];
      const sentBefore = new Set<string>();
      for (const x of cmds) {
        now += 1;
        if (x.k === "publish") {
          if (!c.client.canPublish) {
            t.is(c.client.inflight, maxInflight);
            continue;
          }
          const tag = `m${n++}`;
          published.set(tag, c.client.publish("tg/t/T0001/up", new Uint8Array(Buffer.from(tag)), tag, now));
        } else if (x.k === "ack" || x.k === "dupAck") {
          const ids = x.k === "ack" ? [...onWire.keys()] : ackedIds;
          if (ids.length === 0) continue;
          const id = ids[x.pick % ids.length];
          onWire.delete(id);
          ackedIds.push(id);
          c.client.onData(PUBACK(id), now);
        } else if (x.k === "drop") {
          c.client.onTransportClosed();
          onWire.clear();
          c.client.connect(now);
          c.client.onData(CONNACK(x.sessionPresent), now);
        } else {
          now += x.ms;
          c.client.tick(now);
        }
        for (const p of c.wire.take()) {
          if (p.cmd === "publish") {
            const id = p.messageId as number;
            const tag = Buffer.from(p.payload as Buffer).toString();
            t.is(published.get(tag), id, "the id stays with its message across re-sends");
            t.is(p.dup, sentBefore.has(tag), "DUP exactly on a re-send");
            sentBefore.add(tag);
            onWire.set(id, tag);
          } else if (p.cmd === "subscribe") c.client.onData(SUBACK(p.messageId as number, [1]), now);
        }
        t.true(c.client.inflight <= maxInflight);
        t.is(c.client.state, "connected");
        const inflight = new Set(c.client.inflightTags());
        t.is(inflight.size, c.client.inflight);
        // every published tag is either acked once or still in flight, never both
        const ackedTags = c.log.acked.map(([tag]) => tag);
        t.is(new Set(ackedTags).size, ackedTags.length, "no tag acked twice");
        for (const tag of published.keys()) t.true(inflight.has(tag) !== ackedTags.includes(tag), tag);
        // every in-flight message is on the (current) wire
        for (const tag of inflight) t.is(onWire.get(published.get(tag) as number), tag);
      }
      t.deepEqual(c.log.errors.filter((e) => !/connection lost/.test(e)), []);
    }),
    { numRuns: 300 },
  );
});

test("garbage from the server never throws out of the client: it fails the connection or is ignored", (t) => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 30 }), { maxLength: 6 }), fc.boolean(), (chunks, connected) => {
      const c = setup({ maxPacketSize: 64 });
      if (connected) open(c);
      else c.client.connect(0);
      c.wire.take();
      let closed = false;
      for (const chunk of chunks) {
        const step = c.client.onData(chunk, 10);
        if (step.close) closed = true;
        t.is(step.close, c.client.state === "closing");
      }
      t.true(closed || c.client.state === "connected" || c.client.state === "connecting");
      t.true(c.log.errors.length <= 1 + c.log.errors.filter((e) => /handler threw/.test(e)).length);
      for (const p of c.wire.take()) t.true(p.cmd === "puback", `only PUBACKs may answer garbage, got ${p.cmd}`);
    }),
    { numRuns: 2000 },
  );
});

test("sample figures", (t) => {
  const c = setup();
  c.client.connect(0);
  const connectBytes = c.wire.bytes;
  c.client.onData(CONNACK(false), 0);
  const subscribeBytes = c.wire.bytes - connectBytes;
  const before = c.wire.bytes;
  c.client.publish("tg/t/T0001/up", new Uint8Array(48), "x", 0);
  const publishBytes = c.wire.bytes - before;
  t.is(publishBytes, 67);
  t.log(`CONNECT ${connectBytes} B, SUBSCRIBE ${subscribeBytes} B, PUBLISH (48-byte payload) ${publishBytes} B, PINGREQ 2 B`);
});
