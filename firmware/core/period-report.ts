import { meterYen } from "./contract";
import { PeriodLog, accruedRateSeconds, guardedSeconds, intervalRows, periodRecord } from "./history";
import type { Contract, Tariff } from "./tariff";
import type { Seconds } from "./time";

/**
 * A closed period as the center is told it (the `period` message's body, docs/protocols.md):
 * its row, its intervals (each naming the tariff version and coefficient it was billed under),
 * and the contract's owed after it. Built once, when the period closes, and kept until queued,
 * so a power cut between the close and the outbox re-queues the very same report at boot.
 */
export function periodReport(log: PeriodLog, tariff: Tariff, contract: Contract, at: Seconds): Record<string, unknown> {
  const row = periodRecord(log, tariff, at);
  return {
    start: row.start,
    end: row.end,
    pattern: row.pattern,
    sensors: row.sensors,
    cameras: row.cameras,
    yenPerHour: row.yenPerHour,
    guardedSeconds: guardedSeconds(log, at),
    baseYen: row.baseYen,
    yen: row.yen,
    images: log.images,
    intervals: intervalRows(log),
    rateSeconds: accruedRateSeconds(log, tariff, at),
    permille: log.terms.permille,
    contract,
    tariffVersion: log.terms.version,
    owedYen: meterYen(log.meter),
  };
}
