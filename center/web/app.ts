import type { IncomingMessage, ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import { FieldError } from "../../firmware/core/errors";
import { EXAMPLE_TARIFF_JSON, parseTariff } from "../../firmware/core/tariff";
import { ALARM_ACTIONS, type AlarmAction } from "../alarm-policy";
import type { Dispatcher } from "../dispatch";
import type { MediaFiles } from "../media-files";
import type { MediaLinks } from "../notify/links";
import { hashSecret } from "../secrets";
import type { AlarmRow, CenterStore, SiteRow } from "../store/center-store";
import { ROLES, type Role, type UserRow } from "../store/account-store";
import type { WebStores } from "../store/web-store";
import { LOGIN_CSRF_COOKIE, SESSION_COOKIE, Sessions, USERNAME, hashPassword, newToken, passwordProblem, sameToken } from "./auth";
import { type DayFigure, chartRange, perDay, periodTable, sumDays } from "./billing-view";
import type { Tariffs } from "../tariffs";
import { EventHub } from "./events";
import { type LoginLimiter, clientAddress } from "./login-limiter";
import { RouteTable } from "./routes";
import { HttpError, MAX_JSON_DEPTH, Raw, cookie, cookies, jsonDepth, readBody, redirect, send, sendHtml, sendJson } from "./http";
import { type AlarmView, type View, ZONE, adminPage, alarmPage, alarmsPage, errorPage, loginPage, operatorPage, sitePage } from "./pages";
import { filterAlarms, parseAlarmFilter } from "./alarm-list";
import { toCsv } from "./csv";
import { formatTime } from "../../firmware/core/time";
import { APP_CSS, APP_JS } from "./static";

export interface WebDeps {
  store: CenterStore;
  web: WebStores;
  media: MediaFiles;
  links: MediaLinks;
  dispatcher: Dispatcher;
  events: EventHub;
  /** terminals connected to the broker now */
  connected(): string[];
  /** the public health figures (kept from the lead's /api/health) */
  health(): Record<string, unknown>;
  /** a new tariff version for a terminal (stored, sent down); returns the version */
  setTariff(terminal: string, tariff: unknown): number;
  tariffs: Tariffs;
  /** the stored hash of a terminal's secret (HMAC with the center's terminal key); scrypt when absent */
  terminalSecretHash?(id: string, secret: string): string;
  now?: () => number;
  /** Secure cookies (behind HTTPS); off for the loopback demo */
  secureCookies?: boolean;
  /** the web login limit (login-limiter.ts, kept in the database) */
  limiter: LoginLimiter;
  /** addresses of reverse proxies whose X-Forwarded-For names the client (none: the socket's address) */
  trustedProxies?: readonly string[];
  /** the demo's logins, shown on the login page (demo mode only; a real center has none) */
  demoLogins?: ReadonlyArray<{ role: string; username: string; password: string }>;
}

/** An admin form's request: its body, and the two ways its page answers. */
interface AdminCtx {
  c: Ctx;
  body: Record<string, string>;
  /** 400: the admin page again with the message and the fields typed (never a secret) */
  fail(text: string): void;
  /** 303 to the admin page with the message */
  done(text: string): void;
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  parts: string[];
  user: UserRow | null;
  csrf: string;
  token: string | undefined;
}

const TERMINAL_ID = /^[A-Za-z0-9-]{1,16}$/;
/** The alarm list shows at most this many cards (newest first); its CSV has every match. */
const ALARMS_SHOWN = 200;

/**
 * The center's web: server-rendered pages for three roles, a small JSON API, server-sent events
 * and media. Every read a manager can reach is scoped by the session's site: another site's page,
 * alarm, media file or API answer is a 404, the same as for something that does not exist.
 */
export class WebApp {
  readonly #d: WebDeps;
  readonly #now: () => number;
  readonly sessions: Sessions;
  readonly limiter: LoginLimiter;
  counts = { csrfRefused: 0, loginFailed: 0, loginRateLimited: 0, notFound: 0 };

  constructor(d: WebDeps) {
    this.#d = d;
    this.#now = d.now ?? Date.now;
    this.sessions = new Sessions(d.web.accounts, this.#now);
    this.limiter = d.limiter;
  }

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.#route(req, res).catch((e) => {
      const status = e instanceof HttpError ? e.status : 500;
      if (res.headersSent) return void res.end();
      if (status === 500) console.error("center web:", e);
      const message = e instanceof HttpError ? e.message : "internal error";
      // a body too large is left unread: the connection closes rather than carry it
      const close: Record<string, string> = status === 413 ? { connection: "close" } : {};
      if ((req.url ?? "").startsWith("/api/")) sendJson(res, status, { error: message }, close);
      else send(res, status, "text/plain; charset=utf-8", message + "\n", close);
    });
  };

  /** The logged-in pages (the admin's and the API have their own tables below). */
  readonly #pageRoutes = new RouteTable<Ctx>([
    { method: "POST", pattern: "logout", handler: (c) => this.#logout(c) },
    { method: "GET", pattern: "", handler: (c) => redirect(c.res, home(c.user as UserRow)) },
    { method: "GET", pattern: "events", handler: (c) => this.#d.events.attach(c.res, c.user as UserRow) },
    { method: "GET", pattern: "media/:terminal/:media/:item", handler: (c, terminal, media, item) => this.#sessionMedia(c, terminal, media, item) },
    { method: "GET", pattern: "site/:id", handler: (c, id) => this.#sitePage(c, intParam(id)) },
    { method: "GET", pattern: "alarm/:terminal/:id", handler: (c, terminal, id) => this.#alarmPage(c, terminal, intParam(id)) },
    { method: "POST", pattern: "alarm/:terminal/:id/:action", handler: (c, terminal, id, action) => this.#alarmAction(c, terminal, intParam(id), action, false) },
    { method: "GET", pattern: "operator", handler: (c) => this.#operatorPage(c) },
    { method: "GET", pattern: "alarms", handler: (c) => this.#alarmsPage(c) },
    { method: "GET", pattern: "alarms.csv", handler: (c) => this.#alarmsCsv(c) },
    { method: "GET", pattern: "terminals/:id/periods.csv", handler: (c, id) => this.#periodsCsv(c, id) },
    { method: "POST", pattern: "faults/:id/clear", handler: (c, id) => this.#clearFault(c, intParam(id)) },
  ]);

  #logout(c: Ctx): void {
    this.sessions.destroy(c.token);
    redirect(c.res, "/login", { "set-cookie": cookie(SESSION_COOKIE, "", { maxAge: 0, secure: this.#d.secureCookies }) });
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    let parts: string[];
    try {
      parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    } catch {
      throw new HttpError(400, "bad path");
    }
    const method = req.method ?? "GET";
    const token = cookies(req)[SESSION_COOKIE];
    const found = this.sessions.lookup(token);
    const c: Ctx = { req, res, url, parts, user: found?.user ?? null, csrf: found?.session.csrf ?? "", token };
    const [p0, p1, p2, p3] = parts;

    // public
    if (method === "GET" && p0 === "api" && p1 === "health" && parts.length === 2) return sendJson(res, 200, { ok: true, ...this.#d.health() });
    if (method === "GET" && p0 === "static") {
      if (p1 === "app.css") return send(res, 200, "text/css; charset=utf-8", APP_CSS, { "cache-control": "max-age=300" });
      if (p1 === "app.js") return send(res, 200, "text/javascript; charset=utf-8", APP_JS, { "cache-control": "max-age=300" });
      throw new HttpError(404, "not found");
    }
    if (method === "GET" && p0 === "favicon.ico" && parts.length === 1) return send(res, 204, "image/x-icon", "");
    if (method === "GET" && p0 === "m" && parts.length === 4) return this.#signedMedia(c, p1, p2, p3);
    if (p0 === "login" && parts.length === 1) return method === "POST" ? this.#login(c) : this.#loginForm(c, null);

    // everything else: a session, and on POST its CSRF token
    if (method === "POST") await this.#checkPost(c);
    if (!c.user) {
      if (p0 === "api" || p0 === "events" || p0 === "media") throw new HttpError(401, "log in first");
      return redirect(res, "/login");
    }
    if (await this.#pageRoutes.run(c, method, parts)) return;
    if (p0 === "admin") return this.#admin(c, method, parts.slice(1));
    if (p0 === "api") return this.#api(c, method, parts.slice(1));
    return this.#notFound(c);
  }

  // ---------------------------------------------------------------- login

  #loginForm(c: Ctx, error: string | null, status = 200, username = ""): void {
    if (c.user && !error) return redirect(c.res, home(c.user));
    // One login token per browser (double submit): reused while its cookie lives, so a second tab
    // or a stray request for the login page does not invalidate the form already shown.
    const existing = cookies(c.req)[LOGIN_CSRF_COOKIE];
    const csrf = existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : newToken();
    sendHtml(c.res, status, loginPage(csrf, error, username, this.#d.demoLogins), { "set-cookie": cookie(LOGIN_CSRF_COOKIE, csrf, { secure: this.#d.secureCookies, maxAge: 3600 }) });
  }

  async #login(c: Ctx): Promise<void> {
    this.#checkOrigin(c);
    const body = await readBody(c.req);
    if (!sameToken(body._csrf, cookies(c.req)[LOGIN_CSRF_COOKIE])) {
      this.counts.csrfRefused++;
      return this.#loginForm(c, "The form expired; please try again.", 403);
    }
    const username = (body.username ?? "").trim().slice(0, 40);
    const password = body.password ?? "";
    const ip = clientAddress(c.req.socket.remoteAddress, c.req.headers["x-forwarded-for"], this.#d.trustedProxies);
    const reservation = this.limiter.reserve(ip, username);
    if (!reservation.ok) {
      const wait = reservation.retryAfter;
      this.counts.loginRateLimited++;
      const csrf = newToken();
      const when = wait < 90 ? `${wait} s` : `${Math.ceil(wait / 60)} min`;
      return sendHtml(c.res, 429, loginPage(csrf, `Too many failed logins; try again in ${when}.`, username, this.#d.demoLogins), {
        "retry-after": String(wait),
        "set-cookie": cookie(LOGIN_CSRF_COOKIE, csrf, { secure: this.#d.secureCookies, maxAge: 3600 }),
      });
    }
    const user = password.length <= 200 ? await this.sessions.verifyAsync(username, password) : null;
    if (!user) {
      this.counts.loginFailed++;
      return this.#loginForm(c, "Wrong user or password.", 401, username);
    }
    this.limiter.succeeded(ip, username, reservation);
    if (c.token) this.sessions.destroy(c.token); // no session fixation: always a fresh one
    const s = this.sessions.create(user.id);
    redirect(c.res, home(user), {
      "set-cookie": [
        cookie(SESSION_COOKIE, s.token, { secure: this.#d.secureCookies, maxAge: Math.floor(this.sessions.ttlMs / 1000) }),
        cookie(LOGIN_CSRF_COOKIE, "", { maxAge: 0, secure: this.#d.secureCookies }),
      ],
    });
  }

  #checkOrigin(c: Ctx): void {
    const origin = c.req.headers.origin;
    if (origin && origin !== "null" && origin !== `http://${c.req.headers.host}` && origin !== `https://${c.req.headers.host}`) {
      this.counts.csrfRefused++;
      throw new HttpError(403, "cross-origin request refused");
    }
  }

  /** Every POST: same origin, and the session's CSRF token (form field _csrf or header X-CSRF-Token). */
  async #checkPost(c: Ctx): Promise<void> {
    this.#checkOrigin(c);
    const body = await readBody(c.req);
    (c as Ctx & { body: Record<string, string> }).body = body;
    const given = body._csrf ?? (c.req.headers["x-csrf-token"] as string | undefined);
    if (!c.user) throw new HttpError(401, "log in first");
    if (!sameToken(given, c.csrf)) {
      this.counts.csrfRefused++;
      throw new HttpError(403, "missing or wrong CSRF token");
    }
  }

  // ---------------------------------------------------------------- scoping

  #siteVisible(user: UserRow, siteId: number): boolean {
    return user.role !== "manager" || user.siteId === siteId;
  }

  #terminalOf(user: UserRow, terminal: string | undefined) {
    if (!terminal || !TERMINAL_ID.test(terminal)) return undefined;
    const t = this.#d.store.terminal(terminal);
    return t && this.#siteVisible(user, t.siteId) ? t : undefined;
  }

  #notFound(c: Ctx): void {
    this.counts.notFound++;
    if (c.parts[0] === "api") return sendJson(c.res, 404, { error: "not found" });
    sendHtml(c.res, 404, errorPage(this.#view(c), 404, "There is nothing here for you."));
  }

  #view(c: Ctx, flash?: View["flash"]): View {
    const f = c.url.searchParams;
    return { user: c.user, csrf: c.csrf, flash: flash ?? (f.get("ok") ? { text: f.get("ok") as string, error: false } : f.get("error") ? { text: f.get("error") as string, error: true } : null) };
  }

  #sites(): SiteRow[] {
    return this.#d.store.sites();
  }

  /**
   * The cards' data for a list of alarms: media and actions in one query each, each distinct
   * terminal looked up once, the sites once — never a query per alarm.
   */
  #alarmViews(alarms: readonly AlarmRow[]): AlarmView[] {
    if (!alarms.length) return [];
    const keys = alarms.map((a) => ({ terminal: a.terminal, alarmId: a.alarmId }));
    const byAlarm = <T extends { terminal: string; alarmId: number }>(rows: T[]) => {
      const m = new Map<string, T[]>();
      for (const r of rows) {
        const k = `${r.terminal}/${r.alarmId}`;
        const list = m.get(k);
        if (list) list.push(r);
        else m.set(k, [r]);
      }
      return m;
    };
    const media = byAlarm(this.#d.web.alarms.mediaOfAlarms(keys));
    const actions = byAlarm(this.#d.web.actions.actionsOfAlarms(keys));
    const sites = new Map(this.#sites().map((s) => [s.id, s]));
    const siteOf = new Map([...new Set(alarms.map((a) => a.terminal))].map((id) => [id, this.#d.store.terminal(id)?.siteId]));
    return alarms.map((a) => {
      const k = `${a.terminal}/${a.alarmId}`;
      const siteId = siteOf.get(a.terminal);
      return { alarm: a, site: siteId === undefined ? undefined : sites.get(siteId), media: media.get(k) ?? [], actions: actions.get(k) ?? [] };
    });
  }

  // ---------------------------------------------------------------- media

  #mediaRow(terminal: string, mediaId: string | undefined, item: string | undefined) {
    const m = intParam(mediaId);
    const i = intParam(item);
    return this.#d.store.media(terminal).find((r) => r.mediaId === m && r.item === i && r.complete && r.path);
  }

  #serveMedia(c: Ctx, path: string, type: string): void {
    const bytes = this.#d.media.read(path);
    if (!bytes) return this.#notFound(c);
    send(c.res, 200, type === "jpeg" ? "image/jpeg" : type === "wav" ? "audio/wav" : "application/octet-stream", bytes, { "cache-control": "private, max-age=3600" });
  }

  #sessionMedia(c: Ctx, terminal: string | undefined, mediaId: string | undefined, item: string | undefined): void {
    const t = this.#terminalOf(c.user as UserRow, terminal);
    const row = t ? this.#mediaRow(t.id, mediaId, item) : undefined;
    if (!row) return this.#notFound(c);
    this.#serveMedia(c, row.path as string, row.type);
  }

  #signedMedia(c: Ctx, terminal: string | undefined, mediaId: string | undefined, item: string | undefined): void {
    if (!terminal || !TERMINAL_ID.test(terminal)) throw new HttpError(404, "not found");
    const problem = this.#d.links.check(terminal, intParam(mediaId), intParam(item), c.url.searchParams.get("exp"), c.url.searchParams.get("sig"), Math.floor(this.#now() / 1000));
    if (problem) throw new HttpError(403, problem);
    const row = this.#mediaRow(terminal, mediaId, item);
    if (!row) throw new HttpError(404, "not found");
    this.#serveMedia(c, row.path as string, row.type);
  }

  // ---------------------------------------------------------------- pages

  #siteData(siteId: number) {
    const site = this.#d.store.site(siteId) as SiteRow;
    const terminals = this.#d.store.siteTerminals(siteId);
    const online = new Set(this.#d.connected());
    const statuses = terminals.map((t) => {
      const rows = this.#d.store.periods(t.id);
      const tariffOf = this.#d.tariffs.lookup(t.id);
      let days: ReturnType<typeof perDay> = [];
      try {
        days = perDay(rows, tariffOf);
      } catch {
        days = [];
      }
      return { terminal: t, online: online.has(t.id), plan: this.#d.web.terminals.latestPlan(t.id), table: periodTable(t.id, rows, tariffOf), days, openFaults: this.#d.web.faults.faults({ open: true, terminals: [t.id] }) };
    });
    const ids = terminals.map((t) => t.id);
    const alarms = ids.flatMap((id) => this.#d.store.alarms(id)).sort((a, b) => b.time - a.time || b.alarmId - a.alarmId);
    return { site, terminals, statuses, sensors: this.#d.web.terminals.sensors(ids), alarms, notifications: this.#d.web.notify.notifications({ siteId, audience: "site", limit: 50 }) };
  }

  /** Every terminal's hours and yen per day, added up: the company's chart on the admin page. */
  #companyDays(): DayFigure[] {
    return sumDays(
      this.#d.store.terminals().map((t) => {
        try {
          return perDay(this.#d.store.periods(t.id), this.#d.tariffs.lookup(t.id));
        } catch {
          return [];
        }
      }),
    );
  }

  #sitePage(c: Ctx, siteId: number): void {
    const user = c.user as UserRow;
    if (this.#d.store.site(siteId) === undefined || !this.#siteVisible(user, siteId)) return this.#notFound(c);
    const d = this.#siteData(siteId);
    sendHtml(c.res, 200, sitePage(this.#view(c), d.site, d.statuses, d.sensors, this.#alarmViews(d.alarms), d.notifications, chartRange(c.url.searchParams.get("range"))));
  }

  #alarmPage(c: Ctx, terminal: string | undefined, alarmId: number): void {
    const t = this.#terminalOf(c.user as UserRow, terminal);
    const a = t ? this.#d.store.alarms(t.id).find((x) => x.alarmId === alarmId) : undefined;
    if (!a) return this.#notFound(c);
    sendHtml(c.res, 200, alarmPage(this.#view(c), this.#alarmViews([a])[0]));
  }

  /** The alarms this user may see, filtered by the query string; and the sites they are at. */
  #filteredAlarms(c: Ctx) {
    const user = c.user as UserRow;
    const { filter, problems } = parseAlarmFilter(c.url.searchParams);
    const sites = this.#sites().filter((x) => this.#siteVisible(user, x.id));
    const siteById = new Map(sites.map((x) => [x.id, x]));
    const terminals = this.#d.store.terminals().filter((t) => siteById.has(t.siteId));
    const siteOfTerminal = new Map(terminals.map((t) => [t.id, siteById.get(t.siteId)]));
    const all = terminals.flatMap((t) => this.#d.store.alarms(t.id));
    const kinds = [...new Set(all.map((a) => a.event))].sort();
    return { filter, problems, sites, kinds, alarms: filterAlarms(all, filter, (id) => siteOfTerminal.get(id)), siteOf: (id: string) => siteOfTerminal.get(id) };
  }

  #alarmsPage(c: Ctx): void {
    const r = this.#filteredAlarms(c);
    const shown = r.alarms.slice(0, ALARMS_SHOWN);
    sendHtml(c.res, 200, alarmsPage(this.#view(c), { filter: r.filter, problems: r.problems, sites: r.sites, kinds: r.kinds, alarms: this.#alarmViews(shown), total: r.alarms.length, shown: shown.length }));
  }

  #alarmsCsv(c: Ctx): void {
    const r = this.#filteredAlarms(c);
    if (r.problems.length) throw new HttpError(400, `bad filter: ${r.problems.join("; ")}`);
    const t = (s: number) => formatTime(s).replace("T", " ");
    const csv = toCsv(
      ["site", "terminal", "alarm", `terminal time (${ZONE})`, `received, center time (${ZONE})`, "pattern", "kind", "sensor", "contact id", "status", "images", "clips"],
      r.alarms.map((a) => [r.siteOf(a.terminal)?.name ?? "", a.terminal, a.alarmId, t(a.time), t(Math.floor(a.receivedAt / 1000)), a.pattern, a.event, a.sensor, a.contactId, a.status, a.images, a.clips]),
    );
    send(c.res, 200, "text/csv; charset=utf-8", csv, { "content-disposition": 'attachment; filename="alarms.csv"' });
  }

  #periodsCsv(c: Ctx, terminal: string): void {
    const term = this.#terminalOf(c.user as UserRow, terminal);
    if (!term) return this.#notFound(c);
    const x = periodTable(term.id, this.#d.store.periods(term.id), this.#d.tariffs.lookup(term.id));
    const t = (s: number) => formatTime(s).replace("T", " ");
    const csv = toCsv(
      [`start, terminal time (${ZONE})`, `end, terminal time (${ZONE})`, "pattern", "sensors", "cameras", "yen per hour", "guarded seconds", "base yen", "yen (terminal)", "yen (center)", "counts taken", "card", "contract", "fee mismatch"],
      x.rows.map((r) => [t(r.start), t(r.end), r.pattern, r.sensors, r.cameras, r.yenPerHour, r.guardedSeconds, r.baseYen, r.yen, r.centerYen, r.countsTaken, r.cardId, r.contract, r.feeMismatch]),
    );
    const name = term.id.replace(/[^A-Za-z0-9-]/g, "");
    send(c.res, 200, "text/csv; charset=utf-8", csv, { "content-disposition": `attachment; filename="periods-${name}.csv"` });
  }

  #operatorQueue(): { queue: AlarmRow[]; recent: AlarmRow[] } {
    return this.#d.web.alarms.operatorAlarms(); // filtered and ordered in SQL by the alarm policy
  }

  #operatorPage(c: Ctx): void {
    const user = c.user as UserRow;
    if (user.role === "manager") return this.#notFound(c);
    const q = this.#operatorQueue();
    sendHtml(
      c.res,
      200,
      operatorPage(this.#view(c), this.#alarmViews(q.queue), this.#alarmViews(q.recent), this.#d.web.faults.faults({ limit: 50 }), this.#d.web.notify.notifications({ audience: "operators", limit: 50 })),
    );
  }

  async #alarmAction(c: Ctx, terminal: string | undefined, alarmId: number, action: string | undefined, api: boolean): Promise<void> {
    const user = c.user as UserRow;
    const body = (c as Ctx & { body: Record<string, string> }).body ?? {};
    if (!this.#terminalOf(user, terminal)) return this.#notFound(c);
    if (!ALARM_ACTIONS.includes(action as AlarmAction)) return this.#notFound(c);
    const r = await this.#d.dispatcher.act({ id: user.id, username: user.username, role: user.role, siteId: user.siteId }, terminal as string, alarmId, action as AlarmAction, body.note);
    if (api) return sendJson(c.res, r.ok ? 200 : r.code, r);
    const back = safeBack(body.back) ?? `/alarm/${encodeURIComponent(terminal as string)}/${alarmId}`;
    if (!r.ok && r.code === 404) return this.#notFound(c);
    const sep = back.includes("?") ? "&" : "?";
    redirect(c.res, back + sep + (r.ok ? `ok=${encodeURIComponent(`alarm ${alarmId}: ${r.status}${r.queued ? ", queued for the terminal" : ""}`)}` : `error=${encodeURIComponent(r.error)}`));
  }

  #clearFault(c: Ctx, id: number): void {
    const user = c.user as UserRow;
    if (user.role === "manager") return this.#notFound(c);
    const f = this.#d.web.faults.fault(id);
    if (!f) return this.#notFound(c);
    this.#d.web.faults.clearFault(id, this.#now(), user.username);
    this.#d.events.publish("fault", { id, cleared: true }, { siteId: null, operators: true });
    redirect(c.res, "/operator?ok=" + encodeURIComponent(`fault ${id} cleared`));
  }

  // ---------------------------------------------------------------- admin

  #adminPage(c: Ctx, status = 200, flash?: View["flash"], form?: Record<string, string>): void {
    sendHtml(
      c.res,
      status,
      adminPage(this.#view(c, flash), {
        sites: this.#sites().map((s) => ({ ...s, imagesPerEvent: this.#d.web.sites.imagesPerEvent(s.id) })),
        terminals: this.#d.store.terminals(),
        users: this.#d.web.accounts.users(),
        destinations: this.#d.web.notify.destinations(),
        notifications: this.#d.web.notify.notifications({ limit: 100 }),
        tariffDefault: EXAMPLE_TARIFF_JSON,
        form,
        companyDays: this.#companyDays(),
        range: chartRange(c.url.searchParams.get("range")),
      }),
    );
  }

  /**
   * The admin's forms: one route per form (center/web/routes.ts), each a method below. Every
   * handler gets the request, its body, and the page's fail (400 with the form again) and done
   * (303 back with the message).
   */
  readonly #adminRoutes = new RouteTable<AdminCtx>([
    { method: "GET", pattern: "", handler: ({ c }) => this.#adminPage(c) },
    { method: "POST", pattern: "sites", handler: (a) => this.#addSite(a) },
    { method: "POST", pattern: "sites/:id", handler: (a, id) => this.#saveSite(a, id) },
    { method: "POST", pattern: "terminals", handler: (a) => this.#addTerminal(a) },
    { method: "POST", pattern: "terminals/:id/tariff", handler: (a, id) => this.#saveTariff(a, id) },
    { method: "POST", pattern: "users", handler: (a) => this.#addUser(a) },
    { method: "POST", pattern: "users/:id/password", handler: (a, id) => this.#setPassword(a, id) },
    { method: "POST", pattern: "users/:id/delete", handler: (a, id) => this.#removeUser(a, id) },
    { method: "POST", pattern: "destinations", handler: (a) => this.#addDestination(a) },
    { method: "POST", pattern: "destinations/:id", handler: (a, id) => this.#saveDestination(a, id) },
    { method: "POST", pattern: "destinations/:id/delete", handler: (a, id) => this.#deleteDestination(a, id) },
  ]);

  async #admin(c: Ctx, method: string, rest: string[]): Promise<void> {
    if ((c.user as UserRow).role !== "admin") return this.#notFound(c);
    const body = (c as Ctx & { body: Record<string, string> }).body ?? {};
    const a: AdminCtx = {
      c,
      body,
      fail: (text) => this.#adminPage(c, 400, { text, error: true }, body),
      done: (text) => redirect(c.res, "/admin?ok=" + encodeURIComponent(text)),
    };
    if (!(await this.#adminRoutes.run(a, method, rest))) this.#notFound(c);
  }

  async #addSite({ body, fail, done }: AdminCtx): Promise<void> {
    const name = (body.name ?? "").trim();
    if (!name || name.length > 64) return fail("name: 1 to 64 characters");
    if (this.#d.web.sites.siteByName(name)) return fail(`name: a site called ${name} exists`);
    const images = imagesParam(body.imagesPerEvent);
    if (images === null) return fail("imagesPerEvent: a whole number from 0 to 20");
    const manager = (body.manager ?? "").trim();
    if (manager) {
      if (!USERNAME.test(manager)) return fail("manager: letters, digits and . _ @ - only, at most 40");
      if (this.#d.web.accounts.userByName(manager)) return fail(`manager: the user ${manager} exists`);
      const p = passwordProblem(body.managerPassword ?? "");
      if (p) return fail("manager " + p);
    }
    const hash = manager ? hashPassword(body.managerPassword) : null;
    this.#d.store.transaction(() => {
      const id = this.#d.store.addSite(name, (body.contact ?? "").trim().slice(0, 120));
      this.#d.web.sites.setSiteSettings(id, { imagesPerEvent: images });
      if (manager && hash) this.#d.web.accounts.addUser({ username: manager, passwordHash: hash, role: "manager", siteId: id }, this.#now());
    });
    return done(`site ${name} registered`);
  }

  async #saveSite({ c, body, fail, done }: AdminCtx, siteParam: string): Promise<void> {
    const id = intParam(siteParam);
    if (this.#d.store.site(id) === undefined) return this.#notFound(c);
    const images = imagesParam(body.imagesPerEvent);
    if (images === null) return fail("imagesPerEvent: a whole number from 0 to 20");
    this.#d.web.sites.setSiteSettings(id, { contact: (body.contact ?? "").trim().slice(0, 120), imagesPerEvent: images });
    return done(`site ${id} saved`);
  }

  async #addTerminal({ body, fail, done }: AdminCtx): Promise<void> {
    const id = (body.id ?? "").trim();
    if (!TERMINAL_ID.test(id)) return fail("id: 1 to 16 letters, digits or -");
    if (this.#d.store.terminal(id)) return fail(`id: terminal ${id} is registered`);
    const secret = body.secret ?? "";
    if (secret.length < 8 || secret.length > 200) return fail("secret: 8 to 200 characters");
    const siteId = intParam(body.siteId);
    if (!this.#d.store.site(siteId)) return fail("siteId: choose a site");
    const tariff = tariffParam(body);
    if (typeof tariff === "string") return fail(tariff);
    this.#d.store.addTerminal({ id, siteId, secretHash: this.#d.terminalSecretHash?.(id, secret) ?? hashSecret(secret), tariff });
    this.#d.tariffs.ensure(id);
    return done(`terminal ${id} registered`);
  }

  async #saveTariff({ c, body, fail, done }: AdminCtx, terminal: string): Promise<void> {
    const t = this.#d.store.terminal(terminal);
    if (!t) return this.#notFound(c);
    const tariff = tariffParam(body);
    if (typeof tariff === "string") return fail(`${t.id}: ${tariff}`);
    let version: number;
    try {
      version = this.#d.setTariff(t.id, tariff);
    } catch (e) {
      return fail(`${t.id}: tariff ${(e as Error).message}`);
    }
    return done(`tariff of ${t.id} saved as version ${version}; the terminal applies it from its next session`);
  }

  async #addUser({ body, fail, done }: AdminCtx): Promise<void> {
    const username = (body.username ?? "").trim();
    if (!USERNAME.test(username)) return fail("username: letters, digits and . _ @ - only, at most 40");
    if (this.#d.web.accounts.userByName(username)) return fail(`username: ${username} exists`);
    const p = passwordProblem(body.password ?? "");
    if (p) return fail(p);
    const role = body.role as Role;
    if (!ROLES.includes(role)) return fail("role: admin, operator or manager");
    let siteId: number | null = null;
    if (role === "manager") {
      siteId = intParam(body.siteId);
      if (this.#d.store.site(siteId) === undefined) return fail("siteId: a manager manages one site; choose it");
    }
    this.#d.web.accounts.addUser({ username, passwordHash: hashPassword(body.password), role, siteId }, this.#now());
    return done(`user ${username} added`);
  }

  async #setPassword({ c, body, fail, done }: AdminCtx, idParam: string): Promise<void> {
    const target = this.#d.web.accounts.user(intParam(idParam));
    if (!target) return this.#notFound(c);
    const p = passwordProblem(body.password ?? "");
    if (p) return fail(p);
    this.#d.web.accounts.setPassword(target.id, hashPassword(body.password));
    return done(`password of ${target.username} changed; their sessions ended`);
  }

  async #removeUser({ c, fail, done }: AdminCtx, idParam: string): Promise<void> {
    const target = this.#d.web.accounts.user(intParam(idParam));
    if (!target) return this.#notFound(c);
    if (target.id === (c.user as UserRow).id) return fail("you cannot remove yourself");
    this.#d.web.accounts.deleteUser(target.id);
    return done(`user ${target.username} removed`);
  }

  async #addDestination({ c, body, fail, done }: AdminCtx): Promise<void> {
    const target = body.for ?? "";
    let audience: "site" | "operators";
    let siteId: number | null = null;
    if (target === "operators") audience = "operators";
    else if (/^site:\d{1,12}$/.test(target) && this.#d.store.site(Number(target.slice(5))) !== undefined) {
      audience = "site";
      siteId = Number(target.slice(5));
    } else return fail("for: operators or a site");
    const kind = body.kind;
    if (kind !== "email" && kind !== "webhook") return fail("kind: email or webhook");
    const address = addressProblem(kind, body.address);
    if (address.problem) return fail(address.problem);
    const given = (body.secret ?? "").trim();
    if (kind === "webhook" && given && given.length < 16) return fail("secret: at least 16 characters (or blank for one made for you)");
    if (given.length > 200) return fail("secret: at most 200 characters");
    const secret = kind === "webhook" ? given || randomBytes(24).toString("base64url") : null;
    this.#d.web.notify.addDestination({ audience, siteId, kind, address: address.value, secret, createdAt: this.#now() });
    // Secrets are write-only: the page never shows a stored one. One the center made is shown
    // in this answer only (not in a URL, not on any later page) for the admin to give the receiver.
    if (kind === "webhook" && !given) {
      return this.#adminPage(c, 200, { text: `webhook destination ${address.value} added; its signing secret (shown this once, copy it to the receiver now): ${secret}`, error: false });
    }
    return done(`${kind} destination ${address.value} added`);
  }

  async #saveDestination({ c, body, fail, done }: AdminCtx, idParam: string): Promise<void> {
    const dest = this.#d.web.notify.destination(intParam(idParam));
    if (!dest) return this.#notFound(c);
    const address = addressProblem(dest.kind, body.address);
    if (address.problem) return fail(`destination ${dest.id}: ${address.problem}`);
    const given = (body.secret ?? "").trim();
    if (given && dest.kind !== "webhook") return fail(`destination ${dest.id}: an email destination has no secret`);
    if (given && (given.length < 16 || given.length > 200)) return fail(`destination ${dest.id}: secret: 16 to 200 characters (blank keeps the stored one)`);
    this.#d.web.notify.updateDestination(dest.id, { address: address.value, secret: given || null });
    return done(`destination ${dest.id} saved${given ? " with its new secret" : ""}`);
  }

  async #deleteDestination({ done }: AdminCtx, idParam: string): Promise<void> {
    this.#d.web.notify.deleteDestination(intParam(idParam));
    return done(`destination ${idParam} removed`);
  }

  // ---------------------------------------------------------------- JSON API (scoped like the pages)

  /** The JSON API under /api/, each route scoped like its page (a manager: its own site only). */
  readonly #apiRoutes = new RouteTable<Ctx>([
    { method: "GET", pattern: "me", handler: (c) => this.#me(c) },
    { method: "GET", pattern: "sites", handler: (c) => sendJson(c.res, 200, this.#sites().filter((s) => this.#siteVisible(c.user as UserRow, s.id))) },
    { method: "GET", pattern: "sites/:id", handler: (c, id) => this.#apiSite(c, id, "") },
    { method: "GET", pattern: "sites/:id/periods", handler: (c, id) => this.#apiSite(c, id, "periods") },
    { method: "GET", pattern: "sites/:id/alarms", handler: (c, id) => this.#apiSite(c, id, "alarms") },
    { method: "GET", pattern: "sites/:id/notifications", handler: (c, id) => this.#apiSite(c, id, "notifications") },
    { method: "GET", pattern: "terminals/:id/periods", handler: (c, id) => this.#apiTerminalPeriods(c, id) },
    { method: "GET", pattern: "alarms", handler: (c) => this.#apiAlarms(c) },
    { method: "GET", pattern: "queue", handler: (c) => (c.user?.role === "manager" ? this.#notFound(c) : sendJson(c.res, 200, this.#alarmViews(this.#operatorQueue().queue))) },
    { method: "GET", pattern: "faults", handler: (c) => (c.user?.role === "manager" ? this.#notFound(c) : sendJson(c.res, 200, this.#d.web.faults.faults())) },
    { method: "GET", pattern: "notifications", handler: (c) => this.#apiNotifications(c) },
    { method: "POST", pattern: "alarms/:terminal/:id/:action", handler: (c, terminal, id, action) => this.#alarmAction(c, terminal, intParam(id), action, true) },
  ]);

  async #api(c: Ctx, method: string, rest: string[]): Promise<void> {
    if (!(await this.#apiRoutes.run(c, method, rest))) this.#notFound(c);
  }

  #me(c: Ctx): void {
    const user = c.user as UserRow;
    sendJson(c.res, 200, { username: user.username, role: user.role, siteId: user.siteId, csrf: c.csrf });
  }

  #apiSite(c: Ctx, idParam: string, what: "" | "periods" | "alarms" | "notifications"): void {
    const id = intParam(idParam);
    if (this.#d.store.site(id) === undefined || !this.#siteVisible(c.user as UserRow, id)) return this.#notFound(c);
    const s = this.#siteData(id);
    if (what === "periods") {
      return sendJson(c.res, 200, s.statuses.map((x) => ({ terminal: x.terminal.id, rows: x.table.rows.map(({ intervals: _i, ...r }) => r), baseYen: x.table.baseYen, permille: x.table.permille, totalYen: x.table.totalYen, countsTaken: x.table.countsTaken, days: x.days })));
    }
    if (what === "alarms") return sendJson(c.res, 200, this.#alarmViews(s.alarms));
    if (what === "notifications") return sendJson(c.res, 200, s.notifications);
    sendJson(c.res, 200, {
      site: s.site,
      terminals: s.statuses.map((x) => ({ id: x.terminal.id, online: x.online, registeredAt: x.terminal.registeredAt, lastSeen: x.terminal.lastSeen, lastTest: x.terminal.lastTest, plan: x.plan?.plan ?? null })),
      sensors: s.sensors,
    });
  }

  #apiTerminalPeriods(c: Ctx, terminal: string): void {
    const t = this.#terminalOf(c.user as UserRow, terminal);
    if (!t) return this.#notFound(c);
    const x = periodTable(t.id, this.#d.store.periods(t.id), this.#d.tariffs.lookup(t.id));
    sendJson(c.res, 200, { terminal: t.id, rows: x.rows.map(({ intervals: _i, ...r }) => r), totalYen: x.totalYen, countsTaken: x.countsTaken });
  }

  #apiAlarms(c: Ctx): void {
    const visible = this.#d.store.terminals().filter((t) => this.#siteVisible(c.user as UserRow, t.siteId)).map((t) => t.id);
    sendJson(c.res, 200, visible.flatMap((id) => this.#d.store.alarms(id)));
  }

  #apiNotifications(c: Ctx): void {
    const user = c.user as UserRow;
    sendJson(c.res, 200, user.role === "manager" ? this.#d.web.notify.notifications({ siteId: user.siteId as number, audience: "site" }) : this.#d.web.notify.notifications());
  }

}

function home(user: UserRow): string {
  return user.role === "admin" ? "/admin" : user.role === "operator" ? "/operator" : `/site/${user.siteId}`;
}

function intParam(v: string | undefined): number {
  return v !== undefined && /^\d{1,12}$/.test(v) ? Number(v) : -1;
}

function imagesParam(v: string | undefined): number | null {
  if (v === undefined || v === "") return 3;
  return /^\d{1,2}$/.test(v) && Number(v) <= 20 ? Number(v) : null;
}

/**
 * The tariff from the admin form's fields (yen per hour per pattern and device, the contracts'
 * coefficients, the image price, the count's value), or as JSON in `tariff`; validated by the
 * terminal's own parseTariff. A string names the bad field.
 */
function tariffParam(body: Record<string, string | undefined>): unknown {
  let json: unknown;
  if (body.tariff !== undefined && body.tariff.trim() !== "") {
    if (jsonDepth(body.tariff) > MAX_JSON_DEPTH) return `tariff: JSON nested deeper than ${MAX_JSON_DEPTH} levels`;
    try {
      json = JSON.parse(body.tariff);
    } catch {
      return "tariff: not JSON";
    }
  } else {
    const num = (k: string): number | string => {
      const v = (body[k] ?? "").trim();
      return /^\d+(\.\d+)?$/.test(v) ? Number(v) : v;
    };
    const patterns: Record<string, number | string> = {};
    for (const k of Object.keys(body)) {
      const m = /^pattern([1-9][0-9]?)$/.exec(k);
      if (m && (body[k] ?? "").trim() !== "") patterns[m[1]] = num(k);
    }
    // an empty field is left out: door contacts and smoke sensors then cost what a sensor does
    const devices: Record<string, number | string> = {};
    for (const k of ["sensor", "camera", "door", "smoke"]) if ((body[k] ?? "").trim() !== "") devices[k] = num(k);
    json = {
      patterns,
      devices,
      contracts: { single: num("single"), multiple: num("multiple"), continuous: num("continuous") },
      imageYen: num("imageYen"),
      yenPerCount: num("yenPerCount"),
    };
  }
  try {
    parseTariff(json);
  } catch (e) {
    if (e instanceof FieldError) return `tariff ${e.field}: ${e.message.slice(e.field.length + 2)}`;
    return `tariff: ${(e as Error).message}`;
  }
  return json;
}

/** A destination's address: an email address, or an http(s) URL for a webhook. */
function addressProblem(kind: "email" | "webhook", v: string | undefined): { value: string; problem: string | null } {
  const value = (v ?? "").trim();
  if (kind === "email") {
    return { value, problem: /^[^\s@<>,;]+@[^\s@<>,;]+$/.test(value) && value.length <= 254 ? null : "address: an email address" };
  }
  if (value.length > 2000) return { value, problem: "address: at most 2000 characters" };
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return { value, problem: "address: a URL" };
  }
  return { value, problem: u.protocol === "https:" || u.protocol === "http:" ? null : "address: an http or https URL" };
}

/** Only a local path may be a redirect target. */
function safeBack(v: string | undefined): string | null {
  return v && /^\/[A-Za-z0-9/_\-.%]*$/.test(v) && !v.startsWith("//") ? v : null;
}

export type { Raw };
