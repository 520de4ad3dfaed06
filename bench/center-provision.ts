import { EXAMPLE_TARIFF_JSON } from "../firmware/core/tariff";
import type { Center } from "../center/center";

/** Registers many bench terminals at once (one site, the example tariff) in one transaction. */
export function provisionBenchTerminals(center: Center, ids: string[], secretOf: (id: string) => string): void {
  const siteId = center.store.addSite("bench site");
  const now = Date.now();
  center.store.transaction(() => {
    for (const id of ids) {
      center.store.addTerminal({ id, siteId, secretHash: center.terminalSecretHash(id, secretOf(id)), tariff: EXAMPLE_TARIFF_JSON });
      // heard once (so the supervision sweep has work), as after a day of traffic
      center.store.noteHeard(id, now, true);
    }
  });
}
