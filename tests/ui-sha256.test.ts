import test from "ava";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { sha256, toHex } from "../firmware/lib/sha256";

// The firmware's SHA-256 (PIN hashing) against Node's, on the standard vectors and at random.

test("FIPS 180-4 vectors", (t) => {
  const enc = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));
  t.is(toHex(sha256(enc(""))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  t.is(toHex(sha256(enc("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  t.is(
    toHex(sha256(enc("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
});

test("agrees with node:crypto on every length around the block boundaries and at random", (t) => {
  for (let n = 0; n < 200; n++) {
    const m = new Uint8Array(n).map((_, i) => (i * 31 + n) & 255);
    t.is(toHex(sha256(m)), createHash("sha256").update(m).digest("hex"), `length ${n}`);
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1000 }), (m) => toHex(sha256(m)) === createHash("sha256").update(m).digest("hex")),
  );
});
