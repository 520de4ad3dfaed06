/**
 * What one crossing of the XS engine's boundary costs here, with nothing else in it: a bare xsnap
 * worker making host calls out (issueCommand, a JSON request of an I2C read's size and a JSON
 * reply) and the host sending commands in (an empty one). The simulator's round trips
 * (npm run bench:sim prints them) times these give the crossings' share of the XS week.
 * Run: npm run build && node dist/bench/xs-crossing.js
 */
import "@endo/init/debug.js";
import { xsnap } from "@agoric/xsnap";
import * as childProcess from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as tmp from "tmp";

const encoder = new TextEncoder();
const OUT = 20_000;
const IN = 5_000;

async function main(): Promise<void> {
  const worker = await xsnap({
    name: "timeguard-crossing",
    os: os.type(),
    spawn: childProcess.spawn,
    fs: { ...fs, ...fs.promises, tmpName: tmp.tmpName } as any,
    stdout: "inherit",
    stderr: "inherit",
    meteringLimit: 0,
    handleCommand: async () => encoder.encode(JSON.stringify({ value: "01000000ff00ff00", hold: 1776333600105 })),
  });
  try {
    await worker.evaluate(`globalThis.handleCommand = (m) => {
      const n = JSON.parse(new TextDecoder().decode(m)).n;
      for (let i = 0; i < n; i++) JSON.parse(new TextDecoder().decode(issueCommand(new TextEncoder().encode(JSON.stringify({ op: "io.i2c.read", args: { h: 3, count: 27, stop: true }, t: 1776333600105 })).buffer)));
      return new TextEncoder().encode("{}").buffer;
    };`);
    const load = () => os.loadavg().map((x) => x.toFixed(2)).join(" ");
    const before = load();
    let began = performance.now();
    await worker.issueCommand(encoder.encode(JSON.stringify({ n: OUT })));
    const out = ((performance.now() - began) * 1000) / OUT;
    began = performance.now();
    for (let i = 0; i < IN; i++) await worker.issueCommand(encoder.encode(JSON.stringify({ n: 0 })));
    const into = ((performance.now() - began) * 1000) / IN;
    console.log(`xsnap crossings: a host call out ${out.toFixed(0)} us (${OUT} calls), a command in ${into.toFixed(0)} us (${IN} commands)`);
    console.log(`load average (1, 5, 15 min) before ${before}, after ${load()}`);
  } finally {
    await worker.close();
  }
}

await main();
