import "@endo/init/debug.js";
import { build } from "esbuild";
import { xsnap } from "@agoric/xsnap";
import * as childProcess from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as tmp from "tmp";

/**
 * Runs `source` (TypeScript importing the firmware or the shims, from the project root) in an
 * xsnap worker; what it sends with `issueCommand` (JSON text) comes back, in order.
 */
export async function underXs(source: string): Promise<unknown[]> {
  const out = await build({
    stdin: { contents: source, resolveDir: process.cwd(), sourcefile: "xs-run-entry.ts", loader: "ts" },
    bundle: true,
    write: false,
    format: "iife",
    platform: "neutral",
    target: "es2022",
    logLevel: "warning",
  });
  const reports: unknown[] = [];
  const worker = await xsnap({
    name: "xs-run",
    os: os.type(),
    spawn: childProcess.spawn,
    fs: { ...fs, ...fs.promises, tmpName: tmp.tmpName },
    stdout: "inherit",
    stderr: "inherit",
    meteringLimit: 0,
    handleCommand: async (m: Uint8Array) => {
      reports.push(JSON.parse(new TextDecoder().decode(m)));
      return new Uint8Array(0);
    },
  });
  try {
    await worker.evaluate(out.outputFiles[0].text);
  } finally {
    await worker.close().catch(() => worker.terminate());
  }
  return reports;
}

