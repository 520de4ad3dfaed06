import test from "ava";
import { IoHub } from "../host-sim/io/hub";
import { directDevice } from "../host-sim/io/direct-io";
import type { I2CTarget } from "../host-sim/io/i2c-bus";
import { PN532, PN532Error, Status } from "../firmware/drivers/pn532";
import { Pn532Emulator, parseHostFrame } from "../host-sim/devices/pn532";
import { MifareClassic1K } from "../host-sim/devices/mifare-classic";
import { blankMemory, Issuer } from "../host-sim/devices/card-file";
import { DEMO_KEYS } from "./helpers/card-sim";
import { BACKUP_BLOCK, ID_ACCESS, ID_BLOCK, PURSE_ACCESS, PURSE_TRAILER, RECORD_BLOCK, TRANSPORT_ACCESS, VALUE_BLOCK, decodeAccessBits, decodeValueBlock, encodeAccessBits, encodeValueBlock } from "../firmware/card/layout";

/** The PN532 driver against the emulated PN532 on an emulated I2C bus (no engine needed). */
function rig(options: { polls?: number; wrap?: (t: I2CTarget) => I2CTarget } = {}) {
  const hub = new IoHub(() => 0);
  const emu = new Pn532Emulator();
  hub.i2c(0).attach(options.wrap ? options.wrap(emu) : emu);
  const { device } = directDevice(hub);
  const pn = new PN532({ sensor: { ...device.I2C.default, io: device.io.I2C, address: 0x24 }, polls: options.polls });
  return { hub, emu, pn };
}

function issuedCard(counts = 472): MifareClassic1K {
  const uid = Uint8Array.of(0xde, 0xad, 0xbe, 0xef);
  const card = new MifareClassic1K(uid, blankMemory(uid));
  new Issuer(card, DEMO_KEYS).issue(77, counts, 100000);
  return card;
}

function statusOf(f: () => unknown): number {
  try {
    f();
  } catch (e) {
    if (e instanceof PN532Error && e.code === "status") return e.status;
    throw e;
  }
  return 0;
}

test("wakes the PN532 and lists the card in the field; none when the field is empty", (t) => {
  const { emu, pn } = rig();
  t.deepEqual(pn.firmwareVersion(), { ic: 0x32, version: 1, revision: 6, support: 7 });
  pn.samConfiguration();
  pn.setPassiveRetries(1);
  t.is(pn.listPassiveTarget(), null);
  const card = issuedCard();
  emu.insert(card);
  t.deepEqual([...(pn.listPassiveTarget() ?? [])], [0xde, 0xad, 0xbe, 0xef]);
  pn.release();
  emu.remove();
  t.is(pn.listPassiveTarget(), null);
  t.is(pn.stats.timeouts, 0);
  t.is(pn.stats.badFrames, 0);
});

test("host frames carry correct length and data checksums, TFI D4 and a postamble", (t) => {
  const frames: Uint8Array[] = [];
  const { pn } = rig({
    wrap: (emu) => ({
      address: emu.address,
      write: (d, stop) => (frames.push(d.slice()), emu.write(d, stop)),
      read: (n, stop) => emu.read(n, stop),
    }),
  });
  pn.samConfiguration();
  pn.setPassiveRetries(1);
  pn.listPassiveTarget();
  t.is(frames.length, 3);
  for (const f of frames) {
    t.deepEqual([...f.subarray(0, 3)], [0x00, 0x00, 0xff]);
    t.is((f[3] + f[4]) & 0xff, 0, "LEN + LCS = 0");
    t.is(f[5], 0xd4);
    t.is(f[f.length - 1], 0x00, "postamble");
    t.truthy(parseHostFrame(f), "the emulator accepts it");
  }
  t.deepEqual([...frames[0].subarray(6, 10)], [0x14, 0x01, 0x14, 0x01]);
});

test("a silent, busy or garbling PN532 is a counted error, never a result", (t) => {
  // Waiting for the answer is bounded by ready-byte polls.
  const slow = rig({ polls: 5 });
  slow.emu.responseBusyReads = 4;
  t.notThrows(() => slow.pn.samConfiguration());
  slow.emu.responseBusyReads = 10;
  const e1 = t.throws(() => slow.pn.samConfiguration(), { instanceOf: PN532Error });
  t.is(e1?.code, "timeout");
  t.is(slow.pn.stats.timeouts, 1);

  // InListPassiveTarget with endless retries and no card never answers: a timeout, not a hang.
  const endless = rig();
  endless.pn.samConfiguration();
  t.is(t.throws(() => endless.pn.listPassiveTarget(), { instanceOf: PN532Error })?.code, "timeout");

  // Every answer corrupted in one byte: refused by a checksum, the start code or the code.
  let flip = 0;
  const garbled = rig({
    wrap: (emu) => ({
      address: emu.address,
      write: (d, stop) => emu.write(d, stop),
      read: (n, stop) => {
        const r = emu.read(n, stop);
        if (r && n > 7 && r[0] === 1) r[1 + (flip++ % 10)] ^= 0x40;
        return r;
      },
    }),
  });
  for (let i = 0; i < 10; i++) {
    const e = t.throws(() => garbled.pn.firmwareVersion(), { instanceOf: PN532Error });
    t.is(e?.code, "frame");
  }
  t.is(garbled.pn.stats.badFrames, 10);

  // Random bytes from the bus: never accepted as an answer.
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16) & 0xff;
  const noise = rig({
    polls: 3,
    wrap: (emu) => ({ address: emu.address, write: () => true, read: (n) => Uint8Array.from({ length: n }, () => rnd()) }),
  });
  for (let i = 0; i < 200; i++) t.throws(() => noise.pn.firmwareVersion(), { instanceOf: PN532Error });

  // Nobody at the address: the bus NACKs.
  const hub = new IoHub(() => 0);
  const { device } = directDevice(hub);
  const absent = new PN532({ sensor: { ...device.I2C.default, io: device.io.I2C, address: 0x24 } });
  t.is(t.throws(() => absent.firmwareVersion(), { instanceOf: PN532Error })?.code, "bus");
});

test("the card enforces keys and access bits: key A only takes, key B adds; value blocks are checked", (t) => {
  const { emu, pn } = rig();
  pn.samConfiguration();
  pn.setPassiveRetries(1);
  const card = issuedCard(100);
  emu.insert(card);
  const uid = pn.listPassiveTarget() as Uint8Array;

  t.is(statusOf(() => pn.mifareAuthenticate("A", VALUE_BLOCK, Uint8Array.of(1, 2, 3, 4, 5, 6), uid)), Status.MifareAuth, "wrong key A");
  pn.release();
  pn.listPassiveTarget();
  pn.mifareAuthenticate("A", VALUE_BLOCK, DEMO_KEYS.keyA, uid);
  t.deepEqual(decodeValueBlock(pn.mifareRead(VALUE_BLOCK)), { value: 100, addr: VALUE_BLOCK });
  pn.mifareDecrement(VALUE_BLOCK, 3);
  pn.mifareTransfer(VALUE_BLOCK);
  t.deepEqual(decodeValueBlock(pn.mifareRead(VALUE_BLOCK)), { value: 97, addr: VALUE_BLOCK });
  t.is(statusOf(() => pn.mifareIncrement(VALUE_BLOCK, 1000)), Status.RfProtocol, "key A may not increment (C1C2C3 = 110)");
  pn.listPassiveTarget();
  pn.mifareAuthenticate("A", VALUE_BLOCK, DEMO_KEYS.keyA, uid);
  t.is(statusOf(() => pn.mifareWrite(VALUE_BLOCK, encodeValueBlock(100000, VALUE_BLOCK))), Status.RfProtocol, "key A may not write the value block");
  pn.listPassiveTarget();
  pn.mifareAuthenticate("A", VALUE_BLOCK, DEMO_KEYS.keyA, uid);
  t.is(statusOf(() => pn.mifareTransfer(BACKUP_BLOCK)), Status.RfProtocol, "transfer with nothing in the register");
  pn.listPassiveTarget();
  pn.mifareAuthenticate("A", VALUE_BLOCK, DEMO_KEYS.keyA, uid);
  t.is(statusOf(() => pn.mifareDecrement(RECORD_BLOCK, 1)), Status.RfProtocol, "the record block is not a value block");
  pn.listPassiveTarget();
  pn.mifareAuthenticate("A", VALUE_BLOCK, DEMO_KEYS.keyA, uid);
  t.is(statusOf(() => pn.mifareWrite(PURSE_TRAILER, new Uint8Array(16))), Status.RfProtocol, "key A may not rewrite the trailer (C1C2C3 = 011)");
  pn.listPassiveTarget();
  pn.mifareAuthenticate("A", ID_BLOCK, DEMO_KEYS.keyA, uid);
  t.is(statusOf(() => pn.mifareWrite(ID_BLOCK, new Uint8Array(16))), Status.RfProtocol, "key A may not rewrite the identity");

  // Key B adds counts.
  pn.listPassiveTarget();
  pn.mifareAuthenticate("B", VALUE_BLOCK, DEMO_KEYS.keyB, uid);
  pn.mifareIncrement(VALUE_BLOCK, 50);
  pn.mifareTransfer(VALUE_BLOCK);
  t.deepEqual(decodeValueBlock(pn.mifareRead(VALUE_BLOCK)), { value: 147, addr: VALUE_BLOCK });

  // A value block whose inverse copy is wrong makes decrement fail on the card itself.
  card.block(VALUE_BLOCK)[5] ^= 1;
  pn.listPassiveTarget();
  pn.mifareAuthenticate("A", VALUE_BLOCK, DEMO_KEYS.keyA, uid);
  t.is(statusOf(() => pn.mifareDecrement(VALUE_BLOCK, 1)), Status.RfProtocol);
  card.block(VALUE_BLOCK)[5] ^= 1;

  // A malformed access pattern blocks the sector for good.
  card.block(PURSE_TRAILER)[7] ^= 0x10;
  pn.listPassiveTarget();
  pn.mifareAuthenticate("B", VALUE_BLOCK, DEMO_KEYS.keyB, uid);
  t.is(statusOf(() => pn.mifareRead(VALUE_BLOCK)), Status.RfProtocol);
});

test("a card pulled between decrement and transfer loses the decrement (it lived in the card's register)", (t) => {
  const { emu, pn } = rig();
  pn.samConfiguration();
  pn.setPassiveRetries(1);
  const card = issuedCard(100);
  emu.insert(card);
  const uid = pn.listPassiveTarget() as Uint8Array;
  pn.mifareAuthenticate("A", VALUE_BLOCK, DEMO_KEYS.keyA, uid);
  pn.mifareDecrement(VALUE_BLOCK, 10);
  emu.remove();
  t.is(statusOf(() => pn.mifareTransfer(VALUE_BLOCK)), Status.Timeout);
  emu.insert(card);
  pn.listPassiveTarget();
  pn.mifareAuthenticate("A", VALUE_BLOCK, DEMO_KEYS.keyA, uid);
  t.deepEqual(decodeValueBlock(pn.mifareRead(VALUE_BLOCK)), { value: 100, addr: VALUE_BLOCK });
  t.is(statusOf(() => pn.mifareTransfer(VALUE_BLOCK)), Status.RfProtocol, "the register did not survive");
});

test("access bits encode as NXP documents them, and decode back; a broken pattern does not decode", (t) => {
  t.deepEqual([...encodeAccessBits(TRANSPORT_ACCESS)], [0xff, 0x07, 0x80]);
  t.deepEqual([...encodeAccessBits(ID_ACCESS)], [0x78, 0x77, 0x88]);
  t.deepEqual([...encodeAccessBits(PURSE_ACCESS)], [0x4c, 0x37, 0x8b]);
  for (const a of [TRANSPORT_ACCESS, ID_ACCESS, PURSE_ACCESS]) {
    const b = encodeAccessBits(a);
    t.deepEqual(decodeAccessBits(b[0], b[1], b[2]), [...a]);
    t.is(decodeAccessBits(b[0] ^ 1, b[1], b[2]), null);
  }
});
