import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "./usage";

/**
 * One `timeguard start` per demo folder. A second one on the same folder (other ports) would run a
 * second terminal on the same flash, clock file, sensors and center database, and the two would
 * overwrite each other's saves. `running.pid` holds the running one's process id; a file left by a
 * process that is gone (a crash, a power cut) is taken over.
 */
export function lockDemo(dir: string): () => void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UsageError(`--data ${dir}: cannot keep the demo there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): give a folder`);
  }
  const path = join(dir, "running.pid");
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: "wx" });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw e;
    }
    const pid = readPid(path);
    if (pid !== null && pid !== process.pid && isTimeguard(pid)) {
      throw new UsageError(`the demo in ${dir}/ is already running (timeguard start, process ${pid}): stop that one first (Ctrl-C), or give this one another --data folder`);
    }
    rmSync(path, { force: true }); // left by a process that is gone: take it over
  }
  return () => {
    if (readPid(path) === process.pid) rmSync(path, { force: true });
  };
}

function readPid(path: string): number | null {
  try {
    const n = Number(readFileSync(path, "utf8").trim());
    return Number.isSafeInteger(n) && n > 0 ? n : null;
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
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync("/proc/self/cmdline")) return true;
  try {
    return /timeguard/.test(readFileSync(cmdline, "utf8"));
  } catch {
    return false;
  }
}
