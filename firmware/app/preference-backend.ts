import Preference from "preference";
import type { KeyValueBackend } from "../platform/store";

/** The Store's backend on Moddable: one preference domain, ArrayBuffer values. */
export function preferenceBackend(domain: string): KeyValueBackend {
  return {
    get(key) {
      const v = Preference.get(domain, key);
      return v instanceof ArrayBuffer ? v : undefined;
    },
    set(key, value) {
      Preference.set(domain, key, value);
    },
    delete(key) {
      Preference.delete(domain, key);
    },
  };
}
