import { hostCall } from "./bridge";

/** `mc/config` on the host: the manifest's config, as the host read it (plus test overrides). */
const config: Readonly<Record<string, unknown>> = hostCall("config");
export default config;
