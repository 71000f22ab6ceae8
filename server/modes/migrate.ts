// `cairn migrate`: apply pending migrations and exit.
import type { Env } from "../config/env.ts";
import type { Logger } from "../logger.ts";
import { openDatabase } from "../database.ts";
import { runMigrations, migrationStatus } from "../../db/migrate.ts";
import { ensureInstallation } from "../domain/system/ensure-installation.service.ts";

export async function migrate(env: Env, log: Logger): Promise<number> {
  const opened = await openDatabase(env, log, `cairn-migrate-${process.pid}`, 2);
  try {
    const { applied } = await runMigrations(opened.owner);
    await ensureInstallation(opened.owner);
    await opened.openApp(1); // gives cairn_app its login now, so web replicas that skip migrating can connect
    const status = await migrationStatus(opened.owner);
    log.info({ applied, status }, applied > 0 ? "migrations applied" : "migrations already current");
    return status.current ? 0 : 1;
  } finally {
    await opened.close();
  }
}
