import { createHmac } from "node:crypto";
import nodemailer, { type Transporter } from "nodemailer";
import { formatTime } from "../../firmware/core/time";
import { audiences } from "../alarm-policy";
import type { MediaFiles } from "../media-files";
import type { AlarmRow, CenterStore } from "../store/center-store";
import type { AlarmViewStore } from "../store/alarm-view-store";
import type { FaultStore } from "../store/fault-store";
import type { DestinationRow, NotificationRow, NotificationStore } from "../store/notification-store";
import type { SiteSettingsStore } from "../store/site-settings-store";
import type { MediaLinks } from "./links";

export interface SmtpOptions {
  host: string;
  port: number;
  /** TLS from the start (port 465); otherwise STARTTLS when offered unless ignoreTLS */
  secure?: boolean;
  ignoreTLS?: boolean;
  auth?: { user: string; pass: string };
  /** the From address */
  from: string;
}

export interface NotifierOptions {
  store: CenterStore;
  notify: NotificationStore;
  alarms: AlarmViewStore;
  faults: FaultStore;
  sites: SiteSettingsStore;
  media: MediaFiles;
  links: MediaLinks;
  /** base of links in messages, e.g. http://127.0.0.1:8080 */
  publicUrl: () => string;
  smtp?: SmtpOptions;
  /** ms since 1970 (injectable for tests) */
  now?: () => number;
  /** first retry after this, doubling each time (default 5 s) */
  retryBaseMs?: number;
  /** attempts before a notification is given up as failed (default 6) */
  maxAttempts?: number;
  /** how long an alarm's notification waits for the images and clips its alarm announced (default 120 s) */
  mediaWaitMs?: number;
  /** webhook request timeout (default 10 s) */
  timeoutMs?: number;
  /** how long signed media links in webhooks stay valid (default 7 days) */
  linkSeconds?: number;
  /** how often due notifications are looked for (default 250 ms) */
  pollMs?: number;
  /** whether this process sends (one node of a cluster does: center/cluster.ts); default yes */
  sends?: () => boolean;
  onChange?: (n: NotificationRow) => void;
}

export const SIGNATURE_HEADER = "x-timeguard-signature";

/** Default wait for an alarm's media: a capture takes seconds, the unit's upload over cellular up to a minute or two. */
export const MEDIA_WAIT_MS = 120_000;

/** The webhook signature: `sha256=` + hex HMAC-SHA256 of the raw body with the destination's secret. */
export function signBody(secret: string, body: string | Buffer): string {
  return "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
}

interface Content {
  subject: string;
  text: string;
  json: Record<string, unknown>;
  attachments: Array<{ filename: string; content: Buffer; contentType: string }>;
}

/**
 * Alarm and fault notifications by email (nodemailer over SMTP) and signed webhooks. Who gets an
 * alarm follows its guard pattern: 1 and 2 the site's manager's destinations, 3 the operators'.
 * Each (event, destination) is a row in `notifications` — the log the UI shows and the queue the
 * worker drains: an alarm's rows wait (bounded) for its images, then go; a failure is retried with
 * doubling delays until `maxAttempts`, and every attempt's error is kept. Rows survive a restart.
 */
export class Notifier {
  readonly #o: NotifierOptions;
  readonly #now: () => number;
  readonly #inFlight = new Set<number>();
  #timer: ReturnType<typeof setInterval> | null = null;
  #transport: Transporter | null = null;
  #running: Promise<number> | null = null;
  counts = { sent: 0, retried: 0, failed: 0 };

  constructor(o: NotifierOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    if (o.smtp) {
      this.#transport = nodemailer.createTransport({
        host: o.smtp.host,
        port: o.smtp.port,
        secure: o.smtp.secure ?? false,
        ignoreTLS: o.smtp.ignoreTLS ?? false,
        auth: o.smtp.auth,
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 20_000,
      });
    }
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.runDue(), this.#o.pollMs ?? 250);
    this.#timer.unref?.();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#running) await this.#running;
    this.#transport?.close();
  }

  /** Who an alarm goes to (alarm-policy.ts: its pattern, and the operators for a person in danger). */
  recipients(siteId: number, alarm: Pick<AlarmRow, "pattern" | "contactId">): DestinationRow[] {
    return audiences(alarm).flatMap((audience) => (audience === "operators" ? this.#o.notify.destinations({ audience }) : this.#o.notify.destinations({ audience, siteId })));
  }

  /** A new alarm: one log row per destination, waiting for its media when it has some. */
  alarmStored(terminal: string, alarmId: number): number {
    const t = this.#o.store.terminal(terminal);
    const alarm = this.#alarm(terminal, alarmId);
    if (!t || !alarm) return 0;
    const site = this.#o.store.site(t.siteId);
    const expected = (alarm.images ?? 0) + (alarm.clips ?? 0);
    const waiting = alarm.mediaId !== null && expected > 0 && !this.#mediaComplete(terminal, alarm);
    const now = this.#now();
    let n = 0;
    for (const d of this.recipients(t.siteId, alarm)) {
      const id = this.#o.notify.addNotification({
        destinationId: d.id,
        kind: d.kind,
        address: d.address,
        audience: d.audience,
        siteId: t.siteId,
        terminal,
        event: "alarm",
        alarmId,
        faultId: null,
        subject: `Pattern ${alarm.pattern} alarm: ${alarm.event} at ${site?.name ?? terminal} (${terminal}, sensor ${alarm.sensor})`,
        status: waiting ? "waiting-media" : "pending",
        nextAt: waiting ? now + (this.#o.mediaWaitMs ?? MEDIA_WAIT_MS) : now,
        createdAt: now,
      });
      this.#changed(id);
      n++;
    }
    return n;
  }

  /** A media item completed: when its alarm's unit is whole, the alarm's notifications go now. */
  mediaComplete(terminal: string, mediaId: number): void {
    const row = this.#o.alarms.mediaOfUnit(terminal, mediaId)[0];
    if (!row) return;
    const alarm = this.#alarm(terminal, row.alarmId);
    if (!alarm || !this.#mediaComplete(terminal, alarm)) return;
    if (this.#o.notify.releaseWaiting(terminal, alarm.alarmId, this.#now()) > 0) void this.runDue();
  }

  /** A supervision fault: the operators' destinations. */
  faultRaised(faultId: number): number {
    const f = this.#o.faults.fault(faultId);
    if (!f) return 0;
    const t = this.#o.store.terminal(f.terminal);
    return this.#notifyNow(this.#o.notify.destinations({ audience: "operators" }), { siteId: t?.siteId ?? null, terminal: f.terminal, event: "fault", faultId, subject: `Fault: ${f.kind} on ${f.terminal}` });
  }

  /**
   * Credit ran out at a site while guarding (the terminal's card event "stopped", "emergency" or
   * "friendly"): the site's manager is told, with what the terminal said.
   */
  creditEnded(terminal: string, event: string, note: string | null): number {
    const t = this.#o.store.terminal(terminal);
    if (!t) return 0;
    const site = this.#o.store.site(t.siteId);
    const what = event === "stopped" ? "guarding stopped" : event === "emergency" ? "guarding goes on as emergency credit" : "guarding goes on as debt for the night";
    const subject = `No credit at ${site?.name ?? terminal} (${terminal}): ${what}${note ? ` (${note})` : ""}`.slice(0, 300);
    return this.#notifyNow(this.#o.notify.destinations({ audience: "site", siteId: t.siteId }), { siteId: t.siteId, terminal, event: "credit", faultId: null, subject });
  }

  /** One notification per destination, due now (faults and credit; alarms may wait for media). */
  #notifyNow(destinations: readonly DestinationRow[], what: { siteId: number | null; terminal: string; event: "fault" | "credit"; faultId: number | null; subject: string }): number {
    const now = this.#now();
    for (const d of destinations) {
      const id = this.#o.notify.addNotification({ destinationId: d.id, kind: d.kind, address: d.address, audience: d.audience, alarmId: null, ...what, status: "pending", nextAt: now, createdAt: now });
      this.#changed(id);
    }
    return destinations.length;
  }

  /**
   * A site's manager asked for guards on a pattern 2 alarm: the operators are told at once (their
   * destinations), with the site, the alarm and the manager's note, to dispatch from their queue.
   */
  guardsRequested(terminal: string, alarmId: number, by: string, note: string | null): number {
    const t = this.#o.store.terminal(terminal);
    const alarm = this.#alarm(terminal, alarmId);
    if (!t || !alarm) return 0;
    const site = this.#o.store.site(t.siteId);
    const now = this.#now();
    let n = 0;
    for (const d of this.#o.notify.destinations({ audience: "operators" })) {
      const id = this.#o.notify.addNotification({
        destinationId: d.id,
        kind: d.kind,
        address: d.address,
        audience: d.audience,
        siteId: t.siteId,
        terminal,
        event: "guards",
        alarmId,
        faultId: null,
        subject: `Guards asked for by ${by} at ${site?.name ?? terminal} (${terminal}, alarm ${alarmId})${note ? `: ${note}` : ""}`.slice(0, 300),
        status: "pending",
        nextAt: now,
        createdAt: now,
      });
      this.#changed(id);
      n++;
    }
    return n;
  }

  /** Sends everything due now; resolves with how many were attempted. */
  runDue(): Promise<number> {
    if (this.#o.sends && !this.#o.sends()) return Promise.resolve(0); // another node sends
    if (this.#running) return this.#running;
    this.#running = this.#drain().finally(() => (this.#running = null));
    return this.#running;
  }

  async #drain(): Promise<number> {
    let attempted = 0;
    for (;;) {
      // a node that lost the lead while its last batch went stops here: the new leader sends the rest
      if (attempted > 0 && this.#o.sends && !this.#o.sends()) return attempted;
      const due = this.#o.notify.dueNotifications(this.#now(), 20).filter((n) => !this.#inFlight.has(n.id));
      if (due.length === 0) return attempted;
      await Promise.all(due.map((n) => this.#attempt(n)));
      attempted += due.length;
    }
  }

  async #attempt(n: NotificationRow): Promise<void> {
    this.#inFlight.add(n.id);
    const attempts = n.attempts + 1;
    try {
      const dest = this.#o.notify.destination(n.destinationId);
      if (!dest) {
        this.#o.notify.updateNotification(n.id, { status: "failed", attempts: n.attempts, nextAt: n.nextAt, lastError: "the destination was removed" });
        this.counts.failed++;
        return;
      }
      const content = this.#content(n);
      if (n.kind === "email") await this.#email(n, content);
      else await this.#webhook(n, content, dest?.secret ?? null);
      this.#o.notify.updateNotification(n.id, { status: "sent", attempts, nextAt: n.nextAt, lastError: null, attachments: n.kind === "email" ? content.attachments.length : (content.json.images as unknown[] | undefined)?.length ?? 0, sentAt: this.#now() });
      this.counts.sent++;
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const error = (err.cause ? `${err.message} (${err.cause.code ?? err.cause.message ?? "?"})` : err.message).slice(0, 300);
      const max = this.#o.maxAttempts ?? 6;
      if (attempts >= max) {
        this.#o.notify.updateNotification(n.id, { status: "failed", attempts, nextAt: n.nextAt, lastError: error });
        this.counts.failed++;
      } else {
        const delay = (this.#o.retryBaseMs ?? 5000) * 2 ** (attempts - 1);
        this.#o.notify.updateNotification(n.id, { status: "retry", attempts, nextAt: this.#now() + delay, lastError: error });
        this.counts.retried++;
      }
    } finally {
      this.#inFlight.delete(n.id);
      this.#changed(n.id);
    }
  }

  async #email(n: NotificationRow, c: Content): Promise<void> {
    if (!this.#transport || !this.#o.smtp) throw new Error("no SMTP server configured");
    await this.#transport.sendMail({
      from: this.#o.smtp.from,
      to: n.address,
      subject: `[Timeguard] ${c.subject}`,
      text: c.text,
      attachments: c.attachments,
      headers: { "X-Timeguard-Notification": String(n.id) },
    });
  }

  async #webhook(n: NotificationRow, c: Content, secret: string | null): Promise<void> {
    if (!secret) throw new Error("webhook destination has no secret");
    const body = JSON.stringify({ ...c.json, notification: n.id, sentAt: this.#now() });
    const res = await fetch(n.address, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "timeguard-center",
        "x-timeguard-event": n.event,
        "x-timeguard-delivery": String(n.id),
        [SIGNATURE_HEADER]: signBody(secret, body),
      },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(this.#o.timeoutMs ?? 10_000),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status > 299) throw new Error(`webhook answered HTTP ${res.status}`);
  }

  #content(n: NotificationRow): Content {
    const base = this.#o.publicUrl();
    if (n.event === "credit") {
      const text = `${n.subject}\n\nTop up the card (or insert one with counts) in the terminal: guarding resumes until the planned end when credit is back in time.\n\nSite page: ${base}/\n`;
      return { subject: n.subject, text, attachments: [], json: { event: "credit", terminal: n.terminal, subject: n.subject } };
    }
    if (n.event === "guards") {
      const alarm = this.#alarm(n.terminal as string, n.alarmId as number);
      const site = (n.siteId === null ? undefined : this.#o.store.site(n.siteId));
      const page = `${base}/alarm/${encodeURIComponent(n.terminal as string)}/${n.alarmId}`;
      const lines = [
        n.subject,
        "",
        `Site: ${site?.name ?? "?"}${site?.contact ? ` (contact ${site.contact})` : ""}`,
        `Terminal: ${n.terminal}`,
        alarm ? `Alarm: ${alarm.alarmId}, sensor ${alarm.sensor}, event ${alarm.event}, pattern ${alarm.pattern}, at ${formatTime(alarm.time)} (terminal time)` : `Alarm: ${n.alarmId}`,
        "",
        `Dispatch guards from the operator queue: ${base}/operator`,
        `The alarm: ${page}`,
      ];
      return {
        subject: n.subject,
        text: lines.join("\n") + "\n",
        attachments: [],
        json: { event: "guards", terminal: n.terminal, alarmId: n.alarmId, site: site ? { id: site.id, name: site.name } : null, subject: n.subject, page },
      };
    }
    if (n.event === "fault") {
      const f = (n.faultId === null ? undefined : this.#o.faults.fault(n.faultId));
      const text = `${n.subject}\n\n${f?.detail ?? ""}\nRaised ${f ? new Date(f.raisedAt).toISOString() : "?"}.\n\nOperator queue: ${base}/operator\n`;
      return { subject: n.subject, text, attachments: [], json: { event: "fault", terminal: n.terminal, fault: f ? { id: f.id, kind: f.kind, detail: f.detail, raisedAt: f.raisedAt } : null } };
    }
    const terminal = n.terminal as string;
    const alarm = this.#alarm(terminal, n.alarmId as number);
    if (!alarm) throw new Error(`alarm ${n.alarmId} of ${terminal} is gone`);
    const site = (n.siteId === null ? undefined : this.#o.store.site(n.siteId));
    const limit = n.siteId !== null ? this.#o.sites.imagesPerEvent(n.siteId) : 3;
    const items = this.#o.alarms.mediaOfAlarm(terminal, alarm.alarmId).filter((m) => m.complete && m.path);
    const images = items.filter((m) => m.type === "jpeg").slice(0, limit);
    const clips = items.filter((m) => m.type === "wav");
    const expected = (alarm.images ?? 0) + (alarm.clips ?? 0);
    const exp = Math.floor(this.#now() / 1000) + (this.#o.linkSeconds ?? 7 * 86400);
    const link = (m: { mediaId: number; item: number }) => base + this.#o.links.path(terminal, m.mediaId, m.item, exp);
    const page = `${base}/alarm/${encodeURIComponent(terminal)}/${alarm.alarmId}`;
    const when = formatTime(alarm.time);
    const lines = [
      n.subject,
      "",
      `Site: ${site?.name ?? "?"}${site?.contact ? ` (contact ${site.contact})` : ""}`,
      `Terminal: ${terminal}`,
      `Sensor: ${alarm.sensor}, event ${alarm.event} (Contact ID ${alarm.contactId})`,
      `Time: ${when} (terminal time)`,
      `Guard pattern: ${alarm.pattern}${alarm.pattern === 2 ? " (you may ask for guards on the center's site)" : alarm.pattern >= 3 ? " (the monitoring company decides on dispatch)" : ""}`,
    ];
    // Files are read for email only; one that cannot be read (deleted by hand, disk trouble) is
    // left out and said so, rather than holding the alarm back: retrying would not bring it back.
    const attachments: Content["attachments"] = [];
    const unreadable: string[] = [];
    if (n.kind === "email") {
      for (const m of [...images, ...clips]) {
        const content = this.#o.media.read(m.path as string);
        if (content) attachments.push({ filename: `alarm-${alarm.alarmId}-${m.item}.${m.type === "wav" ? "wav" : "jpg"}`, content, contentType: m.type === "wav" ? "audio/wav" : "image/jpeg" });
        else unreadable.push(`(media file ${m.path} could not be read)`);
      }
    }
    // What the alarm said would follow, and what this message carries (attached, or linked for a webhook).
    const carried = (type: string) => (n.kind === "email" ? attachments.filter((a) => a.contentType === type).length : type === "image/jpeg" ? images.length : clips.length);
    const arrivedImages = items.filter((m) => m.type === "jpeg").length;
    const verb = n.kind === "email" ? "attached" : "linked";
    lines.push(
      `Images: ${carried("image/jpeg")} ${verb} of ${alarm.images ?? 0} expected${arrivedImages > images.length ? ` (the site takes ${limit} per event)` : ""}`,
      `Clips: ${carried("audio/wav")} ${verb} of ${alarm.clips ?? 0} expected`,
    );
    if (expected > items.length) lines.push(`(${items.length} of ${expected} media items had arrived when this was sent)`);
    lines.push(...unreadable, "", `Open at the center: ${page}`);
    return {
      subject: n.subject,
      text: lines.join("\n") + "\n",
      attachments,
      json: {
        event: "alarm",
        site: site ? { id: site.id, name: site.name } : null,
        terminal,
        alarm: { id: alarm.alarmId, time: alarm.time, timeText: when, sensor: alarm.sensor, event: alarm.event, contactId: alarm.contactId, pattern: alarm.pattern, status: alarm.status },
        expected: { images: alarm.images ?? 0, clips: alarm.clips ?? 0 },
        images: images.map((m) => ({ url: link(m), type: "image/jpeg", bytes: m.bytes })),
        clips: clips.map((m) => ({ url: link(m), type: "audio/wav", bytes: m.bytes })),
        linksExpire: exp,
        page,
      },
    };
  }

  #alarm(terminal: string, alarmId: number): AlarmRow | undefined {
    return this.#o.alarms.alarmRow(terminal, alarmId);
  }

  #mediaComplete(terminal: string, alarm: AlarmRow): boolean {
    const expected = (alarm.images ?? 0) + (alarm.clips ?? 0);
    const rows = this.#o.alarms.mediaOfAlarm(terminal, alarm.alarmId);
    const items = rows.length ? rows[0].items : expected;
    return rows.filter((m) => m.complete).length >= Math.max(items, expected);
  }

  #changed(id: number): void {
    const n = this.#o.notify.notification(id);
    if (n) this.#o.onChange?.(n);
  }
}
