import "@endo/init/debug.js";
import { xsnap } from "@agoric/xsnap";
import * as childProcess from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as tmp from "tmp";
import type { Engine, Meter } from "./engine";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Installed before the bundle: the host line through xsnap's synchronous issueCommand. */
const PRELUDE = `
globalThis.__tgHostCall = (request) => new TextDecoder().decode(issueCommand(new TextEncoder().encode(request).buffer));
`;
/** Installed after the bundle: xsnap delivers the parent's commands to handleCommand. */
const POSTLUDE = `
globalThis.handleCommand = (message) => new TextEncoder().encode(globalThis.__tgCommand(new TextDecoder().decode(message))).buffer;
`;

/**
 * The firmware bundle under the XS engine (the engine Moddable runs on the ESP32), in an xsnap
 * worker process. Host calls arrive synchronously through issueCommand; time is whatever the host
 * says. Every reply carries XS meter figures.
 */
export async function startXsEngine(bundle: string, hostCall: (request: string) => string): Promise<Engine> {
  const worker = await xsnap({
    name: "timeguard-firmware",
    os: os.type(),
    spawn: childProcess.spawn,
    fs: { ...fs, ...fs.promises, tmpName: tmp.tmpName } as any,
    stdout: "inherit",
    stderr: "inherit",
    meteringLimit: 0,
    handleCommand: async (message: Uint8Array) => encoder.encode(hostCall(decoder.decode(message))),
  });
  const meter: Meter = { compute: 0, lastCompute: 0, allocate: 0, heapCount: 0, calls: 0 };
  const account = (usage: { compute: number | null; allocate: number | null; currentHeapCount: number | null }) => {
    meter.lastCompute = usage.compute ?? 0;
    meter.compute += meter.lastCompute;
    meter.allocate = Math.max(meter.allocate, usage.allocate ?? 0);
    meter.heapCount = usage.currentHeapCount ?? meter.heapCount;
    meter.calls++;
  };
  try {
    account((await worker.evaluate(PRELUDE + bundle + POSTLUDE)).meterUsage);
  } catch (e) {
    await worker.close().catch(() => undefined);
    throw e;
  }
  let closed = false;
  return {
    name: "xs",
    async command(request) {
      if (closed) throw new Error("engine closed");
      const result = await worker.issueCommand(encoder.encode(request));
      account(result.meterUsage);
      return decoder.decode(result.reply);
    },
    meter: () => ({ ...meter }),
    async close() {
      if (closed) return;
      closed = true;
      await worker.close().catch(() => worker.terminate());
    },
  };
}
