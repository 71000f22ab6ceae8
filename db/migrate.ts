// Applies the SQL migrations in drizzle/ (serialised across processes by an advisory lock) and reports whether they are current.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import type { DbClient } from "./client.ts";

export const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "drizzle");
const MIGRATION_LOCK_KEY = 7_204_118_311; // any constant shared by every Cairn process

interface Journal {
  entries: { idx: number; when: number; tag: string }[];
}

export function expectedMigrations(): Journal["entries"] {
  const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder, "meta", "_journal.json"), "utf8")) as Journal;
  return journal.entries;
}

let inProcess: Promise<unknown> = Promise.resolve();

/** Serialised within the process too: the lock holder needs a second pool connection, so two callers sharing a
 * two-connection pool would otherwise starve each other. */
export function runMigrations(client: DbClient): Promise<{ applied: number }> {
  const run = inProcess.then(() => migrateUnderLock(client));
  inProcess = run.catch(() => {});
  return run;
}

async function migrateUnderLock(client: DbClient): Promise<{ applied: number }> {
  const reserved = await client.sql.reserve();
  try {
    await reserved`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    const before = await migrationStatus(client);
    await migrate(client.db, { migrationsFolder });
    const after = await migrationStatus(client);
    return { applied: after.applied - before.applied };
  } finally {
    await reserved`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
    reserved.release();
  }
}

export interface MigrationStatus {
  applied: number;
  expected: number;
  current: boolean;
  latest: string | null;
}

export async function migrationStatus(client: DbClient): Promise<MigrationStatus> {
  const expected = expectedMigrations();
  const exists = await client.sql<{ present: boolean }[]>`
    select to_regclass('drizzle.__drizzle_migrations') is not null as present`;
  let applied = 0;
  let lastWhen = 0;
  if (exists[0]?.present) {
    const rows = await client.sql<{ n: number; last: string | null }[]>`
      select count(*)::int as n, max(created_at)::text as last from drizzle.__drizzle_migrations`;
    applied = rows[0]?.n ?? 0;
    lastWhen = Number(rows[0]?.last ?? 0);
  }
  const last = expected[expected.length - 1];
  return {
    applied,
    expected: expected.length,
    current: applied >= expected.length && (!last || lastWhen >= last.when),
    latest: last?.tag ?? null,
  };
}
