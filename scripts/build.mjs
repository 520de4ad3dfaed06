// Builds what runs on the host:
//  - dist/firmware-host.js: the firmware bundled as one script, with the Moddable module
//    specifiers it imports (timer, preference, mc/config, rtc) aliased to host-sim/shims/.
//    Both engines (XS in xsnap, Node in a vm context) evaluate this same file.
//  - dist/cli.js and dist/tests/*.test.js: the Node side, bundled so that firmware sources keep
//    Moddable-style extensionless imports.
// Type checking is `tsc --noEmit` (npm run typecheck); esbuild only strips types.
import { build } from "esbuild";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { unlisted } from "./manifest-modules.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const shims = {
  timer: "host-sim/shims/timer.ts",
  preference: "host-sim/shims/preference.ts",
  "mc/config": "host-sim/shims/mc-config.ts",
  rtc: "host-sim/shims/rtc.ts",
  time: null, // only firmware/platform/esp32 uses it, and the host maps rtc instead
  "embedded:io/socket/udp": "host-sim/shims/socket-udp.ts",
  "embedded:io/socket/tcp": "host-sim/shims/socket-tcp.ts",
  "embedded:io/socket/listener": "host-sim/shims/socket-listener.ts",
};

const moddableAliases = {
  name: "moddable-aliases",
  setup(b) {
    b.onResolve({ filter: /^(timer|preference|mc\/config|rtc|time|embedded:.*)$/ }, (args) => {
      const target = shims[args.path];
      if (!target) return { errors: [{ text: `${args.path} has no host emulation (imported by ${args.importer})` }] };
      return { path: join(root, target) };
    });
  },
};

/**
 * Fails the host build when the firmware reaches a source file that manifest.json's `modules` does
 * not list, or lists under a specifier its importers do not use: on a board that import fails with
 * "module not found" at start (scripts/manifest-modules.mjs).
 */
const manifestCoverage = {
  name: "manifest-coverage",
  setup(b) {
    const manifest = JSON.parse(readFileSync(join(root, "manifest.json"), "utf8"));
    b.onLoad({ filter: /[\\/]firmware[\\/].*\.ts$/ }, (args) => {
      const why = unlisted(manifest, args.path.slice(root.length + 1).split("\\").join("/"));
      return why ? { errors: [{ text: why }] } : undefined;
    });
  },
};

await build({
  absWorkingDir: root,
  entryPoints: ["host-sim/firmware-entry.ts"],
  outfile: "dist/firmware-host.js",
  bundle: true,
  format: "iife",
  platform: "neutral",
  target: "es2022",
  plugins: [moddableAliases, manifestCoverage],
  logLevel: "warning",
});

// TG_ONLY=word builds only the tests and benches whose file name contains it (for working on a few).
const only = process.env.TG_ONLY;
const pick = (f) => !only || f.includes(only);
// A full build starts from empty test, bench and chunk folders: a test deleted or renamed in the
// sources must not go on running from an old build (and old chunks must not pile up). A TG_ONLY
// build keeps the others' files, but drops the built tests whose source is gone.
if (!only) for (const d of ["chunks", "tests", "bench"]) rmSync(join(root, "dist", d), { recursive: true, force: true });
else if (existsSync(join(root, "dist", "tests"))) {
  for (const f of readdirSync(join(root, "dist", "tests"))) {
    const m = /^(.*\.test)\.js(\.map)?$/.exec(f);
    if (m && !existsSync(join(root, "tests", `${m[1]}.ts`))) rmSync(join(root, "dist", "tests", f), { force: true });
  }
}
const tests = readdirSync(join(root, "tests"))
  .filter((f) => f.endsWith(".test.ts") && pick(f))
  .map((f) => `tests/${f}`);
const benches = readdirSync(join(root, "bench"))
  .filter((f) => f.endsWith(".ts") && pick(f))
  .map((f) => `bench/${f}`);

await build({
  absWorkingDir: root,
  entryPoints: [
    { in: "cli/main.ts", out: "cli" },
    // worker threads' scripts, found beside the chunks: center/store/wal-checkpointer.ts, center/store/pg-db.ts
    { in: "center/store/checkpoint-worker.ts", out: "center-checkpoint-worker" },
    { in: "center/store/pg-worker.ts", out: "pg-worker" },
    ...[...tests, ...benches].map((p) => ({ in: p, out: p.replace(/\.ts$/, "") })),
  ],
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  chunkNames: "chunks/[name]-[hash]",
  sourcemap: "linked",
  logLevel: "warning",
});
