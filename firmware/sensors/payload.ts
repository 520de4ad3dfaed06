import { EVENT, MEDIA_KIND, MSG, RawFrame } from "./frame";

/**
 * The payloads of the sensor link's messages (docs/protocols.md, "Sensor link"), beside the frame
 * they travel in (frame.ts): each one's size and ranges checked, decoded into named fields, and
 * the terminal's own payloads (RESPONSE, COMMAND and its arguments) built.
 */

/** MEDIA: media id u16, file u8, files u8, kind u8, total u32, offset u32, then the data. */
export const MEDIA_HEADER = 13;
export const MAX_MEDIA_DATA = 211;

/** Whether a frame's payload has the size and ranges its type needs (a refused one is "malformed"). */
export function payloadOk(f: RawFrame): boolean {
  const n = f.payload.length;
  switch (f.type) {
    case MSG.STARTUP:
      return n === 0;
    case MSG.IDENT:
      return n === 7 && ((f.payload[4] << 8) | f.payload[5]) > 0;
    case MSG.HEARTBEAT:
      return n === 2 && f.payload[1] <= 100;
    case MSG.EVENT:
      return n === 4 && f.payload[0] >= EVENT.DETECT && f.payload[0] <= EVENT.BATTERY_OK && f.payload[2] <= 100;
    case MSG.RESPONSE:
      return n === 6;
    case MSG.MEDIA:
      return n > MEDIA_HEADER && n <= MEDIA_HEADER + MAX_MEDIA_DATA;
    default:
      return false;
  }
}

function u32(p: Uint8Array, at: number): number {
  return ((p[at] << 24) | (p[at + 1] << 16) | (p[at + 2] << 8) | p[at + 3]) >>> 0;
}

/** IDENT: state, firmware major.minor, battery %, heartbeat seconds (u16), capabilities. */
export function decodeIdent(p: Uint8Array): { state: number; firmware: string; percent: number; heartbeat: number; caps: number } {
  return { state: p[0], firmware: `${p[1]}.${p[2]}`, percent: p[3], heartbeat: (p[4] << 8) | p[5], caps: p[6] };
}

/** HEARTBEAT: state, battery %. */
export function decodeHeartbeat(p: Uint8Array): { state: number; percent: number } {
  return { state: p[0], percent: p[1] };
}

/** EVENT: kind, state, battery %, the event's number (a repeat carries the same). */
export function decodeEvent(p: Uint8Array): { kind: number; state: number; percent: number; number: number } {
  return { kind: p[0], state: p[1], percent: p[2], number: p[3] };
}

/** RESPONSE: the answered message's type, its counter, a status. */
export function decodeResponse(p: Uint8Array): { type: number; counter: number; status: number } {
  return { type: p[0], counter: u32(p, 1), status: p[5] };
}

export interface MediaChunk {
  mediaId: number;
  file: number;
  files: number;
  /** null: a kind this terminal does not know */
  kind: "jpeg" | "wav" | null;
  total: number;
  offset: number;
  data: Uint8Array;
}

/** MEDIA's fields (its size was checked by payloadOk; `mediaChunkOk` checks their ranges). */
export function decodeMediaChunk(p: Uint8Array): MediaChunk {
  return {
    mediaId: (p[0] << 8) | p[1],
    file: p[2],
    files: p[3],
    kind: p[4] === MEDIA_KIND.JPEG ? "jpeg" : p[4] === MEDIA_KIND.WAV ? "wav" : null,
    total: u32(p, 5),
    offset: u32(p, 9),
    data: p.subarray(MEDIA_HEADER),
  };
}

/** A chunk's fields agree with each other and with the largest file the terminal takes. */
export function mediaChunkOk(c: MediaChunk, maxFileBytes: number): boolean {
  return c.kind !== null && c.files > 0 && c.file < c.files && c.total > 0 && c.total <= maxFileBytes && c.offset + c.data.length <= c.total;
}

/** RESPONSE to a sensor's message: its type, its counter, a status (STATUS). */
export function responsePayload(type: number, counter: number, status: number): Uint8Array {
  const c = counter;
  return new Uint8Array([type, c >>> 24, (c >>> 16) & 0xff, (c >>> 8) & 0xff, c & 0xff, status]);
}

/** COMMAND: the operation (COMMAND), then its arguments. */
export function commandPayload(op: number, args?: Uint8Array): Uint8Array {
  const payload = new Uint8Array(1 + (args ? args.length : 0));
  payload[0] = op;
  if (args) payload.set(args, 1);
  return payload;
}

/** CAPTURE's arguments: media id u16, images, seconds, clips. */
export function captureArgs(mediaId: number, images: number, seconds: number, clips: number): Uint8Array {
  return new Uint8Array([mediaId >> 8, mediaId & 0xff, images, seconds, clips]);
}

/** RESEND's arguments: media id u16, file, offset u32 (send again from there). */
export function resendArgs(mediaId: number, file: number, offset: number): Uint8Array {
  return new Uint8Array([mediaId >> 8, mediaId & 0xff, file, offset >>> 24, (offset >>> 16) & 0xff, (offset >>> 8) & 0xff, offset & 0xff]);
}
