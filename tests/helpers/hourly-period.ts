import { parseTime } from "../../firmware/core/time";
import type { Message } from "../../firmware/uplink/messages";

/**
 * A terminal's `seq`-th hour-long period report (from 2026-04-16T20:00 + seq hours, pattern 1, two
 * sensors and a camera, continuous contract): the stream the fleet and cluster tests send.
 */
export function hourlyPeriod(terminal: string, seq: number): Message {
  const t = parseTime("2026-04-16T20:00", "t") + seq * 3600;
  return {
    name: "period",
    terminal,
    seq,
    time: t + 3600,
    body: {
      start: t, end: t + 3600, pattern: 1, sensors: 2, cameras: 1, yenPerHour: 120, guardedSeconds: 3600, baseYen: 120,
      yen: 96, images: 0, intervals: [[t, t + 3600, 2, 1, 0, 0, 0, 800]], rateSeconds: 432000, permille: 800, countsTaken: 9, contract: "continuous",
    },
  };
}
