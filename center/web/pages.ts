import { DEFAULT_ZONE_MINUTES, formatTime } from "../../firmware/core/time";
import type { AlarmRow, MediaRow, SiteRow, TerminalRow } from "../store/center-store";
import { DURESS, actionsFor } from "../alarm-policy";
import type { UserRow } from "../store/account-store";
import type { AlarmActionRow } from "../store/alarm-action-store";
import type { FaultRow } from "../store/fault-store";
import type { DestinationRow, NotificationRow } from "../store/notification-store";
import type { SensorRow } from "../store/terminal-view-store";
import { type ChartRange, DayFigure, PeriodTable, daysInRange, hours, yen } from "./billing-view";
import { Raw, html } from "./http";
import { ALARM_STATUSES, type AlarmFilter, filterQuery } from "./alarm-list";

export interface View {
  user: UserRow | null;
  csrf: string;
  /** a message to show (after an action), and whether it is an error */
  flash?: { text: string; error: boolean } | null;
}

const centerTime = (ms: number | null) => (ms === null ? "—" : formatTime(Math.floor(ms / 1000)).replace("T", " "));
const termTime = (s: number | null) => (s === null ? "—" : formatTime(s).replace("T", " "));
/** The zone every time on the pages is shown in (the terminals' zone, DESIGN §2). */
export const ZONE = `UTC${DEFAULT_ZONE_MINUTES < 0 ? "-" : "+"}${String(Math.floor(Math.abs(DEFAULT_ZONE_MINUTES) / 60)).padStart(2, "0")}:${String(Math.abs(DEFAULT_ZONE_MINUTES) % 60).padStart(2, "0")}`;
/** A time by the terminal's clock (when it happened there), labelled so. */
const termAt = (s: number | null) => html`<time class="terminal-clock" title="by the terminal's clock, ${ZONE}">${termTime(s)} <small>terminal time, ${ZONE}</small></time>`;
/** A time by the center's clock (when the center got or did something), labelled so. */
const centerAt = (ms: number | null) => html`<time class="center-clock" title="by the center's clock, ${ZONE}">${centerTime(ms)} <small>center time, ${ZONE}</small></time>`;

export function layout(v: View, title: string, body: Raw, live = true): Raw {
  const u = v.user;
  const nav = u
    ? html`<nav>
        ${u.role === "admin" ? html`<a href="/admin">Admin</a> <a href="/operator">Operator queue</a>` : ""}
        ${u.role === "operator" ? html`<a href="/operator">Alarm queue</a>` : ""}
        ${u.role === "manager" ? html`<a href="/site/${u.siteId}">My site</a>` : ""}
        <a href="/alarms">Alarms</a>
        <span class="who">${u.username} (${u.role})</span>
        <form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${v.csrf}"><button type="submit">Log out</button></form>
      </nav>`
    : "";
  const flash = v.flash ? html`<p class="flash ${v.flash.error ? "error" : "ok"}" role="status">${v.flash.text}</p>` : "";
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Timeguard center</title><link rel="stylesheet" href="/static/app.css"><script src="/static/app.js" defer></script></head>
<body data-live="${u && live ? "1" : "0"}"><header><strong>Timeguard center</strong> ${nav}</header>
<main id="main"><h1>${title}</h1>${flash}${body}</main></body></html>`;
}

export function loginPage(csrf: string, error: string | null, username = "", demoLogins: ReadonlyArray<{ role: string; username: string; password: string }> = []): Raw {
  const demo = demoLogins.length
    ? html`<aside class="card demo-logins" id="demo-logins"><h2>Demo logins</h2>
      <p class="muted">This center runs the demo (<code>timeguard start</code>); these logins exist only here.</p>
      <table><thead><tr><th>role</th><th>user</th><th>password</th></tr></thead><tbody>
      ${demoLogins.map((d) => html`<tr data-role="${d.role}"><td>${d.role}</td><td><code>${d.username}</code></td><td><code>${d.password}</code></td></tr>`)}</tbody></table></aside>`
    : "";
  return layout(
    { user: null, csrf },
    "Log in",
    html`<form method="post" action="/login" class="card login">
      <input type="hidden" name="_csrf" value="${csrf}">
      <label>User <input name="username" autocomplete="username" required value="${username}"></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
      ${error ? html`<p class="flash error" role="alert">${error}</p>` : ""}
      <button type="submit">Log in</button>
    </form>${demo}`,
    false,
  );
}

export function errorPage(v: View, status: number, message: string): Raw {
  return layout(v, status === 404 ? "Not found" : `Error ${status}`, html`<p class="flash error">${message}</p>`, false);
}

// ------------------------------------------------------------------ alarms (shared)

export interface AlarmView {
  alarm: AlarmRow;
  site: SiteRow | undefined;
  media: MediaRow[];
  actions: AlarmActionRow[];
}

function csrfField(v: View): Raw {
  return html`<input type="hidden" name="_csrf" value="${v.csrf}">`;
}

function actionForm(v: View, a: AlarmRow, action: string, label: string, back: string, note: "none" | "optional" | "required"): Raw {
  return html`<form method="post" action="/alarm/${encodeURIComponent(a.terminal)}/${a.alarmId}/${action}" class="action">
    ${csrfField(v)}<input type="hidden" name="back" value="${back}">
    ${note !== "none" ? html`<input name="note" maxlength="120" placeholder="note" ${note === "required" ? "required" : ""} aria-label="${label} note">` : ""}
    <button type="submit" data-action="${action}">${label}</button></form>`;
}

export function alarmCard(v: View, av: AlarmView, back: string): Raw {
  const a = av.alarm;
  const role = v.user?.role;
  const images = av.media.filter((m) => m.type === "jpeg");
  const clips = av.media.filter((m) => m.type === "wav");
  const src = (m: MediaRow) => `/media/${encodeURIComponent(a.terminal)}/${m.mediaId}/${m.item}`;
  const expected = (a.images ?? 0) + (a.clips ?? 0);
  const forms: Raw[] = [];
  // the buttons are the actions the policy allows this role now (center/alarm-policy.ts)
  const allowed = role ? actionsFor(role, a) : [];
  if (role === "operator" || role === "admin") {
    if (allowed.includes("acknowledge")) forms.push(actionForm(v, a, "acknowledge", "Acknowledge", back, "none"));
    if (allowed.includes("dispatch")) forms.push(actionForm(v, a, "dispatch", "Dispatch guards", back, "optional"));
    if (allowed.includes("close")) forms.push(actionForm(v, a, "close", "Close", back, "required"));
  }
  if (role === "manager") {
    if (allowed.includes("request-guards")) forms.push(actionForm(v, a, "request-guards", "Ask for guards", back, "optional"));
    if (allowed.includes("close")) forms.push(actionForm(v, a, "close", "Mark handled", back, "optional"));
  }
  return html`<article class="alarm status-${a.status}" id="alarm-${a.terminal}-${a.alarmId}" data-terminal="${a.terminal}" data-alarm="${a.alarmId}" data-status="${a.status}">
    <h3>${a.contactId === DURESS ? html`<strong class="error">DURESS</strong> · ` : ""}Pattern ${a.pattern} · ${a.event} · sensor ${a.sensor} <span class="badge">${a.status}</span></h3>
    <p>${av.site ? html`<a href="/site/${av.site.id}">${av.site.name}</a>${av.site.contact ? html` · contact ${av.site.contact}` : ""} · ` : ""}terminal ${a.terminal} · alarm ${a.alarmId} ·
      Contact ID ${a.contactId} · ${termAt(a.time)} · received ${centerAt(a.receivedAt)}</p>
    <div class="media">
      ${images.map((m) => (m.complete ? html`<a href="${src(m)}"><img src="${src(m)}" alt="alarm ${a.alarmId} image ${m.item + 1}" class="shot"></a>` : html`<span class="pending">image ${m.item + 1}: ${m.partsReceived}/${m.parts} parts</span>`))}
      ${clips.map((m) => (m.complete ? html`<audio controls preload="none" src="${src(m)}" aria-label="alarm ${a.alarmId} sound"></audio>` : html`<span class="pending">sound: ${m.partsReceived}/${m.parts} parts</span>`))}
      ${expected > av.media.length ? html`<span class="pending">${expected - av.media.length} media item(s) not yet received</span>` : ""}
    </div>
    ${av.actions.length ? html`<ol class="log">${av.actions.map((x) => html`<li>${centerTime(x.at)} ${x.action} by ${x.username ?? "?"} (${x.role ?? "?"})${x.note ? html`: “${x.note}”` : ""} ${x.sentAt !== null ? html`<span class="ok">delivered to the terminal</span>` : x.sendError ? html`<span class="error">not sent: ${x.sendError}</span>` : html`<span class="queued">queued for the terminal</span>`}</li>`)}</ol>` : ""}
    ${forms.length ? html`<div class="actions">${forms}</div>` : ""}
  </article>`;
}

export function alarmPage(v: View, av: AlarmView): Raw {
  return layout(v, `Alarm ${av.alarm.alarmId} of ${av.alarm.terminal}`, alarmCard(v, av, `/alarm/${encodeURIComponent(av.alarm.terminal)}/${av.alarm.alarmId}`));
}

export function notificationLog(rows: NotificationRow[]): Raw {
  if (rows.length === 0) return html`<p class="muted">No notifications yet.</p>`;
  return html`<table class="notifications"><thead><tr><th>#</th><th>created (center time)</th><th>to</th><th>event</th><th>subject</th><th>status</th><th>attempts</th><th>attached</th><th>sent (center time)</th><th>last error</th></tr></thead><tbody>
    ${rows.map((n) => html`<tr data-status="${n.status}"><td>${n.id}</td><td>${centerTime(n.createdAt)}</td><td>${n.kind}: ${n.address} (${n.audience})</td><td>${n.event}</td><td>${n.subject}</td>
      <td>${n.status}${n.status === "retry" ? html` at ${centerTime(n.nextAt)}` : ""}</td><td>${n.attempts}</td><td>${n.attachments}</td><td>${centerTime(n.sentAt)}</td><td>${n.lastError ?? ""}</td></tr>`)}
  </tbody></table>`;
}

// ------------------------------------------------------------------ alarm list (filters, search, CSV)

export function alarmsPage(
  v: View,
  d: { filter: AlarmFilter; problems: string[]; sites: SiteRow[]; kinds: string[]; alarms: AlarmView[]; total: number; shown: number },
): Raw {
  const f = d.filter;
  const opt = (value: string, label: string, selected: boolean) => html`<option value="${value}" ${selected ? "selected" : ""}>${label}</option>`;
  const siteChoice =
    d.sites.length > 1
      ? html`<label>Site <select name="site"><option value="">all</option>${d.sites.map((x) => opt(String(x.id), x.name, f.site === x.id))}</select></label>`
      : "";
  return layout(
    v,
    "Alarms",
    html`<form method="get" action="/alarms" class="filters" id="alarm-filters" role="search">
      <label>From <input type="date" name="from" value="${f.from ?? ""}"></label>
      <label>To <input type="date" name="to" value="${f.to ?? ""}"></label>
      ${siteChoice}
      <label>Status <select name="status"><option value="">any</option>${ALARM_STATUSES.map((x) => opt(x, x, f.status === x))}</select></label>
      <label>Kind <select name="kind"><option value="">any</option>${d.kinds.map((x) => opt(x, x, f.kind === x))}</select></label>
      <label>Pattern <select name="pattern"><option value="">any</option>${[1, 2, 3].map((x) => opt(String(x), String(x), f.pattern === x))}</select></label>
      <label>Search <input type="search" name="q" maxlength="60" value="${f.q ?? ""}" placeholder="terminal, site, sensor, kind…"></label>
      <button type="submit">Show</button> <a href="/alarms">Clear</a>
      <a href="/alarms.csv${filterQuery(f)}" download class="csv" id="alarms-csv">Export these as CSV</a>
    </form>
    ${d.problems.length ? html`<p class="flash error" role="alert">Left out of the filter: ${d.problems.join("; ")}.</p>` : ""}
    <p class="muted" id="alarm-count">${d.total} alarm(s) match${d.shown < d.total ? html`; the newest ${d.shown} are shown (the CSV has all)` : ""}. Dates are the terminal's days (${ZONE}).</p>
    <div id="alarms">${d.alarms.length ? d.alarms.map((a) => alarmCard(v, a, "/alarms")) : html`<p class="muted">No alarms match.</p>`}</div>`,
  );
}

// ------------------------------------------------------------------ operator

export function operatorPage(v: View, queue: AlarmView[], recent: AlarmView[], faults: FaultRow[], notifications: NotificationRow[]): Raw {
  return layout(
    v,
    "Alarm queue",
    html`<section><h2>Open alarms (${queue.length})</h2>
      <p class="muted">Pattern 3 alarms (full delegation) and pattern 2 alarms whose manager asked for guards, newest first. The page updates live.</p>
      <div id="queue">${queue.length ? queue.map((a) => alarmCard(v, a, "/operator")) : html`<p class="muted">No open alarms.</p>`}</div></section>
    <section><h2>Faults</h2>${
      faults.length
        ? html`<table class="faults"><thead><tr><th>terminal</th><th>fault</th><th>detail</th><th>raised (center time)</th><th>state</th><th></th></tr></thead><tbody>
        ${faults.map((f) => html`<tr data-fault="${f.id}"><td>${f.terminal}</td><td>${f.kind}</td><td>${f.detail}</td><td>${centerTime(f.raisedAt)}</td><td>${f.clearedAt ? html`cleared ${centerTime(f.clearedAt)} (${f.clearedBy})` : "open"}</td>
          <td>${f.clearedAt ? "" : html`<form method="post" action="/faults/${f.id}/clear">${csrfField(v)}<button type="submit">Clear</button></form>`}</td></tr>`)}
      </tbody></table>`
        : html`<p class="muted">No faults.</p>`
    }</section>
    <section><h2>Recently closed</h2>${recent.length ? recent.map((a) => alarmCard(v, a, "/operator")) : html`<p class="muted">None.</p>`}</section>
    <section><h2>Notifications to operators</h2>${notificationLog(notifications)}</section>`,
  );
}

// ------------------------------------------------------------------ manager (one site)

export interface TerminalStatus {
  terminal: TerminalRow;
  online: boolean;
  plan: { seq: number; time: number; plan: unknown } | undefined;
  table: PeriodTable;
  days: DayFigure[];
  openFaults: FaultRow[];
}

function planView(plan: unknown): Raw {
  const p = plan as { contract?: string; periods?: Array<{ start: string; end: string; pattern: number; sensors: unknown; cameras: unknown }>; rental?: { from: string; to: string } };
  if (!p || !Array.isArray(p.periods)) return html`<pre>${JSON.stringify(plan, null, 1)}</pre>`;
  const sel = (x: unknown) => (Array.isArray(x) ? x.join(", ") : String(x));
  // the plan's times are the terminal's own (YYYY-MM-DDThh:mm in its zone): shown as the periods table shows them, labelled
  const at = (x: unknown) => (typeof x === "string" ? x.replace("T", " ") : String(x));
  return html`<p>Contract: ${p.contract ?? "?"}${p.rental ? html` · rental ${at(p.rental.from)} – ${at(p.rental.to)} (terminal time, ${ZONE})` : ""}</p>
    <table class="plan"><thead><tr><th>start (terminal time)</th><th>end (terminal time)</th><th>pattern</th><th>sensors</th><th>cameras</th></tr></thead><tbody>
    ${p.periods.map((x) => html`<tr><td>${at(x.start)}</td><td>${at(x.end)}</td><td>${x.pattern}</td><td>${sel(x.sensors)}</td><td>${sel(x.cameras)}</td></tr>`)}</tbody></table>`;
}

export function periodsTable(t: PeriodTable): Raw {
  if (t.rows.length === 0) return html`<p class="muted">No guard periods reported yet.</p>`;
  const coef = (t.permille / 1000).toFixed(t.permille % 100 === 0 ? 1 : 3);
  return html`<table class="periods" data-terminal="${t.terminal}"><thead><tr><th>start (terminal time)</th><th>end (terminal time)</th><th>pattern</th><th>sensors</th><th>cameras</th><th>yen/h</th><th>hours</th><th>base</th><th>yen</th><th>counts</th></tr></thead><tbody>
    ${t.rows.map((r) => html`<tr${r.feeMismatch ? html` class="mismatch" title="${r.feeMismatch}"` : ""}><td>${formatTime(r.start).replace("T", " ")}</td><td>${formatTime(r.end).replace("T", " ")}</td><td>${r.pattern}</td><td>${r.sensors}</td><td>${r.cameras}</td><td>${r.yenPerHour}</td><td>${hours(r.guardedSeconds)}</td><td>${yen(r.baseYen)}</td><td>${yen(r.yen)}</td><td>${r.countsTaken === null ? "—" : yen(r.countsTaken)}</td></tr>`)}
    </tbody><tfoot><tr><td colspan="7">Total ${coef} × ${yen(t.baseYen)}</td><td>${yen(t.baseYen)}</td><td class="total" data-total-yen="${t.totalYen}">${yen(t.totalYen)} yen</td><td data-counts="${t.countsTaken}">${yen(t.countsTaken)}</td></tr></tfoot></table>
    ${t.mismatches ? html`<p class="flash error">${t.mismatches} period(s) where the terminal's fee differs from the center's recomputation (hover the row).</p>` : ""}`;
}

function barChart(title: string, unit: string, days: DayFigure[], value: (d: DayFigure) => number, fmt: (n: number) => string): Raw {
  if (days.length === 0) return html`<p class="muted">${title}: no data yet.</p>`;
  const max = Math.max(1, ...days.map(value));
  const H = 180;
  const pad = 44;
  // one bar per day, never wider than 40 px: a single day is a bar, not the whole chart
  const bw = Math.min(40, Math.max(4, Math.floor(1000 / days.length)));
  const W = pad + bw * days.length + 8;
  const every = Math.ceil(days.length / 16);
  return html`<figure class="chart" data-days="${days.length}"><figcaption>${title} (${days[0].day} – ${days[days.length - 1].day}, terminal days, ${ZONE})</figcaption>
    <svg viewBox="0 0 ${W} ${H + 30}" width="${W}" height="${H + 30}" role="img" aria-label="${title}">
      <line x1="${pad}" y1="${H}" x2="${W}" y2="${H}" class="axis"/>
      <text x="0" y="12" class="tick">${fmt(max)} ${unit}</text><text x="0" y="${H}" class="tick">0</text>
      ${days.map((d, i) => {
        const h = Math.round(((value(d) / max) * (H - 20)) * 10) / 10;
        const x = pad + i * bw;
        return html`<g><rect x="${x + 1}" y="${H - h}" width="${bw - 2}" height="${h}" class="bar" data-day="${d.day}"><title>${d.day}: ${fmt(value(d))} ${unit}</title></rect>
          ${i % every === 0 ? html`<text x="${x + 1}" y="${H + 14}" class="tick">${d.day.slice(5)}</text>` : ""}</g>`;
      })}
    </svg></figure>`;
}

function rangeLinks(path: string, range: ChartRange): Raw {
  const label: Record<ChartRange, string> = { week: "last 7 days", month: "last 31 days", all: "every day reported" };
  return html`<p class="ranges">Range: ${(Object.keys(label) as ChartRange[]).map((r) => html`<a href="${path}?range=${r}" ${r === range ? html`aria-current="true"` : ""}>${label[r]}</a>`)}</p>`;
}

export function sitePage(v: View, site: SiteRow, statuses: TerminalStatus[], sensors: SensorRow[], alarms: AlarmView[], notifications: NotificationRow[], range: ChartRange = "week"): Raw {
  return layout(
    v,
    site.name,
    html`<section class="status"><h2>Status</h2><p>Contact: ${site.contact || "—"}</p>
      <table><thead><tr><th>terminal</th><th>link</th><th>registered (center time)</th><th>firmware</th><th>last seen (center time)</th><th>last test call (terminal time)</th><th>faults</th></tr></thead><tbody>
      ${statuses.map((s) => html`<tr><td>${s.terminal.id}</td><td>${s.online ? "online" : "offline (dials when it has something to send)"}</td><td>${centerTime(s.terminal.registeredAt)}</td><td>${s.terminal.firmware ?? "—"}</td>
        <td>${centerTime(s.terminal.lastSeen)}</td><td>${termTime(s.terminal.lastTest)}</td><td>${s.openFaults.map((f) => f.kind).join(", ") || "none"}</td></tr>`)}
      </tbody></table></section>
    <section><h2>Sensors</h2>${
      sensors.length
        ? html`<table class="sensors"><thead><tr><th>terminal</th><th>ID</th><th>type</th><th>connected</th><th>operating</th><th>battery</th><th>updated (center time)</th></tr></thead><tbody>
        ${sensors.map((s) => html`<tr><td>${s.terminal}</td><td>${s.id}</td><td>${s.type}</td><td>${s.connected ? "yes" : "no"}</td><td>${s.operating ? "yes" : "no"}</td><td>${s.battery}</td><td>${centerTime(s.updatedAt)}</td></tr>`)}</tbody></table>`
        : html`<p class="muted">No sensor table reported yet.</p>`
    }</section>
    ${statuses.map(
      (s) => html`<section><h2>Plan (${s.terminal.id})</h2>${s.plan ? html`<p class="muted">reported ${termAt(s.plan.time)}</p>${planView(s.plan.plan)}` : html`<p class="muted">No plan reported yet.</p>`}</section>
      <section><h2>Guard periods and fees (${s.terminal.id})</h2>${periodsTable(s.table)}${s.table.rows.length ? html`<p><a href="/terminals/${encodeURIComponent(s.terminal.id)}/periods.csv" download class="csv">Export the periods as CSV</a></p>` : ""}</section>
      <section class="charts" id="charts-${s.terminal.id}"><h2>Per day (${s.terminal.id})</h2>${rangeLinks(`/site/${site.id}`, range)}
        ${barChart("Hours guarded per day", "h", daysInRange(s.days, range), (d) => d.seconds / 3600, (n) => String(Math.round(n * 10) / 10))}
        ${barChart("Yen per day", "yen", daysInRange(s.days, range), (d) => d.yen, (n) => yen(Math.round(n)))}</section>`,
    )}
    <section><h2>Alarms</h2><p><a href="/alarms?site=${site.id}">Search, filter and export this site's alarms</a></p><div id="alarms">${alarms.length ? alarms.map((a) => alarmCard(v, a, `/site/${site.id}`)) : html`<p class="muted">No alarms.</p>`}</div></section>
    <section><h2>Notifications</h2>${notificationLog(notifications)}</section>`,
  );
}

// ------------------------------------------------------------------ admin

export function adminPage(
  v: View,
  d: {
    sites: Array<SiteRow & { imagesPerEvent: number }>;
    terminals: TerminalRow[];
    users: UserRow[];
    destinations: DestinationRow[];
    notifications: NotificationRow[];
    tariffDefault: unknown;
    form?: Record<string, string>;
    /** every terminal's days added up, and the range chosen */
    companyDays?: DayFigure[];
    range?: ChartRange;
  },
): Raw {
  const siteName = (id: number | null) => d.sites.find((s) => s.id === id)?.name ?? "—";
  const siteOptions = (selected?: string) => d.sites.map((s) => html`<option value="${s.id}" ${String(s.id) === selected ? "selected" : ""}>${s.name}</option>`);
  const f = d.form ?? {};
  return layout(
    v,
    "Administration",
    html`<section><h2>Sites</h2>
      <table><thead><tr><th>#</th><th>name</th><th>managers</th><th>terminals</th><th>contact · images per event</th></tr></thead><tbody>
      ${d.sites.map(
        (s) => html`<tr><td>${s.id}</td><td><a href="/site/${s.id}">${s.name}</a></td><td>${d.users.filter((u) => u.siteId === s.id).map((u) => u.username).join(", ") || "—"}</td>
          <td>${d.terminals.filter((t) => t.siteId === s.id).map((t) => t.id).join(", ") || "—"}</td>
          <td><form method="post" action="/admin/sites/${s.id}" class="inline">${csrfField(v)}<input name="contact" value="${s.contact}" aria-label="contact of ${s.name}">
            <input name="imagesPerEvent" type="number" min="0" max="20" value="${s.imagesPerEvent}" aria-label="images per event of ${s.name}"><button type="submit">Save</button></form></td></tr>`,
      )}</tbody></table>
      <form method="post" action="/admin/sites" class="card" id="new-site">${csrfField(v)}<h3>Register a site</h3>
        <label>Name <input name="name" required maxlength="64" value="${f.name ?? ""}"></label>
        <label>Contact <input name="contact" maxlength="120" value="${f.contact ?? ""}"></label>
        <label>Images per event <input name="imagesPerEvent" type="number" min="0" max="20" value="${f.imagesPerEvent ?? "3"}"></label>
        <label>Manager user <input name="manager" maxlength="40" value="${f.manager ?? ""}"></label>
        <label>Manager password <input name="managerPassword" type="password"></label>
        <button type="submit">Register site</button></form></section>
    <section><h2>Terminals</h2>
      <table class="terminals"><thead><tr><th>id</th><th>site</th><th>registered (center time)</th><th>last seen (center time)</th><th>last test call (terminal time)</th><th>tariff</th></tr></thead><tbody>
      ${d.terminals.map(
        (t) => html`<tr><td>${t.id}</td><td>${siteName(t.siteId)}</td><td>${centerTime(t.registeredAt)}</td><td>${centerTime(t.lastSeen)}</td><td>${termTime(t.lastTest)}</td>
          <td><form method="post" action="/admin/terminals/${encodeURIComponent(t.id)}/tariff" class="tariff" data-terminal="${t.id}">${csrfField(v)}
            <p>Version ${t.tariffVersion}${t.tariffVersion > t.tariffConfirmed ? html` <span class="pending">(the terminal still bills by version ${t.tariffConfirmed}; it gets ${t.tariffVersion} at its next session)</span>` : " (in use on the terminal)"}</p>
            ${tariffInputs(t.tariff, t.id)}<button type="submit">Save as the next version</button></form></td></tr>`,
      )}</tbody></table>
      <form method="post" action="/admin/terminals" class="card" id="new-terminal">${csrfField(v)}<h3>Register a terminal</h3>
        <label>Terminal ID <input name="id" required pattern="[A-Za-z0-9-]{1,16}" value="${f.id ?? ""}"></label>
        <label>Secret <input name="secret" type="password" required minlength="8"></label>
        <label>Site <select name="siteId">${siteOptions(f.siteId)}</select></label>
        ${tariffInputs(d.tariffDefault, "the new terminal")}
        <button type="submit">Register terminal</button></form></section>
    <section><h2>Users</h2>
      <table class="users"><thead><tr><th>user</th><th>role</th><th>site</th><th>created (center time)</th><th></th></tr></thead><tbody>
      ${d.users.map(
        (u) => html`<tr data-user="${u.username}"><td>${u.username}</td><td>${u.role}</td><td>${siteName(u.siteId)}</td><td>${centerTime(u.createdAt)}</td>
          <td><form method="post" action="/admin/users/${u.id}/password" class="inline">${csrfField(v)}<input name="password" type="password" minlength="10" required aria-label="new password for ${u.username}"><button type="submit">Set password</button></form>
          ${u.id !== v.user?.id ? html`<form method="post" action="/admin/users/${u.id}/delete" class="inline">${csrfField(v)}<button type="submit">Remove</button></form>` : ""}</td></tr>`,
      )}</tbody></table>
      <form method="post" action="/admin/users" class="card" id="new-user">${csrfField(v)}<h3>Add a user</h3>
        <label>User <input name="username" required maxlength="40" value="${f.username ?? ""}"></label>
        <label>Password <input name="password" type="password" required minlength="10"></label>
        <label>Role <select name="role"><option>operator</option><option>manager</option><option>admin</option></select></label>
        <label>Site (managers) <select name="siteId"><option value="">—</option>${siteOptions()}</select></label>
        <button type="submit">Add user</button></form></section>
    <section><h2>Notification destinations</h2>
      <p class="muted">Pattern 1 and 2 alarms go to the site's destinations (its manager); pattern 3 alarms and faults go to the operators'.</p>
      <p class="muted">Webhook secrets are write-only: never shown again once stored. Type a new one to replace it; leave the field empty to keep it.</p>
      <table><thead><tr><th>#</th><th>for</th><th>kind</th><th>address · webhook secret</th><th></th></tr></thead><tbody>
      ${d.destinations.map(
        (x) => html`<tr data-destination="${x.id}"><td>${x.id}</td><td>${x.audience === "site" ? siteName(x.siteId) : "operators"}</td><td>${x.kind}</td>
          <td><form method="post" action="/admin/destinations/${x.id}" class="inline">${csrfField(v)}<input name="address" required maxlength="2000" value="${x.address}" aria-label="address of destination ${x.id}">
            ${x.kind === "webhook" ? html`<input name="secret" type="password" autocomplete="new-password" maxlength="200" placeholder="${x.secret ? "secret set; blank keeps it" : "no secret"}" aria-label="new secret of destination ${x.id}">` : ""}<button type="submit">Save</button></form></td>
          <td><form method="post" action="/admin/destinations/${x.id}/delete">${csrfField(v)}<button type="submit">Remove</button></form></td></tr>`,
      )}</tbody></table>
      <form method="post" action="/admin/destinations" class="card" id="new-destination">${csrfField(v)}<h3>Add a destination</h3>
        <label>For <select name="for"><option value="operators">operators</option>${d.sites.map((s) => html`<option value="site:${s.id}">${s.name} (manager)</option>`)}</select></label>
        <label>Kind <select name="kind"><option>email</option><option>webhook</option></select></label>
        <label>Address (email or https/http URL) <input name="address" required maxlength="300"></label>
        <label>Webhook secret (blank: one is made and shown once) <input name="secret" type="password" autocomplete="new-password" maxlength="200"></label>
        <button type="submit">Add destination</button></form></section>
    <section class="charts" id="charts-company"><h2>Per day, all sites</h2>${rangeLinks("/admin", d.range ?? "week")}
      ${barChart("Hours guarded per day, all terminals", "h", daysInRange(d.companyDays ?? [], d.range ?? "week"), (x) => x.seconds / 3600, (n) => String(Math.round(n * 10) / 10))}
      ${barChart("Yen per day, all terminals", "yen", daysInRange(d.companyDays ?? [], d.range ?? "week"), (x) => x.yen, (n) => yen(Math.round(n)))}</section>
    <section><h2>Notification log</h2>${notificationLog(d.notifications)}</section>`,
  );
}

/**
 * The tariff as form fields (yen per hour per guard pattern and per device, coefficient per
 * contract, yen per image); a count's value is shown, fixed by the cards issued.
 */
function tariffInputs(tariff: unknown, of: string): Raw {
  const t = (tariff ?? {}) as { patterns?: Record<string, number>; devices?: Record<string, number>; contracts?: Record<string, number>; imageYen?: number; yenPerCount?: number };
  const field = (name: string, label: string, value: unknown, step = "1") =>
    html`<label>${label} <input name="${name}" type="number" min="0" step="${step}" value="${value === undefined ? "" : String(value)}" aria-label="${label} (${of})"></label>`;
  const patterns = Object.keys(t.patterns ?? { 1: 0, 2: 0, 3: 0 });
  return html`<fieldset><legend>Yen per hour</legend>
      ${patterns.map((p) => field(`pattern${p}`, `pattern ${p}`, t.patterns?.[p]))}
      ${field("sensor", "per sensor", t.devices?.sensor)}${field("camera", "per camera", t.devices?.camera)}
      ${field("door", "per door contact", t.devices?.door)}${field("smoke", "per smoke sensor", t.devices?.smoke)}</fieldset>
    <fieldset><legend>Coefficient per contract</legend>
      ${field("single", "single period", t.contracts?.single, "0.001")}${field("multiple", "several periods", t.contracts?.multiple, "0.001")}${field("continuous", "continuous", t.contracts?.continuous, "0.001")}</fieldset>
    ${field("imageYen", "yen per image", t.imageYen ?? 0)}
    <input type="hidden" name="yenPerCount" value="${String(t.yenPerCount ?? 10)}"><span class="hint">A count is worth ${String(t.yenPerCount ?? 10)} yen.</span>`;
}
