import { PRIORITY } from "./outbox";

/**
 * When the terminal dials the center next, and why: a pure function of the link's state and the
 * time, apart from reports (the outbox) and the downlink (firmware/uplink/link.ts calls it).
 *
 *  - the daily test call when due (at once if it never ran or is overdue);
 *  - at once when asked (a test call queued, a registration, a user or host request, an SMS wake);
 *  - while an open alarm holds the link: a poll `pollSeconds` after the last session ended;
 *  - an alarm or media item at once; a routine item once it has waited `batchSeconds`;
 *  - never before `retryAt` (the backoff after a failed session).
 * The earliest of these wins; all times in seconds.
 */
export interface DialState {
  /** the terminal's time */
  now: number;
  /** the last test call (0: never) */
  lastTest: number;
  testIntervalSeconds: number;
  /** a dial was asked for now */
  urgent: boolean;
  /** an open alarm keeps the link up (or polled) */
  holding: boolean;
  /** when the last session ended */
  lastEnded: number;
  pollSeconds: number;
  batchSeconds: number;
  /** what waits in the outbox: each item's priority and the time it was queued */
  items: ReadonlyArray<{ readonly priority: number; readonly at: number }>;
  /** no dial before this (0: no backoff) */
  retryAt: number;
}

export type DialReason = "test" | "asked" | "alarm-poll" | "alarm" | "batch" | "backoff";

export interface NextDial {
  at: number;
  why: DialReason;
}

export function nextDial(s: DialState): NextDial {
  const t = s.now;
  const testDue = s.lastTest + s.testIntervalSeconds;
  let at = s.lastTest === 0 || t >= testDue ? t : testDue;
  let why: DialReason = "test";
  if (s.urgent) {
    at = t;
    why = "asked";
  }
  if (s.holding) {
    const poll = Math.max(t, s.lastEnded + s.pollSeconds);
    if (poll < at) {
      at = poll;
      why = "alarm-poll";
    }
  }
  for (const it of s.items) {
    const routine = it.priority === PRIORITY.routine;
    const when = routine ? it.at + s.batchSeconds : t;
    if (when < at) {
      at = when;
      why = routine ? "batch" : "alarm";
    }
  }
  if (at < s.retryAt) {
    at = s.retryAt;
    why = "backoff";
  }
  return { at, why };
}
