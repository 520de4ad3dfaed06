import { DEMO_ISSUER_JSON, issueCardFile, parseKeys } from "./devices/card-file";
import { cardSlot } from "./devices/card-slot";
import { attachBuzzer } from "./devices/buzzer";
import { attachKeypad } from "./devices/keypad-matrix";
import { attachLcd } from "./devices/lcd-pcf8574";
import { linkModem } from "./devices/modem";
import { sensorField } from "./devices/sensors";
import { manifestConfig } from "./project";
import type { Simulator } from "./simulator";

/**
 * Everything a rented terminal has, attached to a simulator: the LCD and keypad, the card slot
 * (PN532 + MIFARE card), the sensor radio and the field of sensors, and the cellular modem.
 */
export function equipTerminal(sim: Simulator): void {
  attachLcd(sim);
  attachKeypad(sim);
  attachBuzzer(sim);
  sensorField(sim);
  cardSlot(sim);
  linkModem(sim);
}

/** Config overrides (over manifest.json's) that make the terminal dial a center on this machine. */
export function centerLinkConfig(o: { port: number; secret: string; terminalId?: string; psk?: string }): Record<string, unknown> {
  const base = manifestConfig() as { terminal?: Record<string, unknown>; link?: Record<string, unknown> };
  return {
    terminal: { ...(base.terminal ?? {}), id: o.terminalId ?? (base.terminal?.id as string) ?? "T0001" },
    // psk (hex): the link is TLS 1.2 PSK through the modem's SSL stack, to the center's TLS port
    link: { ...(base.link ?? {}), address: "127.0.0.1", port: o.port, secret: o.secret, ...(o.psk ? { psk: o.psk } : {}) },
  };
}

/** Issues a card file from the demo issuer (as `timeguard card issue` does). */
export function issueDemoCard(path: string, counts: number, cardId: number, overwrite = false): void {
  const uid = new Uint8Array([0x04, (cardId >> 16) & 255, (cardId >> 8) & 255, cardId & 255]);
  issueCardFile(path, { uid, cardId, counts, keys: parseKeys(DEMO_ISSUER_JSON, "demo issuer"), maxCounts: 100000, overwrite });
}
