import type { Base } from "../app/config";
import { PN532 } from "../drivers/pn532";
import type { UiPorts } from "../ui/ports";
import { CardBilling } from "./billing";
import { readCardConfig } from "./config";
import { SlotSwitch } from "./slot-switch";

/**
 * The prepaid card component (main.ts, issue #5): the PN532 on the shared I2C bus, the slot's
 * card-present contact, the purse, collect-as-you-go; its warnings and balance go to the UI.
 */
export function attachCard(base: Base, ui: UiPorts): CardBilling {
  const config = readCardConfig(base.config);
  const reader = new PN532({ sensor: { ...device.I2C.default, io: device.io.I2C, ...config.reader } });
  // the slot's card-present contact, when one is wired: the reader is asked only when it moved
  const slot = config.detect ? new SlotSwitch({ io: device.io.Digital, pin: config.detect.pin, present: config.detect.present }) : null;
  const { terminal, store, timers } = base;
  const card = new CardBilling({
    ...{ terminal, reader, slot, store, timers, config, terminalId: base.terminalConfig.terminalId, zoneMinutes: base.terminalConfig.zoneMinutes },
    ...{ warn: (text: string | null) => ui.warn("card", text), changed: () => ui.changed() },
  });
  ui.card = { counts: () => (card.card ? card.card.counts : null) };
  return card;
}
