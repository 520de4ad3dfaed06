import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "./usage";

/**
 * One process per data folder. A second `timeguard start` on the same folder (other ports) would
 * run a second terminal on the same flash, clock file, sensors and center database, and the two
 * would overwrite each other's saves; a second `timeguard center` on one SQLite file would run a
 * second notifier over the same queue (every e-mail twice). `running.pid` holds the running one's
 * process id and what it is; a file left by a process that is gone (a crash, a power cut) is taken
 * over.
 */
export function lockFolder(dir: string, what: "timeguard start" | "timeguard center", refusal: (pid: number, holder: string) => string): () => void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UsageError(`--data ${dir}: cannot keep the data there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): give a folder`);
  }
  const path = join(dir, "running.pid");
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, `${process.pid} ${what}\n`, { flag: "wx" });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw e;
    }
    const held = holder(dir);
    if (held) throw new UsageError(refusal(held.pid, held.what));
    rmSync(path, { force: true }); // left by a process that is gone: take it over
  }
  return () => {
    if (readLock(path)?.pid === process.pid) rmSync(path, { force: true });
  };
}

/** The live timeguard process that holds `dir`, if one does. */
export function holder(dir: string): { pid: number; what: string } | null {
  const lock = readLock(join(dir, "running.pid"));
  return lock && lock.pid !== process.pid && isTimeguard(lock.pid) ? lock : null;
}

/** `timeguard start`'s folder. */
export function lockDemo(dir: string): () => void {
  return lockFolder(
    dir,
    "timeguard start",
    (pid, what) => `the demo in ${dir}/ is already running (${what}, process ${pid}): stop that one first (Ctrl-C), or give this one another --data folder`,
  );
}

function readLock(path: string): { pid: number; what: string } | null {
  try {
    const [pid, ...what] = readFileSync(path, "utf8").trim().split(" ");
    const n = Number(pid);
    return Number.isSafeInteger(n) && n > 0 ? { pid: n, what: what.join(" ") || "timeguard" } : null;
  } catch {
    return null;
  }
}

/** Whether `pid` is a live process, and (where /proc tells) a timeguard one, not a reused id. */
function isTimeguard(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (!existsSync("/proc/self/cmdline")) return true;
  try {
    return /timeguard/.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"));
  } catch {
    return false;
  }
}
