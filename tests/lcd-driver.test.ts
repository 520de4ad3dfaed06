import test from "ava";
import { HD44780 } from "../firmware/drivers/hd44780";
import { LcdPcf8574 } from "../host-sim/devices/lcd-pcf8574";
import { directDevice } from "../host-sim/io/direct-io";
import { IoHub } from "../host-sim/io/hub";

// The HD44780 driver against the PCF8574+HD44780 emulation, byte for byte on the emulated I2C
// bus: the exact 4x20 text after each command sequence.

function rig(options: { hz?: number; address?: number } = {}) {
  let now = 1_000_000;
  const hub = new IoHub(() => now);
  const lcd = new LcdPcf8574(() => now, { hz: options.hz ?? 100000, address: options.address ?? 0x27 });
  // the bytes of every write transaction, as they reach the backpack
  const writes: number[] = [];
  hub.i2c(0).attach({
    address: lcd.address,
    acksEveryWrite: true,
    write: (data, stop) => (writes.push(data.length), lcd.write(data, stop)),
    read: (count, stop) => lcd.read(count, stop),
  });
  const { device } = directDevice(hub);
  const make = () =>
    new HD44780({ display: { ...device.I2C.default, io: device.io.I2C, hz: options.hz ?? 100000, address: options.address ?? 0x27 } });
  return { hub, lcd, make, writes, advance: (ms: number) => (now += ms) };
}

const BLANK = " ".repeat(20);

test("init leaves a blank, lit, 4-bit display with the cursor hidden", (t) => {
  const { lcd, make } = rig();
  t.deepEqual(lcd.state().displayOn, false, "off before the driver");
  make();
  const s = lcd.state();
  t.true(s.fourBit);
  t.true(s.displayOn);
  t.true(s.backlight);
  t.is(s.cursor, null);
  t.deepEqual(s.lines, [BLANK, BLANK, BLANK, BLANK]);
  t.is(lcd.busyViolations, 0);
});

test("cursor and write place text on the four rows (DDRAM 0x00/0x40/0x14/0x54)", (t) => {
  const { lcd, make } = rig();
  const d = make();
  d.cursor(0, 0);
  d.write("Timeguard");
  d.cursor(15, 1);
  d.write("12:34");
  d.cursor(0, 2);
  d.write("row three");
  d.cursor(19, 3);
  d.write("#");
  t.deepEqual(lcd.lines(), [
    "Timeguard           ",
    "               12:34",
    "row three           ",
    "                   #",
  ]);
  t.is(lcd.busyViolations, 0);
});

test("writing past the end of row 0 continues on row 2, as the controller's DDRAM does", (t) => {
  const { lcd, make } = rig();
  const d = make();
  d.cursor(16, 0);
  d.write("ABCDEFGH");
  t.is(lcd.lines()[0], "                ABCD");
  t.is(lcd.lines()[2], "EFGH                ");
});

test("line() rewrites a whole row, padded and cut to 20", (t) => {
  const { lcd, make } = rig();
  const d = make();
  d.line(1, "this line is much longer than twenty");
  d.line(3, "short");
  d.line(3, "x");
  t.deepEqual(lcd.lines(), [BLANK, "this line is much lo", BLANK, "x                   "]);
});

test("clear blanks everything and homes the cursor; the driver waits out its 1.52 ms", (t) => {
  const { lcd, make } = rig();
  const d = make();
  d.line(0, "something");
  d.line(2, "else");
  d.clear();
  d.write("after");
  t.deepEqual(lcd.lines(), ["after               ", BLANK, BLANK, BLANK]);
  t.is(lcd.busyViolations, 0, "no instruction reached the controller while it was busy");
});

test("the emulation notices an instruction sent during a clear (so the driver's wait is real)", (t) => {
  const { hub, lcd, make } = rig();
  make();
  // A clear immediately followed by a character, with no idle bytes between: 4-bit nibbles, E pulses.
  const bytes: number[] = [];
  const nibble = (v: number, rs: number) => bytes.push(v | rs | 0x08 | 0x04, v | rs | 0x08);
  nibble(0x00, 0);
  nibble(0x10, 0); // 0x01 clear
  nibble(0x40, 1);
  nibble(0x10, 1); // 'A'
  hub.i2c(0).write(0x27, Uint8Array.from(bytes), true);
  t.is(lcd.busyViolations, 1);
  t.deepEqual(lcd.lines(), [BLANK, BLANK, BLANK, BLANK], "the character was lost");
});

test("custom characters: CGRAM written, codes 0-7 shown, glyph rows kept", (t) => {
  const { lcd, make } = rig();
  const d = make();
  const bell = [0x04, 0x0e, 0x0e, 0x0e, 0x1f, 0x00, 0x04, 0x00];
  d.define(1, bell);
  d.cursor(0, 0);
  d.write("\x01 ALARM \x01");
  t.deepEqual(lcd.state().cgram[1], bell);
  t.deepEqual(lcd.codes(0).slice(0, 9), [1, 0x20, 0x41, 0x4c, 0x41, 0x52, 0x4d, 0x20, 1]);
  t.is(lcd.lines()[0], "① ALARM ①           ");
  t.throws(() => d.define(8, bell), { instanceOf: RangeError });
});

test("the A00 ROM: yen sign and arrows map to their codes, unknown characters to ?", (t) => {
  const { lcd, make } = rig();
  const d = make();
  d.line(0, "288¥ → ← é");
  t.deepEqual(lcd.codes(0).slice(0, 10), [0x32, 0x38, 0x38, 0x5c, 0x20, 0x7e, 0x20, 0x7f, 0x20, 0x3f]);
  t.is(lcd.lines()[0], "288¥ → ← ?          ");
});

test("backlight and display on/off; cursor and blink shown where the address counter is", (t) => {
  const { lcd, make } = rig();
  const d = make();
  d.line(0, "visible");
  d.backlight(false);
  t.false(lcd.state().backlight);
  t.is(lcd.lines()[0], "visible             ", "text stays without the backlight");
  d.display({ on: false });
  t.is(lcd.lines()[0], BLANK, "display off shows nothing");
  d.display({ on: true, cursor: true, blink: true });
  d.backlight(true);
  d.cursor(5, 2);
  t.deepEqual(lcd.state().cursor, { row: 2, column: 5, underline: true, blink: true });
  t.true(lcd.state().backlight);
});

test("re-initialising resynchronises a controller left half-way through a 4-bit byte", (t) => {
  const { hub, lcd, make } = rig();
  const d = make();
  d.line(0, "before");
  // One stray nibble (a glitch): the controller now waits for the second half of a byte.
  hub.i2c(0).write(0x27, Uint8Array.from([0x4c | 0x01, 0x48 | 0x01]), true);
  make(); // a new driver: the reset-by-instruction sequence
  d.line(1, "after reset");
  t.deepEqual(lcd.lines(), [BLANK, "after reset         ", BLANK, BLANK]);
  t.is(lcd.busyViolations, 0);
});

test("at 400 kHz the driver pads the slow instructions with more idle bytes and still loses none", (t) => {
  const { lcd, make } = rig({ hz: 400000 });
  const d = make();
  d.line(0, "fast bus");
  d.clear();
  d.line(3, "still here");
  t.deepEqual(lcd.lines(), [BLANK, BLANK, BLANK, "still here          "]);
  t.is(lcd.busyViolations, 0);
});

test("one I2C transaction per row written; no display at the address: the write throws", (t) => {
  const { hub, make } = rig();
  const d = make();
  const before = hub.i2c(0).transactions;
  d.line(2, "one transaction");
  t.is(hub.i2c(0).transactions - before, 1);
  hub.i2c(0).detach(0x27);
  t.throws(() => d.line(0, "nobody"), { message: /NACK/ });
});

test("after a power loss the module is blank and in 8-bit mode until initialised again", (t) => {
  const { lcd, make } = rig();
  make().line(0, "hello");
  lcd.powerLost();
  t.false(lcd.state().fourBit);
  t.deepEqual(lcd.lines(), [BLANK, BLANK, BLANK, BLANK]);
  make().line(0, "again");
  t.is(lcd.lines()[0], "again               ");
});

/** Bytes on the bus for a command and n characters: two nibbles each, each an E-high and an E-low port write. */
const bytesFor = (characters: number) => 4 * (1 + characters);

test("line() sends only the span that changed: a clock's minute is one character, an unchanged row nothing", (t) => {
  const { lcd, make, writes } = rig();
  const d = make();
  d.line(0, "Guarding    22:53");
  t.is(writes.at(-1), bytesFor(17), "after the reset the rows are known blank: the 17 characters, not the 3 spaces after them");
  writes.length = 0;
  d.line(0, "Guarding    22:54");
  t.deepEqual(writes, [bytesFor(1)]);
  writes.length = 0;
  d.line(0, "Guarding    22:54");
  t.deepEqual(writes, [], "the same text again: no transaction");
  d.line(0, "Guardin");
  t.deepEqual(writes, [bytesFor(10)], "a shorter text: from its end to the last character shown before, blanked");
  d.line(2, "row two");
  t.deepEqual(lcd.lines(), ["Guardin             ", BLANK, "row two             ", BLANK]);
  t.is(lcd.busyViolations, 0);
});

test("line() after write(), cursor() or clear() still shows exactly its text", (t) => {
  const { lcd, make, writes } = rig();
  const d = make();
  d.line(1, "abcdefghij");
  d.cursor(3, 1);
  d.write("XY");
  writes.length = 0;
  d.line(1, "abcdefghij");
  t.is(writes.at(-1), bytesFor(20), "after write() the row is not trusted: sent whole");
  t.is(lcd.lines()[1], "abcdefghij          ");
  d.clear();
  writes.length = 0;
  d.line(1, "abcdefghij");
  t.is(writes.at(-1), bytesFor(10), "after clear() the row is known blank: the ten letters only");
  t.is(lcd.lines()[1], "abcdefghij          ");
});

test("every 32nd line() sends its row whole, so a character the display lost is put right", (t) => {
  const { lcd, make, writes } = rig();
  const d = make();
  d.line(3, "status");
  // noise: the module's RAM changed behind the driver's back (a stray write at 0x54)
  // (port bits: E 0x04, backlight 0x08, RS 0x01, D4-D7 the high four): DDRAM 0x54, then an "X"
  lcd.write(new Uint8Array([0xdc, 0xd8, 0x4c, 0x48, 0x5d, 0x59, 0x8d, 0x89]), true);
  t.is(lcd.lines()[3], "Xtatus              ");
  let sent = 0;
  for (let i = 0; i < 31 && lcd.lines()[3] !== "status              "; i++) {
    writes.length = 0;
    d.line(3, "status");
    sent += writes.length;
  }
  t.is(lcd.lines()[3], "status              ");
  t.is(sent, 1, "one whole-row write within 32 calls, none before it");
});

test("a row whose write failed is sent whole the next time", (t) => {
  const { hub, lcd, make, writes } = rig();
  const d = make();
  d.line(0, "before");
  const target = hub.i2c(0).target(0x27)!;
  hub.i2c(0).detach(0x27);
  t.throws(() => d.line(0, "during"), { message: /NACK/ });
  hub.i2c(0).attach(target);
  writes.length = 0;
  d.line(0, "during");
  t.is(writes.at(-1), bytesFor(20));
  t.is(lcd.lines()[0], "during              ");
});
