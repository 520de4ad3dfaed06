import { FieldError, isRecord } from "../core/errors";
import { EXAMPLE_TARIFF_JSON } from "../core/tariff";
import { DEFAULT_ZONE_MINUTES } from "../core/time";

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

export function readConfig(config: Readonly<Record<string, unknown>>): TerminalConfig {
  const terminal = isRecord(config.terminal) ? config.terminal : {};
  const id = terminal.id ?? "T0000";
  if (typeof id !== "string" || !/^[A-Za-z0-9-]{1,16}$/.test(id)) throw new FieldError("config.terminal.id", "must be 1-16 letters or digits");
  const checkpointSeconds = num(terminal.checkpointSeconds, 300, "terminal.checkpointSeconds");
  if (checkpointSeconds < 10) throw new FieldError("config.terminal.checkpointSeconds", "must be at least 10");
  return {
    terminalId: id,
    zoneMinutes: num(terminal.zoneMinutes, DEFAULT_ZONE_MINUTES, "terminal.zoneMinutes"),
    checkpointSeconds,
    tariff: config.tariff ?? EXAMPLE_TARIFF_JSON,
  };
}
