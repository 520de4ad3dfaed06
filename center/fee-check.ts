import { accrue, deviceCounts, imageRateSeconds, yenOwed, yenPerHour } from "../firmware/core/fee";
import { Tariff, isContract } from "../firmware/core/tariff";
import { MessageError } from "../firmware/uplink/messages";

export interface FeeCheck {
  rateSeconds: number;
  yen: number;
  /** null when the center's figure equals the terminal's; else what differs */
  mismatch: string | null;
}

/**
 * Recomputes a reported period's fee from its intervals with the center's tariff for the terminal,
 * by the same rule the terminal runs (firmware/core/fee.ts), and says where the two differ.
 * Intervals: [[from, to, sensor, camera, door, smoke], …] (operating devices by kind); malformed
 * ones are refused (MessageError), a fee that differs is stored and flagged.
 */
export function checkPeriodFee(
  tariff: Tariff,
  p: { pattern: number; intervals: unknown; images: number; guardedSeconds: number; rateSeconds: number; yen: number; contract: string },
): FeeCheck {
  if (!isContract(p.contract)) return { rateSeconds: 0, yen: 0, mismatch: `unknown contract ${p.contract}` };
  const permille = tariff.contractsPermille[p.contract];
  if (tariff.patterns[p.pattern] === undefined) return { rateSeconds: 0, yen: 0, mismatch: `pattern ${p.pattern} is not in the center's tariff` };
  if (!Array.isArray(p.intervals)) throw new MessageError("period.intervals", "must be a list");
  let rs = imageRateSeconds(tariff, p.images);
  let seconds = 0;
  for (const iv of p.intervals) {
    if (!Array.isArray(iv) || iv.length !== 6 || !iv.every((n) => Number.isSafeInteger(n) && n >= 0) || iv[1] < iv[0]) {
      throw new MessageError("period.intervals", "an interval must be [from, to, sensor, camera, door, smoke] with from ≤ to");
    }
    const [from, to, sensor, camera, door, smoke] = iv as number[];
    rs += accrue(yenPerHour(tariff, p.pattern, deviceCounts({ sensor, camera, door, smoke })), to - from);
    seconds += to - from;
  }
  if (seconds !== p.guardedSeconds) {
    // Older intervals were folded on the terminal: the center can only check what it was given.
    return { rateSeconds: p.rateSeconds, yen: yenOwed(p.rateSeconds, permille), mismatch: `intervals cover ${seconds} s of ${p.guardedSeconds} s guarded; fee not verifiable` };
  }
  const yen = yenOwed(rs, permille);
  const problems: string[] = [];
  if (rs !== p.rateSeconds) problems.push(`rate-seconds ${p.rateSeconds} reported, ${rs} recomputed`);
  if (yen !== p.yen) problems.push(`${p.yen} yen collected, ${yen} yen recomputed`);
  return { rateSeconds: rs, yen, mismatch: problems.length ? problems.join("; ") : null };
}
