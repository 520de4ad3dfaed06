import { runCenter } from "./center";
import { runCard } from "./card";
import { runEstimate } from "./estimate";
import { runStart } from "./start";
import { runScenario } from "./scenario";
import { runSim } from "./sim";
import { runSimWeb } from "../host-sim/web/cli";
import { USAGE, UsageError } from "./usage";
import { joinDashValues, portInUse } from "./args";
import { PgError } from "../center/store/pg-db";

/** Flags that take a number or a duration: `--card -5` reaches their checks (cli/args.ts). */
const NUMERIC_FLAGS = ["--card", "--counts", "--id", "--max", "--port", "--http-port", "--mqtt-port", "--mqtt-tls-port", "--sim-port", "--speed", "--for", "--media-wait"];

const COMMANDS: Record<string, (argv: string[]) => number | Promise<number>> = {
  center: runCenter,
  card: runCard,
  estimate: runEstimate,
  start: runStart,
  scenario: runScenario,
  sim: runSim,
  "sim-web": runSimWeb,
};

export async function main(argv: string[]): Promise<number> {
  // `timeguard … | head`: the reader went away, nothing more to say; quit quietly, as other tools do
  // (it was an unhandled EPIPE stack)
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
  const [name, ...rest] = argv;
  if (name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  if (!name) {
    // called with nothing: the usage is the error message (stderr, exit code 2), as for an unknown command
    process.stderr.write(USAGE + "\n");
    return 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`timeguard: unknown command ${name}\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await command(joinDashValues(rest, NUMERIC_FLAGS));
  } catch (e) {
    const err = e as Error & { code?: string };
    if (e instanceof UsageError || (err.code && err.code.startsWith("ERR_PARSE_ARGS"))) {
      process.stderr.write(`timeguard ${name}: ${err.message}\n`);
      return 2;
    }
    const inUse = portInUse(e);
    if (inUse) {
      process.stderr.write(`timeguard ${name}: ${inUse}\n`);
      return 2;
    }
    // the world said no (a database not there, a file the system refuses): its one line, exit code 1;
    // a stack is for our own mistakes
    if (e instanceof PgError) {
      process.stderr.write(`timeguard ${name}: the PostgreSQL store (--store): ${err.message}\n`);
      return 1;
    }
    if (typeof err.code === "string" && /^E[A-Z]+$/.test(err.code)) {
      process.stderr.write(`timeguard ${name}: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`timeguard ${name}: ${err.stack ?? err.message}\n`);
    return 1;
  }
}
