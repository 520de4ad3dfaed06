import test from "ava";
import { AlarmRules, IDLE_PANEL, PanelEvent, PanelState, SIREN_SECONDS, panelStep, parsePanel, soundOf } from "../firmware/core/alarm";

// The pure alarm panel (firmware/core/alarm.ts): (state, event, time) → (state, effects).

const RULES = { entrySeconds: 30, exitSeconds: 60 };

function run(events: Array<[number, PanelEvent]>, s0: PanelState = IDLE_PANEL, rules: AlarmRules = RULES) {
  let s = s0;
  const reports: Array<[number, string, string, number]> = [];
  const other: Array<[number, string]> = [];
  for (const [t, e] of events) {
    const r = panelStep(s, e, t, rules);
    s = r.state;
    for (const f of r.effects) {
      if (f.type === "report") reports.push([t, f.kind, f.sensor, f.contactId]);
      else other.push([t, f.type === "sound" ? `sound.${f.mode}` : f.type === "wake" ? `wake@${f.at}` : f.type]);
    }
  }
  return { s, reports, other };
}

test("a door while armed starts the entry delay; the PIN within it is an opening (401), no alarm", (t) => {
  const r = run([
    [0, { type: "arm" }],
    [60, { type: "tick" }],
    [100, { type: "detect", sensor: "D0001" }],
    [110, { type: "detect", sensor: "A0001" }], // the family walks in: the PIR follows the door
    [120, { type: "disarm", duress: false }],
    [130, { type: "tick" }],
  ]);
  t.deepEqual(r.reports, [[120, "opening", "D0001", 401]]);
  t.deepEqual(r.other, [[0, "sound.exit"], [0, "wake@60"], [60, "sound.off"], [100, "sound.entry"], [100, "wake@130"], [120, "sound.off"], [120, "end-period"]]);
  t.false(r.s.armed);
});

test("nobody disarms: the entry/exit alarm (134) when the delay is over, not before", (t) => {
  const r = run([
    [0, { type: "arm" }],
    [61, { type: "tick" }],
    [100, { type: "detect", sensor: "D0001" }],
    [129, { type: "tick" }],
    [130, { type: "tick" }],
  ]);
  t.deepEqual(r.reports, [[130, "entry", "D0001", 134]]);
  t.is(r.s.entry, null);
});

test("during the exit delay doors and PIRs are no alarm; after it a PIR is instant (130)", (t) => {
  const r = run([
    [0, { type: "arm" }],
    [10, { type: "detect", sensor: "D0001" }],
    [20, { type: "detect", sensor: "A0001" }],
    [60, { type: "tick" }],
    [70, { type: "detect", sensor: "A0001" }],
  ]);
  t.deepEqual(r.reports, [[70, "intrusion", "A0001", 130]]);
});

test("fire and tamper are 24-hour: reported disarmed too; a detect while disarmed is nothing", (t) => {
  const r = run([
    [5, { type: "detect", sensor: "D0001" }],
    [6, { type: "fire", sensor: "C0001" }],
    [7, { type: "tamper", sensor: "A0001" }],
  ]);
  t.deepEqual(r.reports, [[6, "fire", "C0001", 110], [7, "tamper", "A0001", 137]]);
});

test("the duress PIN: a silent duress alarm (121) first, then the opening; guarding ends as with the PIN", (t) => {
  const r = run([
    [0, { type: "arm" }],
    [100, { type: "disarm", duress: true }],
  ]);
  t.deepEqual(r.reports, [[100, "duress", "keypad", 121], [100, "opening", "keypad", 401]]);
  t.true(r.other.some(([, x]) => x === "end-period"));
});

test("panic (120) from the keypad at any time; a bypassed zone is left out for the period", (t) => {
  const r = run([
    [0, { type: "bypass", sensor: "D0001" }],
    [1, { type: "arm" }],
    [100, { type: "detect", sensor: "D0001" }],
    [101, { type: "panic" }],
    [200, { type: "end" }],
  ]);
  t.deepEqual(r.reports, [[101, "panic", "keypad", 120]]);
  t.deepEqual(r.s.bypass, [], "the bypass lasts one period");
});

test("a sensor lost while guarding: one trouble (381) per loss; back and lost again: another", (t) => {
  const r = run([
    [0, { type: "arm" }],
    [100, { type: "lost", sensor: "A0001" }],
    [110, { type: "lost", sensor: "A0001" }],
    [120, { type: "back", sensor: "A0001" }],
    [130, { type: "lost", sensor: "A0001" }],
    [140, { type: "end" }],
    [150, { type: "lost", sensor: "A0002" }],
  ]);
  t.deepEqual(r.reports, [[100, "trouble", "A0001", 381], [130, "trouble", "A0001", 381]]);
});

test("per alarm: new → seen (#) → dispatched with the note → closed and gone; a silent alarm stays silent", (t) => {
  let s = run([
    [0, { type: "raised", id: 7, kind: "intrusion", sensor: "A0001", silent: false }],
    [1, { type: "raised", id: 8, kind: "duress", sensor: "keypad", silent: true }],
  ]).s;
  t.like(s.alarms, [{ id: 7, status: "new", fresh: true }]);
  t.is(s.alarms.length, 1);
  s = panelStep(s, { type: "seen", id: 7 }, 2, RULES).state;
  t.like(s.alarms[0], { status: "seen", fresh: false });
  s = panelStep(s, { type: "center", id: 8, status: "dispatched", note: "guards" }, 3, RULES).state;
  t.is(s.alarms.length, 1, "the duress alarm's dispatch is not shown");
  s = panelStep(s, { type: "center", id: 7, status: "dispatched", note: "Team 3, ETA 12 min" }, 4, RULES).state;
  t.like(s.alarms[0], { status: "dispatched", note: "Team 3, ETA 12 min", fresh: true });
  s = panelStep(s, { type: "center", id: 7, status: "closed", note: null }, 5, RULES).state;
  t.deepEqual(s.alarms, []);
});

test("a stored state is checked field by field", (t) => {
  t.deepEqual(parsePanel("garbage"), IDLE_PANEL);
  const s = parsePanel({ armed: true, exitUntil: "x", entry: { sensor: "D0001", until: 5 }, bypass: ["D0001", 3, "zz"], alarms: [{ id: 1, kind: "nope" }] });
  t.deepEqual(s, { armed: true, exitUntil: null, entry: { sensor: "D0001", until: 5 }, bypass: ["D0001"], lost: [], alarms: [], siren: null });
  t.deepEqual(parsePanel({ siren: { kind: "fire", until: 9 } }).siren, { kind: "fire", until: 9 });
  t.is(parsePanel({ siren: { kind: "disco", until: 9 } }).siren, null);
});

test("the local alarm: an intrusion sounds it until the cut-off (3 minutes by default), the PIN silences it sooner", (t) => {
  const sounds = (r: ReturnType<typeof run>) => r.other.filter(([, x]) => x.startsWith("sound."));
  const cut = run([
    [0, { type: "arm" }],
    [60, { type: "tick" }],
    [100, { type: "detect", sensor: "A0001" }],
    [100 + SIREN_SECONDS - 1, { type: "tick" }],
    [100 + SIREN_SECONDS, { type: "tick" }],
  ]);
  t.deepEqual(sounds(cut), [[0, "sound.exit"], [60, "sound.off"], [100, "sound.alarm"], [100 + SIREN_SECONDS, "sound.off"]]);
  t.true(cut.other.some(([at, x]) => at === 100 && x === `wake@${100 + SIREN_SECONDS}`), "the cut-off is a wake-up");
  t.true(cut.s.armed, "the cut-off stops the noise, not guarding");
  const silenced = run([
    [0, { type: "arm" }],
    [60, { type: "tick" }],
    [100, { type: "detect", sensor: "A0001" }],
    [130, { type: "disarm", duress: false }],
  ]);
  t.deepEqual(sounds(silenced), [[0, "sound.exit"], [60, "sound.off"], [100, "sound.alarm"], [130, "sound.off"]]);
  t.is(silenced.s.siren, null);
});

test("the local alarm: the entry delay's beeps turn into the alarm when nobody disarms; the duress PIN and troubles stay silent", (t) => {
  const entry = run([
    [0, { type: "arm" }],
    [60, { type: "tick" }],
    [100, { type: "detect", sensor: "D0001" }],
    [130, { type: "tick" }],
  ]);
  t.deepEqual(entry.other.filter(([, x]) => x.startsWith("sound.")).map(([, x]) => x), ["sound.exit", "sound.off", "sound.entry", "sound.alarm"]);
  const quiet = run([
    [0, { type: "arm" }],
    [60, { type: "tick" }],
    [70, { type: "lost", sensor: "A0001" }],
    [80, { type: "disarm", duress: true }],
  ]);
  t.deepEqual(quiet.other.filter(([, x]) => x.startsWith("sound.")).map(([, x]) => x), ["sound.exit", "sound.off"]);
  t.is(quiet.s.siren, null);
});

test("the local alarm: fire sounds the temporal-three pattern, disarmed too, and wins over a burglary alarm; silence stops it; 0 s sounds nothing", (t) => {
  const fire = run([
    [0, { type: "arm" }],
    [60, { type: "tick" }],
    [100, { type: "detect", sensor: "A0001" }],
    [110, { type: "fire", sensor: "C0001" }],
    [120, { type: "detect", sensor: "A0002" }],
  ]);
  t.is(soundOf(fire.s), "fire");
  t.deepEqual(fire.s.siren, { kind: "fire", until: 120 + SIREN_SECONDS }, "each new alarm restarts the cut-off");
  const idle = run([
    [5, { type: "fire", sensor: "C0001" }],
    [20, { type: "silence" }],
  ]);
  t.deepEqual(idle.other.filter(([, x]) => x.startsWith("sound.")), [[5, "sound.fire"], [20, "sound.off"]]);
  const mute = run([[5, { type: "tamper", sensor: "A0001" }]], IDLE_PANEL, { ...RULES, sirenSeconds: 0 });
  t.deepEqual(mute.reports, [[5, "tamper", "A0001", 137]]);
  t.deepEqual(mute.other, [], "no sound, no wake");
});
