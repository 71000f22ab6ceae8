// Opens this process's database: DATABASE_URL when set, otherwise the embedded PostgreSQL in $CAIRN_DATA_DIR.
// Two pools: a tiny owner pool (migrations, role provisioning, readiness) and the app pool as `cairn_app`.
import { createDbClient, type DbClient } from "../db/client.ts";
import { startEmbeddedPostgres, StartupError, type EmbeddedPostgres } from "../db/embedded-postgres.ts";
import { appRoleUrl, provisionAppRole } from "../db/app-role.ts";
import type { Env } from "./config/env.ts";
import { inheritedProcessEnv } from "./config/env.ts";
import type { Logger } from "./logger.ts";
import type { DatabaseKind } from "./runtime.ts";
import { redactDatabaseUrl } from "./redact.ts";
import { installationSecret } from "./secret.ts";

export interface OpenedDatabase {
  owner: DbClient;
  kind: DatabaseKind;
  embedded?: EmbeddedPostgres;
  displayUrl: string;
  secret: string;
  /** Gives cairn_app its login (unless CAIRN_APP_DATABASE_URL is set) and opens the app pool. */
  openApp(poolMax?: number): Promise<DbClient>;
  /** Close the pools, then stop the embedded server if this process owns it. */
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
  const ownerUrl = url;
  let secret: string;
  try {
    secret = installationSecret(env, Boolean(embedded));
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  const owner = createDbClient(ownerUrl, { max: 2, applicationName: `${applicationName}-owner` });
  try {
    await owner.sql`select 1`;
  } catch (err) {
    await owner.close().catch(() => {});
    await embedded?.stop();
    const reason = (err as Error).message;
    throw new StartupError(`Cannot reach PostgreSQL at ${redactDatabaseUrl(ownerUrl)}: ${reason}. Check DATABASE_URL (or unset it to use the embedded database).`);
  }
  let app: DbClient | undefined;
  return {
    owner,
    kind: embedded ? "embedded" : "external",
    embedded,
    displayUrl: redactDatabaseUrl(ownerUrl),
    secret,
    async openApp(max = poolMax) {
      if (app) return app;
      let appUrl = env.CAIRN_APP_DATABASE_URL;
      if (!appUrl) {
        try {
          await provisionAppRole(owner, secret);
        } catch (err) {
          throw new StartupError(`Could not give the cairn_app role its login (${(err as Error).message}): let the DATABASE_URL user manage roles, or create a login for cairn_app yourself and set CAIRN_APP_DATABASE_URL.`);
        }
        appUrl = appRoleUrl(ownerUrl, secret);
      }
      app = createDbClient(appUrl, { max, applicationName });
      return app;
    },
    async close() {
      await app?.close().catch((err) => log.warn({ err }, "closing the app pool failed"));
      await owner.close().catch((err) => log.warn({ err }, "closing the owner pool failed"));
      if (embedded) await embedded.stop();
    },
  };
}
