import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openStore } from "../center/store/open-store";
import type { SqlStore } from "../center/store/sql-store";
import { ROLES, type Role } from "../center/store/account-store";
import { WebStores } from "../center/store/web-store";
import { USERNAME, hashPassword, passwordProblem } from "../center/web/auth";
import { storeSpec } from "./args";
import { UsageError } from "./usage";

/** More than any password line (passwords are at most 200 characters): refused before it is kept. */
const MAX_STDIN = 4096;

/**
 * `timeguard center user add|passwd|remove|list --data DIR [--store postgres://…] …`: the logins of a real center without
 * the demo. Passwords come from standard input (one line; on a terminal, typed without echo and
 * asked twice), never from the command line where `ps` and shell history would keep them, and are
 * stored as the web login's scrypt hash (center/web/auth.ts). Works while the center runs (SQLite
 * WAL); a changed password or a removed user ends that user's sessions at once.
 */
export async function runCenterUser(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (!action || !["add", "passwd", "remove", "list"].includes(action)) {
    throw new UsageError(`user: add, passwd, remove or list, got ${action ?? "nothing"}`);
  }
  const { values } = parseArgs({
    args: rest,
    options: { data: { type: "string" }, store: { type: "string" }, user: { type: "string" }, role: { type: "string" }, site: { type: "string" } },
    strict: true,
  });
  const spec = storeSpec(values.store);
  if (!values.data && !spec) throw new UsageError("--data DIR is required (the center's data directory), or --store postgres://…");
  const data = values.data ?? ".";
  const file = { dataDir: data, store: spec };
  if (!spec && action !== "add" && !existsSync(join(data, "center.sqlite"))) throw new UsageError(`no center data in ${values.data} (missing center.sqlite)`);
  if (action === "list") return withStores(file, (_s, web) => {
    for (const u of web.accounts.users()) process.stdout.write(`${u.username}\t${u.role}${u.siteId !== null ? `\tsite ${u.siteId}` : ""}\n`);
    return 0;
  });

  const username = values.user ?? "";
  if (!USERNAME.test(username)) throw new UsageError(`--user must be 1 to 40 letters, digits or . _ @ -, got ${JSON.stringify(username)}`);

  if (action === "add") {
    const role = values.role as Role | undefined;
    if (!role || !ROLES.includes(role)) throw new UsageError(`--role must be admin, operator or manager, got ${values.role ?? "nothing"}`);
    if (role === "manager" && values.site === undefined) throw new UsageError("--site SITE is required for a manager (a manager manages one site)");
    if (role !== "manager" && values.site !== undefined) throw new UsageError(`--site is for a manager only; an ${role} sees every site`);
    // Check what can be checked before asking for the password.
    const fresh = !spec && !existsSync(join(data, "center.sqlite"));
    if (fresh && role === "manager") throw new UsageError(`no site called ${JSON.stringify(values.site)}; no center data in ${values.data} yet`);
    const siteId = fresh ? null : withStores(file, (store, web) => {
      if (web.accounts.userByName(username)) throw new UsageError(`the user ${username} exists (use \`user passwd\` to change the password)`);
      if (role !== "manager") return null;
      const site = web.sites.siteByName(values.site as string);
      if (!site) {
        const names = store.sites().map((s) => s.name);
        throw new UsageError(`no site called ${JSON.stringify(values.site)}; sites: ${names.length ? names.map((n) => JSON.stringify(n)).join(", ") : "none yet (register one on the admin page)"}`);
      }
      return site.id;
    });
    const hash = hashPassword(await readPassword(`password for ${username}`));
    if (!spec) mkdirSync(data, { recursive: true });
    return withStores(file, (_store, web) => {
      if (web.accounts.userByName(username)) throw new UsageError(`the user ${username} exists`);
      web.accounts.addUser({ username, passwordHash: hash, role, siteId }, Date.now());
      process.stdout.write(`user ${username} added (${role}${siteId !== null ? ` of ${values.site}` : ""})${fresh ? `; new center data in ${values.data}` : ""}\n`);
      return 0;
    });
  }

  if (values.role !== undefined || values.site !== undefined) throw new UsageError(`--role and --site are for \`user add\` only`);
  const known = (web: WebStores) => {
    const u = web.accounts.userByName(username);
    if (!u) throw new UsageError(`no user called ${username}`);
    return u;
  };
  if (action === "passwd") {
    withStores(file, (_s, web) => known(web));
    const hash = hashPassword(await readPassword(`new password for ${username}`));
    return withStores(file, (_s, web) => {
      web.accounts.setPassword(known(web).id, hash);
      process.stdout.write(`password of ${username} changed; their sessions ended\n`);
      return 0;
    });
  }
  // remove
  return withStores(file, (store, web) => {
    const u = known(web);
    if (u.role === "admin" && web.accounts.users().filter((x) => x.role === "admin").length === 1) {
      throw new UsageError(`${username} is the last admin; add another admin before removing this one`);
    }
    store.transaction(() => web.accounts.deleteUser(u.id));
    process.stdout.write(`user ${username} removed; their sessions ended\n`);
    return 0;
  });
}

function withStores<T>(file: { dataDir: string; store?: string }, body: (store: SqlStore, web: WebStores) => T): T {
  const store = openStore(file);
  try {
    return body(store, new WebStores(store.db));
  } finally {
    store.close();
  }
}

/** The password: on a terminal typed twice without echo, otherwise the first line of standard input. */
async function readPassword(what: string): Promise<string> {
  const password = process.stdin.isTTY ? await typed(what) : await piped();
  if (password === "") throw new UsageError("the password is empty (give it on standard input, one line)");
  const problem = passwordProblem(password);
  if (problem) throw new UsageError(problem);
  return password;
}

async function piped(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += (c as Buffer).length;
    if (size > MAX_STDIN) throw new UsageError(`standard input: more than ${MAX_STDIN} bytes; give the password on one line`);
    chunks.push(c as Buffer);
  }
  const lines = Buffer.concat(chunks).toString("utf8").split(/\r?\n/);
  if (lines.slice(1).some((l) => l !== "")) throw new UsageError("standard input: more than one line; give the password alone on one line");
  return lines[0];
}

async function typed(what: string): Promise<string> {
  const first = await typeOnce(`${what}: `);
  const second = await typeOnce("again: ");
  if (first !== second) throw new UsageError("the two passwords differ");
  return first;
}

function typeOnce(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let text = "";
    const done = (err: Error | null) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (d: Buffer) => {
      for (const ch of d.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done(null);
        if (ch === "\u0003" || ch === "\u0004") return done(new UsageError("cancelled"));
        if (ch === "\u007f" || ch === "\b") text = text.slice(0, -1);
        else if (text.length < 400) text += ch;
      }
    };
    stdin.on("data", onData);
  });
}
