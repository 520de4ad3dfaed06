import test from "ava";
import { type DialState, nextDial } from "../firmware/uplink/dial-schedule";
import { PRIORITY } from "../firmware/uplink/outbox";

// The dial schedule (firmware/uplink/dial-schedule.ts): (state, time) → next dial and why.

const T = 1_776_000_000; // some second
const DAY = 86_400;
const base: DialState = {
  now: T,
  lastTest: T - 3600,
  testIntervalSeconds: DAY,
  urgent: false,
  holding: false,
  lastEnded: T - 3600,
  pollSeconds: 60,
  batchSeconds: 600,
  items: [],
  retryAt: 0,
};
const at = (o: Partial<DialState>) => nextDial({ ...base, ...o });

test("nothing to send: the next daily test call", (t) => {
  t.deepEqual(at({}), { at: T - 3600 + DAY, why: "test" });
});

test("a test call never made, or overdue: at once", (t) => {
  t.deepEqual(at({ lastTest: 0 }), { at: T, why: "test" });
  t.deepEqual(at({ lastTest: T - DAY - 1 }), { at: T, why: "test" });
  t.deepEqual(at({ lastTest: T - DAY }), { at: T, why: "test" }, "due exactly now");
});

test("asked for (a request, a registration, an SMS wake): at once", (t) => {
  t.deepEqual(at({ urgent: true }), { at: T, why: "asked" });
});

test("a routine item waits batchSeconds from when it was queued; the oldest counts", (t) => {
  const items = [
    { priority: PRIORITY.routine, at: T - 100 },
    { priority: PRIORITY.routine, at: T - 300 },
  ];
  t.deepEqual(at({ items }), { at: T - 300 + 600, why: "batch" });
  t.deepEqual(at({ items: [{ priority: PRIORITY.routine, at: T - 900 }] }), { at: T - 300, why: "batch" }, "overdue: a time already past, the dialer dials at once");
});

test("an alarm or media item: at once, before any batch", (t) => {
  t.deepEqual(at({ items: [{ priority: PRIORITY.routine, at: T - 100 }, { priority: PRIORITY.alarm, at: T - 5 }] }), { at: T, why: "alarm" });
  t.deepEqual(at({ items: [{ priority: PRIORITY.media, at: T }] }), { at: T, why: "alarm" });
});

test("an open alarm holding the link: polled pollSeconds after the last session, not before now", (t) => {
  t.deepEqual(at({ holding: true, lastEnded: T - 20 }), { at: T + 40, why: "alarm-poll" });
  t.deepEqual(at({ holding: true, lastEnded: T - 600 }), { at: T, why: "alarm-poll" });
  t.deepEqual(at({ holding: false, lastEnded: T - 20 }), { at: T - 3600 + DAY, why: "test" }, "no poll without an open alarm");
  t.deepEqual(at({ holding: true, lastEnded: T - 20, items: [{ priority: PRIORITY.routine, at: T - 590 }] }), { at: T + 10, why: "batch" }, "an earlier batch wins");
});

test("after a failed session: never before retryAt, whatever waits", (t) => {
  t.deepEqual(at({ urgent: true, retryAt: T + 30, items: [{ priority: PRIORITY.alarm, at: T }] }), { at: T + 30, why: "backoff" });
  t.deepEqual(at({ retryAt: T + 30 }), { at: T - 3600 + DAY, why: "test" }, "a later dial is not brought forward by the backoff");
  t.deepEqual(at({ urgent: true, retryAt: T - 1 }), { at: T, why: "asked" }, "a backoff already past changes nothing");
});

test("a frozen state is only read (strict mode would throw on a write)", (t) => {
  const s: DialState = Object.freeze({ ...base, holding: true, items: Object.freeze([Object.freeze({ priority: PRIORITY.routine, at: T - 10 })]) });
  t.deepEqual(nextDial(s), { at: T, why: "alarm-poll" });
});
