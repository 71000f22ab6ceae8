// The signed agent protocol against the real web app: heartbeats, tampered and replayed requests, desired state that
// is scoped, signed per cluster and only one's own, self-assigned roles refused, claims limited to what roles allow,
// a tenant's job completed by a node through the same pipeline, rotation, revocation, and what organizations see.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/test-db.ts";
import { callerAs, errorCode } from "../../test/runtime.ts";
import { createCluster, enroll, fabricFixture, refusal, type EnrolledNode, type FabricFixture } from "../../test/fabric.ts";
import { bootstrapTenant, mintKey } from "../domain/tenants/bootstrap.service.ts";
import { generateNodeKey, NodeApi, type HeartbeatReport } from "../agent/agent-api.ts";
import { AGENT_HEADERS, sha256Hex, signRequest, SnapshotRejected, verifyDesiredState } from "../domain/fabric/agent-protocol.ts";
import { connectorFor } from "../connectors/registry.ts";
import { RUN_JOB_TYPE } from "../domain/runs/create-run.service.ts";
import "../connectors/index.ts";

let t: TestDatabase;
let f: FabricFixture;
let clusterA: { cluster_id: string };
let clusterB: { cluster_id: string };
let node: EnrolledNode;
let scanDir: string;

beforeAll(async () => {
  t = await createTestDatabase();
  f = await fabricFixture(t);
  clusterA = await createCluster(f, "site-a");
  clusterB = await createCluster(f, "site-b");
  node = await enroll(f, clusterA.cluster_id, { node_name: "edge-scanner" });
  scanDir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-agent-scan-"));
  fs.mkdirSync(path.join(scanDir, ".cursor"));
  fs.copyFileSync(path.resolve(import.meta.dirname, "../connectors/mcp-config/fixtures/cursor/0xJacky__nginx-ui.json"), path.join(scanDir, ".cursor", "mcp.json"));
});
afterAll(async () => {
  await f?.close();
  await t?.drop();
  if (scanDir) fs.rmSync(scanDir, { recursive: true, force: true });
});

const beat = (overrides: Partial<HeartbeatReport> = {}): HeartbeatReport => ({
  status: "healthy",
  agent_version: "0.1.0-test",
  snapshot_version: null,
  capabilities: { can_run_scan_worker: true, connectors: ["scan.mcp_config"] },
  workloads: [],
  running_jobs: [],
  ...overrides,
});

/** A raw signed request, so tests can alter what was signed. */
async function raw(n: EnrolledNode, method: "GET" | "POST", pathname: string, body: string, tamper: (h: Record<string, string>, b: string) => { headers: Record<string, string>; body: string } = (h, b) => ({ headers: h, body: b })) {
  const headers = signRequest(n.key.privateKey, { method, path: `/v1/agent${pathname}`, keyId: n.identityId, nodeId: n.nodeId, body });
  const sent = tamper({ ...headers, "content-type": "application/json" }, body);
  const res = await fetch(`${f.base}/v1/agent${pathname}`, { method, headers: sent.headers, body: method === "GET" ? undefined : sent.body });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string; details?: { reason?: string } } } };
}

describe("heartbeats", () => {
  it("record status, version, capabilities and workloads; health changes are audited", async () => {
    const answer = await node.api.heartbeat(beat({ started_at: new Date().toISOString() }));
    expect(answer).toMatchObject({ heartbeat_seconds: 10, rotate_certificate: false });
    const detail = await f.owner.fabric.nodes.get({ id: node.nodeId });
    expect(detail).toMatchObject({ health: "healthy", version: "0.1.0-test", membership_status: "active", cluster: { slug: "site-a" } });
    expect(detail.capabilities.map((c) => c.name)).toEqual(["can_run_scan_worker", "connectors"]);
    expect(detail.recent_heartbeats).toHaveLength(1);
    // Workers' Nodes page lists the agent too.
    expect((await f.owner.nodes.list()).items.find((n) => n.node_id === node.nodeId)).toMatchObject({ kind: "agent", health: "healthy" });
    await node.api.heartbeat(beat({ status: "degraded", degraded: { reason: "disk almost full" } }));
    expect((await f.owner.fabric.nodes.get({ id: node.nodeId })).health).toBe("degraded");
    await node.api.heartbeat(beat());
    const timeline = await f.owner.fabric.nodes.audit({ id: node.nodeId });
    expect(timeline.items.filter((e) => e.action === "node.health_change").map((e) => `${e.details.from}→${e.details.to}`)).toEqual(["degraded→healthy", "healthy→degraded", "enrolled→healthy"]);
  });

  it("refuse a tampered body, a tampered timestamp, an unsigned request, a replay and a stale timestamp", async () => {
    const body = JSON.stringify(beat());
    const tampered = await raw(node, "POST", "/heartbeat", body, (h) => ({ headers: h, body: body.replace('"healthy"', '"degraded"') }));
    expect(tampered).toMatchObject({ status: 401, body: { error: { details: { reason: "body_hash_mismatch" } } } });
    // Altered body and a matching hash: the signature no longer covers it.
    const rehashed = await raw(node, "POST", "/heartbeat", body, (h) => {
      const b = body.replace('"healthy"', '"degraded"');
      return { headers: { ...h, [AGENT_HEADERS.bodySha256]: sha256Hex(b) }, body: b };
    });
    expect(rehashed.body.error?.details?.reason).toBe("bad_signature");
    const otherTimestamp = await raw(node, "POST", "/heartbeat", body, (h) => ({ headers: { ...h, [AGENT_HEADERS.timestamp]: String(Number(h[AGENT_HEADERS.timestamp]) + 1) }, body }));
    expect(otherTimestamp.body.error?.details?.reason).toBe("bad_signature");
    const unsigned = await fetch(`${f.base}/v1/agent/heartbeat`, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(unsigned.status).toBe(401);

    const headers = { ...signRequest(node.key.privateKey, { method: "POST", path: "/v1/agent/heartbeat", keyId: node.identityId, nodeId: node.nodeId, body }), "content-type": "application/json" };
    expect((await fetch(`${f.base}/v1/agent/heartbeat`, { method: "POST", headers, body })).status).toBe(200);
    const replay = await fetch(`${f.base}/v1/agent/heartbeat`, { method: "POST", headers, body });
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error: { details: { reason: string } } }).error.details.reason).toBe("replayed");

    const stale = { ...signRequest(node.key.privateKey, { method: "POST", path: "/v1/agent/heartbeat", keyId: node.identityId, nodeId: node.nodeId, body, now: Date.now() - 120_000 }), "content-type": "application/json" };
    const old = await fetch(`${f.base}/v1/agent/heartbeat`, { method: "POST", headers: stale, body });
    expect(((await old.json()) as { error: { details: { reason: string } } }).error.details.reason).toBe("stale_timestamp");

    // Another node's key cannot speak for this node.
    const impostor = new NodeApi(f.client, { nodeId: node.nodeId, identityId: node.identityId, privateKey: generateNodeKey().privateKey });
    expect(await refusal(impostor.heartbeat(beat()))).toMatchObject({ status: 401, reason: "bad_signature" });
    const denied = await t.owner.sql<{ reason: string }[]>`select details->>'reason' as reason from audit_events where action = 'agent.request' and outcome = 'denied'`;
    expect(denied.map((d) => d.reason)).toEqual(expect.arrayContaining(["bad_signature", "replayed"]));
  });
});

describe("desired state", () => {
  it("is signed by the node's own cluster CA, for this node only; another cluster's key or another node's snapshot is rejected", async () => {
    const other = await enroll(f, clusterB.cluster_id, { node_name: "elsewhere" });
    const envelope = await node.api.desiredState();
    const state = verifyDesiredState(envelope, { caCertificatePem: node.caCertificatePem, clusterId: clusterA.cluster_id, nodeId: node.nodeId, minVersion: 0 });
    expect(state).toMatchObject({ node_id: node.nodeId, cluster: { id: clusterA.cluster_id, authority_state: "healthy" }, workloads: [] });
    // Signed by cluster B's CA: the agent of cluster A must refuse it.
    const foreign = await other.api.desiredState();
    expect(() => verifyDesiredState(foreign, { caCertificatePem: node.caCertificatePem, clusterId: clusterA.cluster_id, nodeId: node.nodeId, minVersion: 0 })).toThrow(SnapshotRejected);
    expect(() => verifyDesiredState({ ...foreign, payload: { ...foreign.payload, cluster: envelope.payload.cluster, node_id: node.nodeId } }, { caCertificatePem: node.caCertificatePem, clusterId: clusterA.cluster_id, nodeId: node.nodeId, minVersion: 0 })).toThrow(/signature/);
    // Altered after signing, or older than what runs.
    expect(() => verifyDesiredState({ ...envelope, payload: { ...envelope.payload, workloads: [{ type: "scan-worker", desired: "running", assignments: [{ tenant_id: null, job_types: [RUN_JOB_TYPE] }] }] } }, { caCertificatePem: node.caCertificatePem, clusterId: clusterA.cluster_id, nodeId: node.nodeId, minVersion: 0 })).toThrow(SnapshotRejected);
    expect(() => verifyDesiredState(envelope, { caCertificatePem: node.caCertificatePem, clusterId: clusterA.cluster_id, nodeId: node.nodeId, minVersion: envelope.payload.version + 1 })).toThrow(/older/);
    // A node asking for another node's desired state is refused.
    expect(await refusal(node.api.desiredState({ nodeId: other.nodeId }))).toMatchObject({ status: 403, reason: "other_node" });
  });
});

describe("roles", () => {
  it("a node can never assign itself a role: not by heartbeat, not with its key on the platform API, not through capabilities", async () => {
    expect(await refusal(node.api.heartbeat({ ...beat(), roles: ["scan-worker"] } as HeartbeatReport))).toMatchObject({ status: 403, reason: "node_self_service" });
    const headers = signRequest(node.key.privateKey, { method: "POST", path: `/v1/nodes/${node.nodeId}/roles`, keyId: node.identityId, nodeId: node.nodeId, body: '{"role":"scan-worker"}' });
    const res = await fetch(`${f.base}/v1/nodes/${node.nodeId}/roles`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: '{"role":"scan-worker"}' });
    expect(res.status).toBe(401);
    // It reports the capability, and it asked for the role at enrollment: neither grants it.
    expect(await refusal(node.api.claim(1))).toMatchObject({ status: 403, reason: "no_role" });
    expect((await f.owner.fabric.nodes.get({ id: node.nodeId })).roles).toEqual([]);
    expect(await errorCode(f.ownerWithoutStepUp.fabric.nodes.assignRole({ id: node.nodeId, role: "scan-worker" }))).toBe("STEP_UP_REQUIRED");
  });
});

describe("scan-worker jobs", () => {
  let acme: Awaited<ReturnType<typeof bootstrapTenant>>;
  let globex: Awaited<ReturnType<typeof bootstrapTenant>>;

  it("claims only the organizations and job types its role allows, and completes a tenant's job through the same pipeline", async () => {
    acme = await bootstrapTenant(t.client, "acme", { highRisk: false });
    globex = await bootstrapTenant(t.client, "globex", { highRisk: false });
    const acmeAdmin = await callerAs(f.rt, { apiKey: acme.api_key });
    const globexAdmin = await callerAs(f.rt, { apiKey: globex.api_key });
    const role = await f.owner.fabric.nodes.assignRole({ id: node.nodeId, role: "scan-worker", tenant_id: acme.tenant_id });
    expect(role).toMatchObject({ role: "scan-worker", tenant_id: acme.tenant_id, tenant_slug: "acme", job_types: [RUN_JOB_TYPE] });
    const envelope = await node.api.desiredState();
    expect(envelope.payload.workloads).toEqual([{ type: "scan-worker", desired: "running", assignments: [{ tenant_id: acme.tenant_id, job_types: [RUN_JOB_TYPE] }] }]);

    const theirs = await globexAdmin.sources.create({ kind: "scan.mcp_config", display_name: "globex laptops", scope: { paths: [scanDir] } });
    await globexAdmin.sources.run({ id: theirs.source_id });
    const source = await acmeAdmin.sources.create({ kind: "scan.mcp_config", display_name: "acme edge", scope: { paths: [scanDir] } });
    const run = await acmeAdmin.sources.run({ id: source.source_id });

    const { jobs } = await node.api.claim(4);
    expect(jobs.map((j) => j.tenant_id)).toEqual([acme.tenant_id]);
    const job = jobs[0]!;
    expect(job).toMatchObject({ job_id: run.job_id, job_type: RUN_JOB_TYPE, source_kind: "scan.mcp_config", scope: { paths: [scanDir] } });
    expect((await acmeAdmin.runs.get({ id: run.run_id })).status).toBe("running");

    // The node runs the same connector the workers run, then reports.
    const output = await connectorFor("scan.mcp_config")!.collect({ scope: job.scope, credentials: {}, signal: new AbortController().signal, log: () => {} });
    expect(await node.api.events(job, [{ level: "info", message: "collecting on the node" }])).toMatchObject({ cancel_requested: false });
    const done = await node.api.complete(job, {
      items: output.items,
      summary: output.summary,
      graph: output.graph,
      warnings: output.warnings,
      artifacts: output.artifacts.map((a) => ({ kind: a.kind, content_type: a.contentType, body_base64: a.body.toString("base64") })),
    });
    expect(done).toEqual({ job_id: job.job_id, status: "succeeded" });
    const finished = await acmeAdmin.runs.get({ id: run.run_id });
    expect(finished.status).toBe("succeeded");
    expect(finished.stages.collect).toMatchObject({ status: "succeeded", items: output.items });
    expect(Date.parse(finished.stages.collect.started_at!)).toBeLessThanOrEqual(Date.parse(finished.stages.collect.ended_at!));
    expect((await acmeAdmin.sources.evidence({ id: source.source_id })).items.length).toBeGreaterThan(0);
    const logs = await t.owner.sql<{ message: string }[]>`select message from job_logs where job_id = ${job.job_id} order by id`;
    expect(logs.map((l) => l.message)).toEqual(expect.arrayContaining([expect.stringMatching(/on node edge-scanner/), "collecting on the node", expect.stringMatching(/reported its collection/)]));
    const leased = await t.owner.sql<{ status: string; lease_owner: string | null }[]>`select status, lease_owner from jobs where id = ${job.job_id}`;
    expect(leased[0]).toEqual({ status: "succeeded", lease_owner: null });
    // The other organization's job was never handed out.
    expect((await globexAdmin.sources.jobs({ id: theirs.source_id })).items[0]!.status).toBe("queued");
    // A second completion of the same job is refused: the lease is gone.
    expect(await refusal(node.api.complete(job, { items: 0, summary: {}, graph: { assets: [], relations: [], findings: [] }, artifacts: [], warnings: [] }))).toMatchObject({ status: 409, reason: "lease_lost" });
  });

  it("organizations see only safe status of the endpoints allowed to them", async () => {
    await node.api.heartbeat(beat({ workloads: [{ type: "scan-worker", state: "idle" }] }));
    const acmeAdmin = await callerAs(f.rt, { apiKey: acme.api_key });
    const status = await acmeAdmin.fabric.tenantStatus();
    expect(status.served_by_fabric).toBe(true);
    expect(status.endpoints).toEqual([{ endpoint: expect.stringMatching(/^endpoint-[0-9a-f]{10}$/), workload: "scan-worker", shared: false, status: "healthy", workload_state: "idle", last_seen_at: expect.any(String) }]);
    const text = JSON.stringify(status);
    for (const secret of [node.nodeId, "edge-scanner", "site-a", clusterA.cluster_id, "edge-1.example.internal", "127.0.0.1"]) expect(text).not.toContain(secret);
    expect((await (await callerAs(f.rt, { apiKey: globex.api_key })).fabric.tenantStatus()).endpoints).toEqual([]);
    const viewer = (await mintKey(t.client, { tenantSlug: "acme", role: "viewer", platform: false, highRisk: false })).api_key;
    expect(await errorCode((await callerAs(f.rt, { apiKey: viewer })).fabric.tenantStatus())).toBe("FORBIDDEN");
    expect(await errorCode(acmeAdmin.fabric.nodes.list())).toBe("FORBIDDEN");
    expect(await errorCode(acmeAdmin.fabric.topology())).toBe("FORBIDDEN");
  });
});

describe("identity lifecycle", () => {
  it("rotation issues a new certificate for a new key; the old identity stops working once the new one is used", async () => {
    const n = await enroll(f, clusterA.cluster_id, { node_name: "rotating" });
    await n.api.heartbeat(beat());
    const next = generateNodeKey();
    const rotated = await n.api.rotate(next);
    expect(rotated.identity_id).not.toBe(n.identityId);
    const oldApi = n.api;
    // Within the grace period and before the new identity is used, the old one still works (a lost answer is harmless).
    await oldApi.heartbeat(beat());
    const newApi = new NodeApi(f.client, { nodeId: n.nodeId, identityId: rotated.identity_id, privateKey: next.privateKey });
    await newApi.heartbeat(beat());
    expect(await refusal(oldApi.heartbeat(beat()))).toMatchObject({ status: 401, reason: "identity_rotated" });
    const identities = (await f.owner.fabric.nodes.get({ id: n.nodeId })).identities;
    expect(identities.map((i) => i.status).sort()).toEqual(["active", "rotated"]);
  });

  it("revocation (step-up) refuses the node's very next request and stops its claims", async () => {
    expect(await errorCode(f.ownerWithoutStepUp.fabric.nodes.revoke({ id: node.nodeId, reason: "laptop stolen" }))).toBe("STEP_UP_REQUIRED");
    const revoked = await f.owner.fabric.nodes.revoke({ id: node.nodeId, reason: "laptop stolen" });
    expect(revoked).toMatchObject({ identities_revoked: 1, roles_removed: 1 });
    expect(await refusal(node.api.heartbeat(beat()))).toMatchObject({ status: 403, reason: "node_revoked" });
    expect(await refusal(node.api.claim(1))).toMatchObject({ status: 403, reason: "node_revoked" });
    expect(await refusal(node.api.desiredState())).toMatchObject({ status: 403, reason: "node_revoked" });
    const detail = await f.owner.fabric.nodes.get({ id: node.nodeId });
    expect(detail).toMatchObject({ health: "revoked", roles: [] });
    expect(detail.identities[0]).toMatchObject({ status: "revoked", revoked_reason: "laptop stolen" });
    expect((await f.owner.nodes.list({ include_stopped: true })).items.find((x) => x.node_id === node.nodeId)?.health).toBe("stopped");
    expect(await errorCode(f.owner.fabric.nodes.assignRole({ id: node.nodeId, role: "scan-worker" }))).toBe("CONFLICT");
  });
});
