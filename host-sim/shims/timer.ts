/**
 * Moddable's `timer` module on virtual time. The host moves time forward with `advanceTo`; due
 * callbacks run in order, each seeing the clock at its own due time. Nothing here reads a real clock.
 */
interface Entry {
  id: TimerID;
  due: number;
  repeat: number;
  callback: (id: TimerID) => void;
  seq: number;
}
type TimerID = { readonly timer: number };

let nowMs = 0;
let seq = 0;
let nextId = 1;
const entries: Entry[] = [];

function insert(e: Entry): void {
  let i = entries.length;
  while (i > 0 && (entries[i - 1].due > e.due || (entries[i - 1].due === e.due && entries[i - 1].seq > e.seq))) i--;
  entries.splice(i, 0, e);
}

function remove(id: TimerID | undefined): Entry | undefined {
  const i = entries.findIndex((e) => e.id === id);
  return i < 0 ? undefined : entries.splice(i, 1)[0];
}

const Timer = {
  set(callback: (id: TimerID) => void, interval = 0, repeat = 0): TimerID {
    const id: TimerID = Object.freeze({ timer: nextId++ });
    insert({ id, due: nowMs + Math.max(0, interval), repeat: Math.max(0, repeat), callback, seq: seq++ });
    return id;
  },
  repeat(callback: (id: TimerID) => void, interval: number): TimerID {
    return Timer.set(callback, interval, interval);
  },
  schedule(id: TimerID, interval = 0, repeat = 0): void {
    const e = remove(id);
    if (!e) return;
    insert({ ...e, due: nowMs + interval, repeat, seq: seq++ });
  },
  clear(id: TimerID | undefined): void {
    remove(id);
  },
};
export default Timer;

export function virtualNow(): number {
  return nowMs;
}

export function setNow(ms: number): void {
  nowMs = ms;
}

/** The host's next event: no timer due at or after it runs beyond `base` (see runTimers). */
let hold = Infinity;

export function setHold(ms: number | null): void {
  hold = ms === null ? Infinity : ms;
}

/** Runs every callback due at or before `target`, in order, then sets the clock to `target`. */
export function advanceTo(target: number): number {
  setHold(null);
  return runTimers(target, target);
}

/**
 * Brings the clock to `at`, the instant of the host's events about to be delivered: callbacks due
 * before it run first (time order), and the events' handlers then read the clock at their own
 * instant, as on a board, not at the last timer that ran.
 */
export function reach(at: number): number {
  let ran = 0;
  for (; entries.length > 0 && entries[0].due < at; ran++) runFirst();
  if (at > nowMs) nowMs = at;
  return ran;
}

/**
 * `reach` for host events a step carries ahead of their instant (firmware-entry.ts step, `later`):
 * the callbacks due before `at` run only as runTimers runs them (each before the host's next
 * event, the unsent calls sent first, since they may bring it closer), and the clock comes to `at`
 * only when `at` is before the host's next event. False when it stopped short: the host then
 * delivers those events itself, at their instant.
 */
export function reachAhead(at: number): boolean {
  for (;;) {
    if (unsent.pending()) unsent.send();
    if (entries.length === 0 || entries[0].due >= at) break;
    if (entries[0].due >= hold) return false;
    runFirst();
  }
  if (at >= hold) return false;
  if (at > nowMs) nowMs = at;
  return true;
}

/**
 * Calls the firmware made that may move the host's next event but have not reached the host yet
 * (the bridge's posted calls: bytes on a UART): `pending` says so, `send` sends them (their reply
 * sets `hold`). They add host events, so `hold` comes earlier if it moves: a timer due at or after
 * the `hold` known stops the run without them (were it later, the timer runs at the next step, at
 * its own instant all the same).
 */
let unsent: { pending(): boolean; send(): void } = { pending: () => false, send: () => undefined };

export function onUnsentCalls(u: { pending(): boolean; send(): void }): void {
  unsent = u;
}

/** Runs the first callback due, at its own time (a repeating one is set again first). */
function runFirst(): void {
  const e = entries.shift() as Entry;
  nowMs = Math.max(nowMs, e.due);
  if (e.repeat > 0) insert({ ...e, due: e.due + e.repeat, seq: seq++ });
  e.callback(e.id);
}

/**
 * Runs the callbacks due by `base` (as advanceTo), then those due by `target` for as long as each
 * is due before the host's next event (`hold`: set by the host with the step, then by every host
 * call's reply). The clock ends at `target`, or at the host's next event when that comes first
 * (never past it: the host's keypad, sensors and modem act there, and the firmware must hear them
 * at that instant, not later), or at `base` or the last timer run when a hold stopped the run.
 */
export function runTimers(base: number, target: number, askHost = false): number {
  let ran = 0;
  for (;;) {
    if (entries.length === 0 || entries[0].due > target) break;
    const due = entries[0].due;
    if (due > base) {
      if (due >= hold) break; // an earlier hold (after the unsent calls) would stop here too
      if (unsent.pending()) {
        // whether it runs depends on the host's next event: learn it first (`askHost`: the step's
        // caller asks the host to go on, the calls travelling with that question, heldBefore)
        if (askHost) break;
        unsent.send();
        continue;
      }
    }
    runFirst();
    ran++;
  }
  // With calls unsent the host's next event is not known: the clock stays at `base` (the next
  // step brings it on); otherwise it goes to `target` or to the host's next event.
  const end = unsent.pending() || (entries.length > 0 && entries[0].due <= target) ? base : Math.min(target, Math.max(base, hold));
  if (end > nowMs) nowMs = end;
  return ran;
}

/**
 * After runTimers: whether it stopped at the host's next event before `to` (or calls not sent yet
 * may give the host one): the step may ask the host to go on there rather than end
 * (firmware-entry.ts step). Not while the host has real work under way (hold 0): the host waits
 * for it between steps.
 */
export function heldBefore(to: number): boolean {
  return hold !== 0 && (hold <= to || unsent.pending());
}

export function nextDue(): number | null {
  return entries.length > 0 ? entries[0].due : null;
}
