import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

const NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

/**
 * The Chromium the browser tests drive (playwright-core downloads none): CHROME_PATH (or the older
 * TG_CHROMIUM) when set, else the first of chromium, chromium-browser, google-chrome,
 * google-chrome-stable on PATH. Throws a message saying how to get one.
 */
export function chromiumPath(): string {
  const given = process.env.CHROME_PATH ?? process.env.TG_CHROMIUM;
  if (given) {
    if (!existsSync(given)) throw new Error(`CHROME_PATH=${given} does not exist`);
    return given;
  }
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    for (const name of NAMES) {
      const p = join(dir, name);
      if (existsSync(p)) return p;
    }
  }
  throw new Error(`no Chromium for the browser tests: set CHROME_PATH, or install one (${NAMES.join(", ")} on PATH; Debian: apt-get install chromium)`);
}
