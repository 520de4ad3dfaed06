import { parseArgs } from "node:util";
import { DEMO } from "../center/demo";
import { cardSlot } from "../host-sim/devices/card-slot";
import { sensorField } from "../host-sim/devices/sensors";
import { demoCard, startDemoStack } from "../host-sim/demo-stack";
import { isEngineName } from "../host-sim/engines/engine";
import { SimWebServer } from "../host-sim/web/server";
import { UsageError } from "./usage";

function port(v: string, name: string): number {
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new UsageError(`--${name} must be a port number, got ${v}`);
  return Number(v);
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
      "sim-port": { type: "string", default: "8081" },
      speed: { type: "string", default: "1" },
    },
    strict: true,
  });
  if (!isEngineName(values.engine)) throw new UsageError(`--engine must be xs or node, got ${values.engine}`);
  const speed = Number(values.speed);
  if (!(speed > 0) || speed > 100000) throw new UsageError(`--speed must be a number in (0, 100000], got ${values.speed}`);
  const stack = await startDemoStack({
    engine: values.engine,
    dataDir: values.data,
    startMs: Math.floor(Date.now() / 60000) * 60000,
    httpPort: port(values["http-port"], "http-port"),
    mqttPort: port(values["mqtt-port"], "mqtt-port"),
    log: (line) => process.stderr.write(`center: ${line}\n`),
  });
  // The kit as it comes out of the box: two PIR sensors and two cameras, and a 6,000-count card.
  const field = sensorField(stack.sim);
  for (const id of ["A0001", "A0002", "B0001", "B0002"]) field.add(id);
  cardSlot(stack.sim).insert(demoCard(values.data, 6000));
  const web = await SimWebServer.start(stack.sim, { port: port(values["sim-port"], "sim-port"), speed });
  const center = `http://127.0.0.1:${stack.center.httpPort}/`;
  const u = DEMO.users;
  process.stdout.write(
    [
      `Timeguard is running (terminal firmware under ${stack.sim.engineName.toUpperCase()}):`,
      `  terminal (simulator page): ${web.url}`,
      `  center:                    ${center}`,
      `  logins: admin ${u.admin.username} / ${u.admin.password}, operator ${u.operator.username} / ${u.operator.password}, manager ${u.manager.username} / ${u.manager.password}`,
      `  MQTT for terminals on 127.0.0.1:${stack.center.mqttPort}; notification e-mails land in ${stack.mail.dir}/`,
      `  On the terminal page: press # to confirm the 4 sensors found, choose a PIN, then A to plan. Ctrl-C stops.`,
      "",
    ].join("\n"),
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await web.close();
  await stack.close();
  return 0;
}
