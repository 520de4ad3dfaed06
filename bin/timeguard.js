#!/usr/bin/env node
// The CLI, built by `npm run build` into dist/ (the install runs it).
import { main } from "../dist/cli.js";

const code = await main(process.argv.slice(2));
// A failed command exits at once: a server it had started (a center whose web port was taken)
// must not keep the process alive. stdout and stderr are synchronous on pipes and files here.
if (code !== 0) process.exit(code);
process.exitCode = code;
