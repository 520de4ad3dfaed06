import type { Seconds } from "../core/time";
import type { SensorHubConfig } from "./hub-config";
import type { Sensor } from "./sensor-table";

/**
 * Supervision: when a silent sensor counts as disconnected. Usually after `missedHeartbeats` of
 * its own heartbeat interval plus the grace; while guarding, the armed sensors are asked for a
 * sign of life (PING) every `guardCheckSeconds`, and one silent for two of those plus the grace
 * (counted from the arming at the earliest) is lost sooner.
 */
export class Supervision {
  #config: SensorHubConfig;
  /** next PING round while guarding (null: not guarding) */
  #checkAt: Seconds | null = null;
  #armedSince: Seconds = 0;
  #armedIds: string[] = [];

  constructor(config: SensorHubConfig) {
    this.#config = config;
  }

  /** The sensors the plan arms now, in the order the plan names them. */
  get armedIds(): readonly string[] {
    return this.#armedIds;
  }

  isArmed(id: string): boolean {
    return this.#armedIds.indexOf(id) >= 0;
  }

  /** The plan arms `ids` from `t` (none: guarding stops); a new set starts a new check round. */
  arm(ids: string[], t: Seconds): void {
    if (ids.length === 0) this.#checkAt = null;
    else if (this.#checkAt === null || ids.join() !== this.#armedIds.join()) {
      this.#armedSince = t;
      this.#checkAt = t + this.#config.guardCheckSeconds;
    }
    this.#armedIds = ids;
  }

  /** When `s` counts as disconnected if it stays silent. */
  deadline(s: Sensor): Seconds {
    const c = this.#config;
    const usual = s.heard + s.heartbeat * c.missedHeartbeats + c.graceSeconds;
    if (this.#checkAt === null || !this.isArmed(s.id)) return usual;
    const guarded = Math.max(s.heard, this.#armedSince) + 2 * c.guardCheckSeconds + c.graceSeconds;
    return guarded < usual ? guarded : usual;
  }

  /** Whether a check round is due at `t` (the next one is then scheduled). */
  checkDue(t: Seconds): boolean {
    if (this.#checkAt === null || t < this.#checkAt) return false;
    this.#checkAt = t + this.#config.guardCheckSeconds;
    return true;
  }

  /** The next check round, or null when not guarding. */
  get nextCheck(): Seconds | null {
    return this.#checkAt;
  }
}
