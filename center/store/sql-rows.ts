import type { AlarmRow, MediaRow } from "./center-store";
import type { SqlDb } from "./sql-db";

/** Row mapping shared by the center's concern stores (alarm-view-store.ts, alarm-action-store.ts, ...). */
export type Row = Record<string, any>;
export type AlarmKey = { terminal: string; alarmId: number };

/** A list of alarm keys as one JSON parameter, unpacked in SQL: one query whatever their number. */
export const keysSql = (db: SqlDb) =>
  db.dialect === "postgres"
    ? "SELECT k->>0, (k->>1)::bigint FROM json_array_elements(?::json) AS k"
    : "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)";
export const keysJson = (keys: readonly AlarmKey[]) => JSON.stringify(keys.map((k) => [k.terminal, k.alarmId]));

/** `?, ?, ?` for a list of n values */
export const marks = (n: number) => new Array(n).fill("?").join(",");

export function alarmRowOf(r: Row): AlarmRow {
  return { terminal: r.terminal, alarmId: r.alarm_id, seq: r.seq, time: r.time, sensor: r.sensor, event: r.event, contactId: r.contact_id, pattern: r.pattern, mediaId: r.media_id, images: r.images, clips: r.clips, status: r.status, receivedAt: r.received_at };
}

export function mediaRowOf(r: Row): MediaRow {
  return { terminal: r.terminal, mediaId: r.media_id, item: r.item, alarmId: r.alarm_id, items: r.items, type: r.type, parts: r.parts, partsReceived: r.parts_received, bytes: r.bytes, path: r.path, complete: r.complete === 1 };
}
