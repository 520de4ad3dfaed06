import { parseArgs } from "node:util";
import { DEMO } from "../center/demo";
import { formatTime } from "../firmware/core/time";
import { DemoClockError } from "../host-sim/demo-clock";
import { DemoDataError, openDemo } from "../host-sim/demo-stack";
import { CardFileError } from "../host-sim/devices/card-file";
import { isEngineName } from "../host-sim/engines/engine";
import { SimWebServer } from "../host-sim/web/server";
import { portNumber, positiveNumber } from "./args";
import { UsageError } from "./usage";
import { holder, lockDemo, lockFolder } from "./folder-lock";
import { join } from "node:path";

function port(v: string, name: string): number {
  return portNumber(v, `--${name}`);
}

/**
 * `timeguard start`: the center (embedded broker, SQLite under ./var) and a simulated terminal with
 * sensors and a prepaid card under XS, dialling that center; prints the two pages and the logins.
 */
export async function runStart(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      engine: { type: "string", default: "xs" },
      data: { type: "string", default: "var" },
      "http-port": { type: "string", default: "8080" },
      "mqtt-port": { type: "string", default: "1883" },
      "mqtt-tls-port": { type: "string", default: "8883" },
      "plain-link": { type: "boolean", default: false },
      "sim-port": { type: "string", default: "8081" },
      speed: { type: "string", default: "1" },
      fresh: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (!isEngineName(values.engine)) throw new UsageError(`--engine must be xs or node, got ${values.engine}`);
  const speed = positiveNumber(values.speed, "--speed", 100000);
  const httpPort = port(values["http-port"], "http-port");
  const mqttPort = port(values["mqtt-port"], "mqtt-port");
  const mqttTlsPort = port(values["mqtt-tls-port"], "mqtt-tls-port");
  const simPort = port(values["sim-port"], "sim-port");
  const unlock = lockDemo(values.data);
  try {
    return await runDemo({ ...values, engine: values.engine }, { speed, httpPort, mqttPort, mqttTlsPort, simPort });
  } finally {
    unlock();
  }
}

async function runDemo(
  values: { engine: "xs" | "node"; data: string; fresh: boolean; "plain-link": boolean },
  p: { speed: number; httpPort: number; mqttPort: number; mqttTlsPort: number; simPort: number },
): Promise<number> {
  const { speed, httpPort, mqttPort, mqttTlsPort, simPort } = p;
  // the demo's center folder must not be in use by a `timeguard center` of its own
  const centerDir = join(values.data, "center");
  const inUse = holder(centerDir);
  if (inUse) throw new UsageError(`${centerDir}/, the demo's center, is in use by ${inUse.what} (process ${inUse.pid}): stop that one first`);
  let demo;
  try {
    demo = await openDemo({
      engine: values.engine,
      dataDir: values.data,
      fresh: values.fresh,
      httpPort,
      mqttPort,
      mqttTlsPort,
      link: values["plain-link"] ? "plain" : "tls",
      clockMarginMs: Math.max(60_000, speed * 10_000),
      log: (line) => process.stderr.write(`center: ${line}\n`),
    });
  } catch (e) {
    // a demo file that is not what it should be (edited, cut short): say which, and the way out
    if (e instanceof DemoDataError || e instanceof DemoClockError || e instanceof CardFileError) {
      throw new UsageError(/--fresh/.test(e.message) ? e.message : `${e.message} (--fresh starts the demo over)`);
    }
    throw e;
  }
  const stack = demo.stack;
  let web: SimWebServer;
  let unlockCenter: () => void = () => undefined;
  try {
    unlockCenter = lockFolder(centerDir, "timeguard start", (pid, what) => `${centerDir}/, the demo's center, is in use by ${what} (process ${pid}): stop that one first`);
    web = await SimWebServer.start(stack.sim, { port: simPort, speed });
  } catch (e) {
    await demo.stop();
    unlockCenter();
    throw e;
  }
  const center = `http://127.0.0.1:${stack.center.httpPort}/`;
  const u = DEMO.users;
  const when = formatTime(Math.floor(stack.sim.clock.now / 1000), 540);
  process.stdout.write(
    [
      `Timeguard is running (terminal firmware under ${stack.sim.engineName.toUpperCase()}):`,
      demo.resumed
        ? `  resumed the demo in ${values.data}/ at ${when} (terminal clock, +09:00); --fresh starts over`
        : `  a new demo in ${values.data}/, terminal clock ${when} (+09:00); a later start resumes it`,
      `  terminal (simulator page): ${web.url}`,
      `  center:                    ${center}`,
      `  logins: admin ${u.admin.username} / ${u.admin.password}, operator ${u.operator.username} / ${u.operator.password}, manager ${u.manager.username} / ${u.manager.password}`,
      stack.center.mqttTlsPort !== null
        ? `  MQTT for terminals on 127.0.0.1:${stack.center.mqttPort}, and TLS 1.2 PSK on 127.0.0.1:${stack.center.mqttTlsPort}, which the terminal dials (--plain-link: in clear); notification e-mails land in ${stack.mail.dir}/`
        : `  MQTT for terminals on 127.0.0.1:${stack.center.mqttPort} (in clear: --plain-link); notification e-mails land in ${stack.mail.dir}/`,
      demo.resumed
        ? `  Ctrl-C stops (the terminal and its clock are saved together).`
        : [
            `  On the terminal page: press # to confirm the 4 sensors found, choose a PIN, then A to plan`,
            `  (A, the PIN, #, then hours and #: a period from the next full hour; # saves). The clock runs`,
            `  in real time: "Jump to" on the page, or --speed, gets you there sooner. Ctrl-C stops.`,
          ].join("\n"),
      "",
    ].join("\n"),
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await web.close();
  await demo.stop();
  unlockCenter();
  return 0;
}
