import { fromHex, hostCall, toHex } from "./bridge";

type PreferenceValue = boolean | number | string | ArrayBuffer;

/** Moddable's `preference` module, backed by the host's emulated flash. */
const Preference = {
  set(domain: string, key: string, value: PreferenceValue): void {
    checkName(domain);
    checkName(key);
    let encoded: { t: string; v: unknown };
    if (value instanceof ArrayBuffer) {
      if (value.byteLength > 4000) throw new RangeError("preference: value larger than 4000 bytes");
      encoded = { t: "a", v: toHex(new Uint8Array(value)) };
    } else if (typeof value === "boolean") encoded = { t: "b", v: value };
    else if (typeof value === "number" && Number.isInteger(value)) encoded = { t: "i", v: value };
    else if (typeof value === "string") encoded = { t: "s", v: value };
    else throw new TypeError("preference: value must be a boolean, an integer, a string or an ArrayBuffer");
    hostCall("pref.set", { domain, key, value: encoded });
  },
  get(domain: string, key: string): PreferenceValue | undefined {
    const v = hostCall("pref.get", { domain, key }) as { t: string; v: any } | null;
    if (v === null) return undefined;
    return v.t === "a" ? fromHex(v.v).buffer : v.v;
  },
  delete(domain: string, key: string): void {
    hostCall("pref.delete", { domain, key });
  },
  keys(domain: string): string[] {
    return hostCall("pref.keys", { domain });
  },
};
export default Preference;

function checkName(name: string): void {
  if (name.length === 0 || name.length > 15) throw new RangeError(`preference: name ${JSON.stringify(name)} must be 1-15 characters`);
}
