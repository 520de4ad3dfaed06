import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Center, CenterOptions, startCenter } from "../../center/center";
import { hashPassword } from "../../center/web/auth";
import { parseTime } from "../../firmware/core/time";
import { Message, encodeMessage, upTopic } from "../../firmware/uplink/messages";
import { cameraImage, soundClip } from "../../host-sim/devices/sensors";
import { RawMqtt } from "./mqtt-raw";

export const PASSWORDS = { admin: "admin-pass-123", operator: "operator-pass-123", manager1: "manager1-pass-123", manager2: "manager2-pass-123" };
export const SECRETS: Record<string, string> = { T0001: "s3cret-one", T0002: "s3cret-two" };

let cached: Record<keyof typeof PASSWORDS, string> | null = null;
/** scrypt hashes of the test passwords, made once per test file (scrypt is deliberately slow). */
function hashes(): Record<keyof typeof PASSWORDS, string> {
  cached ??= { admin: hashPassword(PASSWORDS.admin), operator: hashPassword(PASSWORDS.operator), manager1: hashPassword(PASSWORDS.manager1), manager2: hashPassword(PASSWORDS.manager2) };
  return cached;
}

export interface WebFixture {
  center: Center;
  dir: string;
  base: string;
  site1: number;
  site2: number;
}

/** A center with two sites (T0001 at Tanaka home, T0002 at Suzuki home) and a user per role. */
export async function withWebCenter(body: (f: WebFixture) => Promise<void>, options: Partial<CenterOptions> = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tg-web-"));
  const center = await startCenter({ dataDir: dir, mqttPort: 0, httpPort: 0, ...options });
  try {
    center.addTerminal({ id: "T0001", secret: SECRETS.T0001, site: "Tanaka home", contact: "Tanaka 090-1111" });
    center.addTerminal({ id: "T0002", secret: SECRETS.T0002, site: "Suzuki home", contact: "Suzuki 090-2222" });
    const site1 = (center.web.sites.siteByName("Tanaka home") as { id: number }).id;
    const site2 = (center.web.sites.siteByName("Suzuki home") as { id: number }).id;
    const now = Date.now();
    const h = hashes();
    center.web.accounts.addUser({ username: "admin", passwordHash: h.admin, role: "admin", siteId: null }, now);
    center.web.accounts.addUser({ username: "operator", passwordHash: h.operator, role: "operator", siteId: null }, now);
    center.web.accounts.addUser({ username: "manager1", passwordHash: h.manager1, role: "manager", siteId: site1 }, now);
    center.web.accounts.addUser({ username: "manager2", passwordHash: h.manager2, role: "manager", siteId: site2 }, now);
    await body({ center, dir, base: `http://127.0.0.1:${center.httpPort}`, site1, site2 });
  } finally {
    await center.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const s = (local: string) => parseTime(local, "t");

/**
 * Publishes messages as the terminal does (MQTT QoS 1, its own credentials); resolves when all are
 * acknowledged. As a terminal does, a publish the center did not acknowledge (a batch whose store
 * transaction failed is answered by closing the connection) is sent again with DUP on a new
 * connection, up to three times.
 */
export async function publishAs(center: Center, terminal: string, messages: Array<Omit<Message, "terminal">>): Promise<void> {
  const login = async () => {
    const { client, returnCode } = await RawMqtt.login(center.mqttPort, terminal, SECRETS[terminal]);
    if (returnCode !== 0) throw new Error(`login refused (${returnCode})`);
    return client;
  };
  let client = await login();
  let id = 1;
  for (const m of messages) {
    const payload = encodeMessage({ ...m, terminal });
    const messageId = id++;
    let ok = await client.publish(upTopic(terminal), payload, messageId);
    for (let again = 0; !ok && again < 3; again++) {
      client.close();
      client = await login();
      ok = await client.publish(upTopic(terminal), payload, messageId, true);
    }
    if (!ok) throw new Error(`publish of ${m.name} ${m.seq} failed`);
  }
  client.close();
}

/** An alarm and its media unit (real baseline JPEGs from the camera emulation and a WAV clip), in 512-byte chunks. */
export function alarmMessages(o: { alarmId: number; mediaId: number; pattern: number; seq: number; time: number; images?: number; sensor?: string }): Array<Omit<Message, "terminal">> {
  const images = o.images ?? 2;
  const files = [...Array.from({ length: images }, (_, i) => ({ type: "jpeg", bytes: cameraImage(o.mediaId, i) })), { type: "wav", bytes: soundClip(o.mediaId) }];
  const out: Array<Omit<Message, "terminal">> = [
    { name: "alarm", seq: o.seq, time: o.time, body: { alarmId: o.alarmId, sensor: o.sensor ?? "A0001", event: "burglary", contactId: 130, pattern: o.pattern, mediaId: o.mediaId, images, clips: 1 } },
  ];
  let seq = o.seq + 1;
  files.forEach((f, item) => {
    const parts = Math.ceil(f.bytes.length / 512);
    for (let part = 0; part < parts; part++) {
      out.push({
        name: "media",
        seq: seq++,
        time: o.time,
        body: { mediaId: o.mediaId, alarmId: o.alarmId, item, items: files.length, type: f.type, part, parts, data: f.bytes.subarray(part * 512, (part + 1) * 512) },
      });
    }
  });
  return out;
}

/** DESIGN §2's two periods as the terminal reports them (continuous contract, 50,976 yen in all). */
export function workedExamplePeriods(seq: number): Array<Omit<Message, "terminal">> {
  const p1 = { start: s("2026-04-16T20:00"), end: s("2026-04-16T23:00") };
  const p2 = { start: s("2026-04-27T12:00"), end: s("2026-05-05T12:00") };
  return [
    {
      name: "period",
      seq,
      time: p1.end,
      body: { ...p1, pattern: 1, sensors: 2, cameras: 1, yenPerHour: 120, guardedSeconds: 10800, baseYen: 360, yen: 288, images: 0, intervals: [[p1.start, p1.end, 2, 1, 0, 0, 0, 800]], rateSeconds: 1296000, permille: 800, countsTaken: 28, cardId: "C-1", contract: "continuous" },
    },
    {
      name: "period",
      seq: seq + 1,
      time: p2.end,
      body: { ...p2, pattern: 3, sensors: 2, cameras: 2, yenPerHour: 330, guardedSeconds: 691200, baseYen: 63360, yen: 50688, images: 0, intervals: [[p2.start, p2.end, 2, 2, 0, 0, 0, 800]], rateSeconds: 228096000, permille: 800, countsTaken: 5069, cardId: "C-1", contract: "continuous" },
    },
  ];
}

/** A cookie-keeping HTTP client for the center's pages (no browser). */
export class WebClient {
  readonly base: string;
  readonly jar = new Map<string, string>();
  csrf = "";

  constructor(base: string) {
    this.base = base;
  }

  #cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  #keep(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair.indexOf("=");
      const k = pair.slice(0, i);
      const v = pair.slice(i + 1);
      if (v === "" || /Max-Age=0/i.test(c)) this.jar.delete(k);
      else this.jar.set(k, v);
    }
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    const res = await fetch(this.base + path, { headers: { cookie: this.#cookieHeader(), ...headers }, redirect: "manual" });
    this.#keep(res);
    return res;
  }

  async post(path: string, fields: Record<string, string>, o: { csrf?: boolean; headers?: Record<string, string> } = {}): Promise<Response> {
    const body = new URLSearchParams(o.csrf === false ? fields : { _csrf: this.csrf, ...fields });
    const res = await fetch(this.base + path, {
      method: "POST",
      headers: { cookie: this.#cookieHeader(), "content-type": "application/x-www-form-urlencoded", ...(o.headers ?? {}) },
      body,
      redirect: "manual",
    });
    this.#keep(res);
    return res;
  }

  /** The login form, then the POST with its token; returns the POST's response. */
  async login(username: string, password: string, headers: Record<string, string> = {}): Promise<Response> {
    const form = await (await this.get("/login")).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(form)?.[1] ?? "";
    const res = await this.post("/login", { _csrf: token, username, password }, { csrf: false, headers });
    if (res.status === 303) {
      const me = await this.get("/api/me");
      if (me.status === 200) this.csrf = ((await me.json()) as { csrf: string }).csrf;
    }
    return res;
  }
}
