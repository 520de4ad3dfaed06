import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const EXT: Record<string, string> = { jpeg: "jpg", wav: "wav" };

/**
 * Media on disk: each chunk, once validated and found new (same bytes as before, or none), lands as
 * its own part file (rewriting one with the same bytes after a crash is harmless); when every part
 * is in, the item is written whole beside them (temporary name, then rename: atomic) and the parts
 * are removed once the database has committed the item.
 */
export class MediaFiles {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
    mkdirSync(root, { recursive: true });
  }

  #dir(terminal: string, mediaId: number): string {
    return join(this.root, terminal, String(mediaId));
  }

  writePart(terminal: string, mediaId: number, item: number, part: number, data: Uint8Array): void {
    const dir = this.#dir(terminal, mediaId);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${item}.part${part}`), data);
  }

  /** Joins parts 0..parts-1 into the item's file; returns its path (relative to root) and size. */
  assemble(terminal: string, mediaId: number, item: number, parts: number, type: string): { path: string; bytes: number } {
    const dir = this.#dir(terminal, mediaId);
    const chunks: Buffer[] = [];
    for (let p = 0; p < parts; p++) chunks.push(readFileSync(join(dir, `${item}.part${p}`)));
    const all = Buffer.concat(chunks);
    const name = `${item}.${EXT[type] ?? "bin"}`;
    writeFileSync(join(dir, name + ".tmp"), all);
    renameSync(join(dir, name + ".tmp"), join(dir, name));
    return { path: join(terminal, String(mediaId), name), bytes: all.length };
  }

  removeParts(terminal: string, mediaId: number, item: number, parts: number): void {
    const dir = this.#dir(terminal, mediaId);
    for (let p = 0; p < parts; p++) rmSync(join(dir, `${item}.part${p}`), { force: true });
  }

  read(relative: string): Buffer | null {
    const full = join(this.root, relative);
    if (!full.startsWith(this.root) || !existsSync(full)) return null;
    return readFileSync(full);
  }
}
