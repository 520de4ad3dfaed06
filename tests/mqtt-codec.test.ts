// The firmware's MQTT 3.1.1 codec against mqtt-packet (the center's codec), both directions, by
// property; the streaming parser against arbitrary splits; garbage and oversized input.
import test from "ava";
import fc from "fast-check";
import mqttPacket from "mqtt-packet";
import {
  DEFAULT_MAX_PACKET,
  MqttError,
  type MqttPacket,
  MqttParser,
  connackReason,
  decodePacket,
  encodePacket,
  encodePublish,
  packetSize,
  setDup,
} from "../firmware/lib/mqtt";

type Theirs = Record<string, unknown> & { cmd: string };

const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.length);
const u8 = (b: Buffer | Uint8Array): Uint8Array => new Uint8Array(b);
const hex = (b: Uint8Array): string => buf(b).toString("hex");
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));

function toTheirs(p: MqttPacket): Theirs {
  switch (p.type) {
    case "connect": {
      const t: Theirs = { cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: p.cleanSession, keepalive: p.keepAlive, clientId: p.clientId };
      if (p.username !== undefined) t.username = p.username;
      if (p.password !== undefined) t.password = buf(p.password);
      if (p.will) t.will = { topic: p.will.topic, payload: buf(p.will.payload), qos: p.will.qos, retain: p.will.retain };
      return t;
    }
    case "connack":
      return { cmd: "connack", sessionPresent: p.sessionPresent, returnCode: p.returnCode };
    case "publish": {
      const t: Theirs = { cmd: "publish", topic: p.topic, payload: buf(p.payload), qos: p.qos, dup: p.dup, retain: p.retain };
      if (p.packetId !== undefined) t.messageId = p.packetId;
      return t;
    }
    case "puback":
    case "unsuback":
      return { cmd: p.type, messageId: p.packetId };
    case "subscribe":
      return { cmd: "subscribe", messageId: p.packetId, subscriptions: p.subscriptions.map((s) => ({ topic: s.topic, qos: s.qos })) };
    case "suback":
      return { cmd: "suback", messageId: p.packetId, granted: p.granted };
    case "unsubscribe":
      return { cmd: "unsubscribe", messageId: p.packetId, unsubscriptions: p.topics };
    default:
      return { cmd: p.type };
  }
}

/** mqtt-packet's parsed packet, reduced to our model (it adds length, null topics, …). */
function fromTheirs(t: Theirs): MqttPacket {
  const b = (x: unknown): Uint8Array => u8(x as Buffer);
  switch (t.cmd) {
    case "connect": {
      const p: MqttPacket = { type: "connect", clientId: t.clientId as string, cleanSession: t.clean as boolean, keepAlive: t.keepalive as number };
      if (t.username !== undefined) p.username = t.username as string;
      if (t.password !== undefined) p.password = b(t.password);
      const w = t.will as { topic: string; payload: Buffer; qos: 0 | 1; retain: boolean } | undefined;
      if (w) p.will = { topic: w.topic, payload: b(w.payload), qos: w.qos, retain: w.retain };
      return p;
    }
    case "connack":
      return { type: "connack", sessionPresent: t.sessionPresent as boolean, returnCode: t.returnCode as number };
    case "publish": {
      const p: MqttPacket = { type: "publish", topic: t.topic as string, payload: b(t.payload), qos: t.qos as 0 | 1, dup: t.dup as boolean, retain: t.retain as boolean };
      if (t.qos) p.packetId = t.messageId as number;
      return p;
    }
    case "puback":
    case "unsuback":
      return { type: t.cmd, packetId: t.messageId as number };
    case "subscribe":
      return { type: "subscribe", packetId: t.messageId as number, subscriptions: (t.subscriptions as Array<{ topic: string; qos: 0 | 1 | 2 }>).map((s) => ({ topic: s.topic, qos: s.qos })) };
    case "suback":
      return { type: "suback", packetId: t.messageId as number, granted: t.granted as number[] };
    case "unsubscribe":
      return { type: "unsubscribe", packetId: t.messageId as number, topics: t.unsubscriptions as string[] };
    case "pingreq":
    case "pingresp":
    case "disconnect":
      return { type: t.cmd };
    default:
      throw new Error(`unexpected ${t.cmd}`);
  }
}

/** Byte arrays as plain Uint8Arrays (ours are views into a larger body) so deepEqual compares contents. */
function norm(p: MqttPacket): MqttPacket {
  const c = JSON.parse(JSON.stringify(p, (_k, v: unknown) => (v instanceof Uint8Array ? { $bytes: [...v] } : v)), (_k, v: unknown) =>
    v && typeof v === "object" && "$bytes" in v ? Uint8Array.from((v as { $bytes: number[] }).$bytes) : v,
  );
  return c as MqttPacket;
}

function theirParse(bytes: Uint8Array): { packets: Theirs[]; error?: Error } {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const packets: Theirs[] = [];
  let error: Error | undefined;
  parser.on("packet", (p) => packets.push(p as unknown as Theirs));
  parser.on("error", (e: Error) => (error ??= e));
  parser.parse(buf(bytes));
  return { packets, error };
}
const theirGenerate = (p: MqttPacket): Uint8Array => u8(mqttPacket.generate(toTheirs(p) as never, { protocolVersion: 4 }));

function ourParse(bytes: Uint8Array, cuts: number[] = [], max = 1 << 24): MqttPacket[] {
  const parser = new MqttParser(max);
  const out: MqttPacket[] = [];
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let last = 0;
  for (const c of [...points, bytes.length]) {
    parser.feed(bytes.subarray(last, c), (p) => out.push(p));
    last = c;
  }
  if (parser.buffered !== 0) throw new Error(`parser still holds ${parser.buffered} bytes`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

const noNul = (s: string): boolean => s.indexOf("\u0000") < 0;
const level = fc.string({ unit: "binary", maxLength: 8 }).filter((s) => noNul(s) && !/[+#/]/.test(s));
const topicName = fc
  .array(level, { minLength: 1, maxLength: 5 })
  .map((ls) => ls.join("/"))
  .filter((s) => s.length > 0);
const topicFilter = fc
  .tuple(fc.array(fc.oneof(level, fc.constant("+")), { minLength: 1, maxLength: 5 }), fc.boolean())
  .map(([ls, hash]) => (hash ? [...ls, "#"] : ls).join("/"))
  .filter((s) => s.length > 0);
const packetId = fc.integer({ min: 1, max: 0xffff });
const mqttString = fc.string({ unit: "binary", maxLength: 30 }).filter(noNul);
const payload = fc.oneof({ weight: 5, arbitrary: fc.uint8Array({ maxLength: 300 }) }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 100, maxLength: 20000 }) });

const connect: fc.Arbitrary<MqttPacket> = fc
  .record({
    clientId: fc.string({ unit: "binary", minLength: 1, maxLength: 23 }).filter(noNul),
    cleanSession: fc.boolean(),
    keepAlive: fc.integer({ min: 0, max: 0xffff }),
    user: fc.option(fc.tuple(mqttString, fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined })), { nil: undefined }),
    will: fc.option(fc.record({ topic: topicName, payload: fc.uint8Array({ maxLength: 40 }), qos: fc.constantFrom<0 | 1>(0, 1), retain: fc.boolean() }), { nil: undefined }),
  })
  .map(({ clientId, cleanSession, keepAlive, user, will }) => {
    const p: MqttPacket = { type: "connect", clientId, cleanSession, keepAlive };
    if (user) {
      p.username = user[0];
      if (user[1]) p.password = user[1];
    }
    if (will) p.will = will;
    return p;
  });
const publish: fc.Arbitrary<MqttPacket> = fc
  .record({ topic: topicName, payload, qos: fc.constantFrom<0 | 1>(0, 1), dup: fc.boolean(), retain: fc.boolean(), id: packetId })
  .map(({ topic, payload, qos, dup, retain, id }) =>
    qos === 1 ? { type: "publish", topic, payload, qos, dup, retain, packetId: id } : { type: "publish", topic, payload, qos, dup: false, retain },
  );
const anyPacket: fc.Arbitrary<MqttPacket> = fc.oneof(
  connect,
  fc.record({ type: fc.constant("connack" as const), sessionPresent: fc.boolean(), returnCode: fc.integer({ min: 0, max: 5 }) }),
  publish,
  publish,
  fc.record({ type: fc.constantFrom("puback" as const, "unsuback" as const), packetId }),
  fc.record({
    type: fc.constant("subscribe" as const),
    packetId,
    subscriptions: fc.array(fc.record({ topic: topicFilter, qos: fc.constantFrom<0 | 1 | 2>(0, 1, 2) }), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ type: fc.constant("suback" as const), packetId, granted: fc.array(fc.constantFrom(0, 1, 2, 0x80), { minLength: 1, maxLength: 5 }) }),
  fc.record({ type: fc.constant("unsubscribe" as const), packetId, topics: fc.array(topicFilter, { minLength: 1, maxLength: 4 }) }),
  fc.record({ type: fc.constantFrom("pingreq" as const, "pingresp" as const, "disconnect" as const) }),
);

// ---------------------------------------------------------------------------------------------

test("ours-encode → mqtt-packet-parse gives the packet back", (t) => {
  fc.assert(
    fc.property(anyPacket, (p) => {
      const { packets, error } = theirParse(encodePacket(p));
      t.is(error, undefined);
      t.is(packets.length, 1);
      t.deepEqual(norm(fromTheirs(packets[0])), norm(p));
    }),
    { numRuns: 1500 },
  );
});

test("mqtt-packet-generate → ours-decode gives the packet back, and the bytes are identical", (t) => {
  fc.assert(
    fc.property(anyPacket, (p) => {
      const theirs = theirGenerate(p);
      t.deepEqual(norm(decodePacket(theirs)), norm(p));
      t.is(hex(encodePacket(p)), hex(theirs));
    }),
    { numRuns: 1500 },
  );
});

test("the streaming parser gives the same packets whatever the chunking", (t) => {
  fc.assert(
    fc.property(fc.array(anyPacket, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 30 }), (ps, cuts) => {
      const parts = ps.map(theirGenerate);
      const all = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
      let at = 0;
      for (const b of parts) {
        all.set(b, at);
        at += b.length;
      }
      t.deepEqual(ourParse(all, cuts).map(norm), ps.map(norm));
    }),
    { numRuns: 800 },
  );
});

test("byte by byte, a packet comes out only at its last byte", (t) => {
  const bytes = encodePublish("tg/t/T0001/up", new Uint8Array(200).fill(5), 1, 7);
  const parser = new MqttParser();
  const seen: MqttPacket[] = [];
  for (let i = 0; i < bytes.length; i++) {
    parser.feed(bytes.subarray(i, i + 1), (p) => seen.push(p));
    t.is(seen.length, i === bytes.length - 1 ? 1 : 0);
  }
  t.is(parser.buffered, 0);
  t.like(seen[0], { type: "publish", topic: "tg/t/T0001/up", qos: 1, packetId: 7 });
});

test("known encodings (3.1.1 spec examples and figures)", (t) => {
  t.is(hex(encodePacket({ type: "pingreq" })), "c000");
  t.is(hex(encodePacket({ type: "pingresp" })), "d000");
  t.is(hex(encodePacket({ type: "disconnect" })), "e000");
  t.is(hex(encodePacket({ type: "puback", packetId: 0x1234 })), "40021234");
  t.is(hex(encodePacket({ type: "connack", sessionPresent: true, returnCode: 0 })), "20020100");
  // CONNECT, CleanSession 0, keep-alive 60, client id "T0001", user "u", password "p"
  t.is(
    hex(encodePacket({ type: "connect", clientId: "T0001", cleanSession: false, keepAlive: 60, username: "u", password: Uint8Array.of(0x70) })),
    "1017" + "00044d515454" + "04" + "c0" + "003c" + "00055430303031" + "000175" + "000170",
  );
  // PUBLISH QoS 1, DUP, topic "a/b", id 10, payload "hi"
  const pub = encodePublish("a/b", Uint8Array.of(0x68, 0x69), 1, 10, true);
  t.is(hex(pub), "3a09" + "0003612f62" + "000a" + "6869");
  // SUBSCRIBE id 1: "a/b" QoS 1 — the fixed header flags must be 0010
  t.is(hex(encodePacket({ type: "subscribe", packetId: 1, subscriptions: [{ topic: "a/b", qos: 1 }] })), "820800010003612f6201");
  // remaining-length boundaries: 127/128, 16383/16384, 2097151/2097152
  for (const [n, lenHex] of [
    [127, "7f"],
    [128, "8001"],
    [16383, "ff7f"],
    [16384, "808001"],
    [2097151, "ffff7f"],
    [2097152, "80808001"],
  ] as const) {
    const payloadLength = n - 3; // topic "a": 2 + 1 bytes
    const b = encodePublish("a", new Uint8Array(payloadLength), 0, 0);
    t.is(hex(b.subarray(1, 1 + lenHex.length / 2)), lenHex, `remaining length ${n}`);
    t.is(b.length, packetSize(n));
    const theirs = theirParse(b);
    t.is(theirs.packets.length, 1);
    t.is((theirs.packets[0].payload as Buffer).length, payloadLength);
    t.is((decodePacket(b) as { payload: Uint8Array }).payload.length, payloadLength);
  }
});

test("setDup marks an encoded QoS-1 PUBLISH for re-sending", (t) => {
  const b = encodePublish("x/y", Uint8Array.of(1, 2), 1, 99);
  setDup(b);
  t.deepEqual(decodePacket(b), { type: "publish", topic: "x/y", payload: Uint8Array.of(1, 2), qos: 1, dup: true, retain: false, packetId: 99 });
  t.like(theirParse(b).packets[0], { dup: true, messageId: 99 });
  t.throws(() => setDup(encodePublish("x", Uint8Array.of(), 0, 0)), { instanceOf: MqttError });
  t.throws(() => setDup(encodePacket({ type: "pingreq" })), { instanceOf: MqttError });
});

test("encoder refuses what MQTT 3.1.1 does not allow", (t) => {
  const bad: Array<[() => unknown, RegExp]> = [
    [() => encodePublish("", new Uint8Array(), 0, 0), /empty/],
    [() => encodePublish("a/+", new Uint8Array(), 0, 0), /wildcard/],
    [() => encodePublish("a/#", new Uint8Array(), 0, 0), /wildcard/],
    [() => encodePublish("a\u0000", new Uint8Array(), 0, 0), /U\+0000/],
    [() => encodePublish("a", new Uint8Array(), 1, 0), /packet id/],
    [() => encodePublish("a", new Uint8Array(), 1, 65536), /packet id/],
    [() => encodePublish("a", new Uint8Array(), 2 as never, 1), /QoS/],
    [() => encodePublish("a", new Uint8Array(), 0, 0, true), /DUP/],
    [() => encodePublish("a".repeat(70000), new Uint8Array(), 0, 0), /65535/],
    [() => encodePublish("a", [1, 2] as never, 0, 0), /Uint8Array/],
    [() => encodePacket({ type: "connect", clientId: "c", cleanSession: false, keepAlive: 70000 }), /keep-alive/],
    [() => encodePacket({ type: "connect", clientId: "c", cleanSession: false, keepAlive: 1, password: Uint8Array.of(1) }), /user name/],
    [() => encodePacket({ type: "subscribe", packetId: 1, subscriptions: [] }), /at least one/],
    [() => encodePacket({ type: "subscribe", packetId: 1, subscriptions: [{ topic: "a/#/b", qos: 1 }] }), /'#'/],
    [() => encodePacket({ type: "subscribe", packetId: 1, subscriptions: [{ topic: "a+", qos: 1 }] }), /'\+'/],
    [() => encodePacket({ type: "subscribe", packetId: 1, subscriptions: [{ topic: "a", qos: 3 as never }] }), /QoS/],
    [() => encodePacket({ type: "suback", packetId: 1, granted: [3] }), /return code/],
    [() => encodePacket({ type: "puback", packetId: 0 }), /packet id/],
    [() => encodePacket({ type: "pubrec" } as never), /cannot encode/],
  ];
  for (const [f, re] of bad) t.throws(f, { instanceOf: MqttError, message: re });
});

test("decoder rejects malformed packets with a clear MqttError", (t) => {
  const bad: Array<[string, RegExp]> = [
    ["c001 00", /remaining length must be 0/], // PINGREQ with a body
    ["c100", /flags must be 0/],
    ["8000", /flags must be 2/], // SUBSCRIBE with flags 0000
    ["a000", /flags must be 2/],
    ["4003 0001 00", /remaining length must be 2/],
    ["4002 0000", /packet id is 0/],
    ["2002 0200", /reserved acknowledge flags/],
    ["3600 ", /QoS 3/],
    ["3405 0001 61 0001", /QoS 2 is not supported/],
    ["3803 0001 61", /DUP set on a QoS-0/],
    ["3003 0001 2b", /wildcard/],
    ["3002 0000", /empty topic/],
    ["3004 0002 c328", /UTF-8/],
    ["3003 0001 00", /U\+0000/],
    ["3205 0001 61 0000", /packet id is 0/],
    ["3201 00", /truncated topic length/],
    ["3003 0005 61", /truncated topic/],
    ["5002 0001", /QoS 2 flow/],
    ["6202 0001", /QoS 2 flow/],
    ["0000", /reserved/],
    ["f000", /reserved/],
    ["8202 0001", /no topic filter/],
    ["8206 0001 0001 61 03", /requested QoS byte 3/],
    ["8205 0001 0001 23", /truncated requested QoS/],
    ["8207 0001 0002 2361 01", /'#'/],
    ["9003 0001 03", /return code 3/],
    ["9002 0001", /no return code/],
    ["100c 0004 4d515454 03 00 003c 0000", /level 3/],
    ["100c 0004 4d515454 04 01 003c 0000", /reserved connect flag/],
    ["100c 0004 4d515454 04 40 003c 0000", /truncated password length|password flag/],
    ["100c 0004 4d515454 04 20 003c 0000", /will QoS\/retain set without a will/],
    ["100e 0004 4d515454 04 00 003c 0000 ffff", /unexpected bytes/],
    ["ff ffffffff 7f", /longer than 4 bytes/],
  ];
  for (const [h, re] of bad) {
    t.throws(() => decodePacket(unhex(h)), { instanceOf: MqttError, message: re }, h);
  }
  t.throws(() => decodePacket(unhex("3205 0001")), { instanceOf: MqttError, message: /truncated packet/ });
  t.throws(() => decodePacket(unhex("c000 c000")), { instanceOf: MqttError, message: /more than one/ });
});

test("an oversized packet is refused at its fixed header, before its body arrives", (t) => {
  const parser = new MqttParser(100);
  t.is(parser.maxPacketSize, 100);
  const ok = encodePublish("a", new Uint8Array(100 - 5), 0, 0); // 1 + 1 + 3 + 95 = 100
  t.is(ok.length, 100);
  let n = 0;
  parser.feed(ok, () => n++);
  t.is(n, 1);
  const big = encodePublish("a", new Uint8Array(100 - 4), 0, 0); // 101 bytes
  t.throws(() => parser.feed(big.subarray(0, 2), () => n++), { instanceOf: MqttError, message: /101 bytes exceeds the maximum of 100/ });
  t.is(parser.failed, "packet of 101 bytes exceeds the maximum of 100");
  // failed stays failed until reset
  t.throws(() => parser.feed(encodePacket({ type: "pingresp" }), () => n++), { instanceOf: MqttError, message: /reset/ });
  parser.reset();
  parser.feed(encodePacket({ type: "pingresp" }), () => n++);
  t.is(n, 2);
  // a header claiming 256 MiB costs nothing
  const huge = new MqttParser();
  t.throws(() => huge.feed(unhex("30ffffff7f"), () => n++), { instanceOf: MqttError, message: /exceeds the maximum of 16384/ });
  t.is(DEFAULT_MAX_PACKET, 16384);
});

test("a throwing packet handler fails the parser instead of silently losing the stream", (t) => {
  const parser = new MqttParser();
  const two = new Uint8Array([...encodePacket({ type: "pingresp" }), ...encodePacket({ type: "puback", packetId: 3 })]);
  t.throws(
    () =>
      parser.feed(two, () => {
        throw new RangeError("boom");
      }),
    { instanceOf: RangeError },
  );
  t.is(parser.failed, "packet handler threw");
  t.throws(() => parser.feed(two, () => undefined), { instanceOf: MqttError, message: /reset/ });
});

test("connack reasons", (t) => {
  t.is(connackReason(0), "accepted");
  t.is(connackReason(4), "bad user name or password");
  t.is(connackReason(77), "reserved return code 77");
});

test("garbage: only MqttError, always terminates, and what we accept mqtt-packet parses the same", (t) => {
  let accepted = 0;
  let packetsSeen = 0;
  const garbage = fc.oneof(
    fc.uint8Array({ maxLength: 60 }),
    // valid streams with a few bytes changed reach further into the decoder
    fc.tuple(fc.array(anyPacket, { minLength: 1, maxLength: 3 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 })).map(([ps, edits]) => {
      const parts = ps.map((p) => encodePacket(p));
      const all = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
      let at = 0;
      for (const b of parts) {
        all.set(b, at);
        at += b.length;
      }
      for (const [i, x] of edits) all[i % all.length] = x;
      return all;
    }),
  );
  fc.assert(
    fc.property(garbage, fc.array(fc.nat(), { maxLength: 5 }), (bytes, cuts) => {
      const parser = new MqttParser(1 << 20);
      const ours: MqttPacket[] = [];
      let error: MqttError | undefined;
      let last = 0;
      try {
        for (const c of [...[...new Set(cuts.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b), bytes.length]) {
          parser.feed(bytes.subarray(last, c), (p) => ours.push(p));
          last = c;
        }
      } catch (e) {
        if (!(e instanceof MqttError)) throw e;
        error = e;
      }
      packetsSeen += ours.length;
      if (!error && parser.buffered === 0) {
        accepted++;
        const theirs = theirParse(bytes);
        t.is(theirs.error, undefined, hex(bytes));
        t.deepEqual(theirs.packets.map(fromTheirs).map(norm), ours.map(norm), hex(bytes));
      }
    }),
    { numRuns: 4000 },
  );
  t.true(accepted > 100 && packetsSeen > 500, `accepted ${accepted} streams, ${packetsSeen} packets: the property checked too little`);
});

test("sample sizes", (t) => {
  // A typical uplink: a 48-byte CBOR event on tg/t/<id>/up, QoS 1.
  const pub = encodePublish("tg/t/T0001/up", new Uint8Array(48), 1, 1);
  t.is(pub.length, 2 + 2 + 13 + 2 + 48);
  const con = encodePacket({ type: "connect", clientId: "T0001", cleanSession: false, keepAlive: 120, username: "T0001", password: new Uint8Array(16) });
  t.is(con.length, 2 + 10 + 7 + 7 + 18);
  t.log(`PUBLISH QoS1 48-byte payload: ${pub.length} bytes; CONNECT with 16-byte password: ${con.length} bytes`);
});
