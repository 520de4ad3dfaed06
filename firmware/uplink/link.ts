import { frozen } from "../lib/frozen";
import Timer from "timer";
import { now as clockNow, set as setClock } from "rtc";
import type { Terminal, TerminalEvent } from "../app/terminal";
import { planToJson } from "../core/plan";
import { tariffToJson } from "../core/tariff";
import { MqttClient, type MqttStep } from "../net/mqtt-client";
import type { Store } from "../platform/store";
import type { SIM7600, SIM7600Target } from "../drivers/sim7600";
import type { Alarm, HubEvent } from "../sensors/hub";
import type { CardNotice } from "../card/billing";
import type { MediaStore } from "../sensors/media";
import { PART_BYTES } from "../sensors/media";
import { MESSAGES, MessageError, MessageName, decodeMessageBytes, downTopic, encodeMessage, upTopic } from "./messages";
import { Outbox, OutboxFull, OutboxItem, PRIORITY } from "./outbox";
import { type NextDial, nextDial } from "./dial-schedule";
import type { LinkConfig } from "./link-config";

// Compiled once here: XS compiles a regular expression literal each time it is evaluated (~0.1 ms).
/** a card notice kind's prefix */
const CARD_PREFIX = /^card\./;

/**
 * The terminal's side of the dial-up link: producers put messages in the persistent outbox; the
 * dialer opens the cellular link only when there is something to send, speaks MQTT (CleanSession
 * 0, the terminal's id and secret, QoS 1) over the modem's TCP socket, removes each item on its
 * PUBACK, handles the downlink, and hangs up.
 *
 *  - when: an alarm or media at once; routine items (period reports, plan, sensor table, card
 *    events, warnings) once the oldest has waited `batchSeconds`; the daily test call; after a
 *    failure, again with backoff (30 s doubling to 30 min). A session lasts at most
 *    `sessionSeconds`; it lingers `lingerMs` after the last PUBACK for downlink messages.
 *  - downlink (`tg/<id>/down`): registrationResult, timeSync (sets the RTC), dispatch status
 *    (kept for the UI: snapshot "dispatch"), planChange (terminal.setPlan; a refusal goes back
 *    as a warning). Garbage is counted and acknowledged (re-delivery would not mend it).
 */

export { type LinkConfig, readLinkConfig } from "./link-config";

/** What the link needs of the modem (the SIM7600 driver on a board). */
export type ModemPort = Pick<SIM7600, "open" | "write" | "close" | "state" | "signal" | "stats" | "lastError">;

/** The modem's session events (an ECMA-419 socket's, plus the SMS wake-up). */
export interface ModemHandlers {
  /** the session is open */
  onWritable(): void;
  onReadable(bytes: Uint8Array): void;
  /** the open failed (already hung up), or the open session was lost */
  onError(reason: string): void;
  /** close() has hung up */
  onClose(): void;
  /** an SMS arrived: the center's wake-up for an urgent downlink */
  onSms(): void;
}

/** The sensor hub as the link sees it (alarms and media units). */
export interface AlarmSource {
  onEvent(listener: (e: HubEvent) => void): void;
  readonly media: MediaStore;
  sensorTable(): Array<Record<string, unknown>>;
}

/** The card component as the link sees it (firmware/card/billing.ts). */
export interface CardNotices {
  onNotice(listener: (n: CardNotice) => void): void;
  takeNotices(): CardNotice[];
  /** what the card has given for the contract so far (cumulative counts), the card, debt left (yen) */
  totals?(): { taken: number; surcharge: number; cardId: string | null; debtYen: number };
}

export interface UplinkPorts {
  terminal: Terminal;
  store: Store;
  config: LinkConfig;
  /** builds the modem driver with the link's handlers */
  modem(handlers: ModemHandlers): ModemPort;
  hub?: AlarmSource;
}

export type LinkState = "idle" | "dialing" | "connecting" | "connected" | "hanging-up";

/** The alarms open on the terminal (the alarm panel): while one is, downlinks must come promptly. */
export interface OpenAlarms {
  readonly alarms: ReadonlyArray<{ id: number; at: number }>;
  onChange(listener: () => void): void;
}

/** While holding for an open alarm and the session is down: dial again this soon. */
const ALARM_POLL_SECONDS = 60;

const BACKOFF: readonly number[] = frozen([30, 60, 120, 300, 600, 1800]);
const KEY_STATE = "ln_state"; // {reg, test, site, disp, down}
const CONTACT_ID: Readonly<Record<string, number>> = frozen({ intrusion: 130, fire: 110, tamper: 137 });
const MAX_DISPATCH = 10;
const MAX_RECENT_DOWN = 16;

interface LinkRecord {
  /** registration queued once (first boot) */
  reg: boolean;
  /** last test call queued (s) */
  test: number;
  /** the center's registration result */
  site: { ok: boolean; site?: string; message?: string } | null;
  /** dispatch statuses, newest last */
  disp: Array<{ alarmId: number; status: string; note?: string; at: number }>;
  /** recent downlink sequence numbers (re-deliveries are acknowledged, not applied twice) */
  down: number[];
  /** closed periods whose report is queued (the terminal's closedCount when it was queued) */
  periods?: number;
  /** counts the card had given (fee and surcharge) when the last period report was queued */
  taken?: number;
}

export class Uplink {
  #card: CardNotices | null = null;
  #dispatchListeners: Array<(d: { alarmId: number; status: string; note?: string }) => void> = [];
  #p: UplinkPorts;
  #c: LinkConfig;
  #outbox: Outbox;
  #modem: ModemPort;
  #client: MqttClient<number>;
  #state: LinkState = "idle";
  #record: LinkRecord;
  #timer: ReturnType<typeof Timer.set> | undefined = undefined;
  #mqttTimer: ReturnType<typeof Timer.set> | undefined = undefined;
  #lingerTimer: ReturnType<typeof Timer.set> | undefined = undefined;
  #failures = 0;
  /** which of the center's nodes (config.servers) the next dial goes to */
  #server = 0;
  #retryAt = 0; // s
  #urgent = false; // a test call or a user/host request wants a dial now
  #inSession = new Set<number>(); // seqs published this session or still in flight
  #stats = { sessions: 0, sessionsOk: 0, failures: 0, published: 0, acked: 0, downlink: 0, badDownlink: 0, duplicates: 0, refusedMedia: 0, timeSyncs: 0, smsWakes: 0 };
  #lastError: string | null = null;
  #lastSession: { at: number; ok: boolean; sent: number; reason: string | null; ms: number } | null = null;
  #sessionStartMs = 0;
  #sentThisSession = 0;
  #pendingTime: { ms: number; at: number } | null = null;
  #dialUrgent = false;
  #open: OpenAlarms | null = null;
  #lastEnded = 0; // s
  #held = false;
  /** alarms the center may dispatch guards for (pattern 2 or 3, or panic): id → time */
  #dispatchable = new Map<number, number>();
  #lastWake = 0;
  /** why the session is being hung up (null: it ended well), for when the modem has hung up */
  #hangUpReason: string | null = null;

  constructor(ports: UplinkPorts) {
    this.#p = ports;
    this.#c = ports.config;
    this.#outbox = new Outbox(ports.store, this.#c.terminalId);
    this.#record = this.#loadRecord();
    this.#modem = ports.modem({
      onWritable: () => this.#opened(),
      onReadable: (bytes) => this.#step(this.#client.onData(bytes, clockNow())),
      onError: (reason) => (this.#state === "dialing" ? this.#ended(reason) : this.#linkLost(reason)),
      onClose: () => {
        this.#client.onTransportClosed();
        this.#ended(this.#hangUpReason);
      },
      onSms: () => this.#smsWake(),
    });
    this.#client = new MqttClient<number>(
      {
        clientId: this.#c.terminalId,
        username: this.#c.terminalId,
        password: this.#c.secret,
        keepAliveSeconds: this.#c.keepAliveSeconds,
        maxInflight: this.#c.maxInflight,
        subscriptions: [downTopic(this.#c.terminalId)],
      },
      { write: (bytes) => this.#modem.write(bytes) },
      {
        connected: () => {
          this.#state = "connected";
          this.#failures = 0;
          this.#fill();
        },
        acked: (seq) => this.#acked(seq),
        message: (topic, payload) => this.#downlink(topic, payload),
        subscribed: () => this.#maybeHangUp(),
        error: (reason) => {
          this.#lastError = reason;
        },
      },
    );

    const terminal = ports.terminal;
    terminal.onEvent((e) => this.#terminalEvent(e));
    if (ports.hub) ports.hub.onEvent((e) => this.#hubEvent(e));
    terminal.addSnapshotPart(this);

    // After boot: media units finished or missed across a power cut, the registration, then dial.
    Timer.set(() => {
      this.#recoverPeriodReport();
      this.#recoverMedia();
      if (!this.#record.reg) this.#queueRegistration();
      this.#schedule();
    }, 0);
  }

  // ---------------------------------------------------------------- producers

  /** Card events (the card component calls this). */
  reportCard(event: { event: string; cardId?: string; counts?: number; delta?: number; debtYen?: number; note?: string }): boolean {
    return this.#queue("card", event, PRIORITY.routine);
  }

  /**
   * The prepaid card component: its notices (low, empty, emergency credit, refusals…) go to the
   * center as card events. Each is queued when it happens; the card's own list of notices waiting
   * for the center is then emptied (a cut in between sends one twice, never loses one).
   */
  attachCard(card: CardNotices): void {
    this.#card = card;
    const take = () => {
      for (const n of card.takeNotices()) this.#cardNotice(n);
    };
    card.onNotice((n) => {
      this.#cardNotice(n);
      card.takeNotices();
    });
    Timer.set(take, 0); // notices left waiting before a power cut
  }

  #cardNotice(n: CardNotice): void {
    const body: Record<string, unknown> = { event: n.kind.replace(CARD_PREFIX, "").slice(0, 16), note: n.note.slice(0, 120) };
    if (typeof n.card === "number") body.cardId = String(n.card);
    if (typeof n.counts === "number") body.counts = n.counts;
    // Credit ran out while guarding (stopped, or going on as debt): the manager is told now, not
    // with the next batch of routine reports.
    if (n.kind === "card.stopped" || n.kind === "card.emergency" || n.kind === "card.friendly") this.#urgent = true;
    this.#queue("card", body, PRIORITY.routine, n.at);
  }

  /** A warning the terminal shows (card low, sensor lost…), also for the center. */
  reportWarning(code: string, text: string): boolean {
    return this.#queue("warning", { code, text: text.length > 120 ? text.slice(0, 120) : text }, PRIORITY.routine);
  }

  /** An alarm (the sensor hub's events call this; other alarm sources may too). */
  reportAlarm(alarm: Alarm): boolean {
    const body: Record<string, unknown> = {
      alarmId: alarm.seq,
      sensor: alarm.sensor,
      event: alarm.kind,
      contactId: typeof alarm.contactId === "number" ? alarm.contactId : (CONTACT_ID[alarm.kind] ?? 130),
      pattern: alarm.pattern ?? 0,
    };
    if (alarm.media !== null) {
      body.mediaId = alarm.media;
      // how many items of the unit follow: the center's e-mail waits for them
      if (alarm.images !== undefined) body.images = alarm.images;
      if (alarm.clips !== undefined) body.clips = alarm.clips;
    }
    if ((alarm.pattern ?? 0) >= 2 || body.contactId === 120) {
      this.#dispatchable.set(alarm.seq, alarm.at);
      if (this.#dispatchable.size > 16) this.#dispatchable.delete(this.#dispatchable.keys().next().value as number);
    }
    return this.#queue("alarm", body, PRIORITY.alarm, alarm.at);
  }

  /** A media unit is complete (or closed incomplete): every part of it goes to the center. */
  reportMedia(unit: number): number {
    const media = this.#p.hub?.media;
    const m = media?.manifest(unit);
    if (!m || m.open || this.#outbox.knowsUnit(unit)) return 0;
    const parts = m.files.map((f) => Math.max(1, Math.ceil(f.size / PART_BYTES)));
    try {
      const n = this.#outbox.enqueueMedia(unit, parts, this.#now());
      if (this.#state === "connected") this.#fill(); // a session held up for the alarm: it goes now
      else this.#schedule();
      return n;
    } catch (e) {
      this.#stats.refusedMedia++;
      this.#lastError = e instanceof Error ? e.message : String(e);
      return 0;
    }
  }

  /** The center's dispatch statuses as they arrive (the UI shows "Guards on the way"). */
  onDispatch(listener: (d: { alarmId: number; status: string; note?: string }) => void): void {
    this.#dispatchListeners.push(listener);
  }

  /**
   * Prompt downlinks: while an alarm is open on the terminal (new, seen or dispatched, until the
   * center closes it) the session stays up so a dispatch reaches the LCD at once; when it cannot,
   * the terminal dials every minute. At most alarmHoldSeconds after the newest alarm.
   */
  watchAlarms(open: OpenAlarms): void {
    this.#open = open;
    open.onChange(() => {
      if (this.#state === "connected") this.#maybeHangUp();
      else this.#schedule();
    });
  }

  /**
   * The center's SMS: it has a downlink waiting (a dispatch, a plan change). Dial now, at most once
   * a minute: an SMS anyone can send must not drain the battery or the data plan.
   */
  #smsWake(): void {
    this.#stats.smsWakes++;
    const t = this.#now();
    if (t < this.#lastWake + ALARM_POLL_SECONDS) return;
    this.#lastWake = t;
    if (this.#state === "idle") this.dialNow();
  }

  /** An alarm is open and recent enough to hold the link for. */
  #holding(): boolean {
    const open = this.#open;
    if (!open || open.alarms.length === 0 || this.#c.alarmHoldSeconds === 0) return false;
    // pattern 1 notifies the user only: nothing will come down for it
    let newest = 0;
    for (const a of open.alarms) if (this.#dispatchable.has(a.id) && a.at > newest) newest = a.at;
    return newest > 0 && this.#now() < newest + this.#c.alarmHoldSeconds;
  }

  /** Dial now (the daily test call, a user's request, the host's `link.dial`). */
  dialNow(): void {
    this.#urgent = true;
    this.#retryAt = 0;
    this.#schedule();
  }

  #terminalEvent(e: TerminalEvent): void {
    if (e.type === "period.end") {
      this.#queuePeriodReport();
    } else if (e.type === "plan.changed") {
      this.#queue("plan", { plan: this.#planJson() }, PRIORITY.routine, e.at);
    }
  }

  /**
   * The report of the period the terminal closed last, with what the card has given: queued, then
   * marked queued in one write of the link's record. A cut between the close and the queue is
   * caught at boot (#recoverPeriodReport); one between the queue and the mark sends the same
   * period twice, which the center keeps once (one row per period).
   */
  #queuePeriodReport(): void {
    const terminal = this.#p.terminal;
    const pending = terminal.pendingReport(this.#record.periods ?? 0);
    if (!pending) return;
    const body: Record<string, unknown> = { ...pending.report };
    // The card component collected at the close first (it listens before the link).
    const paid = this.#card?.totals?.();
    if (paid) {
      const total = paid.taken + paid.surcharge;
      body.countsTaken = Math.max(0, total - (this.#record.taken ?? 0));
      body.takenTotal = paid.taken;
      body.surchargeTotal = paid.surcharge;
      if (paid.cardId !== null) body.cardId = paid.cardId;
      body.debtYen = paid.debtYen;
    }
    if (!this.#queue("period", body, PRIORITY.routine, pending.report.end as number)) return;
    this.#record.periods = pending.closedCount;
    if (paid) this.#record.taken = paid.taken + paid.surcharge;
    this.#saveRecord();
  }

  /** At boot: a period closed but its report not queued (power lost in between) is queued now. */
  #recoverPeriodReport(): void {
    if (this.#record.periods === undefined) {
      // a record from before reports were counted: everything closed so far was queued then
      this.#record.periods = this.#p.terminal.closedCount;
      this.#saveRecord();
      return;
    }
    this.#queuePeriodReport();
  }

  #hubEvent(e: HubEvent): void {
    if (e.type === "alarm") this.reportAlarm(e.alarm);
    else if (e.type === "media.ready") this.reportMedia(e.unit);
    else if (e.type === "sensors.registered" || e.type === "sensors.changed") this.#queueSensors(e.at);
  }

  /** The sensor table as it is now; a table still waiting is superseded, not sent as well. */
  #queueSensors(at: number): void {
    if (this.#p.hub && this.#p.hub.sensorTable().length === 0) return; // nothing installed yet
    for (const it of this.#outbox.items()) {
      if (it.kind === MESSAGES.sensors.kind && !this.#inSession.has(it.seq)) this.#outbox.withdraw(it.seq);
    }
    this.#queue("sensors", { table: this.#sensorRows() }, PRIORITY.routine, at);
  }

  #planJson(): unknown {
    return planToJson(this.#p.terminal.plan, this.#c.zoneMinutes);
  }

  #sensorRows(): unknown[] {
    const hub = this.#p.hub;
    if (!hub) return [];
    return hub.sensorTable().map((s) => [s.id, s.type, s.connected === true, s.operating === true, s.battery === "low" ? "low" : "ok"]);
  }

  #queueRegistration(): void {
    const ok = this.#queue(
      "registration",
      { firmware: this.#c.firmware, zoneMinutes: this.#c.zoneMinutes, tariff: tariffToJson(this.#p.terminal.tariff), sensors: this.#sensorRows() },
      PRIORITY.routine,
    );
    if (ok) {
      this.#record.reg = true;
      this.#saveRecord();
      this.#urgent = true; // the center creates the site's record from it: no reason to wait
    }
  }

  #queue(name: MessageName, body: Record<string, unknown>, priority: number, at?: number): boolean {
    try {
      this.#outbox.enqueue(name, body, at ?? this.#now(), priority);
    } catch (e) {
      this.#lastError = `${name} not queued: ${e instanceof Error ? e.message : String(e)}`;
      if (!(e instanceof OutboxFull) && !(e instanceof MessageError)) throw e;
      return false;
    }
    if (this.#state === "connected") this.#fill(); // a session is up: it goes now
    else this.#schedule();
    return true;
  }

  #recoverMedia(): void {
    const media = this.#p.hub?.media;
    if (!media) return;
    for (const unit of this.#outbox.finishedUnits()) {
      media.remove(unit);
      this.#outbox.mediaDone(unit);
    }
    for (const unit of media.units()) this.reportMedia(unit);
  }

  // ---------------------------------------------------------------- the dialer

  #now(): number {
    return Math.floor(clockNow() / 1000);
  }

  /** When to dial next (s), and why (firmware/uplink/dial-schedule.ts). */
  #nextDial(): NextDial {
    return nextDial({
      now: this.#now(),
      lastTest: this.#record.test,
      testIntervalSeconds: this.#c.testIntervalSeconds,
      urgent: this.#urgent,
      holding: this.#holding(),
      lastEnded: this.#lastEnded,
      pollSeconds: ALARM_POLL_SECONDS,
      batchSeconds: this.#c.batchSeconds,
      items: this.#outbox.items(),
      retryAt: this.#retryAt,
    });
  }

  #dialAt(): number {
    return this.#nextDial().at;
  }

  #schedule(): void {
    if (this.#state !== "idle") return;
    if (this.#timer !== undefined) Timer.clear(this.#timer);
    this.#timer = undefined;
    const at = this.#dialAt();
    const delay = Math.max(0, at * 1000 - clockNow());
    this.#timer = Timer.set(() => {
      this.#timer = undefined;
      this.#wake();
    }, delay);
  }

  #wake(): void {
    if (this.#state !== "idle") return;
    const t = this.#now();
    if (this.#record.test === 0 || t >= this.#record.test + this.#c.testIntervalSeconds) this.#queueTest(t);
    const at = this.#dialAt();
    if (at <= t) this.#dial();
    else this.#schedule();
  }

  #queueTest(t: number): void {
    if ((this.#outbox.byKind().test ?? 0) > 0) {
      // the last one has not gone yet: one waiting test call says as much as several
      this.#record.test = t;
      this.#saveRecord();
      return;
    }
    const boots = this.#p.store.readJson("boots");
    const body: Record<string, unknown> = { boots: typeof boots === "number" ? boots : 0, outbox: this.#outbox.size, tariffVersion: this.#p.terminal.tariff.version };
    if (this.#modem.signal !== null) body.signal = this.#modem.signal;
    if (this.#queue("test", body, PRIORITY.routine, t)) {
      this.#record.test = t;
      this.#saveRecord();
      this.#urgent = true;
    }
  }

  #dial(): void {
    this.#state = "dialing";
    // a dial request made during the session is a new one; this one is kept if the session fails
    this.#dialUrgent = this.#urgent;
    this.#urgent = false;
    this.#stats.sessions++;
    this.#sentThisSession = 0;
    this.#sessionStartMs = clockNow();
    this.#held = false;
    this.#armSessionTimer();
    const server = this.#c.servers[this.#server];
    const target: SIM7600Target = { apn: this.#c.apn, address: server.address, port: server.port, tls: this.#c.tls };
    this.#modem.open(target);
  }

  /** The modem's session is open: MQTT CONNECT. */
  #opened(): void {
    if (this.#state !== "dialing") return;
    this.#state = "connecting";
    this.#inSession = new Set(this.#client.inflightTags());
    this.#step(this.#client.connect(clockNow()));
  }

  /** A session lasts at most sessionSeconds, renewed while an open alarm holds it up. */
  #armSessionTimer(): void {
    this.#timer = Timer.set(() => {
      this.#timer = undefined;
      if (this.#state === "connected" && this.#holding()) {
        this.#armSessionTimer();
        this.#held = true;
        return;
      }
      // a session held open for an alarm ends normally once the hold is over
      this.#hangUp(this.#held && this.#state === "connected" && this.#client.idle ? null : "session too long");
    }, this.#c.sessionSeconds * 1000);
  }

  /** Publishes what the outbox holds, up to the in-flight window. */
  #fill(): void {
    if (this.#state !== "connected") return;
    for (const it of this.#outbox.items()) {
      if (!this.#client.canPublish) break;
      if (this.#inSession.has(it.seq)) continue;
      const payload = this.#payload(it);
      if (!payload) continue;
      this.#inSession.add(it.seq);
      this.#client.publish(upTopic(this.#c.terminalId), payload, it.seq, clockNow());
      this.#stats.published++;
      this.#sentThisSession++;
    }
    this.#maybeHangUp();
  }

  #payload(it: OutboxItem): Uint8Array | null {
    if (!it.media) {
      const body = this.#outbox.body(it.seq);
      if (!body) this.#outbox.acknowledge(it.seq); // cannot be: dropped at load; keep the outbox moving
      return body ?? null;
    }
    const [unit, file, part] = it.media;
    const media = this.#p.hub?.media;
    const m = media?.manifest(unit);
    const bytes = m ? media?.readFile(unit, file) : undefined;
    if (!m || !bytes) {
      // the unit is gone or damaged: nothing to send, and nothing to wait for
      this.#outbox.dropUnit(unit);
      this.#lastError = `media unit ${unit} unreadable`;
      return null;
    }
    const f = m.files[file];
    const parts = Math.max(1, Math.ceil(f.size / PART_BYTES));
    return encodeMessage({
      name: "media",
      terminal: this.#c.terminalId,
      seq: it.seq,
      time: it.at,
      body: {
        mediaId: unit,
        alarmId: m.alarm,
        item: file,
        items: m.files.length,
        type: f.kind,
        part,
        parts,
        data: bytes.subarray(part * PART_BYTES, Math.min(bytes.length, (part + 1) * PART_BYTES)),
      },
    });
  }

  #acked(seq: number): void {
    this.#stats.acked++;
    const done = this.#outbox.acknowledge(seq);
    this.#inSession.delete(seq);
    if (done && done.unitDone !== null) {
      const media = this.#p.hub?.media;
      const m = media?.manifest(done.unitDone);
      if (m) {
        let images = 0;
        for (const f of m.files) if (f.kind === "jpeg") images++;
        if (images > 0) this.#p.terminal.addImages(images);
      }
      media?.remove(done.unitDone);
      this.#outbox.mediaDone(done.unitDone);
    }
    this.#fill();
  }

  #maybeHangUp(): void {
    if (this.#state !== "connected" || !this.#client.idle || this.#holding()) return;
    for (const it of this.#outbox.items()) if (!this.#inSession.has(it.seq)) return;
    if (this.#lingerTimer !== undefined) Timer.clear(this.#lingerTimer);
    // linger briefly: the broker delivers queued downlink messages right after the session starts
    this.#lingerTimer = Timer.set(() => {
      this.#lingerTimer = undefined;
      if (this.#state !== "connected") return;
      if (this.#client.idle && !this.#holding() && this.#outbox.items().every((it) => this.#inSession.has(it.seq))) this.#hangUp(null);
      else this.#fill();
    }, this.#c.lingerMs);
  }

  #step(step: MqttStep): void {
    if (this.#mqttTimer !== undefined) Timer.clear(this.#mqttTimer);
    this.#mqttTimer = undefined;
    if (step.close) return this.#hangUp(step.reason === "disconnect" ? null : step.reason);
    if (step.wakeAt !== null && (this.#state === "connecting" || this.#state === "connected")) {
      this.#mqttTimer = Timer.set(() => {
        this.#mqttTimer = undefined;
        this.#step(this.#client.tick(clockNow()));
      }, Math.max(0, step.wakeAt - clockNow()));
    }
  }

  /** Ends the session: DISCONNECT when connected, then the modem hangs up. */
  #hangUp(reason: string | null): void {
    if (this.#state === "idle" || this.#state === "hanging-up") return;
    const wasDialing = this.#state === "dialing";
    this.#state = "hanging-up";
    if (!wasDialing && this.#client.state === "connected") this.#client.disconnect(clockNow());
    this.#clearSessionTimers();
    this.#hangUpReason = reason;
    this.#modem.close();
  }

  #linkLost(reason: string): void {
    if (this.#state === "idle" || this.#state === "hanging-up") return;
    this.#lastError = reason;
    this.#hangUp(reason);
  }

  #ended(reason: string | null): void {
    this.#clearSessionTimers();
    this.#state = "idle";
    this.#lastEnded = this.#now();
    const sessionMs = clockNow() - this.#sessionStartMs;
    const sync = this.#pendingTime;
    if (sync) {
      this.#pendingTime = null;
      setClock(sync.ms + (clockNow() - sync.at));
      this.#stats.timeSyncs++;
    }
    const ok = reason === null;
    // ms: from the dial (modem bring-up) to the hang-up, on the terminal's clock
    this.#lastSession = { at: this.#now(), ok, sent: this.#sentThisSession, reason, ms: sessionMs };
    if (ok) {
      this.#stats.sessionsOk++;
      this.#failures = 0;
      this.#retryAt = 0;
    } else {
      this.#stats.failures++;
      // the next of the center's nodes for the next dial (a node down, or the path to it)
      this.#server = (this.#server + 1) % this.#c.servers.length;
      if (this.#dialUrgent) this.#urgent = true;
      this.#lastError = reason;
      const backoff = BACKOFF[Math.min(this.#failures, BACKOFF.length - 1)];
      this.#failures++;
      this.#retryAt = this.#now() + backoff;
    }
    // in-flight items stay in the client (re-sent with DUP next session) and in the outbox
    this.#inSession = new Set(this.#client.inflightTags());
    // media units refused earlier for lack of room get another chance once the outbox has emptied
    if (ok && this.#outbox.size === 0) this.#recoverMedia();
    this.#schedule();
  }

  #clearSessionTimers(): void {
    if (this.#timer !== undefined) Timer.clear(this.#timer);
    this.#timer = undefined;
    if (this.#mqttTimer !== undefined) Timer.clear(this.#mqttTimer);
    this.#mqttTimer = undefined;
    if (this.#lingerTimer !== undefined) Timer.clear(this.#lingerTimer);
    this.#lingerTimer = undefined;
  }

  // ---------------------------------------------------------------- downlink

  #downlink(topic: string, payload: Uint8Array): void {
    this.#stats.downlink++;
    if (topic !== downTopic(this.#c.terminalId)) {
      this.#stats.badDownlink++;
      return;
    }
    let m;
    try {
      m = decodeMessageBytes(payload);
    } catch (e) {
      this.#stats.badDownlink++;
      this.#lastError = `downlink refused: ${e instanceof Error ? e.message : String(e)}`;
      return; // acknowledged: a malformed message will not get better by coming again
    }
    if (m.terminal !== this.#c.terminalId || MESSAGES[m.name].direction !== "down") {
      this.#stats.badDownlink++;
      return;
    }
    if (this.#record.down.indexOf(m.seq) >= 0) {
      this.#stats.duplicates++;
      return;
    }
    this.#record.down.push(m.seq);
    if (this.#record.down.length > MAX_RECENT_DOWN) this.#record.down.shift();
    const b = m.body;
    switch (m.name) {
      case "registrationResult":
        this.#record.site = { ok: b.ok === true, site: b.site as string | undefined, message: b.message as string | undefined };
        break;
      case "timeSync": {
        const time = b.time as number;
        // a sane time only: after 2020, before 2100
        // a sane time only (after 2020, before 2100); set once the session is over, so that the
        // session's own timing (keep-alive, timeouts) does not see the clock jump
        if (time > 1577836800 && time < 4102444800) this.#pendingTime = { ms: time * 1000, at: clockNow() };
        else this.#stats.badDownlink++;
        break;
      }
      case "dispatch":
        this.#record.disp.push({ alarmId: b.alarmId as number, status: b.status as string, note: b.note as string | undefined, at: this.#now() });
        if (this.#record.disp.length > MAX_DISPATCH) this.#record.disp.shift();
        for (const l of this.#dispatchListeners) {
          try {
            l({ alarmId: b.alarmId as number, status: b.status as string, note: b.note as string | undefined });
          } catch (e) {
            // the status is kept and acknowledged whatever a listener (the UI) does with it
            this.#lastError = `dispatch listener: ${e instanceof Error ? e.message : String(e)}`;
          }
        }
        break;
      case "tariff": {
        // The center owns the tariff: a new version applies from now on (never re-pricing).
        const tariff = plain(b.tariff);
        const result = this.#p.terminal.setTariff(tariff && typeof tariff === "object" ? { ...(tariff as object), version: b.version } : tariff);
        if (!result.ok) this.reportWarning("tariff.refused", `${result.field}: ${result.error}`);
        break;
      }
      case "planChange": {
        const result = this.#p.terminal.setPlan(plain(b.plan));
        if (!result.ok) this.reportWarning("plan.refused", `${result.field}: ${result.error}`);
        break;
      }
    }
    this.#saveRecord();
  }

  // ---------------------------------------------------------------- state

  #loadRecord(): LinkRecord {
    const r = this.#p.store.readJson(KEY_STATE) as Partial<LinkRecord> | undefined;
    return {
      reg: r?.reg === true,
      test: typeof r?.test === "number" ? r.test : 0,
      site: r?.site && typeof r.site === "object" ? r.site : null,
      disp: Array.isArray(r?.disp) ? r.disp : [],
      down: Array.isArray(r?.down) ? r.down.filter((x) => typeof x === "number") : [],
      periods: typeof r?.periods === "number" ? r.periods : undefined,
      taken: typeof r?.taken === "number" ? r.taken : undefined,
    };
  }

  #saveRecord(): void {
    this.#p.store.writeJson(KEY_STATE, this.#record);
  }

  get state(): LinkState {
    return this.#state;
  }

  /** its part of the terminal's snapshot */
  snapshotInto(out: Record<string, unknown>): void {
    out.outbox = this.outboxSnapshot();
    out.uplink = this.snapshot();
    out.dispatch = this.#record.disp.slice();
  }

  outboxSnapshot(): Record<string, unknown> {
    return {
      items: this.#outbox.size,
      byKind: this.#outbox.byKind(),
      nextSeq: this.#outbox.nextSeq,
      acknowledged: this.#outbox.acknowledged,
      refused: this.#outbox.refused,
      dropped: this.#outbox.dropped,
      withdrawn: this.#outbox.withdrawn,
    };
  }

  snapshot(): Record<string, unknown> {
    const next = this.#state === "idle" ? this.#nextDial() : null;
    return {
      state: this.#state,
      server: `${this.#c.servers[this.#server].address}:${this.#c.servers[this.#server].port}`,
      ...this.#stats,
      inflight: this.#client.inflight,
      nextDial: next ? next.at : null,
      nextDialWhy: next ? next.why : null,
      retryAt: this.#retryAt || null,
      lastError: this.#lastError,
      lastSession: this.#lastSession,
      registration: this.#record.site,
      lastTest: this.#record.test || null,
      signal: this.#modem.signal,
      security: this.#c.tls ? "tls-psk" : "plain",
      modem: { state: this.#modem.state, lastError: this.#modem.lastError, ...this.#modem.stats },
    };
  }
}

/** A decoded CBOR value as JSON-shaped data (maps with text keys become objects), for setPlan. */
function plain(v: unknown): unknown {
  if (v instanceof Map) {
    const out: Record<string, unknown> = {};
    v.forEach((value, key) => {
      out[String(key)] = plain(value);
    });
    return out;
  }
  if (Array.isArray(v)) return v.map(plain);
  return v;
}
