// The firmware's sensor-link codec (firmware/sensors) against Node's crypto and the simulator's
// independent codec (host-sim/devices/sensors.ts): SHA-256/HMAC, CRC-16, frames both ways, the
// stream deframer on garbage, and the camera's media formats.
import test from "ava";
import fc from "fast-check";
import { createHash, createHmac } from "node:crypto";
import { hmacSha256, sha256 } from "../firmware/lib/sha256";
import { Deframer, MAX_PAYLOAD, MSG, type Rejection, crc16, encodeFrame, parseFrame, sensorKey, verifyMac } from "../firmware/sensors/frame";
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
