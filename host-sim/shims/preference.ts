import { fromWire, hostCall, postCall, toWire } from "./bridge";

type PreferenceValue = boolean | number | string | ArrayBuffer;
type Wire = { t: string; v: any };

/** Bytes for the host: base64, as every transfer (shims/bridge.ts toWire). */
function bytesWire(value: ArrayBuffer): Wire {
  return { t: "b64", v: toWire(new Uint8Array(value)) };
}

/**
 * What this engine knows the flash holds, by domain and key (null: known absent). Only this
 * firmware writes its flash while it runs (a power cut ends the engine, and the cache with it), so
 * a value written or read once is read again from here: no round trip to the host. Kept as the
 * values themselves (bytes as an ArrayBuffer of their own), a Map a domain: the heap a board does
 * not have, reported apart by bench/memory.ts.
 */
const known = new Map<string, Map<string, PreferenceValue | null>>();

function domainOf(domain: string): Map<string, PreferenceValue | null> {
  let d = known.get(domain);
  if (!d) known.set(domain, (d = new Map()));
  return d;
}

/** What the engine keeps of a value the host sent: bytes as bytes (the host sends base64). */
function kept(v: Wire): PreferenceValue {
  return v.t === "a" ? fromWire(v.v).buffer : v.v;
}

/** Moddable's `preference` module, backed by the host's emulated flash. */
const Preference = {
  set(domain: string, key: string, value: PreferenceValue): void {
    checkName(domain);
    checkName(key);
    let encoded: Wire;
    let keep: PreferenceValue = value;
    if (value instanceof ArrayBuffer) {
      if (value.byteLength > 4000) throw new RangeError("preference: value larger than 4000 bytes");
      encoded = bytesWire(value);
      keep = value.slice(0);
    } else if (typeof value === "boolean") encoded = { t: "b", v: value };
    else if (typeof value === "number" && Number.isInteger(value)) encoded = { t: "i", v: value };
    else if (typeof value === "string") encoded = { t: "s", v: value };
    else throw new TypeError("preference: value must be a boolean, an integer, a string or an ArrayBuffer");
    postCall("pref.set", { domain, key, value: encoded }, false);
    domainOf(domain).set(key, keep);
  },
  get(domain: string, key: string): PreferenceValue | undefined {
    const d = domainOf(domain);
    let v = d.get(key);
    if (v === undefined) {
      const got = hostCall("pref.get", { domain, key }) as Wire | null;
      v = got === null ? null : kept(got);
      d.set(key, v);
    }
    if (v === null) return undefined;
    return v instanceof ArrayBuffer ? v.slice(0) : v; // a fresh ArrayBuffer each time, as the flash gives
  },
  delete(domain: string, key: string): void {
    postCall("pref.delete", { domain, key }, false);
    domainOf(domain).set(key, null);
  },
  keys(domain: string): string[] {
    return hostCall("pref.keys", { domain });
  },
};
export default Preference;

function checkName(name: string): void {
  if (name.length === 0 || name.length > 15) throw new RangeError(`preference: name ${JSON.stringify(name)} must be 1-15 characters`);
}
