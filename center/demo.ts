import { EXAMPLE_TARIFF_JSON } from "../firmware/core/tariff";
import type { Center } from "./center";
import { hashPassword } from "./web/auth";

/**
 * The demo's known logins and terminal (printed by `timeguard start`). Demo only: anyone who reads
 * this file knows them, so a real center creates its own: the first admin with
 * `timeguard center user add` (cli/center-users.ts), the others there or on the admin page.
 */
export const DEMO = Object.freeze({
  site: "Demo home",
  contact: "Taro Tanaka, +81 90 0000 0000",
  terminal: "T0001",
  terminalSecret: "timeguard-demo-T0001-secret",
  imagesPerEvent: 3,
  users: Object.freeze({
    admin: Object.freeze({ username: "admin", password: "admin-demo-1" }),
    operator: Object.freeze({ username: "operator", password: "operator-demo-1" }),
    manager: Object.freeze({ username: "manager", password: "manager-demo-1" }),
  }),
});

export interface DemoDestination {
  audience: "site" | "operators";
  kind: "email" | "webhook";
  address: string;
  /** webhooks: the signing secret */
  secret?: string;
}

/**
 * Seeds the demo: one site with its manager, an operator and an admin, terminal T0001 with the
 * example tariff of DESIGN §2, and any notification destinations given. Idempotent: running it on
 * a seeded center changes nothing and adds no duplicates.
 */
export function seedDemo(center: Center, o: { tariff?: unknown; destinations?: DemoDestination[] } = {}): { siteId: number } {
  const { store, web } = center;
  const existing = web.sites.siteByName(DEMO.site);
  if (!store.terminal(DEMO.terminal)) {
    center.addTerminal({ id: DEMO.terminal, secret: DEMO.terminalSecret, site: DEMO.site, contact: DEMO.contact, tariff: o.tariff ?? EXAMPLE_TARIFF_JSON });
  }
  const siteId = existing?.id ?? (web.sites.siteByName(DEMO.site) as { id: number }).id;
  if (!existing) web.sites.setSiteSettings(siteId, { imagesPerEvent: DEMO.imagesPerEvent });
  const now = Date.now();
  for (const role of ["admin", "operator", "manager"] as const) {
    const u = DEMO.users[role];
    if (!web.accounts.userByName(u.username)) web.accounts.addUser({ username: u.username, passwordHash: hashPassword(u.password), role, siteId: role === "manager" ? siteId : null }, now);
  }
  for (const d of o.destinations ?? []) {
    const scoped = d.audience === "site" ? siteId : null;
    const dup = web.notify.destinations({ audience: d.audience }).some((x) => x.kind === d.kind && x.address === d.address && x.siteId === scoped);
    if (!dup) web.notify.addDestination({ audience: d.audience, siteId: scoped, kind: d.kind, address: d.address, secret: d.kind === "webhook" ? (d.secret ?? null) : null, createdAt: now });
  }
  return { siteId };
}
