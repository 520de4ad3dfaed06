import { frozen } from "../lib/frozen";
import type { Contract } from "../core/tariff";
import type { Seconds } from "../core/time";

/** the custom characters the display defines (firmware/ui/component.ts) */
export const BELL = "\x01";
export const LOCK = "\x02";
/** the keys every screen reads alike */
export const OK = "#";
export const BACK = "*";

/** The period editor's fields, one screen each, in order. */
export const FIELDS = frozen(["start", "end", "pattern", "sensors", "cameras", "contract"] as const);
export type Field = (typeof FIELDS)[number];

/** A period being entered or edited (times in seconds; devices as counts or chosen IDs). */
export interface Draft {
  index: number | null;
  /** the edited period's start when editing began: the plan may change meanwhile (the center) */
  was: Seconds | null;
  start: Seconds;
  end: Seconds;
  pattern: number;
  sensors: number | string[];
  cameras: number | string[];
  contract: Contract;
}

/** The screen shown, with what it needs (firmware/ui/*-screen.ts, period-editor.ts). */
export type Screen =
  | { name: "setup" }
  | { name: "status" }
  | { name: "alarm" }
  | { name: "pin.new"; first: boolean }
  | { name: "pin.repeat"; first: boolean; pin: string }
  | { name: "pin.ask"; then: (duress: boolean) => void; why: string }
  | { name: "plan.list"; selected: number }
  | { name: "plan.delete"; index: number }
  | { name: "edit"; field: Field; draft: Draft; page: number }
  | { name: "estimate"; draft: Draft; confirmed?: boolean }
  | { name: "bypass"; page: number };

export type ScreenOf<N extends Screen["name"]> = Extract<Screen, { name: N }>;

/** Devices of a selection: a count, or the chosen IDs. */
export function count(v: number | string[]): number {
  return Array.isArray(v) ? v.length : v;
}
