/**
 * What one crossing of the XS engine's boundary costs here, with nothing else in it: a bare xsnap
 * worker making host calls out (issueCommand, a JSON request of an I2C read's size and a JSON
 * reply) and the host sending commands in (an empty one). Measured on the line the simulator uses
 * (host-sim/engines/xsnap-pipe.ts: the worker's protocol over FIFOs, blocking I/O) and, in the same
 * run as the baseline, through the package's own promise-based API. The simulator's round trips
 * (npm run bench:sim prints them) times these give the crossings' share of the XS week.
 * Run: npm run build && node dist/bench/xs-crossing.js
 */
import "@endo/init/debug.js";
import { xsnap } from "@agoric/xsnap";
import * as childProcess from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as tmp from "tmp";
import { XsnapPipe } from "../host-sim/engines/xsnap-pipe";

const encoder = new TextEncoder();
const OUT = 20_000;
const IN = 5_000;
const REPLY = encoder.encode(JSON.stringify({ value: "01000000ff00ff00", hold: 1776333600105 }));
const WORKER = `globalThis.handleCommand = (m) => {
  const n = JSON.parse(new TextDecoder().decode(m)).n;
  for (let i = 0; i < n; i++) JSON.parse(new TextDecoder().decode(issueCommand(new TextEncoder().encode(JSON.stringify({ op: "io.i2c.read", args: { h: 3, count: 27, stop: true }, t: 1776333600105 })).buffer)));
  return new TextEncoder().encode("{}").buffer;
};`;

interface Line {
  command(message: Uint8Array): Promise<unknown>;
}

async function measure(line: Line): Promise<{ out: number; into: number }> {
  let began = performance.now();
  await line.command(encoder.encode(JSON.stringify({ n: OUT })));
  const out = ((performance.now() - began) * 1000) / OUT;
  began = performance.now();
  for (let i = 0; i < IN; i++) await line.command(encoder.encode(JSON.stringify({ n: 0 })));
  const into = ((performance.now() - began) * 1000) / IN;
  return { out, into };
}

async function main(): Promise<void> {
  const load = () => os.loadavg().map((x) => x.toFixed(2)).join(" ");
  const before = load();
  const pipe = new XsnapPipe({ name: "timeguard-crossing", handleCommand: () => REPLY });
  let ours: { out: number; into: number };
  try {
    pipe.evaluate(WORKER);
    ours = await measure({ command: async (m) => pipe.issueCommand(m) });
  } finally {
    await pipe.close();
  }
  const worker = await xsnap({
    name: "timeguard-crossing",
    os: os.type(),
    spawn: childProcess.spawn,
    fs: { ...fs, ...fs.promises, tmpName: tmp.tmpName } as any,
    stdout: "inherit",
    stderr: "inherit",
    meteringLimit: 0,
    handleCommand: async () => REPLY,
  });
  let theirs: { out: number; into: number };
  try {
    await worker.evaluate(WORKER);
    theirs = await measure({ command: (m) => worker.issueCommand(m) });
  } finally {
    await worker.close();
  }
  const row = (label: string, r: { out: number; into: number }) =>
    console.log(`  ${label.padEnd(46)} a host call out ${r.out.toFixed(0).padStart(4)} us, a command in ${r.into.toFixed(0).padStart(4)} us`);
  console.log(`xsnap crossings (${OUT} calls out, ${IN} commands in):`);
  row("the simulator's line (xsnap-pipe, blocking I/O)", ours);
  row("the package's API (promises, event loop)", theirs);
  console.log(`load average (1, 5, 15 min) before ${before}, after ${load()}`);
}

await main();
