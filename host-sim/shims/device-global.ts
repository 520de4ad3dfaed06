import { hostCall } from "./bridge";
import { makeDevice } from "./device";

/** Installs the `device` global before the firmware's modules run (imported first by the entry). */
const { device, deliver } = makeDevice(hostCall);
(globalThis as any).device = device;
export { deliver };
