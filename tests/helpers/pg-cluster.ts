import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PgDb } from "../../center/store/pg-db";

/**
 * A PostgreSQL for tests and benches: a private throwaway cluster (initdb into a temp folder,
 * loopback only, a free port; as the `postgres` user when run as root, since initdb refuses
 * root), or a server given by URL. `database()` makes a new empty database.
 */
/** Where initdb and pg_ctl are: TIMEGUARD_PG_BIN, PATH, or Debian's /usr/lib/postgresql/N/bin. */
export function postgresBin(): string | null {
  const candidates: string[] = [];
  if (process.env.TIMEGUARD_PG_BIN) candidates.push(process.env.TIMEGUARD_PG_BIN);
  for (const d of (process.env.PATH ?? "").split(":")) if (d) candidates.push(d);
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    for (const v of readdirSync(debian).sort((a, b) => Number(b) - Number(a))) candidates.push(join(debian, v, "bin"));
  }
  return candidates.find((d) => existsSync(join(d, "initdb")) && existsSync(join(d, "pg_ctl"))) ?? null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

export class Cluster {
  readonly adminUrl: string;
  readonly #stop: (() => void) | null;
  #n = 0;
  readonly #made: string[] = [];

  constructor(adminUrl: string, stop: (() => void) | null) {
    this.adminUrl = adminUrl;
    this.#stop = stop;
  }

  static start(bin: string, port: number): Cluster {
    const asRoot = process.getuid?.() === 0;
    // as root the server runs as `postgres`, which must reach the folder: /tmp, whatever TMPDIR says
    const dir = mkdtempSync(join(asRoot ? "/tmp" : tmpdir(), "tg-pg-"));
    let run = (cmd: string, args: string[]) => execFileSync(join(bin, cmd), args, { stdio: "pipe" });
    if (asRoot) {
      const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
      const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
      chownSync(dir, uid, gid);
      run = (cmd, args) => execFileSync("runuser", ["-u", "postgres", "--", join(bin, cmd), ...args], { stdio: "pipe" });
    }
    const data = join(dir, "data");
    try {
      run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
      // loopback only; fsync off: a test cluster, thrown away after the run
      run("pg_ctl", ["-D", data, "-l", join(dir, "log"), "-w", "-o", `-k ${dir} -h 127.0.0.1 -p ${port} -c fsync=off -c max_connections=50`, "start"]);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      const err = e as Error & { stderr?: Buffer };
      throw new Error(`could not start a PostgreSQL test cluster: ${err.stderr?.toString().trim() || err.message}`);
    }
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      process.off("exit", stop);
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    // a process that ends without its after-hook (a timeout, a crash) leaves no server behind
    process.on("exit", stop);
    return new Cluster(`postgres://postgres@127.0.0.1:${port}/postgres`, stop);
  }

  /** a new empty database, byte-order collation like SQLite's */
  database(): string {
    const name = `tg_${process.pid}_${++this.#n}`;
    const admin = new PgDb(this.adminUrl);
    try {
      admin.exec(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
    } finally {
      admin.close();
    }
    this.#made.push(name);
    const u = new URL(this.adminUrl);
    u.pathname = `/${name}`;
    return u.toString();
  }

  stop(): void {
    if (this.#stop) return this.#stop();
    // a server we were given: drop what we made there
    const admin = new PgDb(this.adminUrl);
    try {
      for (const name of this.#made) admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      admin.close();
    }
  }
}

