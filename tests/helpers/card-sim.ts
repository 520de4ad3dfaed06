import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import type { ExecutionContext } from "ava";
import { parseTime } from "../../firmware/core/time";
import { DEMO_ISSUER_JSON, IssuerKeys, issueCardFile, parseKeys } from "../../host-sim/devices/card-file";
import { CardSlot, cardSlot } from "../../host-sim/devices/card-slot";
import type { EngineName } from "../../host-sim/engines/engine";
import { Simulator } from "../../host-sim/simulator";
import { installKit } from "./engines";

/** Both engines: the firmware under XS (as on the board) and under Node. */
export const ENGINES: readonly EngineName[] = ["xs", "node"];

export const PERIOD_1_PLAN = {
  contract: "continuous",
  periods: [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, sensors: 2, cameras: 1 }],
};

export const DEMO_KEYS: IssuerKeys = parseKeys(DEMO_ISSUER_JSON, "demo");

export function at(time: string): number {
  return parseTime(time, "time") * 1000;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "tg-card-"));
}

let nextId = 1000;

/** Issues a card file with the demo issuer's keys (or `keys`). */
export function newCard(dir: string, counts: number, options: { keys?: IssuerKeys; uid?: Uint8Array; cardId?: number; name?: string } = {}): string {
  const cardId = options.cardId ?? nextId++;
  const path = join(dir, options.name ?? `card-${cardId}.json`);
  const uid = options.uid ?? Uint8Array.of(0x4a, (cardId >> 16) & 0xff, (cardId >> 8) & 0xff, cardId & 0xff);
  issueCardFile(path, { uid, cardId, counts, keys: options.keys ?? DEMO_KEYS, maxCounts: 100000 });
  return path;
}

export interface CardRig {
  sim: Simulator;
  slot: CardSlot;
}

/** A simulator with the card slot attached, closed after `run`. */
export async function withCardSim(
  engine: EngineName,
  options: { start: string; config?: Record<string, unknown>; flashPath?: string | null; kit?: boolean },
  run: (rig: CardRig) => Promise<void>,
): Promise<void> {
  const sim = await Simulator.start({ engine, startMs: at(options.start), config: options.config, flashPath: options.flashPath ?? null });
  try {
    const slot = cardSlot(sim);
    // the plans bill real devices: the kit is in the sensor table first (5 s of virtual time)
    if (options.kit !== false) await installKit(sim);
    await run({ sim, slot });
  } finally {
    await sim.close();
  }
}

/** One test per engine, titled [xs] … and [node] …. */
export function bothEngines(title: string, body: (t: ExecutionContext, engine: EngineName) => Promise<void>): void {
  for (const engine of ENGINES) test(`[${engine}] ${title}`, (t) => body(t, engine));
}

/** The card part of the manifest config, with overrides. */
export function cardConfig(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    card: {
      keyA: DEMO_ISSUER_JSON.keyA,
      macKey: DEMO_ISSUER_JSON.macKey,
      maxCounts: 100000,
      pollMs: 2000,
      presenceMs: 10000,
      collectMs: 60000,
      policy: "stop",
      surchargePermille: 200,
      graceSeconds: 120,
      night: { from: "22:00", to: "06:00" },
      // the slot's card-present contact, as manifest.json wires it (detect: null for a slot without one)
      detect: { pin: 34, present: 1 },
      ...overrides,
    },
  };
}
