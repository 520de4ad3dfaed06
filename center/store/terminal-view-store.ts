import type { SqlDb } from "./sql-db";
import { marks, type Row } from "./sql-rows";

/** Reads of what terminals reported (sensors, plans, test calls, warnings) that the web shows. */
export interface SensorRow {
  terminal: string;
  id: string;
  type: string;
  connected: boolean;
  operating: boolean;
  battery: string;
  updatedAt: number;
}

export class TerminalViewStore {
  constructor(readonly db: SqlDb) {}

  sensors(terminals: string[]): SensorRow[] {
    if (terminals.length === 0) return [];
    const rows = this.db.prepare(`SELECT * FROM sensors WHERE terminal IN (${marks(terminals.length)}) ORDER BY terminal, id`).all(...terminals) as Row[];
    return rows.map((r) => ({ terminal: r.terminal, id: r.id, type: r.type, connected: r.connected === 1, operating: r.operating === 1, battery: r.battery, updatedAt: r.updated_at }));
  }

  latestPlan(terminal: string): { seq: number; time: number; plan: unknown } | undefined {
    const r = this.db.prepare("SELECT seq, time, plan FROM plans WHERE terminal = ? ORDER BY seq DESC LIMIT 1").get(terminal) as Row | undefined;
    return r ? { seq: r.seq, time: r.time, plan: JSON.parse(r.plan) } : undefined;
  }

  lastTestCalls(terminal: string, limit: number): Array<{ seq: number; time: number; boots: number; outbox: number; signal: number | null }> {
    return this.db.prepare("SELECT seq, time, boots, outbox, signal FROM test_calls WHERE terminal = ? ORDER BY time DESC LIMIT ?").all(terminal, limit) as any[];
  }

  warnings(terminals: string[], limit: number): Array<{ terminal: string; seq: number; time: number; code: string; text: string }> {
    if (terminals.length === 0) return [];
    return this.db.prepare(`SELECT terminal, seq, time, code, text FROM warnings WHERE terminal IN (${marks(terminals.length)}) ORDER BY time DESC LIMIT ?`).all(...terminals, limit) as any[];
  }
}
