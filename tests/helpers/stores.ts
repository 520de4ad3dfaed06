import test, { type ExecutionContext } from "ava";
import { Cluster, freePort, postgresBin } from "./pg-cluster";

/**
 * The store engines a store test runs against: SQLite always, PostgreSQL too. PostgreSQL is
 * TIMEGUARD_PG_URL when set (a server where this user may CREATE DATABASE), else a private
 * throwaway cluster this process starts (initdb into a temp folder, loopback only, a free port;
 * as the `postgres` user when run as root, since initdb refuses root) and stops after its tests.
 * Each `fresh()` is a new empty database.
 *
 * When neither exists the PostgreSQL tests are skipped, saying why — except in CI
 * (CI or TIMEGUARD_PG_REQUIRED set), where they fail: the PostgreSQL store must pass there.
 */
export type EngineName = "sqlite" | "postgres";

export interface StoreEngine {
  readonly name: EngineName;
  /** `store` for startCenter: undefined (SQLite under dataDir) or a new empty database's URL */
  fresh(): string | undefined;
  /** a test of this engine: its title ends with [engine]; skipped when the engine is missing here */
  test(title: string, fn: (t: ExecutionContext, engine: StoreEngine) => Promise<void> | void): void;
}

const required = Boolean(process.env.CI || process.env.TIMEGUARD_PG_REQUIRED);

let cluster: Cluster | null = null;
let starting: Promise<Cluster> | null = null;

/** why there is no PostgreSQL to test with here, or null */
export function postgresMissing(): string | null {
  if (process.env.TIMEGUARD_PG_URL || postgresBin()) return null;
  return "no PostgreSQL here (neither TIMEGUARD_PG_URL nor initdb/pg_ctl in PATH or /usr/lib/postgresql/N/bin)";
}

/** Starts (once per test process) the PostgreSQL the tests use. */
function ensurePostgres(): Promise<Cluster> {
  return (starting ??= (async () => {
    if (process.env.TIMEGUARD_PG_URL) return (cluster = new Cluster(process.env.TIMEGUARD_PG_URL, null));
    const bin = postgresBin();
    if (!bin) throw new Error(postgresMissing() ?? "no PostgreSQL");
    return (cluster = Cluster.start(bin, await freePort()));
  })());
}

let hooked = false;
let told = false;

/** The engines, for a test file's store tests; registers the cluster's stop after the file's tests. */
export function storeEngines(): StoreEngine[] {
  if (!hooked) {
    hooked = true;
    test.after.always(() => {
      cluster?.stop();
      cluster = null;
    });
  }
  const sqlite: StoreEngine = {
    name: "sqlite",
    fresh: () => undefined,
    test: (title, fn) => test(`${title} [sqlite]`, (t) => fn(t, sqlite)),
  };
  const missing = postgresMissing();
  const postgres: StoreEngine = {
    name: "postgres",
    fresh: () => {
      if (!cluster) throw new Error("PostgreSQL not started");
      return cluster.database();
    },
    test: (title, fn) => {
      if (missing && !required) {
        if (!told) (told = true), console.log(`PostgreSQL store tests skipped: ${missing}`);
        return test.skip(`${title} [postgres]`, () => undefined);
      }
      // one at a time: each PgDb call blocks the test process's event loop for a round trip, which
      // would slow every other test's center in the process (their MQTT timeouts under load)
      test.serial(`${title} [postgres]`, async (t) => {
        if (missing) return t.fail(`PostgreSQL is required here (CI or TIMEGUARD_PG_REQUIRED): ${missing}`);
        await ensurePostgres();
        await fn(t, postgres);
      });
    },
  };
  return [sqlite, postgres];
}
