import test from "ava";
import { FieldError } from "../firmware/core/errors";
import { readCardConfig } from "../firmware/card/config";
import { readSensorParts } from "../firmware/sensors/sensor-parts";
import { readUiParts } from "../firmware/ui/ui-config";
import { readUplinkParts } from "../firmware/uplink/link-config";
import { encodeUtf8 } from "../firmware/lib/utf8";
import { manifestConfig } from "../host-sim/project";

// Each component's one config validator (main.ts lists the components): manifest.json's config
// passes and gives the drivers' options; a bad value is a FieldError naming its field.

const config = manifestConfig();
const zone = 540;
const withSection = (name: string, patch: Record<string, unknown>) => ({ ...config, [name]: { ...(config[name] as Record<string, unknown>), ...patch } });

function refused(t: import("ava").ExecutionContext, read: () => unknown, field: string): void {
  const e = t.throws(read);
  t.true(e instanceof FieldError, `${field}: a FieldError, not ${e?.constructor.name}`);
  t.is((e as FieldError).field, field);
}

test("manifest.json's config passes every component's validator, with the buses and pins of its drivers", (t) => {
  const card = readCardConfig(config);
  t.deepEqual(card.reader, { hz: 100000, data: 21, clock: 22, address: 0x24 });
  const ui = readUiParts(config, zone);
  t.deepEqual(ui.display, { hz: 100000, data: 21, clock: 22, address: 0x27, columns: 20, rows: 4 });
  t.deepEqual(ui.keypad, { rows: [13, 14, 27, 23], columns: [26, 25, 33, 32], debounceMs: 30 });
  t.is(ui.buzzer, 5);
  const sensors = readSensorParts(config);
  t.deepEqual(sensors.radio, { port: 2, receive: 18, transmit: 19, baud: 9600 });
  t.deepEqual(sensors.wifi, { port: 47800, mediaPort: 47801 });
  const uplink = readUplinkParts(config);
  t.deepEqual(uplink.modem, { port: 1, receive: 16, transmit: 17, baud: 115200, reset: 4 });
  t.deepEqual(uplink.link.servers, [{ address: "127.0.0.1", port: 1883 }]);
});

test("link.address: one node or a list of the center's nodes, each with its own port or link.port", (t) => {
  const link = (address: unknown, port = 8883) => readUplinkParts(withSection("link", { address, port })).link.servers;
  t.deepEqual(link("10.0.0.7"), [{ address: "10.0.0.7", port: 8883 }]);
  t.deepEqual(link(["10.0.0.7", "10.0.1.7:9883"]), [
    { address: "10.0.0.7", port: 8883 },
    { address: "10.0.1.7", port: 9883 },
  ]);
  t.true(Object.isFrozen(link(["10.0.0.7"])));
  refused(t, () => link([]), "config.link.address");
  refused(t, () => link(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"]), "config.link.address");
  refused(t, () => link(["10.0.0.7", "10.0.0.256"]), "config.link.address[1]");
  refused(t, () => link(["10.0.0.7:0"]), "config.link.address[0]");
  refused(t, () => link(["10.0.0.7:99999"]), "config.link.address[0]");
  refused(t, () => link(["center.example:1883"]), "config.link.address[0]");
  refused(t, () => link([7]), "config.link.address[0]");
});

test("a bad value in any component's config is a FieldError naming the field", (t) => {
  refused(t, () => readCardConfig(withSection("pn532", { address: 300 })), "config.pn532.address");
  refused(t, () => readCardConfig(withSection("i2c", { hz: "fast" })), "config.i2c.hz");
  refused(t, () => readCardConfig(withSection("card", { pollMs: 5 })), "config.card.pollMs");
  refused(t, () => readUiParts(withSection("keypad", { rows: [13, 14, 27] }), zone), "config.keypad.rows");
  refused(t, () => readUiParts(withSection("keypad", { rows: [13, 14, 27, 33] }), zone), "config.keypad.rows"); // 33 is not in bank 0
  refused(t, () => readUiParts(withSection("lcd", { columns: 24 }), zone), "config.lcd.columns");
  refused(t, () => readUiParts(withSection("ui", { idleSeconds: 1 }), zone), "config.ui.idleSeconds");
  refused(t, () => readUiParts(withSection("buzzer", { pin: -1 }), zone), "config.buzzer.pin");
  refused(t, () => readSensorParts(withSection("radio", { port: 0 })), "config.radio.port"); // UART 0 is the console
  refused(t, () => readSensorParts(withSection("alarm", { entrySeconds: 9999 })), "config.alarm.entrySeconds");
  refused(t, () => readUplinkParts(withSection("modem", { baud: "fast" })), "config.modem.baud");
  refused(t, () => readUplinkParts(withSection("link", { address: "center.example" })), "config.link.address");
  refused(t, () => readUplinkParts(withSection("link", { port: 70000 })), "config.link.port");
  refused(t, () => readUplinkParts({ ...config, modem: "uart1" }), "config.modem");
});

test("encodeUtf8 through the engine's native encoder gives the bytes the loop gives, lone surrogates included", (t) => {
  for (const s of ["", "Timeguard", "¥288 → 28 counts", "日本語", "\u0000nul", "pair \ud83d\ude00 end", "lone \ud800 high", "lone \udc00 low", '{"k":"\\u00e9"}']) {
    const expected: number[] = [];
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      const d = s.charCodeAt(i + 1);
      if (c >= 0xd800 && c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
      if (c < 0x80) expected.push(c);
      else if (c < 0x800) expected.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) expected.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else expected.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    t.deepEqual(Array.from(encodeUtf8(s)), expected, JSON.stringify(s));
  }
});
