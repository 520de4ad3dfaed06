import { FieldError } from "../core/errors";

/**
 * The link's TLS settings from the manifest's config (docs/protocols.md, "Modem over TLS"):
 * `link.psk`, the terminal's pre-shared key in hex as `timeguard center terminal-psk` prints it,
 * and `link.pskIdentity` (default the terminal's ID). No key: the link is plain TCP.
 */
export interface LinkTls {
  /** the PSK identity the center looks the key up by: the terminal's ID */
  identity: string;
  /** the pre-shared key, lower-case hex (16-32 bytes); never shown or logged */
  psk: string;
}

export function readLinkTls(link: Readonly<Record<string, unknown>>, terminalId: unknown): LinkTls | null {
  if (link.psk === undefined || link.psk === null || link.psk === "") return null;
  const psk = link.psk;
  // the message names the field, never the value
  if (typeof psk !== "string" || !/^([0-9a-fA-F]{2}){16,32}$/.test(psk)) throw new FieldError("config.link.psk", "must be 16-32 bytes in hex");
  const identity = link.pskIdentity ?? terminalId;
  if (typeof identity !== "string" || !/^[A-Za-z0-9-]{1,32}$/.test(identity)) throw new FieldError("config.link.pskIdentity", "must be 1-32 letters, digits or dashes");
  return { identity, psk: psk.toLowerCase() };
}
