// Placement: an organization with a scan-worker role assigned to a node for it specifically has its scans run by
// nodes only — the control plane's own workers leave them alone — while other organizations' scans, and roles that
// serve every organization, change nothing for the workers.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/test-db.ts";
import { callerAs } from "../../../test/runtime.ts";
import { createCluster, enroll, fabricFixture, type FabricFixture } from "../../../test/fabric.ts";
import { bootstrapTenant } from "../tenants/bootstrap.service.ts";
import { startWorker, type Worker } from "../../worker/worker.ts";
import { builtInHandlers } from "../../worker/handlers.ts";
import "../../connectors/index.ts";

let t: TestDatabase;
let f: FabricFixture;
let worker: Worker | undefined;
let scanDir: string;

beforeAll(async () => {
  t = await createTestDatabase();
  f = await fabricFixture(t);
  scanDir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-routing-scan-"));
  fs.writeFileSync(path.join(scanDir, "mcp.json"), JSON.stringify({ mcpServers: { files: { command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "/"] } } }));
});
afterAll(async () => {
  await worker?.stop(1_000);
  await f?.close();
  await t?.drop();
  fs.rmSync(scanDir, { recursive: true, force: true });
});

async function until<T>(fn: () => Promise<T | null | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("job placement", () => {
  it("keeps a node-served organization's scans away from the control plane's workers", async () => {
    const cluster = await createCluster(f, "branches");
    const node = await enroll(f, cluster.cluster_id);
    const inside = await bootstrapTenant(t.client, "inside", { highRisk: false });
    const outside = await bootstrapTenant(t.client, "outside", { highRisk: false });
    await f.owner.fabric.nodes.assignRole({ id: node.nodeId, role: "scan-worker", tenant_id: inside.tenant_id });
    // A role for every organization adds capacity but reserves nothing.
    const shared = await enroll(f, cluster.cluster_id);
    await f.owner.fabric.nodes.assignRole({ id: shared.nodeId, role: "scan-worker" });

    worker = await startWorker(f.rt, { concurrency: 2, handlers: builtInHandlers(), pollMs: 200 });
    const insideAdmin = await callerAs(f.rt, { apiKey: inside.api_key });
    const outsideAdmin = await callerAs(f.rt, { apiKey: outside.api_key });
    const a = await insideAdmin.sources.create({ kind: "scan.mcp_config", display_name: "in the branch", scope: { paths: [scanDir] } });
    const b = await outsideAdmin.sources.create({ kind: "scan.mcp_config", display_name: "elsewhere", scope: { paths: [scanDir] } });
    const runA = await insideAdmin.sources.run({ id: a.source_id });
    const runB = await outsideAdmin.sources.run({ id: b.source_id });

    // The worker runs the other organization's scan…
    await until(async () => (await outsideAdmin.runs.get({ id: runB.run_id })).status === "succeeded");
    // …and leaves this one queued for the node.
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await insideAdmin.runs.get({ id: runA.run_id })).status).toBe("queued");
    const { jobs } = await node.api.claim(2);
    expect(jobs.map((j) => j.job_id)).toEqual([runA.job_id]);
    const owner = await t.owner.sql<{ lease_owner: string }[]>`select lease_owner from jobs where id = ${runA.job_id}`;
    expect(owner[0]!.lease_owner).toBe(`node:${node.nodeId}`);

    // Once the organization's own role is gone, its scans are the workers' again.
    const roleId = (await f.owner.fabric.nodes.get({ id: node.nodeId })).roles[0]!.assignment_id;
    await node.api.release([runA.job_id]);
    await f.owner.fabric.nodes.removeRole({ id: node.nodeId, assignment_id: roleId });
    await until(async () => (await insideAdmin.runs.get({ id: runA.run_id })).status === "succeeded");
    const ranBy = await t.owner.sql<{ message: string }[]>`select message from job_logs where job_id = ${runA.job_id} and message like 'attempt%' order by id`;
    expect(ranBy.map((r) => r.message)).toEqual([expect.stringMatching(/on node/), expect.stringContaining(worker.id)]);
  });
});
