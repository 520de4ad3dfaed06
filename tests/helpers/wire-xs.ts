// Runs the firmware's CBOR and MQTT codecs and MQTT client on requests given as bytes, the same
// way on Node and inside XS (bundled by tests/codec-xs.test.ts and evaluated in an xsnap worker),
// so that the two engines can be compared byte for byte. Requests and replies are CBOR made by
// the codec under test itself; only firmware modules are imported here.
import { CborError, type CborValue, decodeCbor, encodeCbor } from "../../firmware/lib/cbor";
import { MqttError, MqttParser, encodePacket } from "../../firmware/lib/mqtt";
import { MqttClient } from "../../firmware/net/mqtt-client";
import { encodeUtf8 } from "../../firmware/lib/utf8";

export const OP_CBOR = 1; // body: CBOR bytes → [0, re-encoded] or [1, error]
export const OP_MQTT = 2; // body: CBOR [chunk…] → [[re-encoded packet…], error | null]
export const OP_CLIENT = 3; // body: CBOR [command…] → log

function errorText(e: unknown): string {
  if (e instanceof CborError || e instanceof MqttError) return `${e.name}: ${e.message}`;
  return `OTHER ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
}

export function handle(request: Uint8Array): Uint8Array {
  const op = request[0];
  const body = request.subarray(1);
  if (op === OP_CBOR) {
    try {
      return encodeCbor([0, encodeCbor(decodeCbor(body))]);
    } catch (e) {
      return encodeCbor([1, errorText(e)]);
    }
  }
  if (op === OP_MQTT) {
    const chunks = decodeCbor(body) as Uint8Array[];
    const parser = new MqttParser(1 << 20);
    const out: CborValue[] = [];
    let error: string | null = null;
    try {
      for (const c of chunks) parser.feed(c, (p) => out.push(encodePacket(p)));
    } catch (e) {
      error = errorText(e);
    }
    return encodeCbor([out, error, parser.buffered]);
  }
  if (op === OP_CLIENT) return encodeCbor(runClient(decodeCbor(body) as CborValue[][]));
  return encodeCbor([1, "unknown op"]);
}

/**
 * Commands: ["data", bytes, now] | ["publish", topic, payload, tag, now] | ["tick", now] |
 * ["connect", now] | ["closed"] | ["disconnect", now]. The log holds what the client wrote, its
 * events and its steps.
 */
function runClient(commands: CborValue[][]): CborValue[] {
  const log: CborValue[] = [];
  const client = new MqttClient<string>(
    { clientId: "T0001", username: "T0001", password: "pw", keepAliveSeconds: 30, maxInflight: 3, subscriptions: ["tg/t/T0001/down"], pingTimeoutMs: 10000 },
    { write: (b) => log.push(["write", b.slice()]) },
    {
      connected: (s) => log.push(["connected", s]),
      acked: (tag, id) => log.push(["acked", tag, id]),
      message: (topic, payload, info) => log.push(["message", topic, payload.slice(), info.qos, info.dup]),
      subscribed: (g) => log.push(["subscribed", g]),
      error: (r) => log.push(["error", r]),
    },
  );
  const step = (s: { close: boolean; reason: string | null; wakeAt: number | null }) => log.push(["step", s.close, s.reason, s.wakeAt]);
  for (const c of commands) {
    try {
      switch (c[0]) {
        case "connect":
          step(client.connect(c[1] as number));
          break;
        case "data":
          step(client.onData(c[1] as Uint8Array, c[2] as number));
          break;
        case "tick":
          step(client.tick(c[1] as number));
          break;
        case "publish":
          if (client.canPublish) log.push(["id", client.publish(c[1] as string, c[2] as Uint8Array, c[3] as string, c[4] as number)]);
          else log.push(["refused", client.state, client.inflight]);
          break;
        case "closed":
          client.onTransportClosed();
          break;
        case "disconnect":
          step(client.disconnect(c[1] as number));
          break;
      }
    } catch (e) {
      log.push(["threw", errorText(e)]);
    }
  }
  log.push(["end", client.state, client.inflight, client.inflightTags(), encodeUtf8(JSON.stringify(client.stats))]);
  return log;
}

/** For the XS bundle: answer the parent's commands. */
export function install(g: { handleCommand?: (m: ArrayBuffer) => ArrayBuffer }): void {
  g.handleCommand = (m) => {
    const reply = handle(new Uint8Array(m));
    return reply.buffer.slice(reply.byteOffset, reply.byteOffset + reply.byteLength) as ArrayBuffer;
  };
}
