// The firmware's CBOR codec against cbor-x (the center's codec), both directions, by property
// and by the RFC 8949 appendix A vectors; garbage and truncated input must give a CborError.
import test from "ava";
import fc from "fast-check";
import { Decoder, Encoder } from "cbor-x";
import { CBOR_MAX_DEPTH, CborError, type CborValue, CborWriter, decodeCbor, decodeCborItem, encodeCbor } from "../firmware/lib/cbor";

const theirEncoder = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false } as never);
const theirDecoder = new Decoder({ useRecords: false, mapsAsObjects: false } as never);
const theirEncode = (v: unknown): Uint8Array => new Uint8Array(theirEncoder.encode(v));
const theirDecode = (b: Uint8Array): unknown => theirDecoder.decode(Buffer.from(b.buffer, b.byteOffset, b.length));

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));

/**
 * Buffers (cbor-x's byte strings) become plain Uint8Arrays so that deepEqual compares contents,
 * and cbor-x's bigints (it returns one for any 64-bit argument) become numbers when they fit.
 */
function norm(v: unknown): unknown {
  if (typeof v === "bigint" && v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map(norm);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [norm(k), norm(x)]));
  return v;
}

const nonIntegerDouble = fc.double().filter((d) => !Number.isInteger(d) || Object.is(d, -0));
const mapKey = fc.oneof(fc.integer({ min: -30, max: 300 }), fc.maxSafeInteger(), fc.string({ unit: "binary", maxLength: 8 }));
const leaf = fc.oneof(
  fc.integer({ min: -30, max: 70000 }),
  fc.maxSafeInteger(),
  nonIntegerDouble,
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }),
  fc.constantFrom<CborValue>(true, false, null, undefined),
);
const { value: cborValue } = fc.letrec<{ value: CborValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("value"), { maxLength: 6 }),
    fc
      .uniqueArray(fc.tuple(mapKey, tie("value")), { selector: (e) => e[0], maxLength: 6 })
      .map((entries) => new Map<number | string, CborValue>(entries)),
  ),
}));
/**
 * cbor-x writes −0 as the integer 0, and integers of 2^32 and beyond as float64 (which we refuse
 * as a map key: a key must be an integer); leave those out of the their-encode direction.
 */
const cborXFaithful = (v: CborValue): boolean => {
  if (typeof v === "number") return !Object.is(v, -0);
  if (Array.isArray(v)) return v.every(cborXFaithful);
  if (v instanceof Map) return [...v].every(([k, x]) => (typeof k === "string" || Math.abs(k) < 0x100000000) && cborXFaithful(x));
  return true;
};

/** Only a CborError is acceptable from the decoder; anything else fails the property. */
function decodeOrCborError(bytes: Uint8Array): { ok: true; value: CborValue } | { ok: false; error: CborError } {
  try {
    return { ok: true, value: decodeCbor(bytes) };
  } catch (e) {
    if (e instanceof CborError) return { ok: false, error: e };
    throw e;
  }
}

test("ours-encode → cbor-x-decode gives the value back", (t) => {
  fc.assert(
    fc.property(cborValue, (v) => {
      t.deepEqual(norm(theirDecode(encodeCbor(v))), norm(v));
    }),
    { numRuns: 2000 },
  );
});

test("cbor-x-encode → ours-decode gives the value back", (t) => {
  fc.assert(
    fc.property(cborValue.filter(cborXFaithful), (v) => {
      t.deepEqual(norm(decodeCbor(theirEncode(v))), norm(v));
    }),
    { numRuns: 2000 },
  );
});

test("ours round-trips, and for integers, strings, bytes and containers writes exactly what cbor-x writes", (t) => {
  fc.assert(
    fc.property(cborValue, (v) => {
      const ours = encodeCbor(v);
      t.deepEqual(norm(decodeCbor(ours)), norm(v));
      // cbor-x writes integers beyond 32 bits as float64; below that both use the shortest form.
      const exactlyComparable = (x: CborValue): boolean =>
        typeof x === "number"
          ? Number.isInteger(x) && !Object.is(x, -0) && Math.abs(x) < 0x100000000
          : Array.isArray(x)
            ? x.every(exactlyComparable)
            : x instanceof Map
              ? [...x].every(([k, y]) => exactlyComparable(k) && exactlyComparable(y))
              : true;
      if (exactlyComparable(v)) t.is(hex(ours), hex(theirEncode(v)));
    }),
    { numRuns: 1000 },
  );
});

test("RFC 8949 appendix A vectors", (t) => {
  const encodes: Array<[CborValue, string]> = [
    [0, "00"],
    [23, "17"],
    [24, "1818"],
    [100, "1864"],
    [1000, "1903e8"],
    [1000000, "1a000f4240"],
    [1000000000000, "1b000000e8d4a51000"],
    [Number.MAX_SAFE_INTEGER, "1b001fffffffffffff"],
    [-1, "20"],
    [-10, "29"],
    [-100, "3863"],
    [-1000, "3903e7"],
    [-Number.MAX_SAFE_INTEGER, "3b001ffffffffffffe"],
    [1.1, "fb3ff199999999999a"],
    [-4.1, "fbc010666666666666"],
    [false, "f4"],
    [true, "f5"],
    [null, "f6"],
    [undefined, "f7"],
    [new Uint8Array(0), "40"],
    [unhex("01020304"), "4401020304"],
    ["", "60"],
    ["a", "6161"],
    ["IETF", "6449455446"],
    ["\"\\", "62225c"],
    ["\u00fc", "62c3bc"],
    ["\u6c34", "63e6b0b4"],
    ["\ud800\udd51", "64f0908591"],
    [[], "80"],
    [[1, 2, 3], "83010203"],
    [[1, [2, 3], [4, 5]], "8301820203820405"],
    [new Map(), "a0"],
    [
      new Map([
        [1, 2],
        [3, 4],
      ]),
      "a201020304",
    ],
    [{ a: 1, b: [2, 3] }, "a26161016162820203"],
    [Array.from({ length: 25 }, (_, i) => i + 1), "98190102030405060708090a0b0c0d0e0f101112131415161718181819"],
  ];
  for (const [v, h] of encodes) {
    t.is(hex(encodeCbor(v)), h, `encode ${String(v)}`);
    const back = decodeCbor(unhex(h));
    if (v !== null && typeof v === "object" && !(v instanceof Uint8Array) && !Array.isArray(v) && !(v instanceof Map)) {
      t.deepEqual(back, new Map(Object.entries(v)));
    } else t.deepEqual(back, v, `decode ${h}`);
  }
  const decodes: Array<[string, number]> = [
    ["f90000", 0],
    ["f98000", -0],
    ["f93c00", 1],
    ["f93e00", 1.5],
    ["f97bff", 65504],
    ["f90001", 5.960464477539063e-8],
    ["f90400", 0.00006103515625],
    ["f9c400", -4],
    ["f97c00", Infinity],
    ["f9fc00", -Infinity],
    ["fa47c35000", 100000],
    ["fa7f7fffff", 3.4028234663852886e38],
    ["fb7e37e43c8800759c", 1e300],
    ["fbc010666666666666", -4.1],
  ];
  for (const [h, n] of decodes) t.is(decodeCbor(unhex(h)), n, h);
  t.true(Number.isNaN(decodeCbor(unhex("f97e00"))));
  t.true(Number.isNaN(decodeCbor(unhex("fa7fc00000"))));
  // a NaN with payload bits decodes to NaN and is written back in the canonical form
  t.is(hex(encodeCbor(decodeCbor(unhex("fb7ff00000003c0000")))), "fb7ff8000000000000");
  t.is(hex(encodeCbor(NaN)), "fb7ff8000000000000");
  // Non-shortest arguments are well-formed and accepted.
  t.is(decodeCbor(unhex("1b0000000000000001")), 1);
  t.is(decodeCbor(unhex("d8404401020304")) instanceof Uint8Array, true, "tag 64 around a byte string (cbor-x's Uint8Array)");
});

test("integers beyond ±(2^53 − 1) are rejected, not rounded", (t) => {
  t.throws(() => encodeCbor(2 ** 53), { instanceOf: CborError, message: /safe range/ });
  t.throws(() => encodeCbor(-(2 ** 53)), { instanceOf: CborError, message: /safe range/ });
  t.throws(() => encodeCbor(1e300), { instanceOf: CborError });
  t.throws(() => decodeCbor(unhex("1b0020000000000000")), { instanceOf: CborError, message: /2\^53/ });
  t.throws(() => decodeCbor(unhex("1bffffffffffffffff")), { instanceOf: CborError });
  t.throws(() => decodeCbor(unhex("3b001fffffffffffff")), { instanceOf: CborError, message: /negative/ });
  t.is(decodeCbor(unhex("3b001ffffffffffffe")), -Number.MAX_SAFE_INTEGER);
  t.is(decodeCbor(unhex("1b001fffffffffffff")), Number.MAX_SAFE_INTEGER);
});

test("what we do not support is rejected with a clear CborError", (t) => {
  const cases: Array<[string, RegExp]> = [
    ["5f4101ff", /indefinite/], // indefinite byte string
    ["7f6161ff", /indefinite/],
    ["9f01ff", /indefinite/],
    ["bf0102ff", /indefinite/],
    ["ff", /break/],
    ["1c", /reserved/],
    ["3e", /reserved/],
    ["c11a514b67b0", /tag 1 /],
    ["d840820102", /byte string/], // tag 64 around something else
    ["f0", /simple value/],
    ["f820", /simple value/],
    ["0001", /trailing/],
    ["a201020103", /duplicate map key 1/],
    ["a2616101616102", /duplicate map key "a"/],
    ["a1f401", /map key/],
    ["a1fb3ff000000000000001", /map key/],
    ["a1800102", /map key/],
    ["62c328", /UTF-8/], // invalid continuation
    ["62c0af", /UTF-8/], // overlong
    ["63eda080", /UTF-8/], // a surrogate
    ["64f4908080", /UTF-8/], // above U+10FFFF
    ["", /truncated/],
    ["18", /truncated/],
    ["5a00010000", /truncated byte string/], // claims 64 KiB, has none
    ["9bffffffffffffffff", /2\^53/],
    ["9a7fffffff", /truncated array/], // 2^31 elements claimed: rejected before allocating
    ["ba7fffffff01", /truncated map/],
    ["fb3ff0", /truncated float64/],
  ];
  for (const [h, re] of cases) t.throws(() => decodeCbor(unhex(h)), { instanceOf: CborError, message: re }, h);
  t.throws(() => encodeCbor(10n as never), { instanceOf: CborError, message: /bigint/ });
  t.throws(() => encodeCbor((() => 1) as never), { instanceOf: CborError, message: /function/ });
  t.throws(() => encodeCbor(new Date() as never), { instanceOf: CborError, message: /kind of object/ });
  t.throws(() => encodeCbor(new Map([[1.5, 1]]) as never), { instanceOf: CborError, message: /map key/ });
  t.throws(() => encodeCbor(new Map([[true, 1]]) as never), { instanceOf: CborError, message: /map key/ });
  const cycle: CborValue[] = [];
  cycle.push(cycle);
  t.throws(() => encodeCbor(cycle), { instanceOf: CborError, message: /nesting/ });
  t.throws(() => decodeCbor([1, 2] as never), { instanceOf: CborError });
});

test("nesting is bounded on both sides", (t) => {
  let ok: CborValue = 1;
  for (let i = 0; i < CBOR_MAX_DEPTH; i++) ok = [ok];
  t.deepEqual(decodeCbor(encodeCbor(ok)), ok);
  t.throws(() => encodeCbor([ok]), { instanceOf: CborError, message: /nesting/ });
  const deep = new Uint8Array(10000).fill(0x81); // [[[[… 10000 deep, no end: must not blow the stack
  t.throws(() => decodeCbor(deep), { instanceOf: CborError, message: /nesting deeper than 16/ });
  t.throws(() => decodeCbor(encodeCbor([[[1]]]), { maxDepth: 2 }), { instanceOf: CborError, message: /nesting/ });
  t.deepEqual(decodeCbor(encodeCbor([[1]]), { maxDepth: 2 }), [[1]]);
});

test("lone surrogates are written as U+FFFD, as Node's own UTF-8 encoder does", (t) => {
  for (const s of ["\ud800", "a\udc00b", "\ud800\ud800\udc00", "x\ud83d"]) {
    const ours = encodeCbor(s);
    const node = Buffer.from(s, "utf8");
    t.is(hex(ours.subarray(ours.length - node.length)), node.toString("hex"), JSON.stringify(s));
    t.is(decodeCbor(ours), node.toString("utf8"));
  }
});

test("plain objects encode as text-keyed maps; decoding gives Maps", (t) => {
  const msg = { t: 1, seq: 42, body: { ok: true, list: [1, "x"] } };
  const back = decodeCbor(encodeCbor(msg));
  t.deepEqual(back, new Map<string, CborValue>([["t", 1], ["seq", 42], ["body", new Map<string, CborValue>([["ok", true], ["list", [1, "x"]]])]]));
  t.deepEqual(theirDecoder.decode(Buffer.from(encodeCbor(msg))), new Map<string, unknown>([["t", 1], ["seq", 42], ["body", new Map<string, unknown>([["ok", true], ["list", [1, "x"]]])]]));
});

test("byte strings are copies by default and views with copyBytes: false", (t) => {
  const bytes = encodeCbor(new Uint8Array([1, 2, 3]));
  const copy = decodeCbor(bytes) as Uint8Array;
  const view = decodeCbor(bytes, { copyBytes: false }) as Uint8Array;
  bytes[1] = 9;
  t.deepEqual([...copy], [1, 2, 3]);
  t.deepEqual([...view], [9, 2, 3]);
});

test("decodeCborItem walks several items in a row", (t) => {
  const a = encodeCbor([1, "two"]);
  const b = encodeCbor(new Map([[3, new Uint8Array([4])]]));
  const both = new Uint8Array(a.length + b.length);
  both.set(a);
  both.set(b, a.length);
  const first = decodeCborItem(both);
  t.deepEqual(first.value, [1, "two"]);
  t.is(first.end, a.length);
  const second = decodeCborItem(both, first.end);
  t.deepEqual(second.value, new Map([[3, new Uint8Array([4])]]));
  t.is(second.end, both.length);
  t.throws(() => decodeCbor(both), { instanceOf: CborError, message: /trailing/ });
  t.throws(() => decodeCborItem(both, both.length + 1), { instanceOf: CborError });
});

test("a reused CborWriter grows and gives independent results", (t) => {
  const w = new CborWriter(8);
  const big = new Uint8Array(5000).fill(7);
  const one = encodeCbor([big, "x".repeat(300)], w);
  const two = encodeCbor(1, w);
  t.is(hex(two), "01");
  t.deepEqual(norm(theirDecode(one)), norm([big, "x".repeat(300)]));
});

test("every proper prefix of a valid encoding is rejected as truncated", (t) => {
  fc.assert(
    fc.property(cborValue, (v) => {
      const bytes = encodeCbor(v);
      for (let n = 0; n < bytes.length; n++) {
        const r = decodeOrCborError(bytes.subarray(0, n));
        t.false(r.ok, `prefix ${n} of ${bytes.length}`);
        if (!r.ok) t.regex(r.error.message, /truncated/);
      }
    }),
    { numRuns: 300 },
  );
});

test("garbage: only CborError, and whatever we accept cbor-x decodes the same", (t) => {
  let accepted = 0;
  const garbage = fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    // mutations of valid encodings reach deeper into the decoder than random bytes
    fc.tuple(cborValue, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 })).map(([v, edits]) => {
      const b = encodeCbor(v);
      if (b.length === 0) return b;
      for (const [i, x] of edits) b[i % b.length] = x;
      return b;
    }),
  );
  fc.assert(
    fc.property(garbage, (bytes) => {
      const r = decodeOrCborError(bytes);
      if (r.ok) {
        accepted++;
        t.deepEqual(norm(r.value), norm(theirDecode(bytes)), hex(bytes));
      }
    }),
    { numRuns: 5000 },
  );
  t.true(accepted > 100, `only ${accepted} accepted: the property checked too little`);
});
