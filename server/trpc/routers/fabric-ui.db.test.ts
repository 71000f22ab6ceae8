// Revoked nodes that keep calling are listed for platform owners (from the audited refusals); organizations are refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/test-db.ts";
import { callerAs, errorCode } from "../../../test/runtime.ts";
import { createCluster, enroll, fabricFixture, refusal, type FabricFixture } from "../../../test/fabric.ts";
import { bootstrapTenant } from "../../domain/tenants/bootstrap.service.ts";

let t: TestDatabase;
let f: FabricFixture;
beforeAll(async () => {
  t = await createTestDatabase();
  f = await fabricFixture(t);
});
afterAll(async () => {
  await f?.close();
  await t?.drop();
});

const report = { status: "healthy" as const, agent_version: "0.1.0-test", snapshot_version: null, capabilities: {}, workloads: [], running_jobs: [] };

describe("fabricUi.revokedActivity", () => {
  it("lists a revoked node whose requests are still refused, with when and from where; a healthy or quiet node is not listed", async () => {
    const cluster = await createCluster(f, "edge");
    const revoked = await enroll(f, cluster.cluster_id, { node_name: "branch-closed" });
    const healthy = await enroll(f, cluster.cluster_id, { node_name: "branch-open" });
    const quiet = await enroll(f, cluster.cluster_id, { node_name: "branch-quiet" });
    await revoked.api.heartbeat(report);
    await healthy.api.heartbeat(report);
    expect((await f.owner.fabricUi.revokedActivity()).items).toEqual([]);

    await f.owner.fabric.nodes.revoke({ id: revoked.nodeId, reason: "office closed" });
    await f.owner.fabric.nodes.revoke({ id: quiet.nodeId, reason: "decommissioned" });
    expect(await refusal(revoked.api.heartbeat(report))).toMatchObject({ status: 403, reason: "node_revoked" });
    await healthy.api.heartbeat(report);

    const { items } = await f.owner.fabricUi.revokedActivity({ hours: 1 });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ node_id: revoked.nodeId, node_name: "branch-closed", revoked: true, refusals: 1, last_path: "/v1/agent/heartbeat" });
    expect(Date.parse(items[0]!.last_refused_at)).toBeGreaterThanOrEqual(Date.parse(items[0]!.first_refused_at));
  });

  it("is for platform owners only and checks its window", async () => {
    const boot = await bootstrapTenant(t.client, "fabric-ui-org", { highRisk: false });
    const org = await callerAs(f.rt, { apiKey: boot.api_key });
    expect(await errorCode(org.fabricUi.revokedActivity())).toBe("FORBIDDEN");
    expect(await errorCode(f.owner.fabricUi.revokedActivity({ hours: 0 }))).toBe("BAD_REQUEST");
  });
});
