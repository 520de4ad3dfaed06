import type { ServerResponse } from "node:http";
import type { UserRow } from "../store/account-store";

/** Who an event concerns: a site (its manager), the operators, or both. Admins see everything. */
export interface Scope {
  siteId: number | null;
  operators: boolean;
}

interface Client {
  res: ServerResponse;
  user: UserRow;
}

/**
 * Server-sent events: each logged-in page holds one stream; an event reaches only the users its
 * scope names, so a manager's stream never carries another site's data.
 */
export class EventHub {
  readonly #clients = new Set<Client>();
  #keepAlive: ReturnType<typeof setInterval>;
  #id = 0;

  constructor(keepAliveMs = 15_000) {
    this.#keepAlive = setInterval(() => {
      for (const c of this.#clients) c.res.write(": keep-alive\n\n");
    }, keepAliveMs);
    this.#keepAlive.unref?.();
  }

  get size(): number {
    return this.#clients.size;
  }

  attach(res: ServerResponse, user: UserRow): void {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive", "x-content-type-options": "nosniff" });
    res.write("retry: 2000\n\n");
    const c = { res, user };
    this.#clients.add(c);
    res.on("close", () => this.#clients.delete(c));
  }

  static sees(user: UserRow, scope: Scope): boolean {
    if (user.role === "admin") return true;
    if (user.role === "operator") return scope.operators;
    return scope.siteId !== null && user.siteId === scope.siteId;
  }

  publish(type: string, data: Record<string, unknown>, scope: Scope): void {
    const payload = `id: ${++this.#id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of this.#clients) if (EventHub.sees(c.user, scope)) c.res.write(payload);
  }

  close(): void {
    clearInterval(this.#keepAlive);
    for (const c of this.#clients) c.res.end();
    this.#clients.clear();
  }
}
