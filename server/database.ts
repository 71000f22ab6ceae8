// Opens this process's database: DATABASE_URL when set, otherwise the embedded PostgreSQL in $CAIRN_DATA_DIR.
import { createDbClient, type DbClient } from "../db/client.ts";
import { startEmbeddedPostgres, StartupError, type EmbeddedPostgres } from "../db/embedded-postgres.ts";
import type { Env } from "./config/env.ts";
import { inheritedProcessEnv } from "./config/env.ts";
import type { Logger } from "./logger.ts";
import type { DatabaseKind } from "./runtime.ts";
import { redactDatabaseUrl } from "./redact.ts";

export interface OpenedDatabase {
  db: DbClient;
  kind: DatabaseKind;
  embedded?: EmbeddedPostgres;
  displayUrl: string;
  /** Close the pool, then stop the embedded server if this process owns it. */
  close(): Promise<void>;
}

export async function openDatabase(env: Env, log: Logger, applicationName: string, poolMax = env.CAIRN_DB_POOL_MAX): Promise<OpenedDatabase> {
  let url = env.DATABASE_URL;
  let embedded: EmbeddedPostgres | undefined;
  if (!url) {
    embedded = await startEmbeddedPostgres({
      baseDir: env.dataDir,
      port: env.CAIRN_EMBEDDED_PG_PORT,
      env: inheritedProcessEnv(),
      log: (msg) => log.info({ component: "embedded-postgres" }, msg),
    });
    url = embedded.url;
  }
  const db = createDbClient(url, { max: poolMax, applicationName });
  try {
    await db.sql`select 1`;
  } catch (err) {
    await db.close().catch(() => {});
    await embedded?.stop();
    const reason = (err as Error).message;
    throw new StartupError(`Cannot reach PostgreSQL at ${redactDatabaseUrl(url)}: ${reason}. Check DATABASE_URL (or unset it to use the embedded database).`);
  }
  return {
    db,
    kind: embedded ? "embedded" : "external",
    embedded,
    displayUrl: redactDatabaseUrl(url),
    async close() {
      await db.close().catch((err) => log.warn({ err }, "closing the database pool failed"));
      if (embedded) await embedded.stop();
    },
  };
}
