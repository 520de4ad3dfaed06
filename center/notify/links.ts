import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { SettingsStore } from "../store/settings-store";

const KEY_SETTING = "media_link_key";

/**
 * Signed, expiring links to one media item, for webhook receivers that have no session:
 * `/m/<terminal>/<mediaId>/<item>?exp=<seconds>&sig=<hex>` where sig = HMAC-SHA256(center key,
 * "<terminal>/<mediaId>/<item>/<exp>"). The key is made once per center and kept in settings.
 */
export class MediaLinks {
  readonly #key: Buffer;

  constructor(settings: SettingsStore) {
    let hex = settings.setting(KEY_SETTING);
    if (!hex) {
      hex = randomBytes(32).toString("hex");
      settings.setSetting(KEY_SETTING, hex);
    }
    this.#key = Buffer.from(hex, "hex");
  }

  #sig(terminal: string, mediaId: number, item: number, exp: number): Buffer {
    return createHmac("sha256", this.#key).update(`${terminal}/${mediaId}/${item}/${exp}`).digest();
  }

  /** The path (and query) of a link valid until `exp` (seconds since 1970). */
  path(terminal: string, mediaId: number, item: number, exp: number): string {
    return `/m/${encodeURIComponent(terminal)}/${mediaId}/${item}?exp=${exp}&sig=${this.#sig(terminal, mediaId, item, exp).toString("hex")}`;
  }

  /** null when valid; else why not. */
  check(terminal: string, mediaId: number, item: number, exp: string | null, sig: string | null, nowSeconds: number): string | null {
    if (!exp || !/^\d{1,12}$/.test(exp) || !sig || !/^[0-9a-f]{64}$/.test(sig)) return "missing or malformed signature";
    const expected = this.#sig(terminal, mediaId, item, Number(exp));
    if (!timingSafeEqual(expected, Buffer.from(sig, "hex"))) return "bad signature";
    if (Number(exp) < nowSeconds) return "link expired";
    return null;
  }
}
