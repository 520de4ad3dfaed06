import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { progressLine } from "../cli/progress";
import { parseTime } from "../firmware/core/time";
import { projectRoot } from "../host-sim/project";
import { parseScript, scriptEndMs } from "../host-sim/script";
import "../host-sim/devices/sensors"; // the walk-through's sensor.* actions
import "../host-sim/devices/keypad-matrix"; // keys
import { scenarioOutput } from "../cli/scenario"; // (and its card.new, operator.dispatch actions)

const ms = (time: string) => parseTime(time, "t") * 1000;

/** A stand-in for stderr on a terminal that keeps what is written (only isTTY and write are used). */
function terminal(isTTY = true) {
  const written: string[] = [];
  const stream = { isTTY, write: (s: string) => (written.push(s), true) } as unknown as NodeJS.WriteStream;
  return { stream, written, last: () => written[written.length - 1].replace(/^\r\x1b\[K/, "") };
}

test("a script's virtual end: its last at time, plus the waits and power cuts after it", (t) => {
  const walk = parseScript(JSON.parse(readFileSync(join(projectRoot(), "scenarios", "patent-walkthrough.json"), "utf8")));
  t.is(scriptEndMs(walk, walk.start!), ms("2026-05-06T00:00"));
  const start = ms("2026-04-16T12:00");
  const relative = parseScript([{ do: "wait", for: "1h" }, { at: "+3h", do: "snapshot" }, { do: "power-cut", for: "30m" }, { do: "wait", for: "bad" }]);
  t.is(scriptEndMs(relative, start), start + 3.5 * 3_600_000);
});

test("the progress line counts virtual time, not actions: the walk-through's 31 typed actions are not 86 % of it", (t) => {
  const walk = parseScript(JSON.parse(readFileSync(join(projectRoot(), "scenarios", "patent-walkthrough.json"), "utf8")));
  const tty = terminal();
  const p = progressLine(walk.start!, scriptEndMs(walk, walk.start!), tty.stream)!;
  p.action(31, 36, ms("2026-04-16T21:30"));
  t.is(tty.last(), "virtual 2026-04-16T21:30 of 2026-05-06T00:00 (+09:00) · 2% · action 31/36");
  p.action(33, 36, ms("2026-04-28T02:00"));
  t.is(tty.last(), "virtual 2026-04-28T02:00 of 2026-05-06T00:00 (+09:00) · 59% · action 33/36");
  p.done();
  t.is(tty.written[tty.written.length - 1], "\r\x1b[K", "the line is wiped at the end");
});

test("the progress line without a known end shows the share of actions; piped, there is none", (t) => {
  const start = ms("2026-04-16T12:00");
  const tty = terminal();
  const p = progressLine(start, start, tty.stream)!;
  p.action(1, 4, start + 60_000);
  t.is(tty.last(), "virtual 2026-04-16T12:01 (+09:00) · 25% · action 1/4");
  t.is(progressLine(start, start + 1000, terminal(false).stream), null);
});

test("scenario's output: JSON when piped, a summary on a terminal, the JSON to --out with a summary", (t) => {
  const result = { engine: "xs", terminalId: "T0001", periods: [{}, {}], totalYen: 50976, countsTaken: 5097, feeMismatches: 0, alarms: [{ media: [{}, {}] }], notifications: [{}], dispatches: [{}], terminal: { lcd: ["GUARDING"] } };
  const written: Array<[string, string]> = [];
  const write = (path: string, text: string) => void written.push([path, text]);
  t.deepEqual(JSON.parse(scenarioOutput(result, undefined, false, write)), result, "piped: the JSON");
  const tty = scenarioOutput(result, undefined, true, write);
  t.regex(tty, /^terminal T0001 under XS: 2 periods closed at the center, 50,976 yen, 5,097 counts taken from the card\ncenter: 1 alarm \(2 media items\), 1 notification, 1 operator action\n/);
  t.regex(tty, /\(the whole result as JSON: --out FILE, or pipe the output\)\n$/);
  t.deepEqual(written, [], "nothing written without --out");
  const out = scenarioOutput(result, "r.json", true, write);
  t.regex(out, /wrote r\.json \(the whole result, JSON\)\n$/);
  t.deepEqual(JSON.parse(written[0][1]), result);
});
