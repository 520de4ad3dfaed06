import { formatTime } from "../firmware/core/time";

/**
 * A progress line for long runs (scenario, sim --for), on stderr and only when stderr is a terminal:
 * the virtual time reached, the virtual time the run ends at and how far that is, and the script's
 * actions done, rewritten in place at most four times a second. Piped or redirected, nothing is
 * printed. The share is of virtual time, not of actions: a walk-through types 30 actions in its
 * first minutes and then lets three weeks pass in one, so a count of actions said 97 % for most of
 * the run.
 */
export interface Progress {
  action(done: number, total: number, virtualMs?: number): void;
  tick(virtualMs: number): void;
  done(): void;
}

/** Whole days, for a message. */
export function days(ms: number): string {
  return Math.ceil(ms / 86_400_000).toLocaleString("en");
}

/** `endMs`: where the run's virtual time ends (null or not after `startMs`: the share of actions is shown instead). */
export function progressLine(startMs: number, endMs: number | null, stream: NodeJS.WriteStream = process.stderr): Progress | null {
  if (!stream.isTTY) return null;
  const span = endMs !== null && endMs > startMs ? endMs - startMs : 0;
  let last = 0;
  let actions = "";
  let actionShare: number | null = null;
  let shown = false;
  let lastMs = startMs;
  const show = (force: boolean) => {
    const now = Date.now();
    if (!force && now - last < 250) return;
    last = now;
    const parts = [`virtual ${formatTime(Math.floor(lastMs / 1000))}`];
    if (span > 0) {
      parts[0] += ` of ${formatTime(Math.floor(endMs! / 1000))} (+09:00)`;
      parts.push(`${Math.max(0, Math.min(100, Math.floor(((lastMs - startMs) / span) * 100)))}%`);
    } else {
      parts[0] += " (+09:00)";
      if (actionShare !== null) parts.push(`${actionShare}%`);
    }
    if (actions) parts.push(actions);
    stream.write(`\r\x1b[K${parts.join(" · ")}`);
    shown = true;
  };
  return {
    action(done, total, virtualMs) {
      if (virtualMs !== undefined) lastMs = virtualMs;
      actions = `action ${done}/${total}`;
      actionShare = Math.round((done / total) * 100);
      show(true);
    },
    tick(virtualMs) {
      lastMs = virtualMs;
      show(false);
    },
    done() {
      if (shown) stream.write("\r\x1b[K");
    },
  };
}
