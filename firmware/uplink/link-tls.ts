import { FieldError } from "../core/errors";

// Compiled once here: XS compiles a regular expression literal each time it is evaluated (~0.1 ms).
/** a PSK of 16-32 bytes in hex */
const PSK_HEX = /^([0-9a-fA-F]{2}){16,32}$/;
/** a PSK identity */
const PSK_IDENTITY = /^[A-Za-z0-9-]{1,32}$/;

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
  if (typeof psk !== "string" || !PSK_HEX.test(psk)) throw new FieldError("config.link.psk", "must be 16-32 bytes in hex");
  const identity = link.pskIdentity ?? terminalId;
  if (typeof identity !== "string" || !PSK_IDENTITY.test(identity)) throw new FieldError("config.link.pskIdentity", "must be 1-32 letters, digits or dashes");
  return { identity, psk: psk.toLowerCase() };
}
