// Runs through the REST surface: run now, retry lineage and recovery, still failing, bulk by filter, cancellation,
// and the live SSE stream of a job's log with Last-Event-ID resumption.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { createTestDatabase, type TestDatabase } from "../../../test/test-db.ts";
import { testRuntime } from "../../../test/runtime.ts";
import { startTestServer } from "../../../test/web.ts";
import type { Runtime } from "../../runtime.ts";
import { bootstrapTenant, mintKey } from "../tenants/bootstrap.service.ts";
import { withTenant } from "../../../db/tenant.ts";
import { sources } from "../../../db/schema/index.ts";
import { registerConnector } from "../../connectors/registry.ts";
import { createRun } from "./create-run.service.ts";
import { markRecovered } from "./lineage.ts";
import { startWorker, type Worker } from "../../worker/worker.ts";

let t: TestDatabase;
let rt: Runtime;
let web: Awaited<ReturnType<typeof startTestServer>>;
let key: string;
let tenantId: string;
let sourceId: string;

registerConnector({ kind: "scan.iac", validateScope: () => null, collect: async () => ({ items: 0, summary: {}, graph: { assets: [], relations: [], findings: [] }, artifacts: [], warnings: [] }) });

const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${web.base}/v1${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}), ...headers }, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { items?: Record<string, unknown>[] } };
};

beforeAll(async () => {
  t = await createTestDatabase();
  rt = testRuntime(t);
  web = await startTestServer(rt);
  const boot = await bootstrapTenant(t.client, "runs", { highRisk: false });
  tenantId = boot.tenant_id;
  key = (await mintKey(t.client, { tenantSlug: "runs", role: "operator", platform: false, highRisk: false })).api_key;
  sourceId = await withTenant(t.client, tenantId, async (tx) => {
    const [s] = await tx.insert(sources).values({ tenantId, kind: "scan.iac", displayName: "infra repo", scope: { paths: ["."] }, createdBy: "test" }).returning();
    return s!.id;
  });
});
afterAll(async () => {
  await web?.close();
  await t.drop();
});

async function newFailedRun(): Promise<string> {
  return withTenant(t.client, tenantId, async (tx) => {
    const r = await createRun(tx, { tenantId, sourceId, trigger: "api", requestedBy: "test" });
    if (r.status !== "created") throw new Error(r.status);
    await tx.execute(sql`update runs set status = 'failed', error = 'collect failed', ended_at = now() where id = ${r.run.id}`);
    await tx.execute(sql`update jobs set status = 'failed', finished_at = now() where id = ${r.job.id}`);
    return r.run.id;
  });
}

describe("runs", () => {
  it("retry links to the original; the original shows recovered once a retry succeeds; still-failing follows", async () => {
    const original = await newFailedRun();
    expect((await api("GET", "/runs/still-failing")).body.items!.map((i) => i.run_id)).toContain(original);

    const retry = await api("POST", `/runs/${original}/retry`);
    expect(retry.status).toBe(202);
    const retryId = retry.body.run_id as string;
    const detail = await api("GET", `/runs/${retryId}`);
    expect(detail.body).toMatchObject({ trigger: "retry", retry_of_run_id: original, status: "queued" });
    expect((await api("GET", `/runs/${original}`)).body.retries).toEqual([expect.objectContaining({ run_id: retryId })]);
    // Retrying a run that is not finished is refused.
    expect((await api("POST", `/runs/${retryId}/retry`)).status).toBe(409);

    await withTenant(t.client, tenantId, async (tx) => {
      await tx.execute(sql`update runs set status = 'succeeded', ended_at = now() where id = ${retryId}`);
      await tx.execute(sql`update jobs set status = 'succeeded' where run_id = ${retryId}`);
      await markRecovered(tx, retryId);
    });
    expect((await api("GET", `/runs/${original}`)).body).toMatchObject({ recovered: true, recovered_by_run_id: retryId });
    expect((await api("GET", "/runs/still-failing")).body.items).toEqual([]);
  });

  it("bulk retry by filter reports progress batch by batch", async () => {
    const failed = [await newFailedRun()];
    // Only one run per source may be active: finish each retry's run so the next retry is allowed.
    const first = await api("POST", "/runs/bulk", { action: "retry", filter: { status: "failed", source_id: sourceId }, batch: 1 });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ action: "retry", processed: 1, succeeded: 1, failed: 0 });
    expect(failed).toContain((first.body.items as { run_id: string }[])[0]!.run_id);
    const cancel = await api("POST", "/runs/bulk", { action: "cancel", filter: { source_id: sourceId }, batch: 50 });
    expect(cancel.body).toMatchObject({ processed: 1, succeeded: 1, next_cursor: null });
  });

  it("validation errors name the field; other tenants' runs read as missing", async () => {
    const bad = await api("GET", "/runs?status=exploded");
    expect(bad.status).toBe(400);
    expect((bad.body.error as { message: string }).message).toContain("status");
    const other = await bootstrapTenant(t.client, "runs-other", { highRisk: false });
    const otherSource = await withTenant(t.client, other.tenant_id, async (tx) => (await tx.insert(sources).values({ tenantId: other.tenant_id, kind: "scan.iac", displayName: "x", createdBy: "t" }).returning())[0]!.id);
    const foreign = await withTenant(t.client, other.tenant_id, async (tx) => {
      const r = await createRun(tx, { tenantId: other.tenant_id, sourceId: otherSource, trigger: "api", requestedBy: "t" });
      return r.status === "created" ? r.run.id : "";
    });
    expect((await api("GET", `/runs/${foreign}`)).status).toBe(404);
    expect((await api("POST", `/runs/${foreign}/retry`)).status).toBe(404);
    expect((await api("DELETE", `/jobs/${foreign}`)).status).toBe(404);
  });
});

describe("live job stream", () => {
  let worker: Worker;
  afterAll(async () => worker?.stop());

  it("streams log lines and status over SSE, and resumes after Last-Event-ID", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // Earlier tests leave queued runs behind: finish them so the worker's one slot takes this run.
    await t.owner.sql`update jobs set status = 'cancelled' where status = 'queued'`;
    worker = await startWorker(rt, {
      concurrency: 1,
      handlers: [
        {
          jobType: "source.collect",
          handler: async (ctx) => {
            ctx.log("info", "line one");
            await gate;
            ctx.log("info", "line two");
          },
        },
      ],
    });
    const run = await withTenant(t.client, tenantId, (tx) => createRun(tx, { tenantId, sourceId, trigger: "api", requestedBy: "test", overlapPolicy: "allow" }));
    if (run.status !== "created") throw new Error("no run");
    const jobId = run.job.id;

    const read = async (headers: Record<string, string>, until: (text: string) => boolean) => {
      const res = await fetch(`${web.base}/v1/jobs/${jobId}/stream`, { headers: { authorization: `Bearer ${key}`, ...headers } });
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      const reader = res.body!.getReader();
      let text = "";
      const deadline = Date.now() + 10_000;
      while (!until(text) && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      await reader.cancel();
      return text;
    };

    const firstPart = await read({}, (s) => s.includes("line one")).finally(() => undefined);
    if (!firstPart.includes("line one")) {
      release();
      const job = await t.owner.sql`select status, last_error, attempts from jobs where id = ${jobId}`;
      throw new Error(`no log line arrived: ${firstPart} / job ${JSON.stringify(job)}`);
    }
    expect(firstPart).toContain("event: log");
    const lastId = Number(/id: (\d+)\nevent: log\ndata: [^\n]*line one/.exec(firstPart)![1]);
    release();
    const rest = await read({ "last-event-id": String(lastId) }, (s) => s.includes("event: end"));
    expect(rest).not.toContain("line one");
    expect(rest).toContain("line two");
    expect(rest).toContain('"status":"succeeded"');
  });

  it("refuses another tenant's job and anonymous callers", async () => {
    const res = await fetch(`${web.base}/v1/jobs/00000000-0000-4000-8000-000000000000/stream`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(404);
    expect((await fetch(`${web.base}/v1/jobs/00000000-0000-4000-8000-000000000000/stream`)).status).toBe(401);
  });
});
