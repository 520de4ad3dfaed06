import { hostCall, i2cPairing, postCall } from "./bridge";
import { makeDevice } from "./device";

/**
 * Installs the `device` global before the firmware's modules run (imported first by the entry),
 * as the SDK's host provider does on a board. The socket classes are the modules
 * embedded:io/socket/{udp,tcp,listener} (scripts/build.mjs maps them to host-sim/shims/socket-*.ts).
 */
const { device, sockets, deliver } = makeDevice(hostCall, postCall, i2cPairing);
(globalThis as any).device = device;
export { deliver, sockets };
