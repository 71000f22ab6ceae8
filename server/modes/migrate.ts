// `cairn migrate`: apply pending migrations and exit.
import type { Env } from "../config/env.ts";
import type { Logger } from "../logger.ts";
import { openDatabase } from "../database.ts";
import { runMigrations, migrationStatus } from "../../db/migrate.ts";
import { ensureInstallation } from "../domain/system/ensure-installation.service.ts";

export async function migrate(env: Env, log: Logger): Promise<number> {
  const opened = await openDatabase(env, log, `cairn-migrate-${process.pid}`, 2);
  try {
    const { applied } = await runMigrations(opened.db);
    await ensureInstallation(opened.db);
    const status = await migrationStatus(opened.db);
    log.info({ applied, status }, applied > 0 ? "migrations applied" : "migrations already current");
    return status.current ? 0 : 1;
  } finally {
    await opened.close();
  }
}
