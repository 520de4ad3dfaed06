import type { SqlDb, SqlValue } from "./sql-db";
import { marks, type Row } from "./sql-rows";

/** Faults for the operators (e.g. a missed test call): raised once, cleared once, with who/why. Instants in ms. */
export interface FaultRow {
  id: number;
  terminal: string;
  kind: string;
  detail: string;
  raisedAt: number;
  clearedAt: number | null;
  clearedBy: string | null;
}

export class FaultStore {
  constructor(readonly db: SqlDb) {}

  openFault(terminal: string, kind: string): FaultRow | undefined {
    const r = this.db.prepare("SELECT * FROM faults WHERE terminal = ? AND kind = ? AND cleared_at IS NULL ORDER BY id DESC LIMIT 1").get(terminal, kind) as Row | undefined;
    return r ? faultRow(r) : undefined;
  }

  fault(id: number): FaultRow | undefined {
    const r = this.db.prepare("SELECT * FROM faults WHERE id = ?").get(id) as Row | undefined;
    return r ? faultRow(r) : undefined;
  }

  raiseFault(f: { terminal: string; kind: string; detail: string; raisedAt: number }): number {
    return this.db.prepare("INSERT INTO faults (terminal, kind, detail, raised_at) VALUES (?, ?, ?, ?) RETURNING id").get(f.terminal, f.kind, f.detail, f.raisedAt)!.id;
  }

  clearFault(id: number, at: number, by: string): void {
    this.db.prepare("UPDATE faults SET cleared_at = ?, cleared_by = ? WHERE id = ? AND cleared_at IS NULL").run(at, by, id);
  }

  /** newest first; `open` only the uncleared, `terminals` only theirs, at most `limit` */
  faults(filter: { open?: boolean; terminals?: string[]; limit?: number } = {}): FaultRow[] {
    const where: string[] = [];
    const args: SqlValue[] = [];
    if (filter.open) where.push("cleared_at IS NULL");
    if (filter.terminals) {
      if (filter.terminals.length === 0) return [];
      where.push(`terminal IN (${marks(filter.terminals.length)})`);
      args.push(...filter.terminals);
    }
    const rows = this.db.prepare(`SELECT * FROM faults ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY id DESC${filter.limit !== undefined ? " LIMIT ?" : ""}`).all(...args, ...(filter.limit !== undefined ? [filter.limit] : [])) as Row[];
    return rows.map(faultRow);
  }
}

function faultRow(r: Row): FaultRow {
  return { id: r.id, terminal: r.terminal, kind: r.kind, detail: r.detail, raisedAt: r.raised_at, clearedAt: r.cleared_at, clearedBy: r.cleared_by };
}
