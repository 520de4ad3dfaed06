import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | null = null;

/** The checkout's root: the nearest folder above this module holding the timeguard package.json. */
export function projectRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).name === "timeguard") return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the timeguard checkout");
    dir = up;
  }
}

/** The manifest's `config`: what mc/config gives the firmware on a board. */
export function manifestConfig(): Record<string, unknown> {
  const manifest = JSON.parse(readFileSync(join(projectRoot(), "manifest.json"), "utf8"));
  return manifest.config ?? {};
}

let bundle: string | null = null;

/** The firmware bundle built by `npm run build` (scripts/build.mjs). */
export function firmwareBundle(): string {
  if (bundle) return bundle;
  const path = join(projectRoot(), "dist", "firmware-host.js");
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build`);
  return (bundle = readFileSync(path, "utf8"));
}
