import test from "ava";
import { createHash, createHmac } from "node:crypto";
import { hmacSha256, sha256 } from "../firmware/lib/sha256";
import { CardIdentity, RecordKind, decodeRecord, encodeRecord, macRecord, recordMac, sameBytes } from "../firmware/card/layout";

test("SHA-256 and HMAC-SHA-256 agree with node:crypto around every block boundary", (t) => {
  for (let n = 0; n < 200; n++) {
    const msg = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
    t.is(Buffer.from(sha256(msg)).toString("hex"), createHash("sha256").update(msg).digest("hex"), `length ${n}`);
    const key = Uint8Array.from({ length: (n % 90) + 1 }, (_, i) => (i * 7 + 3) & 0xff);
    t.is(Buffer.from(hmacSha256(key, msg)).toString("hex"), createHmac("sha256", key).update(msg).digest("hex"), `hmac length ${n}`);
  }
});

test("the record MAC covers UID, identity, balance, sequence, kind and tag", (t) => {
  const key = new Uint8Array(16).fill(9);
  const uid = Uint8Array.of(1, 2, 3, 4);
  const id: CardIdentity = { version: 1, revoked: false, issuer: 1, cardId: 77 };
  const base = { seq: 5, balance: 444, kind: RecordKind.Debit, tag: 26 };
  const r = macRecord(key, uid, id, base);
  t.true(sameBytes(decodeRecord(encodeRecord(r)).mac, r.mac), "round trip");
  const variants: Array<[string, Uint8Array]> = [
    ["uid", recordMac(key, Uint8Array.of(1, 2, 3, 5), id, base)],
    ["card id", recordMac(key, uid, { ...id, cardId: 78 }, base)],
    ["issuer", recordMac(key, uid, { ...id, issuer: 2 }, base)],
    ["revoked flag", recordMac(key, uid, { ...id, revoked: true }, base)],
    ["balance", recordMac(key, uid, id, { ...base, balance: 445 })],
    ["sequence", recordMac(key, uid, id, { ...base, seq: 4 })],
    ["kind", recordMac(key, uid, id, { ...base, kind: RecordKind.TopUp })],
    ["tag", recordMac(key, uid, id, { ...base, tag: 0 })],
    ["key", recordMac(new Uint8Array(16).fill(8), uid, id, base)],
  ];
  for (const [what, mac] of variants) t.false(sameBytes(mac, r.mac), `${what} changes the MAC`);
});
