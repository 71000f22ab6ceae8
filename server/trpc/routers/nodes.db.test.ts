// Workers show up under Nodes with heartbeat and running jobs; only platform owners see the registry.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/test-db.ts";
import { callerAs, errorCode, testRuntime } from "../../../test/runtime.ts";
import type { Runtime } from "../../runtime.ts";
import { bootstrapTenant, mintKey } from "../../domain/tenants/bootstrap.service.ts";
import { startWorker } from "../../worker/worker.ts";
import { withTenant } from "../../../db/tenant.ts";
import { enqueueJob } from "../../queue/enqueue.ts";

let t: TestDatabase;
let rt: Runtime;
beforeAll(async () => {
  t = await createTestDatabase();
  rt = testRuntime(t);
});
afterAll(async () => t.drop());

describe("nodes", () => {
  it("a running worker is listed as a healthy worker node with the job it is running; stopped ones are hidden by default", async () => {
    const boot = await bootstrapTenant(t.client, "nodes", { highRisk: false });
    const platform = (await mintKey(t.client, { platform: true, highRisk: false })).api_key;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const worker = await startWorker(rt, { concurrency: 1, handlers: [{ jobType: "test.hold", handler: async () => gate }] });
    await withTenant(t.client, boot.tenant_id, (tx) => enqueueJob(tx, { tenantId: boot.tenant_id, jobType: "test.hold", requestedBy: "test" }));
    const owner = await callerAs(rt, { apiKey: platform });
    let listed = await owner.nodes.list();
    for (let i = 0; i < 100 && !listed.items[0]?.running_jobs.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      listed = await owner.nodes.list();
    }
    // The heartbeat carries the running job within one interval.
    await new Promise((r) => setTimeout(r, 5_500));
    listed = await owner.nodes.list();
    const me = listed.items.find((n) => n.name === worker.id)!;
    expect(me).toMatchObject({ kind: "worker", health: "healthy" });
    expect(me.running_jobs.map((j) => j.job_type)).toEqual(["test.hold"]);
    release();
    await worker.stop();
    expect((await owner.nodes.list()).items.find((n) => n.name === worker.id)).toBeUndefined();
    expect((await owner.nodes.list({ include_stopped: true })).items.find((n) => n.name === worker.id)?.health).toBe("stopped");
    // Tenants never see topology.
    expect(await errorCode((await callerAs(rt, { apiKey: boot.api_key })).nodes.list())).toBe("FORBIDDEN");
  });
});
