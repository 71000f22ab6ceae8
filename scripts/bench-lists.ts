// npm run bench:lists — the Jobs and Runs lists at a million jobs (and 250,000 runs) for one tenant, through the real
// presenters as the app role (row-level security on): first page, a deep page (cursor from the middle), filtered
// pages. Rows are generated in SQL as the owner.
//
//   node --import tsx scripts/bench-lists.ts [--jobs 1000000] [--runs-rows 250000] [--runs 30]
import { parseArgs } from "node:util";
import { startThrowawayPostgres, throwawayDir } from "./throwaway-postgres.ts";
import { createDbClient } from "../db/client.ts";
import { runMigrations } from "../db/migrate.ts";
import { appRoleUrl, provisionAppRole } from "../db/app-role.ts";
import { withTenant } from "../db/tenant.ts";
import { listJobs } from "../server/domain/jobs/jobs.presenter.ts";
import { listRuns } from "../server/domain/runs/runs.presenter.ts";
import { freshStages } from "../server/domain/runs/stages.ts";

const { values: opts } = parseArgs({ options: { jobs: { type: "string", default: "1000000" }, "runs-rows": { type: "string", default: "250000" }, runs: { type: "string", default: "30" } } });
const JOBS = Number(opts.jobs);
const RUN_ROWS = Number(opts["runs-rows"]);
const REPEAT = Number(opts.runs);
const SECRET = "bench-lists-installation-secret-0123456789";
const log = (m: string) => process.stderr.write(`${m}\n`);

const database = await startThrowawayPostgres(throwawayDir("bench-lists"));
const { pg } = database;
const owner = createDbClient(pg.url, { max: 2, applicationName: "bench-lists-owner" });
try {
  await runMigrations(owner);
  await provisionAppRole(owner, SECRET);
  const app = createDbClient(appRoleUrl(pg.url, SECRET), { max: 4, applicationName: "bench-lists-app" });
  const [tenant] = await owner.sql<{ id: string }[]>`insert into tenants (slug, name) values ('bench', 'bench') returning id`;
  const tenantId = tenant!.id;
  const [other] = await owner.sql<{ id: string }[]>`insert into tenants (slug, name) values ('other', 'other') returning id`;
  const [source] = await owner.sql<{ id: string }[]>`insert into sources (tenant_id, kind, display_name, created_by) values (${tenantId}, 'scan.mcp_config', 'bench', 'bench') returning id`;
  log(`generating ${RUN_ROWS} runs and ${JOBS} jobs…`);
  const stages = JSON.stringify(freshStages());
  for (let start = 1; start <= RUN_ROWS; start += 250_000) {
    const end = Math.min(RUN_ROWS, start + 249_999);
    await owner.sql`
      insert into runs (tenant_id, source_id, trigger, status, stages, requested_by, trace_id, created_at)
      select ${tenantId}::uuid, ${source!.id}::uuid, (array['schedule','manual','api','retry'])[1 + g % 4],
        (array['succeeded','succeeded','succeeded','failed','timed_out','cancelled'])[1 + g % 6], ${stages}::jsonb, 'bench', md5(g::text),
        timestamptz '2025-01-01' + g * interval '10 seconds'
      from generate_series(${start}::int, ${end}::int) g`;
  }
  for (let start = 1; start <= JOBS; start += 250_000) {
    const end = Math.min(JOBS, start + 249_999);
    await owner.sql`
      insert into jobs (tenant_id, source_id, job_type, status, requested_by, trace_id, created_at, attempts)
      select case when g % 10 = 0 then ${other!.id}::uuid else ${tenantId}::uuid end, ${source!.id}::uuid,
        (array['source.collect','source.collect','source.test'])[1 + g % 3],
        (array['succeeded','succeeded','succeeded','succeeded','failed','cancelled','timed_out','queued'])[1 + g % 8],
        'bench', md5(g::text), timestamptz '2025-01-01' + g * interval '1 second', 1 + (g % 3 = 0)::int
      from generate_series(${start}::int, ${end}::int) g`;
    log(`  ${end} jobs`);
  }
  await owner.sql`analyze`;

  const time = async (fn: () => Promise<unknown>) => {
    const ms: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      const t0 = performance.now();
      await fn();
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    return { p50: ms[Math.floor(ms.length / 2)]!.toFixed(2), p95: ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.95))]!.toFixed(2) };
  };
  const inTenant = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(app, tenantId, fn);
  // A cursor from the middle of the list: walk to it once.
  let mid: string | null = null;
  {
    const [row] = await owner.sql<{ at: string; id: string }[]>`
      select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at, id from jobs where tenant_id = ${tenantId} order by created_at desc, id desc offset ${Math.floor((JOBS * 0.9) / 2)} limit 1`;
    mid = Buffer.from(JSON.stringify([row!.at, row!.id])).toString("base64url");
  }
  let runMid: string | null = null;
  {
    const [row] = await owner.sql<{ at: string; id: string }[]>`
      select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at, id from runs order by created_at desc, id desc offset ${Math.floor(RUN_ROWS / 2)} limit 1`;
    runMid = Buffer.from(JSON.stringify([row!.at, row!.id])).toString("base64url");
  }
  const rows: [string, { p50: string; p95: string }][] = [];
  rows.push(["jobs: first page (50)", await time(() => inTenant((tx) => listJobs(tx, { limit: 50 })))]);
  rows.push(["jobs: deep page (cursor at the middle)", await time(() => inTenant((tx) => listJobs(tx, { limit: 50, cursor: mid! })))]);
  rows.push(["jobs: status = failed", await time(() => inTenant((tx) => listJobs(tx, { limit: 50, status: "failed" })))]);
  rows.push(["jobs: status = queued, deep", await time(() => inTenant((tx) => listJobs(tx, { limit: 50, status: "queued", cursor: mid! })))]);
  rows.push(["jobs: job_type = source.test", await time(() => inTenant((tx) => listJobs(tx, { limit: 50, job_type: "source.test" })))]);
  rows.push(["runs: first page (50)", await time(() => inTenant((tx) => listRuns(tx, { limit: 50 })))]);
  rows.push(["runs: deep page", await time(() => inTenant((tx) => listRuns(tx, { limit: 50, cursor: runMid! })))]);
  rows.push(["runs: status = failed", await time(() => inTenant((tx) => listRuns(tx, { limit: 50, status: "failed" })))]);
  console.log(`\n${JOBS.toLocaleString("en-US")} jobs (90% in the measured tenant), ${RUN_ROWS.toLocaleString("en-US")} runs, ${REPEAT} runs each, app role under RLS\n`);
  console.log("| page | p50 ms | p95 ms |\n|---|---:|---:|");
  for (const [name, s] of rows) console.log(`| ${name} | ${s.p50} | ${s.p95} |`);
  await app.close();
} finally {
  await owner.close();
  await database.stop();
}
