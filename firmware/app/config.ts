import { FieldError, isRecord } from "../core/errors";
import type { Store } from "../platform/store";
import type { Terminal, Timers } from "./terminal";
import { EXAMPLE_TARIFF_JSON } from "../core/tariff";
import { DEFAULT_ZONE_MINUTES } from "../core/time";

// Compiled once here: XS compiles a regular expression literal each time it is evaluated (~0.1 ms).
/** a terminal ID */
const TERMINAL_ID = /^[A-Za-z0-9-]{1,16}$/;

/** What the application needs from the manifest's `config` (mc/config). */
export interface TerminalConfig {
  terminalId: string;
  zoneMinutes: number;
  /** seconds between checkpoints of the running period (bounds what a power cut can lose) */
  checkpointSeconds: number;
  /** the tariff the terminal starts with until the center sends one */
  tariff: unknown;
}

function num(v: unknown, fallback: number, field: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v)) throw new FieldError(`config.${field}`, "must be an integer");
  return v;
}

/**
 * What every component is built from (main.ts): the manifest's config, the terminal and its
 * ports. Each component reads its own sections with one validator, whose every refusal is a
 * FieldError naming the field (`config.card.pollMs: must be …`); the terminal does not start.
 */
export interface Base {
  config: Readonly<Record<string, unknown>>;
  terminal: Terminal;
  terminalConfig: TerminalConfig;
  store: Store;
  timers: Timers;
}

/** The shared I2C bus's settings (`config.i2c`), spread over the board's `device.I2C.default`. */
export interface I2cBusConfig {
  data?: number;
  clock?: number;
  hz: number;
}

/** An integer in [min, max] at `field`, or `fallback` when absent; otherwise a FieldError. */
export function intField(v: unknown, fallback: number, field: string, min: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw new FieldError(field, `must be an integer from ${min} to ${max}`);
  return v;
}

/** `config.<name>` as a record ({} when absent); anything else is a FieldError. */
export function sectionOf(config: Readonly<Record<string, unknown>>, name: string): Record<string, unknown> {
  const v = config[name];
  if (v === undefined) return {};
  if (!isRecord(v)) throw new FieldError(`config.${name}`, "must be an object");
  return v;
}

export function readI2cBus(config: Readonly<Record<string, unknown>>): I2cBusConfig {
  const i2c = sectionOf(config, "i2c");
  const bus: I2cBusConfig = { hz: intField(i2c.hz, 100000, "config.i2c.hz", 10000, 1000000) };
  if (i2c.data !== undefined) bus.data = intField(i2c.data, 0, "config.i2c.data", 0, 48);
  if (i2c.clock !== undefined) bus.clock = intField(i2c.clock, 0, "config.i2c.clock", 0, 48);
  return bus;
}

export function readConfig(config: Readonly<Record<string, unknown>>): TerminalConfig {
  const terminal = isRecord(config.terminal) ? config.terminal : {};
  const id = terminal.id ?? "T0000";
  if (typeof id !== "string" || !TERMINAL_ID.test(id)) throw new FieldError("config.terminal.id", "must be 1-16 letters or digits");
  const checkpointSeconds = num(terminal.checkpointSeconds, 300, "terminal.checkpointSeconds");
  if (checkpointSeconds < 10) throw new FieldError("config.terminal.checkpointSeconds", "must be at least 10");
  return {
    terminalId: id,
    zoneMinutes: num(terminal.zoneMinutes, DEFAULT_ZONE_MINUTES, "terminal.zoneMinutes"),
    checkpointSeconds,
    tariff: config.tariff ?? EXAMPLE_TARIFF_JSON,
  };
}
