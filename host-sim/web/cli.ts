import { parseArgs } from "node:util";
import { isEngineName } from "../engines/engine";
import { Simulator } from "../simulator";
import { attachBuzzer } from "../devices/buzzer";
import { attachKeypad } from "../devices/keypad-matrix";
import { attachLcd } from "../devices/lcd-pcf8574";
import { parseTime } from "../../firmware/core/time";
import { readJsonFile } from "../../cli/files";
import { UsageError } from "../../cli/usage";
import { flashFile, portNumber, positiveNumber } from "../../cli/args";
import { SimWebServer } from "./server";

/**
 * `timeguard sim-web [--engine xs|node] [--port 8080] [--start TIME] [--speed N] [--flash FILE]
 * [--plan P.json]`: the simulated terminal on a web page at http://127.0.0.1:PORT/, running in
 * real time × speed until Ctrl-C.
 */
export async function runSimWeb(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      engine: { type: "string", default: "xs" },
      port: { type: "string", default: "8080" },
      start: { type: "string" },
      speed: { type: "string", default: "1" },
      flash: { type: "string" },
      plan: { type: "string" },
    },
    strict: true,
  });
  if (!isEngineName(values.engine)) throw new UsageError(`--engine must be xs or node, got ${values.engine}`);
  const port = portNumber(values.port, "--port");
  const speed = positiveNumber(values.speed, "--speed", 100000);
  let startMs = Math.floor(Date.now() / 60000) * 60000;
  if (values.start !== undefined) {
    try {
      startMs = parseTime(values.start, "--start") * 1000;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const sim = await Simulator.start({ engine: values.engine, startMs, flashPath: flashFile(values.flash) });
  attachLcd(sim);
  attachKeypad(sim);
  attachBuzzer(sim);
  if (values.plan !== undefined) {
    const r = await sim.command("plan.set", { plan: readJsonFile(values.plan, "plan") });
    if (r && r.ok === false) {
      await sim.close();
      throw new UsageError(`${values.plan}: ${r.error}`);
    }
  }
  // Sensors and the card reader join the page through the script actions their emulations register.
  let web: SimWebServer;
  try {
    web = await SimWebServer.start(sim, { port, speed, newSession: true });
  } catch (e) {
    await sim.close();
    throw e;
  }
  process.stdout.write(`timeguard terminal (${sim.engineName}) on ${web.url}  (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await web.close();
  await sim.close();
  return 0;
}
