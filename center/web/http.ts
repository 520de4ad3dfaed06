import type { IncomingMessage, ServerResponse } from "node:http";

export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": "default-src 'self'; img-src 'self'; media-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
};

export function escapeHtml(v: unknown): string {
  return String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

/** Tagged template: every interpolation is escaped unless it is a Raw (already-built HTML). */
export class Raw {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}
export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0];
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1];
  });
  return new Raw(out);
}
function render(v: unknown): string {
  if (v instanceof Raw) return v.html;
  if (Array.isArray(v)) return v.map(render).join("");
  if (v === null || v === undefined || v === false) return "";
  return escapeHtml(v);
}

export function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": type, "cache-control": "no-store", ...headers });
  res.end(body);
}

export function sendHtml(res: ServerResponse, status: number, page: Raw, headers: Record<string, string | string[]> = {}): void {
  send(res, status, "text/html; charset=utf-8", page.html, headers);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string | string[]> = {}): void {
  send(res, status, "application/json; charset=utf-8", JSON.stringify(value), headers);
}

export function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(303, { ...SECURITY_HEADERS, location, "cache-control": "no-store", ...headers });
  res.end();
}

export function cookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    if (k && !(k in out)) out[k] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

export function cookie(name: string, value: string, o: { maxAge?: number; secure?: boolean; httpOnly?: boolean } = {}): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, "Path=/", "SameSite=Strict"];
  if (o.httpOnly !== false) parts.push("HttpOnly");
  if (o.secure) parts.push("Secure");
  if (o.maxAge !== undefined) parts.push(`Max-Age=${o.maxAge}`);
  return parts.join("; ");
}

/** The largest body a page or the API takes (the admin's tariff form is the largest, a few KB). */
export const MAX_BODY = 256 * 1024;
/** The deepest JSON a body may nest: the API's bodies are flat objects; a tariff is two levels. */
export const MAX_JSON_DEPTH = 16;

/**
 * How deep JSON text nests, counted in one pass without recursion, so a hostile body cannot
 * overflow the stack here or later (JSON.stringify and anything walking the value recurse).
 * Stops counting past `limit` (returns limit + 1). Brackets inside strings do not count.
 */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max && (max = depth) > limit) return limit + 1;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return max;
}

/** JSON.parse behind the depth limit; an HttpError 400 naming what is wrong. */
export function parseJsonBody(text: string, what = "body"): unknown {
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw new HttpError(400, `${what}: JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, `${what} is not JSON`);
  }
}

/**
 * The request body: urlencoded forms and JSON; anything else is refused (415), a body over
 * MAX_BODY with 413 — a declared Content-Length at once, before a byte is read, an undeclared
 * (chunked) one as soon as it passes the limit, keeping nothing beyond it.
 */
export async function readBody(req: IncomingMessage, max = MAX_BODY): Promise<Record<string, string>> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && !(/^\d{1,15}$/.test(declared) && Number(declared) <= max)) throw new HttpError(413, `request body too large (at most ${max} bytes)`);
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (c: Buffer) => {
      if (over) return; // discarded until the connection closes (413 answers with Connection: close)
      size += c.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        reject(new HttpError(413, `request body too large (at most ${max} bytes)`));
      } else chunks.push(c);
    });
    req.on("end", () => over || resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
    req.on("close", () => reject(new HttpError(400, "request aborted"))); // (no effect once resolved)
  });
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (!text) return {};
  if (type === "application/x-www-form-urlencoded") return Object.fromEntries(new URLSearchParams(text));
  if (type === "application/json") {
    const v = parseJsonBody(text);
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new HttpError(400, "body must be a JSON object");
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, typeof x === "string" ? x : JSON.stringify(x)]));
  }
  throw new HttpError(415, `unsupported content type ${type || "(none)"}`);
}
