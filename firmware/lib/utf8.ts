/**
 * Native encoders, when the engine has one: XS's own `ArrayBuffer.fromString` (the board's XS:
 * the string's bytes copied at once, U+0000 and lone surrogates encoded as the loop below does),
 * else a global TextEncoder (xsnap, Node) for strings without surrogates (it would replace a lone
 * one). Neither is in the SDK's typings, so both are narrowed here. The loop calls charCodeAt once
 * a character, which XS pays with a boxed string each time: about five heap slots a byte, most of
 * what a card deduction allocated (its ledger record; bench/memory.ts).
 */
const fromString = (ArrayBuffer as unknown as { fromString?: (s: string) => ArrayBuffer }).fromString;
const Encoder = (globalThis as unknown as { TextEncoder?: new () => { encode(s: string): Uint8Array } }).TextEncoder;
const SURROGATE = /[\uD800-\uDFFF]/;

/** UTF-8 without depending on TextEncoder/TextDecoder (not globals on every Moddable target). */
export function encodeUtf8(s: string): Uint8Array {
  if (fromString) return new Uint8Array(fromString.call(ArrayBuffer, s));
  if (Encoder && !SURROGATE.test(s)) return new Encoder().encode(s);
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

/** Decodes UTF-8; malformed sequences become U+FFFD. */
export function decodeUtf8(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; ) {
    const c = b[i++];
    let cp = 0xfffd;
    if (c < 0x80) cp = c;
    else if (c >= 0xc2 && c < 0xe0 && i < b.length && (b[i] & 0xc0) === 0x80) cp = ((c & 31) << 6) | (b[i++] & 63);
    else if (c >= 0xe0 && c < 0xf0 && i + 1 < b.length && (b[i] & 0xc0) === 0x80 && (b[i + 1] & 0xc0) === 0x80) {
      cp = ((c & 15) << 12) | ((b[i] & 63) << 6) | (b[i + 1] & 63);
      i += 2;
    } else if (c >= 0xf0 && c < 0xf5 && i + 2 < b.length && (b[i] & 0xc0) === 0x80 && (b[i + 1] & 0xc0) === 0x80 && (b[i + 2] & 0xc0) === 0x80) {
      cp = ((c & 7) << 18) | ((b[i] & 63) << 12) | ((b[i + 1] & 63) << 6) | (b[i + 2] & 63);
      i += 3;
    }
    s += String.fromCodePoint(cp);
  }
  return s;
}
