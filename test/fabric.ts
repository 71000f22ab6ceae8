// Fabric test set-up: a real web app over a test database, platform owners with and without step-up, and helpers that
// enroll simulated nodes through the real signed agent protocol.
import type { TestDatabase } from "./test-db.ts";
import { callerAs, testRuntime } from "./runtime.ts";
import { startTestServer } from "./web.ts";
import type { Runtime } from "../server/runtime.ts";
import { mintKey } from "../server/domain/tenants/bootstrap.service.ts";
import { ControlPlaneClient } from "../server/agent/control-plane-client.ts";
import { EnrollmentApi, generateNodeKey, NodeApi, type JoinClaims, type NodeKey } from "../server/agent/agent-api.ts";
import { RUN_JOB_TYPE } from "../server/domain/runs/create-run.service.ts";

export type Caller = Awaited<ReturnType<typeof callerAs>>;

export interface FabricFixture {
  rt: Runtime;
  base: string;
  client: ControlPlaneClient;
  /** A platform owner whose key carries the high-risk scope (stands in for a fresh WebAuthn step-up). */
  owner: Caller;
  /** A platform owner without step-up. */
  ownerWithoutStepUp: Caller;
  close(): Promise<void>;
}

export async function fabricFixture(t: TestDatabase): Promise<FabricFixture> {
  const rt = testRuntime(t);
  const server = await startTestServer(rt);
  const owner = await callerAs(rt, { apiKey: (await mintKey(t.client, { platform: true, highRisk: true })).api_key });
  const ownerWithoutStepUp = await callerAs(rt, { apiKey: (await mintKey(t.client, { platform: true, highRisk: false })).api_key });
  return { rt, base: server.base, client: new ControlPlaneClient({ url: server.base }), owner, ownerWithoutStepUp, close: server.close };
}

export function claims(overrides: Partial<JoinClaims> = {}): JoinClaims {
  return {
    node_name: `node-${Math.random().toString(36).slice(2, 8)}`,
    hostname: "edge-1.example.internal",
    machine_id: "0123456789abcdef0123456789abcdef",
    facts: { os: "linux", arch: "x64", cpus: 2 },
    capabilities: { can_run_scan_worker: true, connectors: ["scan.mcp_config"], job_types: [RUN_JOB_TYPE] },
    agent_version: "0.1.0-test",
    ...overrides,
  };
}

export interface EnrolledNode {
  key: NodeKey;
  nodeId: string;
  identityId: string;
  clusterId: string;
  caCertificatePem: string;
  certificatePem: string;
  api: NodeApi;
}

/** Redeems a token with a fresh key and returns the pending request (and the enrollment API to poll it). */
export async function redeem(f: FabricFixture, token: string, overrides: Partial<JoinClaims> = {}, key: NodeKey = generateNodeKey()) {
  const enrollment = new EnrollmentApi(f.client, key);
  const answer = await enrollment.join(token, claims(overrides));
  return { key, enrollment, answer };
}

/** The whole join: token → request → approval (with step-up) → identity, as a signed node API. */
export async function enroll(f: FabricFixture, clusterId: string, overrides: Partial<JoinClaims> = {}): Promise<EnrolledNode> {
  const token = await f.owner.fabric.joinTokens.create({ id: clusterId, ttl_seconds: 600, max_uses: 1 });
  const { key, enrollment, answer } = await redeem(f, token.token, overrides);
  await f.owner.fabric.joinRequests.approve({ id: answer.request_id });
  const status = await enrollment.status(answer.request_id);
  const identity = { nodeId: status.node_id!, identityId: status.identity_id!, privateKey: key.privateKey };
  return {
    key,
    nodeId: identity.nodeId,
    identityId: identity.identityId,
    clusterId,
    caCertificatePem: status.ca_certificate_pem!,
    certificatePem: status.certificate_pem!,
    api: new NodeApi(f.client, identity),
  };
}

export async function createCluster(f: FabricFixture, slug: string) {
  return f.owner.fabric.clusters.create({ slug, name: `Cluster ${slug}` });
}

/** The AppError-shaped refusal an agent call ended with. */
export async function refusal(promise: Promise<unknown>): Promise<{ status: number; code: string; reason: string | null; message: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { status?: number; code?: string; reason?: string | null; message: string };
    if (typeof e.status === "number") return { status: e.status, code: e.code ?? "", reason: e.reason ?? null, message: e.message };
    throw err;
  }
  throw new Error("expected the call to be refused, but it succeeded");
}
