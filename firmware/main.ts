import config from "mc/config";
import Timer from "timer";
import { now } from "rtc";
import { readConfig } from "./app/config";
import { preferenceBackend } from "./app/preference-backend";
import { Terminal } from "./app/terminal";
import { Store } from "./platform/store";

/**
 * Builds the terminal from the Moddable modules (the real ones on a board, emulations on the host)
 * and composes the components around it. Each capability adds its part in its own block below.
 */
export function boot(): Terminal {
  const terminal = new Terminal({
    store: new Store(preferenceBackend("timeguard")),
    clock: { now },
    timers: {
      set: (callback, ms) => Timer.set(() => callback(), ms),
      clear: (id) => Timer.clear(id as ReturnType<typeof Timer.set>),
    },
    config: readConfig(config),
  });
  // -- components: each capability adds one block (drivers from config, then its component on the
  // terminal), before boot so it hears the events of boot itself --
  terminal.boot();
  return terminal;
}

export default function main(): void {
  boot();
}
