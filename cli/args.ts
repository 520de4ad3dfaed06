import { accessSync, constants, statSync } from "node:fs";
import { dirname } from "node:path";
import { UsageError } from "./usage";
import { isPostgresUrl } from "../center/store/open-store";

/**
 * node:util parseArgs reads `--card -5` as an option followed by an unknown option `-5` ("argument
 * is ambiguous"). For the flags that take a number, a value that starts with "-" is joined to its
 * flag (`--card=-5`) so that the flag's own check can refuse it with a message naming the flag; so
 * is a negative number after any other long flag (`--media-wait -1`, or `--json -1`, which parseArgs
 * then refuses in one line: the flag takes no value).
 */
export function joinDashValues(argv: string[], flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = argv[i + 1];
    const dashValue = next !== undefined && next.startsWith("-") && !next.startsWith("--");
    if (dashValue && (flags.includes(a) || (/^--[a-z][a-z-]*$/.test(a) && /^-\.?\d/.test(next)))) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** A whole number flag within [min, max], or a UsageError naming the flag and the range. */
export function wholeNumber(text: string | undefined, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (text === undefined) throw new UsageError(`${flag} N is required`);
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be a whole number from ${min.toLocaleString("en")} to ${max.toLocaleString("en")}, got ${text}`);
  }
  return n;
}

/** A TCP port flag (0 picks a free one). */
export function portNumber(text: string, flag: string): number {
  return wholeNumber(text, flag, 0, 65535);
}

/** A positive number flag (e.g. --speed), at most `max`. */
export function positiveNumber(text: string, flag: string, max: number): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(n > 0) || n > max) throw new UsageError(`${flag} must be a number above 0 and at most ${max.toLocaleString("en")}, got ${text}`);
  return n;
}

/** When the OS says a port is taken: one line for the user (exit code 2), not a stack. */
export function portInUse(e: unknown): string | null {
  const err = e as { code?: string; port?: number; address?: string };
  if (!err || err.code !== "EADDRINUSE") return null;
  const where = err.port !== undefined ? `${err.address ?? "127.0.0.1"}:${err.port}` : "a port it needs";
  return `${where} is already in use (is another timeguard running? stop it, or choose another port with the command's port flags)`;
}

/** `--store`: "sqlite" (the default, a file under --data) or a PostgreSQL URL. */
export function storeSpec(v: string | undefined): string | undefined {
  if (v === undefined || v === "sqlite") return undefined;
  if (!isPostgresUrl(v)) throw new UsageError(`--store must be sqlite or a postgres://USER@HOST:PORT/DB URL, got ${v.slice(0, 80)}`);
  return v;
}


/**
 * `--flash FILE`: the terminal's flash image, read if it is there and written as the terminal
 * writes. A folder, an unreadable file or a folder that is not there is a usage error before the
 * engine starts (they were a stack from the firmware's first write).
 */
export function flashFile(path: string | undefined): string | null {
  if (path === undefined) return null;
  let isFile = false;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`--flash ${path} is not a file (give the flash image's file name; it is made if missing)`);
    isFile = true;
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (isFile || code !== "ENOENT") throw new UsageError(`--flash ${path}: cannot read and write it (${code ?? (e as Error).message})`);
    try {
      accessSync(dirname(path), constants.W_OK);
    } catch (e2) {
      throw new UsageError(`--flash ${path}: cannot make it there (${(e2 as NodeJS.ErrnoException).code ?? (e2 as Error).message} for ${dirname(path)})`);
    }
  }
  return path;
}

/**
 * A file the command will write (`--out`, `card issue --file`): checked before the work, so that a
 * run of minutes is not lost to a typo in the path, and the message names the flag.
 */
export function outFile(path: string | undefined, flag = "--out"): string | undefined {
  if (path === undefined) return undefined;
  try {
    if (statSync(path).isDirectory()) throw new UsageError(`${flag} ${path} is a folder (give a file name)`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
  try {
    accessSync(dirname(path), constants.W_OK);
  } catch (e) {
    throw new UsageError(`${flag} ${path}: cannot write there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message} for ${dirname(path)})`);
  }
  return path;
}
