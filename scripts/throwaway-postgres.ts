// The benchmark and soak scripts' own embedded PostgreSQL, in a temp directory that goes with it.
//
// The embedded server runs detached from the process that starts it (Cairn stops it itself when it shuts down), so a
// script stopped half-way (Ctrl+C, SIGTERM) would leave it running and its directory behind. Here either signal
// stops the script's servers, removes its temp directories, and ends the script (exit 130 or 143).
import fs from "node:fs";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../db/embedded-postgres.ts";
import { tempDataDir } from "../test/cairn-process.ts";

const dirs = new Set<string>();
/** Servers still starting, and the stop of each one started (the same stop the script itself calls). */
const starting = new Set<Promise<unknown>>();
const stops = new Set<() => Promise<void>>();
let armed = false;
let interrupted = false;

function onSignal(signal: NodeJS.Signals) {
  if (interrupted) return;
  interrupted = true;
  process.stderr.write(`\n${signal}: stopping this script's PostgreSQL and removing its temp directories\n`);
  // The interrupted work fails as its database goes (closed connections, children gone): expected now, and it must
  // not end the process before the clean-up has.
  process.on("uncaughtException", () => {});
  process.on("unhandledRejection", () => {});
  void (async () => {
    // A server still starting is let finish, so that it can be stopped; no directory goes while its server runs.
    await Promise.allSettled([...starting]);
    for (const stop of [...stops]) await stop().catch(() => {});
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  })().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
}

function arm() {
  if (armed) return;
  armed = true;
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

/** A new temp directory (readable by the server's own user when the script runs as root), removed if interrupted. */
export function throwawayDir(name: string): string {
  arm();
  const dir = tempDataDir(`cairn-${name}-`);
  dirs.add(dir);
  return dir;
}

export interface ThrowawayPostgres {
  pg: EmbeddedPostgres;
  /** Stops the server and removes the directory (once; later calls wait for the first). */
  stop(): Promise<void>;
}

/** Starts an embedded PostgreSQL with its data in `baseDir` (by default `dir` itself, a `throwawayDir`). */
export async function startThrowawayPostgres(dir: string, baseDir = dir): Promise<ThrowawayPostgres> {
  arm();
  dirs.add(dir);
  let pg: EmbeddedPostgres | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await pg?.stop();
      stops.delete(stop);
      fs.rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    })());
  const start = startEmbeddedPostgres({ baseDir }).then((started) => {
    pg = started;
    stops.add(stop);
    return started;
  });
  starting.add(start);
  try {
    await start;
  } catch (err) {
    await stop();
    throw err;
  } finally {
    starting.delete(start);
  }
  return { pg: pg!, stop };
}
