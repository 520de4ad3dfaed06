// The firmware's SHA-256, HMAC-SHA256 and CRC-32 run under XS (an xsnap worker, the ESP32's
// engine) in int32 arithmetic, the SHA-256 rounds written out by scripts/sha256-rounds.mjs: they
// must give node:crypto's digests there too, on the standard vectors (FIPS 180-4, RFC 4231), on
// every length around the block boundaries, with messages in several parts split anywhere, with
// a prepared key used again and again, and with keys sharing one scratch used in turn.
import test from "ava";
import * as fs from "node:fs";
import { underXs } from "./helpers/xs-run";
import { createHash, createHmac } from "node:crypto";
import { sha256RoundsSource } from "../scripts/sha256-rounds.mjs";

const PRELUDE = `
import { HmacKey, Sha256Scratch, hmacSha256, sha256, toHex } from "./firmware/lib/sha256";
import { crc32 } from "./firmware/lib/crc32";
declare const issueCommand: (b: ArrayBuffer) => ArrayBuffer;
const report = (x: unknown) => issueCommand(new TextEncoder().encode(JSON.stringify(x)).buffer);
const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 255);
const text = (s: string) => new TextEncoder().encode(s);
`;

const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 255);

/** CRC-32 (IEEE) bit by bit, as its definition reads ("123456789" gives 0xCBF43926). */
function referenceCrc32(m: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of m) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

test("the reference CRC-32 gives the check value", (t) => {
  t.is(referenceCrc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});

test("FIPS 180-4 and RFC 4231 vectors under XS", async (t) => {
  const [r] = (await underXs(
    PRELUDE +
      `report({
        empty: toHex(sha256(text(""))),
        abc: toHex(sha256(text("abc"))),
        two: toHex(sha256(text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
        million: toHex(sha256(new Uint8Array(1000000).fill(0x61))),
        rfc1: toHex(hmacSha256(new Uint8Array(20).fill(0x0b), text("Hi There"))),
        rfc2: toHex(hmacSha256(text("Jefe"), text("what do ya want for nothing?"))),
        rfc3: toHex(hmacSha256(new Uint8Array(20).fill(0xaa), new Uint8Array(50).fill(0xdd))),
        rfc6: toHex(hmacSha256(new Uint8Array(131).fill(0xaa), text("Test Using Larger Than Block-Size Key - Hash Key First"))),
      });`,
  )) as Array<Record<string, string>>;
  t.is(r.empty, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  t.is(r.abc, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  t.is(r.two, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  t.is(r.million, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  t.is(r.rfc1, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  t.is(r.rfc2, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  t.is(r.rfc3, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  t.is(r.rfc6, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
});

test("SHA-256, HMAC (one-off, prepared key, keys sharing a scratch in turn) and CRC-32 under XS agree with node on every length to 300, in parts split anywhere", async (t) => {
  const [r] = (await underXs(
    PRELUDE +
      `const out: string[][] = [];
      const kept = new HmacKey(bytes(16, 5));
      const shared = new Sha256Scratch();
      const sharedA = new HmacKey(bytes(16, 9), shared);
      const sharedB = new HmacKey(bytes(100, 3), shared); // longer than a block: hashed first
      for (let n = 0; n <= 300; n++) {
        const m = bytes(n, n);
        const a = n >> 1, b = (n * 3) >> 2;
        const key = bytes((n % 150) + 1, 7);
        out.push([
          toHex(sha256(m)),
          toHex(sha256(m.subarray(0, a), m.subarray(a, b), m.subarray(b))),
          toHex(hmacSha256(key, m)),
          toHex(new HmacKey(key).mac(m.subarray(0, b), m.subarray(b))),
          toHex(kept.mac(m)),
          toHex(sharedA.mac(m)),
          toHex(sharedB.mac(m.subarray(0, a), m.subarray(a))),
          toHex(new HmacKey(key, shared).mac(m)),
          String(crc32(m)),
          String(crc32(m, a, b)),
        ]);
      }
      report(out);`,
  )) as string[][][];
  t.is(r.length, 301);
  for (let n = 0; n <= 300; n++) {
    const m = bytes(n, n);
    const a = n >> 1;
    const b = (n * 3) >> 2;
    const key = bytes((n % 150) + 1, 7);
    const sha = createHash("sha256").update(m).digest("hex");
    const mac = createHmac("sha256", key).update(m).digest("hex");
    t.deepEqual(
      r[n],
      [
        sha,
        sha,
        mac,
        mac,
        createHmac("sha256", bytes(16, 5)).update(m).digest("hex"),
        createHmac("sha256", bytes(16, 9)).update(m).digest("hex"),
        createHmac("sha256", bytes(100, 3)).update(m).digest("hex"),
        mac,
        String(referenceCrc32(m)),
        String(referenceCrc32(m.subarray(a, b))),
      ],
      `length ${n}`,
    );
  }
});

test("firmware/lib/sha256-rounds.ts is what scripts/sha256-rounds.mjs writes (rounds written out, never edited by hand)", (t) => {
  t.is(fs.readFileSync("firmware/lib/sha256-rounds.ts", "utf8"), sha256RoundsSource());
});
