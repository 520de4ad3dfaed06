// The firmware's sensor-link codec (firmware/sensors) against Node's crypto and the simulator's
// independent codec (host-sim/devices/sensors.ts): SHA-256/HMAC, CRC-16, frames both ways, the
// stream deframer on garbage, and the camera's media formats.
import test from "ava";
import fc from "fast-check";
import { createHash, createHmac } from "node:crypto";
import { hmacSha256, sha256 } from "../firmware/lib/sha256";
import { COMMAND, Deframer, MAX_PAYLOAD, MSG, type Rejection, crc16, encodeFrame, parseFrame, sensorKey, verifyMac } from "../firmware/sensors/frame";
import { captureArgs, commandPayload, decodeEvent, decodeHeartbeat, decodeIdent, decodeMediaChunk, decodeResponse, mediaChunkOk, payloadOk, resendArgs, responsePayload } from "../firmware/sensors/payload";
import { buildFrame, cameraImage, crc16ccitt, deriveSensorKey, readFrame, soundClip } from "../host-sim/devices/sensors";

const bytes = fc.uint8Array({ maxLength: 300 });
const id = fc.tuple(fc.constantFrom("A", "B", "C", "D"), fc.integer({ min: 0, max: 9999 })).map(([l, n]) => l + String(n).padStart(4, "0"));

test("SHA-256 and HMAC-SHA256 agree with Node's crypto", (t) => {
  t.is(Buffer.from(sha256(new Uint8Array(0))).toString("hex"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  fc.assert(
    fc.property(bytes, bytes, fc.uint8Array({ maxLength: 100 }), (a, b, key) => {
      t.deepEqual(Buffer.from(sha256(a, b)), createHash("sha256").update(a).update(b).digest());
      t.deepEqual(Buffer.from(hmacSha256(key, a, b)), createHmac("sha256", key).update(a).update(b).digest());
    }),
    { numRuns: 200 },
  );
});

test("CRC-16/CCITT-FALSE: the check value, and the two implementations agree", (t) => {
  const check = new TextEncoder().encode("123456789");
  t.is(crc16(check), 0x29b1);
  t.is(crc16ccitt(check), 0x29b1);
  fc.assert(fc.property(bytes, (b) => crc16(b) === crc16ccitt(b)));
});

test("frames: the firmware's and the simulator's codecs read each other's, byte for byte", (t) => {
  const kit = new Uint8Array(16).fill(7);
  fc.assert(
    fc.property(id, fc.integer({ min: 1, max: 7 }), fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ maxLength: MAX_PAYLOAD }), fc.boolean(), (sid, type, counter, payload, toSensor) => {
      const key = sensorKey(kit, sid);
      t.deepEqual(Buffer.from(key), deriveSensorKey(kit, sid));
      const ours = encodeFrame({ direction: toSensor ? 1 : 0, type, id: sid, counter, payload }, key);
      const theirs = buildFrame({ toSensor, type, id: sid, counter, payload }, key);
      t.deepEqual(Buffer.from(ours), Buffer.from(theirs));
      const f = parseFrame(theirs);
      if (typeof f === "string") return t.fail(f);
      t.like(f, { direction: toSensor ? 1 : 0, type, id: sid, counter });
      t.deepEqual(Buffer.from(f.payload), Buffer.from(payload));
      t.true(verifyMac(f, key));
      t.false(verifyMac(f, sensorKey(kit, sid === "A0001" ? "A0002" : "A0001")), "another sensor's key does not fit");
      const back = readFrame(ours);
      t.truthy(back && back.macOk(key));
    }),
    { numRuns: 150 },
  );
});

test("the deframer finds every good frame in a stream with garbage between, and counts the garbage", (t) => {
  const key = new Uint8Array(16).fill(1);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 60 })), { maxLength: 8 }),
      fc.integer({ min: 1, max: 64 }),
      (items, chunk) => {
        const frames = items.map(([, payload], i) => encodeFrame({ direction: 0, type: MSG.HEARTBEAT, id: "A0001", counter: i + 1, payload }, key));
        // noise without the sync byte, so it cannot hide a frame
        const noise = items.map(([n]) => n.map((b) => (b === 0xa5 ? 0 : b)));
        const stream = Buffer.concat(frames.flatMap((f, i) => [Buffer.from(noise[i]), Buffer.from(f)]));
        const got: Buffer[] = [];
        const refused: Rejection[] = [];
        const d = new Deframer((f) => got.push(Buffer.from(f)), (why) => refused.push(why));
        for (let i = 0; i < stream.length; i += chunk) d.push(stream.subarray(i, i + chunk));
        d.expire();
        t.deepEqual(got, frames.map((f) => Buffer.from(f)));
        t.true(refused.every((r) => r === "malformed"));
      },
    ),
  );
});

test("the deframer refuses a frame cut short by the next one and still finds the next", (t) => {
  const key = new Uint8Array(16).fill(1);
  const a = encodeFrame({ direction: 0, type: MSG.EVENT, id: "A0001", counter: 5, payload: new Uint8Array([1, 1, 100, 1]) }, key);
  const b = encodeFrame({ direction: 0, type: MSG.EVENT, id: "A0001", counter: 6, payload: new Uint8Array([2, 0, 100, 2]) }, key);
  const got: Uint8Array[] = [];
  const refused: Rejection[] = [];
  const d = new Deframer((f) => got.push(f), (why) => refused.push(why));
  d.push(Buffer.concat([a.subarray(0, 10), b]));
  d.expire();
  t.deepEqual(got.map((f) => Buffer.from(f)), [Buffer.from(b)]);
  t.deepEqual(refused, ["crc"]);
  t.is(parseFrame(a.subarray(0, a.length - 1)), "truncated");
});

test("camera media: baseline JPEGs with the standard markers, a PCM WAV", (t) => {
  const jpeg = Buffer.from(cameraImage(1, 0));
  t.is(jpeg.readUInt16BE(0), 0xffd8);
  t.is(jpeg.readUInt16BE(jpeg.length - 2), 0xffd9);
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  t.true(sof > 0);
  t.deepEqual([jpeg.readUInt16BE(sof + 5), jpeg.readUInt16BE(sof + 7), jpeg[sof + 9]], [24, 32, 1], "24 rows, 32 columns, grey");
  t.notDeepEqual(Buffer.from(cameraImage(1, 1)), jpeg, "each image differs");
  const wav = Buffer.from(soundClip(1));
  t.is(wav.toString("ascii", 0, 4) + wav.toString("ascii", 8, 16), "RIFFWAVEfmt ");
  t.is(wav.readUInt32LE(4), wav.length - 8);
  t.is(wav.readUInt32LE(40), wav.length - 44);
});

// firmware/sensors/payload.ts against the message table of docs/protocols.md
test("payloads: the sizes and ranges of each message type, read and built as docs/protocols.md lays them out", (t) => {
  const frame = (type: number, payload: number[]) => ({ direction: 0, type, id: "A0001", counter: 1, payload: new Uint8Array(payload), bytes: new Uint8Array(0) });
  const ok = (type: number, payload: number[]) => payloadOk(frame(type, payload));
  t.true(ok(MSG.STARTUP, []));
  t.false(ok(MSG.STARTUP, [0]));
  t.true(ok(MSG.IDENT, [8, 1, 2, 90, 0x02, 0x58, 3]));
  t.false(ok(MSG.IDENT, [8, 1, 2, 90, 0, 0, 3]), "a heartbeat of 0 s");
  t.deepEqual(decodeIdent(new Uint8Array([8, 1, 2, 90, 0x02, 0x58, 3])), { state: 8, firmware: "1.2", percent: 90, heartbeat: 600, caps: 3 });
  t.true(ok(MSG.HEARTBEAT, [0, 100]));
  t.false(ok(MSG.HEARTBEAT, [0, 101]), "battery over 100 %");
  t.deepEqual(decodeHeartbeat(new Uint8Array([4, 12])), { state: 4, percent: 12 });
  for (let kind = 0; kind <= 7; kind++) t.is(ok(MSG.EVENT, [kind, 0, 50, 9]), kind >= 1 && kind <= 6, `event kind ${kind}`);
  t.deepEqual(decodeEvent(new Uint8Array([3, 2, 50, 9])), { kind: 3, state: 2, percent: 50, number: 9 });
  t.false(ok(MSG.COMMAND, [1]), "a sensor never sends COMMAND");
  t.false(ok(0x08, []), "an unknown type");
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 3 }), (type, counter, status) => {
      const p = responsePayload(type, counter, status);
      t.true(payloadOk(frame(MSG.RESPONSE, Array.from(p))));
      t.deepEqual(decodeResponse(p), { type, counter, status });
    }),
  );
  t.deepEqual(Array.from(commandPayload(COMMAND.CAPTURE, captureArgs(0x0102, 3, 3, 1))), [3, 0x01, 0x02, 3, 3, 1]);
  t.deepEqual(Array.from(commandPayload(COMMAND.RESEND, resendArgs(0x0102, 2, 0x00012345))), [5, 0x01, 0x02, 2, 0x00, 0x01, 0x23, 0x45]);
  t.deepEqual(Array.from(commandPayload(COMMAND.PING)), [4]);
  // MEDIA: the header, then 1..211 bytes; the fields must agree with each other and the 32 KB limit
  const media = (file: number, files: number, kind: number, total: number, offset: number, n: number) =>
    new Uint8Array([0x01, 0x02, file, files, kind, total >>> 24, (total >>> 16) & 0xff, (total >>> 8) & 0xff, total & 0xff, offset >>> 24, (offset >>> 16) & 0xff, (offset >>> 8) & 0xff, offset & 0xff, ...new Array(n).fill(7)]);
  const good = media(1, 4, 1, 1000, 192, 192);
  t.true(payloadOk(frame(MSG.MEDIA, Array.from(good))));
  t.false(payloadOk(frame(MSG.MEDIA, Array.from(media(1, 4, 1, 1000, 0, 0)))), "no data");
  t.false(payloadOk(frame(MSG.MEDIA, Array.from(media(1, 4, 1, 1000, 0, 212)))), "more than 211 bytes");
  const c = decodeMediaChunk(good);
  t.like(c, { mediaId: 0x0102, file: 1, files: 4, kind: "jpeg", total: 1000, offset: 192 });
  t.is(c.data.length, 192);
  t.true(mediaChunkOk(c, 32768));
  t.is(decodeMediaChunk(media(0, 1, 2, 10, 0, 10)).kind, "wav");
  const bad = { "unknown kind": media(0, 1, 3, 10, 0, 10), "file beyond files": media(4, 4, 1, 1000, 0, 10), "no files": media(0, 0, 1, 1000, 0, 10), "empty file": media(0, 1, 1, 0, 0, 1), "over 32 KB": media(0, 1, 1, 32769, 0, 10), "past the end": media(0, 1, 1, 100, 95, 10) };
  for (const [why, p] of Object.entries(bad)) t.false(mediaChunkOk(decodeMediaChunk(p), 32768), why);
});
