// npm run soak:queue -- [--kills N] [--jobs M]: the SIGKILL fault test at soak scale, on a throwaway embedded
// PostgreSQL. Prints what happened; exits 1 if any job was lost, left running, or ran its side effect twice.
import { parseArgs } from "node:util";
import { startThrowawayPostgres, throwawayDir } from "./throwaway-postgres.ts";
import { createDbClient } from "../db/client.ts";
import { runMigrations } from "../db/migrate.ts";
import { appRoleUrl, provisionAppRole } from "../db/app-role.ts";
import { killLoop } from "../test/fault-harness.ts";

const { values } = parseArgs({ options: { kills: { type: "string", default: "200" }, jobs: { type: "string", default: "3000" } } });
const database = await startThrowawayPostgres(throwawayDir("soak"));
const { pg } = database;
const secret = "soak-secret-0123456789abcdefghijklmnopqrstuv";
const owner = createDbClient(pg.url, { max: 2, applicationName: "soak-owner" });
try {
  await runMigrations(owner);
  await provisionAppRole(owner, secret);
  const appUrl = appRoleUrl(pg.url, secret);
  const app = createDbClient(appUrl, { max: 4, applicationName: "soak-app" });
  const r = await killLoop({ app, owner, appUrl, kills: Number(values.kills), total: Number(values.jobs) });
  await app.close();
  console.log(JSON.stringify(r, null, 2));
  const ok = r.succeeded === r.total && r.running === 0 && r.effects === r.total && r.distinctEffects === r.total;
  console.log(ok ? "OK: every job completed exactly once" : "FAILED");
  process.exitCode = ok ? 0 : 1;
} finally {
  await owner.close();
  await database.stop();
}
