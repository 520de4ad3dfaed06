// Moddable SDK `preference` module (modules/files/preference): NVS on ESP32.
// Domain and key names at most 15 characters; values at most 4000 bytes.
declare module "preference" {
  type PreferenceValue = boolean | number | string | ArrayBuffer;
  const Preference: {
    set(domain: string, key: string, value: PreferenceValue): void;
    get(domain: string, key: string): PreferenceValue | undefined;
    delete(domain: string, key: string): void;
    keys(domain: string): string[];
  };
  export default Preference;
}
