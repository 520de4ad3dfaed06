/**
 * UTF-8 for wire formats (CBOR text strings, MQTT strings), written straight into a caller's
 * buffer and decoded strictly: unlike `decodeUtf8` in ./utf8, malformed input is reported
 * (`null`), not repaired, because a codec must reject it. No TextEncoder/TextDecoder (not globals
 * on every Moddable target), no allocation beyond the resulting string.
 */

/** Bytes that `writeUtf8` will write for `s` (a lone surrogate counts as U+FFFD, 3 bytes). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Writes `s` as UTF-8 at `pos` (room checked by the caller); returns the end position. */
export function writeUtf8(s: string, out: Uint8Array, pos: number): number {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[pos++] = c;
      continue;
    }
    if (c < 0x800) {
      out[pos++] = 0xc0 | (c >> 6);
      out[pos++] = 0x80 | (c & 63);
      continue;
    }
    if (c >= 0xd800 && c < 0xe000) {
      const d = c < 0xdc00 && i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        out[pos++] = 0xf0 | (c >> 18);
        out[pos++] = 0x80 | ((c >> 12) & 63);
        out[pos++] = 0x80 | ((c >> 6) & 63);
        out[pos++] = 0x80 | (c & 63);
        continue;
      }
      c = 0xfffd; // a lone surrogate has no UTF-8 form
    }
    out[pos++] = 0xe0 | (c >> 12);
    out[pos++] = 0x80 | ((c >> 6) & 63);
    out[pos++] = 0x80 | (c & 63);
  }
  return pos;
}

// Code units are collected here and turned into a string CHUNK at a time: `fromCharCode.apply`
// puts its arguments on the stack, and XS on an ESP32 has a small one.
const CHUNK = 64;
let units: Uint16Array | null = null;

function flush(s: string, u: Uint16Array, n: number): string {
  return s + String.fromCharCode.apply(null, u.subarray(0, n) as unknown as number[]);
}

/**
 * Decodes `bytes[start, end)` as UTF-8, or returns null if it is not well-formed UTF-8
 * (overlong forms, surrogates, code points above U+10FFFF, truncated sequences).
 */
export function decodeUtf8Strict(bytes: Uint8Array, start = 0, end = bytes.length): string | null {
  if (end <= start) return "";
  const u = units ?? (units = new Uint16Array(CHUNK));
  let s = "";
  let n = 0;
  for (let i = start; i < end; ) {
    if (n > CHUNK - 2) {
      s = flush(s, u, n);
      n = 0;
    }
    const c = bytes[i++];
    if (c < 0x80) {
      u[n++] = c;
      continue;
    }
    let cp: number;
    let need: number;
    let min: number;
    if (c >= 0xc2 && c < 0xe0) {
      cp = c & 31;
      need = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c < 0xf0) {
      cp = c & 15;
      need = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c < 0xf5) {
      cp = c & 7;
      need = 3;
      min = 0x10000;
    } else return null;
    if (i + need > end) return null;
    for (let k = 0; k < need; k++) {
      const b = bytes[i++];
      if ((b & 0xc0) !== 0x80) return null;
      cp = (cp << 6) | (b & 63);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) return null;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      u[n++] = 0xd800 + (cp >> 10);
      u[n++] = 0xdc00 + (cp & 0x3ff);
    } else u[n++] = cp;
  }
  return n > 0 ? flush(s, u, n) : s;
}
