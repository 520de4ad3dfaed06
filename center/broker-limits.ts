import type { Socket } from "node:net";

/**
 * What a stranger on the MQTT port can cost the center, bounded before aedes sees a byte:
 * packet sizes (before and after login), connection and login rates per address and per terminal
 * ID, and password checks that never block the event loop nor run more than a few at a time.
 */

/** The largest legitimate packet: a media chunk (16,384 data bytes, messages.ts) with its CBOR fields and topic. */
export const MAX_PACKET_AFTER_LOGIN = 16_384 + 2_048;
/** A terminal's CONNECT: id ≤ 16, user name, a secret ≤ 200 bytes, no will we need. */
export const MAX_CONNECT_PACKET = 512;
/** Bytes a client may send before its login has been answered (CONNECT plus anything pipelined). */
export const MAX_BYTES_BEFORE_LOGIN = 4 * MAX_PACKET_AFTER_LOGIN;

export interface BrokerLimitOptions {
  /** new connections per address: burst, then one per `connectionRefillMs` */
  connectionBurst?: number;
  connectionRefillMs?: number;
  /**
   * the same for an address a terminal has logged in from (a carrier's NAT: thousands of terminals
   * reconnect through it at once after a center restart); defaults 5,000 and 1 ms
   */
  carrierConnectionBurst?: number;
  carrierConnectionRefillMs?: number;
  /** login attempts per address: burst, then one per `loginRefillMs` */
  loginBurst?: number;
  loginRefillMs?: number;
  /** the same for an address a terminal has logged in from (defaults 500 and 20 ms) */
  carrierLoginBurst?: number;
  carrierLoginRefillMs?: number;
  /** login attempts per terminal ID (from addresses other than its last good one): burst, refill */
  terminalLoginBurst?: number;
  terminalLoginRefillMs?: number;
  /** password checks running at once, and waiting; past both a login is answered "server unavailable" */
  verifyConcurrency?: number;
  verifyQueue?: number;
  maxPacketAfterLogin?: number;
  maxConnectPacket?: number;
}

/** Token buckets by key, at most `maxKeys` remembered (full buckets are forgotten first). */
export class RateBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #burst: number;
  readonly #refillMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;

  constructor(burst: number, refillMs: number, now: () => number = Date.now, maxKeys = 10_000) {
    this.#burst = burst;
    this.#refillMs = refillMs;
    this.#now = now;
    this.#maxKeys = maxKeys;
  }

  #level(key: string): { tokens: number; at: number } {
    const now = this.#now();
    const b = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    const gained = Math.floor((now - b.at) / this.#refillMs);
    if (gained > 0) {
      b.tokens = Math.min(this.#burst, b.tokens + gained);
      b.at = b.tokens === this.#burst ? now : b.at + gained * this.#refillMs;
    }
    return b;
  }

  /** Takes one token; false (nothing taken) when the bucket is empty. */
  take(key: string): boolean {
    const b = this.#level(key);
    if (b.tokens <= 0) return false;
    b.tokens--;
    if (!this.#buckets.has(key) && this.#buckets.size >= this.#maxKeys) this.#prune();
    this.#buckets.set(key, b);
    return true;
  }

  /** Whether a token is there, without taking it. */
  has(key: string): boolean {
    return this.#level(key).tokens > 0;
  }

  /** Returns a token taken for an attempt that turned out good. */
  give(key: string): void {
    const b = this.#buckets.get(key);
    if (b) b.tokens = Math.min(this.#burst, b.tokens + 1);
  }

  forget(key: string): void {
    this.#buckets.delete(key);
  }

  #prune(): void {
    for (const key of [...this.#buckets.keys()]) if (this.#level(key).tokens >= this.#burst) this.#buckets.delete(key);
    // Still full of live buckets: drop the oldest half (a flood from many addresses forgets early ones).
    if (this.#buckets.size >= this.#maxKeys) for (const key of [...this.#buckets.keys()].slice(0, this.#maxKeys >> 1)) this.#buckets.delete(key);
  }

  get size(): number {
    return this.#buckets.size;
  }
}

/**
 * Reads MQTT fixed headers as bytes arrive and says when a packet is too big — from its declared
 * length, before its body has been buffered. Before login the first packet must be a CONNECT of
 * at most `maxConnect` bytes and at most `maxBeforeLogin` bytes in all may arrive.
 */
export class FrameGuard {
  loggedIn = false;
  #skip = 0;
  #header: number[] = [];
  #packets = 0;
  #bytes = 0;
  readonly maxConnect: number;
  readonly maxAfterLogin: number;
  readonly maxBeforeLogin: number;

  constructor(maxConnect = MAX_CONNECT_PACKET, maxAfterLogin = MAX_PACKET_AFTER_LOGIN, maxBeforeLogin = MAX_BYTES_BEFORE_LOGIN) {
    this.maxConnect = maxConnect;
    this.maxAfterLogin = maxAfterLogin;
    this.maxBeforeLogin = maxBeforeLogin;
  }

  /** null when these bytes are acceptable; else why the connection must close. */
  scan(chunk: Uint8Array): string | null {
    if (!this.loggedIn) {
      this.#bytes += chunk.length;
      if (this.#bytes > this.maxBeforeLogin) return `more than ${this.maxBeforeLogin} bytes before login`;
    }
    let i = 0;
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      const b = chunk[i++];
      this.#header.push(b);
      if (this.#header.length === 1) continue;
      if (b & 0x80) {
        if (this.#header.length > 4) return "malformed remaining length";
        continue;
      }
      let length = 0;
      for (let k = this.#header.length - 1; k >= 1; k--) length = length * 128 + (this.#header[k] & 0x7f);
      const type = this.#header[0] >> 4;
      this.#header = [];
      const first = this.#packets++ === 0;
      if (first && type !== 1) return "the first packet is not CONNECT";
      const limit = first ? this.maxConnect : this.loggedIn ? this.maxAfterLogin : Math.min(this.maxAfterLogin, this.maxBeforeLogin);
      if (length > limit) return `a ${first ? "CONNECT" : "packet"} of ${length} bytes (at most ${limit})`;
      this.#skip = length;
    }
    return null;
  }
}

/**
 * Puts a FrameGuard in front of aedes: aedes pulls bytes with `socket.read()` on 'readable', so the
 * guard sees each chunk first and destroys the socket instead of handing on a packet too big.
 */
export function guardSocket(socket: Socket, guard: FrameGuard, onViolation: (why: string) => void): void {
  const read = socket.read.bind(socket);
  socket.read = ((n?: number) => {
    const chunk = read(n) as Buffer | string | null;
    if (chunk === null || socket.destroyed) return chunk;
    const why = guard.scan(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    if (why === null) return chunk;
    onViolation(why);
    socket.destroy();
    return null;
  }) as Socket["read"];
}

/** Runs at most `concurrency` tasks at once with at most `queue` waiting; beyond, refuses at once. */
export class BoundedRunner {
  #running = 0;
  readonly #waiting: Array<() => void> = [];
  readonly concurrency: number;
  readonly queue: number;
  peak = 0;

  constructor(concurrency: number, queue: number) {
    this.concurrency = concurrency;
    this.queue = queue;
  }

  /** null when refused (too many waiting). */
  async run<T>(task: () => Promise<T>): Promise<T | null> {
    if (this.#running >= this.concurrency) {
      if (this.#waiting.length >= this.queue) return null;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else this.#running++;
    this.peak = Math.max(this.peak, this.#running);
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}

export type LoginVerdict = "ok" | "bad" | "rate" | "busy";

/**
 * Terminal logins: rate-limited per address and per terminal ID (each attempt is counted before
 * it is checked), the secret checked off the event loop with bounded concurrency, and an unknown ID
 * checked against a dummy hash of the same kind so its answer takes as long as a known one's.
 */
export class TerminalLogins {
  readonly perAddress: RateBuckets;
  /** addresses terminals have logged in from: logins in flight at once from a whole fleet behind a NAT */
  readonly perCarrier: RateBuckets;
  readonly perTerminal: RateBuckets;
  readonly runner: BoundedRunner;
  /** each terminal's address at its last good login (only real terminals get here: bounded by the fleet) */
  readonly #lastGood = new Map<string, string>();
  /** addresses with a good login behind them, and how many terminals' last good login was there */
  readonly #carriers = new Map<string, number>();
  counts = { ok: 0, bad: 0, rateLimited: 0, busy: 0 };

  constructor(o: BrokerLimitOptions = {}, now: () => number = Date.now) {
    const burst = o.loginBurst ?? 10;
    const refill = o.loginRefillMs ?? 6_000;
    this.perAddress = new RateBuckets(burst, refill, now);
    this.perCarrier = new RateBuckets(o.carrierLoginBurst ?? 500, o.carrierLoginRefillMs ?? 20, now);
    this.perTerminal = new RateBuckets(o.terminalLoginBurst ?? 3 * burst, o.terminalLoginRefillMs ?? refill, now);
    this.runner = new BoundedRunner(o.verifyConcurrency ?? 2, o.verifyQueue ?? 16);
  }

  /**
   * `verify` checks the secret (center/broker.ts checkTerminalLogin: the same work for an unknown
   * ID as for a wrong secret); it runs only within the rate limits, and a `slow` one (scrypt) within
   * the bounded concurrency.
   */
  async check(address: string, terminal: string, verify: () => Promise<boolean>, slow = true): Promise<LoginVerdict> {
    // Both buckets are charged before any work; an empty one refuses without a hash. A terminal
    // dialling from the address of its last good login skips its ID's bucket, so strangers
    // guessing its secret from elsewhere cannot lock it out.
    const fromKnown = this.#lastGood.get(terminal) === address;
    const addressBuckets = this.#carriers.has(address) ? this.perCarrier : this.perAddress;
    const a = addressBuckets.has(address);
    const t = fromKnown || this.perTerminal.has(terminal);
    if (!a || !t) {
      this.counts.rateLimited++;
      return "rate";
    }
    addressBuckets.take(address);
    if (!fromKnown) this.perTerminal.take(terminal);
    // Only a slow check (a scrypt hash from before HMAC secrets) waits for one of the few places.
    const right = slow ? await this.runner.run(verify) : await verify();
    if (right === null) {
      this.counts.busy++;
      return "busy";
    }
    if (right) {
      this.counts.ok++;
      // a good login costs nothing: terminals behind one carrier NAT address are not limited by each other
      addressBuckets.give(address);
      if (!fromKnown) this.perTerminal.give(terminal);
      const before = this.#lastGood.get(terminal);
      if (before !== address) {
        if (before !== undefined) {
          const n = (this.#carriers.get(before) ?? 1) - 1;
          if (n > 0) this.#carriers.set(before, n);
          else this.#carriers.delete(before);
        }
        this.#carriers.set(address, (this.#carriers.get(address) ?? 0) + 1);
        this.#lastGood.set(terminal, address);
      }
      return "ok";
    }
    this.counts.bad++;
    return "bad";
  }

  /** Whether some terminal's last good login came from this address. */
  isCarrier(address: string): boolean {
    return this.#carriers.has(address);
  }
}

/**
 * New connections per address, before a byte is read: a stranger's address gets a small bucket;
 * an address terminals have logged in from (a carrier's NAT) a large one, so a fleet reconnecting
 * after a restart is let in as fast as logins are checked, once its first terminal is through.
 */
export class ConnectionGate {
  readonly strangers: RateBuckets;
  readonly carriers: RateBuckets;
  readonly #logins: TerminalLogins;

  constructor(logins: TerminalLogins, o: BrokerLimitOptions = {}, now: () => number = Date.now) {
    this.#logins = logins;
    this.strangers = new RateBuckets(o.connectionBurst ?? 30, o.connectionRefillMs ?? 1_000, now);
    this.carriers = new RateBuckets(o.carrierConnectionBurst ?? 5_000, o.carrierConnectionRefillMs ?? 1, now);
  }

  /** Takes a connection's token from its address's bucket; false: refuse the connection. */
  admit(address: string): boolean {
    return this.#logins.isCarrier(address) ? this.carriers.take(address) : this.strangers.take(address);
  }
}

