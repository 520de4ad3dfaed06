#!/usr/bin/env node
// The CLI, built by `npm run build` into dist/ (the install runs it).
import { main } from "../dist/cli.js";

process.exitCode = await main(process.argv.slice(2));
