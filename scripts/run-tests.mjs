// Runs ava over the built tests, passing its output through, and ends with the plain summary
// line CI reads: "N passed, N failed, N skipped". Exits with ava's own code.
import { spawn } from "node:child_process";

const child = spawn(process.execPath, ["node_modules/ava/entrypoints/cli.mjs", "--tap", ...process.argv.slice(2)], {
  stdio: ["ignore", "pipe", "inherit"],
});
let passed = 0;
let failed = 0;
let skipped = 0;
let rest = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  const lines = (rest + chunk.toString()).split("\n");
  rest = lines.pop() ?? "";
  for (const line of lines) {
    if (/^not ok \d+/.test(line)) failed++;
    else if (/^ok \d+.*# SKIP/.test(line)) skipped++;
    else if (/^ok \d+/.test(line)) passed++;
  }
});
child.on("close", (code) => {
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(code ?? 1);
});
