import { isCamera, isDeviceId } from "../core/devices";
import { FieldError, isRecord } from "../core/errors";

// Compiled once here: XS compiles a regular expression literal each time it is evaluated (~0.1 ms).
/** a key of 16-32 bytes in hex */
const KEY_HEX = /^([0-9a-fA-F]{2}){16,32}$/;

/** The most devices the sensor table holds (pairing refuses more). */
export const MAX_SENSORS = 16;

/** The `sensors` section of the manifest's config. */
export interface SensorHubConfig {
  /** the kit key the rental company provisioned (16 bytes); every sensor's key derives from it */
  kitKey: Uint8Array;
  /** a sensor silent this many heartbeat intervals (plus graceSeconds) is disconnected */
  missedHeartbeats: number;
  graceSeconds: number;
  /** how long the pairing window stays open */
  pairingSeconds: number;
  /** what an intrusion asks of each camera */
  captureImages: number;
  captureSeconds: number;
  /** a media unit still missing files this long after the capture is closed as incomplete */
  mediaTimeoutSeconds: number;
  /** while guarding, the terminal asks each armed sensor for a sign of life this often (PING);
   * an armed sensor silent for two of these plus graceSeconds is lost (a trouble event) */
  guardCheckSeconds: number;
  /** cameras that capture for a 24-hour alarm (fire, tamper, panic) outside guarding: "all"
   * registered cameras, or the IDs the site registered for that ([] for none) */
  allDayCameras: "all" | string[];
}

function hexKey(v: unknown): Uint8Array {
  if (typeof v !== "string" || !KEY_HEX.test(v)) {
    throw new FieldError("config.sensors.kitKey", "must be 16 to 32 bytes of hex");
  }
  const out = new Uint8Array(v.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(v.substr(i * 2, 2), 16);
  return out;
}

function int(v: unknown, fallback: number, field: string, min: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new FieldError(`config.sensors.${field}`, `must be an integer from ${min} to ${max}`);
  }
  return v;
}

function allDay(v: unknown): "all" | string[] {
  if (v === undefined || v === "all") return "all";
  if (Array.isArray(v) && v.length <= MAX_SENSORS && v.every((x) => isDeviceId(x) && isCamera(x))) return v.slice() as string[];
  throw new FieldError("config.sensors.allDayCameras", 'must be "all" or a list of camera IDs (B0001…)');
}

/** Reads and checks `config.sensors`; a bad value is a FieldError naming it. */
export function readSensorConfig(config: Readonly<Record<string, unknown>>): SensorHubConfig {
  const s = isRecord(config.sensors) ? config.sensors : {};
  return {
    kitKey: hexKey(s.kitKey),
    missedHeartbeats: int(s.missedHeartbeats, 3, "missedHeartbeats", 1, 20),
    graceSeconds: int(s.graceSeconds, 30, "graceSeconds", 0, 3600),
    pairingSeconds: int(s.pairingSeconds, 600, "pairingSeconds", 30, 86400),
    captureImages: int(s.captureImages, 3, "captureImages", 1, 10),
    captureSeconds: int(s.captureSeconds, 3, "captureSeconds", 1, 60),
    mediaTimeoutSeconds: int(s.mediaTimeoutSeconds, 120, "mediaTimeoutSeconds", 10, 3600),
    guardCheckSeconds: int(s.guardCheckSeconds, 60, "guardCheckSeconds", 10, 3600),
    allDayCameras: allDay(s.allDayCameras),
  };
}
