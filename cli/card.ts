import { randomBytes, randomInt } from "node:crypto";
import { parseArgs } from "node:util";
import { fromHex } from "../firmware/card/layout";
import { CardFileError, DEMO_ISSUER_JSON, IssuerKeys, Issuer, issueCardFile, openCard, parseKeys } from "../host-sim/devices/card-file";
import { manifestConfig } from "../host-sim/project";
import { readJsonFile } from "./files";
import { UsageError } from "./usage";
import { outFile } from "./args";

/**
 * The issuer's tool on simulated card files (host-sim/devices/card-file.ts):
 *   card issue  --file F --counts N [--id N] [--uid HEX8] [--keys K.json]
 *   card topup  --file F --counts N [--keys K.json]
 *   card show   --file F [--keys K.json] [--json]
 *   card revoke --file F [--keys K.json]
 * The issuer's keys come from --keys (a JSON file {issuer, keyA, keyB, macKey}) or else from the
 * card file itself (issue: the demo issuer whose key A and MAC key the manifest gives terminals).
 * The maximum balance is the manifest's config.card.maxCounts (or --max).
 */
export async function runCard(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || !["issue", "topup", "show", "revoke"].includes(sub)) throw new UsageError("card needs one of: issue, topup, show, revoke");
  const { values } = parseArgs({
    args: rest,
    options: {
      file: { type: "string" },
      counts: { type: "string" },
      id: { type: "string" },
      uid: { type: "string" },
      keys: { type: "string" },
      max: { type: "string" },
      json: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (!values.file) throw new UsageError("--file F (the card file) is required");
  const file = values.file;
  const keys = values.keys !== undefined ? keysFile(values.keys) : null;
  // the firmware's card config takes a maximum balance up to 2^31 - 1 (firmware/card/config.ts)
  const max = values.max !== undefined ? integer(values.max, "--max", 1, 0x7fffffff) : configuredMax();
  const out = (text: string) => process.stdout.write(text + "\n");
  try {
    switch (sub) {
      case "issue": {
        outFile(file, "--file");
        const counts = integer(values.counts, "--counts", 1, max, "the card's maximum balance");
        const cardId = values.id !== undefined ? integer(values.id, "--id", 1, 0xffffffff) : randomInt(1, 0x7fffffff);
        const uid = values.uid !== undefined ? fromHex(values.uid, 4) : randomBytes(4);
        if (!uid) throw new UsageError("--uid must be 8 hex digits");
        const f = issueCardFile(file, { uid: new Uint8Array(uid), cardId, counts, keys: keys ?? parseKeys(DEMO_ISSUER_JSON, "demo issuer"), maxCounts: max });
        const report = new Issuer(openCard(file).card, f.keys).show();
        if (values.json) out(JSON.stringify(report));
        else out(`issued card ${cardId} (uid ${report.uid}) with ${counts} counts in ${file}`);
        return 0;
      }
      case "topup": {
        const counts = integer(values.counts, "--counts", 1, max, "the card's maximum balance");
        const { card, file: f } = cardFile(file);
        const r = new Issuer(card, keys ?? f.keys).topUp(counts, max);
        if (values.json) out(JSON.stringify(r));
        else out(`card topped up: ${r.before} + ${counts} = ${r.after} counts (transaction ${r.seq})`);
        return 0;
      }
      case "revoke": {
        const { card, file: f } = cardFile(file);
        const r = new Issuer(card, keys ?? f.keys).revoke();
        out(values.json ? JSON.stringify({ revoked: true, counts: r.counts }) : `card revoked (it held ${r.counts} counts; terminals now refuse it)`);
        return 0;
      }
      case "show": {
        const { card, file: f } = cardFile(file);
        const r = new Issuer(card, keys ?? f.keys).show();
        if (values.json) out(JSON.stringify(r));
        else {
          out(`card ${r.id ?? "?"} (issuer ${r.issuer ?? "?"}), uid ${r.uid}${r.revoked ? ", REVOKED" : ""}`);
          // block 5 keeps the balance from before the last deduction or top-up (docs/card.md)
          const backup = r.backup === r.counts ? "backup copy the same" : `${r.backup ?? "?"} before the last transaction, kept as the backup copy`;
          out(`counts ${r.counts ?? "?"} (${backup})`);
          out(`transaction ${r.seq ?? "?"}, last: ${r.lastKind ?? "?"} by ${r.lastBy ?? "?"}`);
          out(r.consistent ? "record MAC ok, balance vouched for" : `problems: ${r.problems.join("; ")}`);
        }
        return r.consistent ? 0 : 1;
      }
    }
  } catch (e) {
    if (e instanceof CardFileError) {
      process.stderr.write(`timeguard card ${sub}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  return 2;
}

function integer(text: string | undefined, what: string, min: number, max: number, maxIs?: string): number {
  if (text === undefined) throw new UsageError(`${what} N is required`);
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) throw new UsageError(`${what} must be a whole number ≥ ${min}, got ${text}`);
  if (Number(text) > max) throw new UsageError(`${what} must be at most ${max.toLocaleString("en")}${maxIs ? ` (${maxIs})` : ""}, got ${text}`);
  return Number(text);
}

/** The card file, or a UsageError (exit code 2) when it cannot be read or is not a card file. */
function cardFile(path: string): ReturnType<typeof openCard> {
  try {
    return openCard(path);
  } catch (e) {
    if (e instanceof CardFileError) throw new UsageError(e.message);
    throw e;
  }
}

function keysFile(path: string): IssuerKeys {
  try {
    return parseKeys(readJsonFile(path, "keys"), path);
  } catch (e) {
    if (e instanceof CardFileError) throw new UsageError(e.message);
    throw e;
  }
}

function configuredMax(): number {
  const card = manifestConfig().card as { maxCounts?: unknown } | undefined;
  return typeof card?.maxCounts === "number" ? card.maxCounts : 100000;
}
