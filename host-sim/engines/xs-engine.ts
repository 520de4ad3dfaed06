import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Engine, LiveMemory, Meter } from "./engine";
import { FREEZE_BUILTINS } from "./frozen-builtins";
import { XsnapPipe } from "./xsnap-pipe";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Installed before the bundle: the built-ins frozen as xsl freezes them on a board, and the host
 * line through xsnap's synchronous issueCommand.
 */
const PRELUDE = FREEZE_BUILTINS + `
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
  const worker = new XsnapPipe({
    name: "timeguard-firmware",
    handleCommand: (message: Uint8Array) => encoder.encode(hostCall(decoder.decode(message))),
  });
  const meter: Meter = { compute: 0, lastCompute: 0, allocate: 0, heapCount: 0, calls: 0, collections: 0 };
  const account = (usage: { compute: number | null; allocate: number | null; currentHeapCount: number | null }) => {
    meter.lastCompute = usage.compute ?? 0;
    meter.compute += meter.lastCompute;
    meter.allocate = Math.max(meter.allocate, usage.allocate ?? 0);
    const heapCount = usage.currentHeapCount ?? meter.heapCount;
    if (heapCount < meter.heapCount) meter.collections++;
    meter.heapCount = heapCount;
    meter.calls++;
  };
  try {
    account(worker.evaluate(PRELUDE + bundle + POSTLUDE).meterUsage);
  } catch (e) {
    await worker.close().catch(() => undefined);
    throw e;
  }
  let closed = false;
  return {
    name: "xs",
    async command(request) {
      if (closed) throw new Error("engine closed");
      const result = worker.issueCommand(encoder.encode(request));
      account(result.meterUsage);
      return decoder.decode(result.reply);
    },
    meter: () => ({ ...meter }),
    async collect() {
      if (closed) throw new Error("engine closed");
      const { meterUsage } = worker.evaluate("gc()");
      meter.heapCount = meterUsage.currentHeapCount ?? meter.heapCount;
      return meter.heapCount;
    },
    async liveMemory() {
      if (closed) throw new Error("engine closed");
      worker.evaluate("gc()");
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tg-xs-snapshot-"));
      try {
        const file = path.join(dir, "machine.xss");
        worker.snapshot(file);
        const bytes = new Uint8Array(fs.readFileSync(file));
        return { ...parseSnapshot(bytes), snapshot: bytes };
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await worker.close().catch(() => worker.terminate());
    },
  };
}

/**
 * The live slots and chunk bytes of an XS snapshot (xs/sources/xsSnapshot.c): an "XS_M" atom that
 * holds VERS (its 4th byte: the size of a slot), SIGN, CREA, BLOC (the live chunks), HEAP (the
 * live slots), … each atom a 4-byte big-endian size (header included) and a 4-letter tag.
 */
export function parseSnapshot(bytes: Uint8Array): Omit<LiveMemory, "snapshot"> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
  if (bytes.length < 16 || tag(0) !== "XS_M") throw new Error("not an XS snapshot");
  let slotBytes = 0;
  let heap = -1;
  let chunkBytes = -1;
  for (let at = 8; at + 8 <= bytes.length && (heap < 0 || chunkBytes < 0); ) {
    const size = view.getUint32(at);
    if (size < 8) throw new Error("XS snapshot: bad atom");
    const t = tag(at);
    if (t === "VERS") slotBytes = Math.abs(view.getInt8(at + 11));
    else if (t === "BLOC") chunkBytes = size - 8;
    else if (t === "HEAP") heap = size - 8;
    at += size;
  }
  if (!slotBytes || heap < 0 || chunkBytes < 0) throw new Error("XS snapshot: VERS, BLOC or HEAP missing");
  return { slots: heap / slotBytes, chunkBytes, slotBytes };
}
