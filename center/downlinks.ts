import type { SqlDb } from "./store/sql-db";

export interface DownlinkRow {
  id: number;
  terminal: string;
  seq: number;
  name: string;
  payload: Uint8Array;
  createdAt: number;
  deliveredAt: number | null;
}

type Row = Record<string, any>;

/**
 * What the center must tell a terminal, kept in the database until the terminal acknowledges it
 * (its PUBACK): a restart of the center loses nothing queued. The broker is handed a downlink
 * only while the terminal is connected and subscribed; aedes then carries it (QoS 1, and its
 * session if the line drops). `handed` remembers what this process gave the broker, so a
 * reconnect within the same run does not send it twice; after a restart everything still
 * undelivered goes again.
 */
export class Downlinks {
  readonly #db: SqlDb;
  readonly #handed = new Set<number>();

  constructor(db: SqlDb) {
    this.#db = db;
  }

  add(d: { terminal: string; seq: number; name: string; payload: Uint8Array; createdAt: number }): number {
    const id = this.tryAdd(d);
    if (id === null) throw new Error(`a downlink with seq ${d.seq} is queued for ${d.terminal} already`);
    return id;
  }

  /**
   * The same, or null when (terminal, seq) is taken already (another node of a cluster queued one
   * for the terminal with that seq at the same moment); aborts no transaction it runs in.
   */
  tryAdd(d: { terminal: string; seq: number; name: string; payload: Uint8Array; createdAt: number }): number | null {
    const r = this.#db
      .prepare("INSERT INTO downlinks (terminal, seq, name, payload, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (terminal, seq) DO NOTHING RETURNING id")
      .get(d.terminal, d.seq, d.name, Buffer.from(d.payload), d.createdAt);
    return r ? (r.id as number) : null;
  }

  /** Undelivered downlinks of a terminal not yet handed to the broker by this process, oldest first. */
  toHand(terminal: string): DownlinkRow[] {
    return this.pending(terminal).filter((d) => !this.#handed.has(d.id));
  }

  markHanded(id: number): void {
    this.#handed.add(id);
  }

  /** The broker lost what it held for this terminal (a clean session): hand it all again. */
  forgetHanded(terminal: string): void {
    for (const d of this.pending(terminal)) this.#handed.delete(d.id);
  }

  pending(terminal?: string): DownlinkRow[] {
    const rows = (terminal
      ? this.#db.prepare("SELECT * FROM downlinks WHERE terminal = ? AND delivered_at IS NULL ORDER BY id").all(terminal)
      : this.#db.prepare("SELECT * FROM downlinks WHERE delivered_at IS NULL ORDER BY id").all()) as Row[];
    return rows.map(downlinkRow);
  }

  /** Terminals with a downlink not yet delivered. */
  pendingTerminals(): string[] {
    return (this.#db.prepare("SELECT DISTINCT terminal FROM downlinks WHERE delivered_at IS NULL").all() as Row[]).map((r) => String(r.terminal));
  }

  /** The highest sequence number queued for a terminal so far, or null (one index look-up). */
  lastSeq(terminal: string): number | null {
    const r = this.#db.prepare("SELECT MAX(seq) AS s FROM downlinks WHERE terminal = ?").get(terminal) as Row | undefined;
    return r && r.s !== null && r.s !== undefined ? Number(r.s) : null;
  }

  all(terminal: string): DownlinkRow[] {
    return (this.#db.prepare("SELECT * FROM downlinks WHERE terminal = ? ORDER BY id").all(terminal) as Row[]).map(downlinkRow);
  }

  get(id: number): DownlinkRow | undefined {
    const r = this.#db.prepare("SELECT * FROM downlinks WHERE id = ?").get(id) as Row | undefined;
    return r ? downlinkRow(r) : undefined;
  }

  /**
   * The terminal acknowledged (terminal, seq): marks it delivered, with any alarm action that
   * carried it. Returns the downlink's id when this was its first acknowledgement.
   */
  delivered(terminal: string, seq: number, at: number): number | null {
    return this.#db.transaction(() => {
      const r = this.#db.prepare("SELECT id FROM downlinks WHERE terminal = ? AND seq = ? AND delivered_at IS NULL").get(terminal, seq) as Row | undefined;
      if (!r) return null;
      this.#db.prepare("UPDATE downlinks SET delivered_at = ? WHERE id = ?").run(at, r.id);
      this.#db.prepare("UPDATE alarm_actions SET sent_at = ? WHERE downlink_id = ?").run(at, r.id);
      this.#handed.delete(r.id);
      return r.id as number;
    });
  }

  /** Ties an alarm action to the downlink that tells the terminal about it. */
  linkAction(actionId: number, downlinkId: number): void {
    this.#db.prepare("UPDATE alarm_actions SET downlink_id = ? WHERE id = ?").run(downlinkId, actionId);
  }
}

function downlinkRow(r: Row): DownlinkRow {
  return { id: r.id, terminal: r.terminal, seq: r.seq, name: r.name, payload: new Uint8Array(r.payload), createdAt: r.created_at, deliveredAt: r.delivered_at };
}
