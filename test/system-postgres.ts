// Runs a second PostgreSQL major version (Debian's packaged server) in a throwaway directory, for DATABASE_URL tests.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "./cairn-process.ts";

export const SYSTEM_PG_BIN = "/usr/lib/postgresql/15/bin";

export interface SystemPostgres {
  url(database: string): string;
  version: string;
  stop(): Promise<void>;
}

export async function startSystemPostgres(): Promise<SystemPostgres> {
  const postgresBin = path.join(SYSTEM_PG_BIN, "postgres");
  if (!fs.existsSync(postgresBin)) {
    throw new Error(`Debian's PostgreSQL 15 is not installed (${postgresBin} missing): apt-get install -y postgresql-15 (.ci/run does this).`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-pg15-"));
  fs.chmodSync(dir, 0o755);
  const dataDir = path.join(dir, "data");
  fs.mkdirSync(dataDir, { mode: 0o700 });
  const asRoot = process.getuid?.() === 0;
  let ids: { uid: number; gid: number } | undefined;
  if (asRoot) {
    ids = {
      uid: Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim()),
      gid: Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim()),
    };
    fs.chownSync(dataDir, ids.uid, ids.gid);
  }
  const init = spawnSync(path.join(SYSTEM_PG_BIN, "initdb"), ["-D", dataDir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--no-locale"], {
    encoding: "utf8",
    ...(ids ?? {}),
  });
  if (init.status !== 0) throw new Error(`initdb (PostgreSQL 15) failed: ${init.stderr}`);
  const port = await freePort();
  const child: ChildProcess = spawn(postgresBin, ["-D", dataDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off"], {
    stdio: ["ignore", "ignore", "pipe"],
    ...(ids ?? {}),
  });
  await new Promise<void>((resolve, reject) => {
    let log = "";
    child.stderr!.on("data", (d: Buffer) => {
      log += d.toString();
      if (log.includes("ready to accept connections")) resolve();
    });
    child.once("exit", () => reject(new Error(`PostgreSQL 15 exited during start: ${log}`)));
  });
  child.stderr!.resume();
  const versionOut = spawnSync(postgresBin, ["--version"], { encoding: "utf8" }).stdout.trim();
  return {
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    version: versionOut,
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGINT");
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
