// Nothing is lost and nothing runs twice: SIGKILL workers mid-job, and restart PostgreSQL while workers drain.
import fs from "node:fs";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/test-db.ts";
import { freePort, tempDataDir } from "../../test/cairn-process.ts";
import { killLoop } from "../../test/fault-harness.ts";
import { testRuntime } from "../../test/runtime.ts";
import { withTenant } from "../../db/tenant.ts";
import { enqueueJobs } from "../queue/enqueue.ts";
import { createTenant } from "../domain/tenants/tenants.service.ts";
import { startEmbeddedPostgres } from "../../db/embedded-postgres.ts";
import { createDbClient } from "../../db/client.ts";
import { runMigrations } from "../../db/migrate.ts";
import { provisionAppRole, appRoleUrl } from "../../db/app-role.ts";
import { startWorker } from "./worker.ts";

const system = { actor: "system:test", actorType: "system" as const, requestId: null, ip: null };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe("worker faults", () => {
  it("SIGKILL a worker in the middle of jobs 20 times: every job completes exactly once, none stays running", async () => {
    const t = await createTestDatabase();
    cleanups.push(() => t.drop());
    const r = await killLoop({ app: t.client, owner: t.owner, appUrl: t.url, kills: 20, total: 300 });
    expect(r).toMatchObject({ succeeded: 300, running: 0, effects: 300, distinctEffects: 300 });
    // The kills really hit jobs in flight: some jobs needed more than one attempt.
    expect(r.retried).toBeGreaterThan(0);
  });

  it("restarting PostgreSQL while workers drain: they reconnect and finish, exactly once", async () => {
    const dir = tempDataDir("cairn-pg-restart-");
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    let pg = await startEmbeddedPostgres({ baseDir: dir, port });
    cleanups.push(() => pg.stop());
    const owner = createDbClient(pg.url, { max: 2, applicationName: "restart-owner" });
    await runMigrations(owner);
    const secret = "restart-test-secret-0123456789abcdefghij";
    await provisionAppRole(owner, secret);
    await owner.sql`create table test_effects (job_id uuid not null)`;
    await owner.sql`grant insert, select on test_effects to cairn_app`;
    const app = createDbClient(appRoleUrl(pg.url, secret), { max: 6, applicationName: "restart-app" });
    const rt = { ...testRuntime({ client: app, owner, secret } as never), db: app, owner };
    const tenant = (await createTenant(app, { slug: "restart", name: "R" }, system)).id;
    const total = 400;
    await withTenant(app, tenant, (tx) => enqueueJobs(tx, Array.from({ length: total }, () => ({ tenantId: tenant, jobType: "test.fault", requestedBy: "test", maxAttempts: 10 }))));
    const worker = await startWorker(rt, {
      concurrency: 4,
      leaseSeconds: 2,
      reapIntervalMs: 500,
      pollMs: 200,
      handlers: [
        {
          jobType: "test.fault",
          handler: async (ctx) => {
            await sleep(10);
            return { commit: async (tx) => void (await tx.execute(sql`insert into test_effects (job_id) values (${ctx.job.id})`)) };
          },
        },
      ],
    });
    while ((await owner.sql<{ n: number }[]>`select count(*)::int as n from test_effects`.catch(() => [{ n: 0 }]))[0]!.n < 50) await sleep(20);
    await pg.stop();
    await sleep(500);
    pg = await startEmbeddedPostgres({ baseDir: dir, port });
    const deadline = Date.now() + 60_000;
    let done = 0;
    while (Date.now() < deadline) {
      done = (await owner.sql<{ n: number }[]>`select count(*)::int as n from jobs where status = 'succeeded'`.catch(() => [{ n: -1 }]))[0]!.n;
      if (done === total) break;
      await sleep(200);
    }
    await worker.stop(2_000);
    const [fx] = await owner.sql<{ n: number; distinct_jobs: number }[]>`select count(*)::int as n, count(distinct job_id)::int as distinct_jobs from test_effects`;
    expect(done).toBe(total);
    expect(fx).toEqual({ n: total, distinct_jobs: total });
    await app.close();
    await owner.close();
  });
});
