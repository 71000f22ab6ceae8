// The benchmark and soak scripts' own embedded PostgreSQL, in a temp directory that goes with it.
//
// The embedded server runs detached from the process that starts it (Cairn stops it itself when it shuts down), so a
// script stopped half-way (Ctrl+C, SIGTERM) would leave it running and its directory behind. Here either signal
// stops the server, removes the directory, and ends the script (exit 130 or 143).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../db/embedded-postgres.ts";

/** A new temp directory (readable by the server's own user when the script runs as root). */
export function throwawayDir(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cairn-${name}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
}

export interface ThrowawayPostgres {
  pg: EmbeddedPostgres;
  /** The temp directory: the server's data lives in `baseDir` inside it (by default the directory itself). */
  dir: string;
  /** Stops the server and removes the directory (once; later calls wait for the first). */
  stop(): Promise<void>;
}

export async function startThrowawayPostgres(dir: string, baseDir = dir): Promise<ThrowawayPostgres> {
  let stopping: Promise<void> | undefined;
  let pg: EmbeddedPostgres | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await pg?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    })());
  function onSignal(signal: NodeJS.Signals) {
    process.stderr.write(`\n${signal}: stopping this script's PostgreSQL and removing ${dir}\n`);
    void stop().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  }
  // Registered before the server starts, so a signal during its start-up is handled too.
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    pg = await startEmbeddedPostgres({ baseDir });
  } catch (err) {
    await stop();
    throw err;
  }
  return { pg, dir, stop };
}
