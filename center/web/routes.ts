/**
 * A route table: each route a method and a path pattern (`users/:id/password`), matched against
 * the decoded path segments; `:name` segments are handed to the handler in order. The first
 * route that matches wins; none matching is the caller's 404.
 */
export interface Route<C> {
  method: "GET" | "POST";
  pattern: string;
  handler: (c: C, ...params: string[]) => void | Promise<void>;
}

export class RouteTable<C> {
  readonly #routes: Array<{ method: string; segments: string[]; handler: Route<C>["handler"] }>;

  constructor(routes: ReadonlyArray<Route<C>>) {
    this.#routes = routes.map((r) => ({ method: r.method, segments: r.pattern.split("/").filter(Boolean), handler: r.handler }));
  }

  /** Runs the route for this method and path; false when there is none. */
  async run(c: C, method: string, parts: readonly string[]): Promise<boolean> {
    for (const r of this.#routes) {
      if (r.method !== method || r.segments.length !== parts.length) continue;
      const params: string[] = [];
      if (r.segments.every((s, i) => (s.startsWith(":") ? params.push(parts[i]) > 0 : s === parts[i]))) {
        await r.handler(c, ...params);
        return true;
      }
    }
    return false;
  }
}
