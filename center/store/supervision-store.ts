import { greatest, type SqlDb, type SqlStatement } from "./sql-db";
import type { Row } from "./sql-rows";

/** When each terminal was first heard and last made a test call, by the center's clock (ms). */
export class SupervisionStore {
  #overdue: SqlStatement | null = null;

  constructor(readonly db: SqlDb) {}

  heard(terminal: string, at: number, testCall: boolean): void {
    this.db
      .prepare(
        `INSERT INTO supervision (terminal, first_heard_at, last_test_at) VALUES (?, ?, ?)
         ON CONFLICT(terminal) DO UPDATE SET last_test_at = CASE WHEN excluded.last_test_at IS NOT NULL
           THEN ${greatest(this.db)}(COALESCE(supervision.last_test_at, 0), excluded.last_test_at) ELSE supervision.last_test_at END`,
      )
      .run(terminal, at, testCall ? at : null);
  }

  supervision(terminal: string): { firstHeardAt: number; lastTestAt: number | null } | undefined {
    const r = this.db.prepare("SELECT first_heard_at, last_test_at FROM supervision WHERE terminal = ?").get(terminal) as Row | undefined;
    return r ? { firstHeardAt: r.first_heard_at, lastTestAt: r.last_test_at } : undefined;
  }

  /** Terminals last heard from (test call, else first message) before `beforeMs` with no open fault of `kind`, oldest first. */
  overdue(beforeMs: number, kind: string, limit: number): Array<{ terminal: string; firstHeardAt: number; lastTestAt: number | null }> {
    this.#overdue ??= this.db.prepare(
      `SELECT terminal, first_heard_at AS "firstHeardAt", last_test_at AS "lastTestAt" FROM supervision s
       WHERE COALESCE(last_test_at, first_heard_at) < ?
         AND NOT EXISTS (SELECT 1 FROM faults f WHERE f.terminal = s.terminal AND f.kind = ? AND f.cleared_at IS NULL)
       ORDER BY COALESCE(last_test_at, first_heard_at) LIMIT ?`,
    );
    return this.#overdue.all(beforeMs, kind, limit) as Array<{ terminal: string; firstHeardAt: number; lastTestAt: number | null }>;
  }
}
