// Push sources (ingest.result_push, ingest.fleet_sync) get their data by push: a run now, a retry or a schedule of
// their own is refused up front with a 422 that names the route to push to, nothing is written, and the source view
// says where its data arrives. A schedule made before the refusal existed skips its fires with the same reason.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/test-db.ts";
import { callerAs, testRuntime } from "../../../test/runtime.ts";
import { startTestServer } from "../../../test/web.ts";
import { withTenant } from "../../../db/tenant.ts";
import { jobs, runs, schedules, scheduleTicks } from "../../../db/schema/index.ts";
import { toAppError } from "../../trpc/init.ts";
import type { Runtime } from "../../runtime.ts";
import { bootstrapTenant } from "../tenants/bootstrap.service.ts";
import { tickOnce } from "../../scheduler/scheduler.ts";
import { freshStages } from "../runs/stages.ts";
import "../../connectors/index.ts";

let t: TestDatabase;
let rt: Runtime;
let boot: Awaited<ReturnType<typeof bootstrapTenant>>;
let web: Awaited<ReturnType<typeof startTestServer>>;

beforeAll(async () => {
  t = await createTestDatabase();
  rt = testRuntime(t);
  boot = await bootstrapTenant(t.client, "pushers", { highRisk: true });
  web = await startTestServer(rt);
});
afterAll(async () => {
  await web?.close();
  await t?.drop();
});

const api = () => callerAs(rt, { apiKey: boot.api_key });
const inTenant = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(t.client, boot.tenant_id, fn);

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
    return null;
  } catch (err) {
    const app = toAppError(err);
    return { code: app.code, message: app.message, details: app.details };
  }
}

async function rest(method: string, path: string, body?: unknown) {
  const res = await fetch(`${web.base}/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${boot.api_key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string; details: Record<string, unknown> } } & Record<string, unknown> };
}

describe("push sources refuse runs and schedules", () => {
  it("POST /v1/sources/{id}/run answers 422 naming the push route, and creates no run or job", async () => {
    const caller = await api();
    const source = await caller.sources.create({ kind: "ingest.result_push", display_name: "CI results" });
    const route = `POST /v1/results/push?source_id=${source.source_id}`;
    expect(source).toMatchObject({ status: "active", push_route: route });

    const res = await rest("POST", `/sources/${source.source_id}/run`);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: "UNSUPPORTED", details: { kind: "ingest.result_push", push_route: route } });
    expect(res.body.error!.message).toBe(
      `This source receives results by push: ${route} with an Idempotency-Key header. A ingest.result_push source is not run by hand, by the API or by a schedule`,
    );
    expect((await failure(caller.sources.run({ id: source.source_id })))?.code).toBe("UNSUPPORTED");

    expect(await inTenant((tx) => tx.select().from(runs).where(eq(runs.sourceId, source.source_id)))).toEqual([]);
    expect(await inTenant((tx) => tx.select().from(jobs).where(eq(jobs.sourceId, source.source_id)))).toEqual([]);
    expect((await caller.sources.get({ id: source.source_id })).last_run_id).toBeNull();
    const audited = await t.owner.sql<{ action: string }[]>`select action from audit_events where target_id = ${source.source_id} order by seq`;
    expect(audited.map((a) => a.action)).toEqual(["source.create"]);
  });

  it("creating a schedule for a push source answers 422 and writes nothing; fleet sync names its own route", async () => {
    const caller = await api();
    const fleet = await caller.sources.create({ kind: "ingest.fleet_sync", display_name: "Laptops" });
    const route = `POST /v1/fleet/sync?source_id=${fleet.source_id}`;
    expect(fleet.push_route).toBe(route);
    const res = await rest("POST", "/schedules", { source_id: fleet.source_id, cron: "0 * * * *" });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: "UNSUPPORTED", details: { kind: "ingest.fleet_sync", push_route: route, field: "source_id" } });
    expect(res.body.error!.message).toBe(`This source receives endpoint inventory by push: ${route} with an Idempotency-Key header. A ingest.fleet_sync source takes no schedules`);
    const run = await failure(caller.sources.run({ id: fleet.source_id }));
    expect(run?.message).toMatch(/^This source receives endpoint inventory by push: POST \/v1\/fleet\/sync\?source_id=/);
    expect(await inTenant((tx) => tx.select().from(schedules).where(eq(schedules.sourceId, fleet.source_id)))).toEqual([]);
  });

  it("a failed push run cannot be retried into a collect run", async () => {
    const caller = await api();
    const source = await caller.sources.create({ kind: "ingest.result_push", display_name: "Nightly SARIF" });
    const [run] = await inTenant((tx) =>
      tx
        .insert(runs)
        .values({ tenantId: boot.tenant_id, sourceId: source.source_id, trigger: "push", status: "failed", stages: freshStages(), requestedBy: "api_key:ci", traceId: "0".repeat(32), error: "the document ends early" })
        .returning(),
    );
    const refused = await failure(caller.runs.retry({ id: run!.id }));
    expect(refused).toMatchObject({ code: "UNSUPPORTED", details: { push_route: `POST /v1/results/push?source_id=${source.source_id}` } });
    expect(await inTenant((tx) => tx.select({ id: runs.id }).from(runs).where(eq(runs.sourceId, source.source_id)))).toHaveLength(1);
  });

  it("a schedule made before the refusal cannot be enabled, and its fires are skipped with the reason", async () => {
    const caller = await api();
    const source = await caller.sources.create({ kind: "ingest.result_push", display_name: "Old scheduled push" });
    const [legacy] = await inTenant((tx) =>
      tx
        .insert(schedules)
        .values({ tenantId: boot.tenant_id, sourceId: source.source_id, cron: "* * * * *", timezone: "UTC", enabled: false, createdBy: "user:test" })
        .returning(),
    );
    const toggle = await failure(caller.schedules.toggle({ id: legacy!.id, enabled: true }));
    expect(toggle).toMatchObject({ code: "UNSUPPORTED", message: expect.stringMatching(/takes no schedules$/) });
    expect((await caller.schedules.get({ id: legacy!.id })).enabled).toBe(false);

    // One left enabled from before: the scheduler records a skipped tick that says why, and starts no run.
    const due = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    await inTenant((tx) => tx.update(schedules).set({ enabled: true, nextRunAt: due }).where(eq(schedules.id, legacy!.id)));
    await tickOnce(rt, new Date(), { decidedBy: "test" });
    const ticks = await inTenant((tx) => tx.select().from(scheduleTicks).where(eq(scheduleTicks.scheduleId, legacy!.id)));
    expect(ticks.map((k) => k.outcome)).toEqual(["skipped"]);
    expect(ticks[0]!.runId).toBeNull();
    expect(ticks[0]!.reason).toMatch(/^unsupported: This source receives results by push: POST \/v1\/results\/push\?source_id=/);
    expect(await inTenant((tx) => tx.select().from(runs).where(eq(runs.sourceId, source.source_id)))).toEqual([]);
  });

  it("sources that run have no push route", async () => {
    const caller = await api();
    const scan = await caller.sources.create({ kind: "scan.mcp_config", display_name: "Configs", scope: { paths: ["/nonexistent"] } });
    expect(scan.push_route).toBeNull();
  });
});
