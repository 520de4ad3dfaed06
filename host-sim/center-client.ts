/**
 * A user of the center's web pages, over real HTTP: logs in through the login form (with its CSRF
 * token), keeps the session cookie, and calls the JSON API with the session's CSRF token, as the
 * page's own script does. Used by `timeguard scenario` for the center-side actions.
 */
export class CenterUser {
  readonly base: string;
  readonly username: string;
  #cookies = new Map<string, string>();
  #csrf = "";

  private constructor(base: string, username: string) {
    this.base = base.replace(/\/$/, "");
    this.username = username;
  }

  static async login(base: string, username: string, password: string): Promise<CenterUser> {
    const u = new CenterUser(base, username);
    const form = await u.#fetch("/login", { redirect: "manual" });
    const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
    if (!token) throw new Error("the login page has no CSRF token");
    const r = await u.#fetch("/login", {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: token, username, password }).toString(),
    });
    if (r.status !== 302 && r.status !== 303) throw new Error(`login as ${username} refused (HTTP ${r.status})`);
    const me = await u.get<{ csrf: string; role: string }>("/api/me");
    u.#csrf = me.csrf;
    return u;
  }

  async get<T = unknown>(path: string): Promise<T> {
    const r = await this.#fetch(path);
    if (!r.ok) throw new Error(`GET ${path}: HTTP ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  }

  async post<T = unknown>(path: string, body: Record<string, string> = {}): Promise<T> {
    const r = await this.#fetch(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-csrf-token": this.#csrf },
      body: new URLSearchParams(body).toString(),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`POST ${path}: HTTP ${r.status} ${text}`);
    return JSON.parse(text) as T;
  }

  /** Submits a page's form as a browser does (no redirect followed): the status and where it leads. */
  async submit(path: string, body: Record<string, string>): Promise<{ status: number; location: string | null; text: string }> {
    const r = await this.#fetch(path, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...body, _csrf: this.#csrf }).toString(),
    });
    return { status: r.status, location: r.headers.get("location"), text: await r.text() };
  }

  async #fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#cookies.size) headers.set("cookie", [...this.#cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const r = await fetch(this.base + path, { ...init, headers });
    for (const line of r.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === "") this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    return r;
  }
}
