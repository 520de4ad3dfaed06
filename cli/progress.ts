import { formatTime } from "../firmware/core/time";

/**
 * A progress line for long runs (scenario, sim --for), on stderr and only when stderr is a terminal:
 * the virtual time reached and how far the script or the run is, rewritten in place at most four
 * times a second. Piped or redirected, nothing is printed.
 */
export interface Progress {
  action(done: number, total: number): void;
  /** `percent`: of a --for run, or null */
  tick(virtualMs: number, percent: number | null): void;
  done(): void;
}

export function progressLine(startMs: number, stream: NodeJS.WriteStream = process.stderr): Progress | null {
  if (!stream.isTTY) return null;
  let last = 0;
  let action = "";
  let shown = false;
  const show = (virtualMs: number, percent: number | null, force = false) => {
    const now = Date.now();
    if (!force && now - last < 250) return;
    last = now;
    const parts = [`virtual ${formatTime(Math.floor(virtualMs / 1000))} (+09:00)`];
    if (action) parts.push(action);
    if (percent !== null) parts.push(`${Math.max(0, Math.min(100, percent))}%`);
    stream.write(`\r\x1b[K${parts.join(" · ")}`);
    shown = true;
  };
  let lastMs = startMs;
  return {
    action(done, total) {
      action = `action ${done}/${total} (${Math.round((done / total) * 100)}%)`;
      show(lastMs, null, true);
    },
    tick(virtualMs, percent) {
      lastMs = virtualMs;
      show(virtualMs, percent);
    },
    done() {
      if (shown) stream.write("\r\x1b[K");
    },
  };
}
