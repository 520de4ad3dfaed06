import { readFileSync } from "node:fs";
import { UsageError } from "./usage";

/** Reads a JSON file, or says clearly why it cannot (exit code 2). */
export function readJsonFile(path: string | undefined, what: string): unknown {
  if (!path) throw new UsageError(`--${what} FILE is required`);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read the ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`the ${what} file ${path} is not JSON: ${(e as Error).message}`);
  }
}
