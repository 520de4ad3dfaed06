// What a board's module table holds, from manifest.json's `modules`, for the host build's check
// (scripts/build.mjs) and its test (tests/board-conditions.test.ts).

/** Firmware files imported by a bare specifier rather than by their path (manifest.json maps them). */
export const BARE = Object.freeze({ "platform/esp32/rtc": "rtc" });

/**
 * The module specifier mcconfig gives a source file ("firmware/app/terminal.ts") under a manifest's
 * `modules`: a key "dir/*" with "./firmware/dir/*" maps every file of that one folder to "dir/<name>",
 * "*": [...] lists files under their own names, any other key names one file. null: not listed.
 */
export function specifierOf(manifest, file) {
  const path = file.replace(/\.ts$/, "");
  for (const [key, value] of Object.entries(manifest.modules ?? {})) {
    for (const entry of Array.isArray(value) ? value : [value]) {
      const source = entry.replace(/^\.\//, "");
      if (source.endsWith("/*")) {
        const folder = source.slice(0, -1);
        if (!path.startsWith(folder) || path.slice(folder.length).includes("/")) continue;
        const name = path.slice(folder.length);
        if (key === "*") return name;
        if (key.endsWith("/*")) return key.slice(0, -1) + name;
      } else if (source === path) return key === "*" ? path.slice(path.lastIndexOf("/") + 1) : key;
    }
  }
  return null;
}

/**
 * Why a firmware source file would not load on a board, or null when it would: the manifest must
 * list it under the specifier its importers use (its path under firmware/, since XS resolves "./x"
 * and "../x" against the importing module's specifier; or its bare name, see BARE).
 */
export function unlisted(manifest, file) {
  const expected = file.replace(/^firmware\//, "").replace(/\.ts$/, "");
  const wanted = BARE[expected] ?? expected;
  const got = specifierOf(manifest, file);
  if (got === wanted) return null;
  return `manifest.json "modules" does not list ${file} as "${wanted}" (it gives ${got ? `"${got}"` : "nothing"}); on a board the import fails with "module not found"`;
}
