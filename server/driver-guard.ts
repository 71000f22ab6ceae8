// postgres.js 3.4.x (the newest release) has a race: when the server closes a connection (PostgreSQL restarted or
// failed over) while a write is scheduled, its setImmediate callback writes to a socket it has already dropped and
// throws `Cannot read properties of null (reading 'write')` outside any promise (upstream issues #1154, #1208).
// The queries involved fail and reconnect normally; only the stray throw would take the whole process down. Long-
// running modes install this guard so a database restart cannot crash them; any other uncaught error still does.
import type { Logger } from "./logger.ts";

export function isKnownDriverRace(err: unknown): boolean {
  const e = err as { name?: string; message?: string; stack?: string } | null;
  return (
    e?.name === "TypeError" &&
    e.message === "Cannot read properties of null (reading 'write')" &&
    /postgres[\\/]src[\\/]connection\.js/.test(e.stack ?? "") &&
    /nextWrite/.test(e.stack ?? "")
  );
}

export function installDriverGuard(log: Logger): void {
  process.on("uncaughtException", (err) => {
    if (isKnownDriverRace(err)) {
      log.warn({ err: err.message }, "PostgreSQL connection dropped mid-write (known driver race); reconnecting");
      return;
    }
    log.fatal({ err }, "uncaught exception");
    process.exit(1);
  });
}
