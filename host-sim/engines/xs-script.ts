import { build } from "esbuild";
import { XsnapPipe } from "./xsnap-pipe";

/**
 * A piece of TypeScript (importing the firmware, the shims or test helpers by path from
 * `resolveDir`) bundled as one script for an XS worker: no Node APIs, the same esbuild settings as
 * the firmware bundle's (scripts/build.mjs).
 */
export async function bundleForXs(source: string, resolveDir: string, alias?: Record<string, string>): Promise<string> {
  const out = await build({
    stdin: { contents: source, resolveDir, sourcefile: "xs-entry.ts", loader: "ts" },
    bundle: true,
    write: false,
    format: "iife",
    platform: "neutral",
    target: "es2022",
    logLevel: "warning",
    ...(alias ? { alias } : {}),
  });
  return out.outputFiles[0].text;
}

/**
 * Evaluates `code` in a fresh xsnap worker and closes it; what the script sends with
 * `issueCommand` goes to `onCommand`, whose answer it gets back.
 */
export async function runInXs(name: string, code: string, onCommand: (message: Uint8Array) => Uint8Array = () => new Uint8Array(0)): Promise<void> {
  const worker = new XsnapPipe({ name, handleCommand: onCommand });
  try {
    worker.evaluate(code);
  } finally {
    await worker.close().catch(() => worker.terminate());
  }
}
