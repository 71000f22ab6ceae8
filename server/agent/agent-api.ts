// Typed calls of the agent protocol (/v1/agent/*), on top of the signing client. The agent's commands use these, and
// so do the protocol tests and the fabric benchmark, so all three speak exactly the same protocol.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { JOIN_KEY_ID, joinRequestKeyId, rawPublicKeyOf, rotationProof, type SignedDesiredState } from "../domain/fabric/agent-protocol.ts";
import { type ControlPlaneClient } from "./control-plane-client.ts";

export interface NodeKey {
  privateKey: KeyObject;
  publicKeyRaw: string;
}

export function generateNodeKey(): NodeKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKeyRaw: rawPublicKeyOf(publicKey) };
}

export interface JoinClaims {
  cluster?: string | null;
  node_name: string;
  hostname: string;
  machine_id?: string | null;
  facts: Record<string, unknown>;
  capabilities: Record<string, unknown>;
  requested_roles?: string[];
  agent_version: string;
}

export interface JoinAnswer {
  request_id: string;
  status: "pending" | "approved" | "rejected";
  cluster: { id: string; slug: string; name: string };
  poll_after_seconds: number;
  duplicate: boolean;
}

export interface JoinStatus {
  request_id: string;
  status: "pending" | "approved" | "rejected";
  cluster_id: string;
  poll_after_seconds?: number;
  rejection_reason?: string | null;
  node_id?: string;
  identity_id?: string;
  identity_status?: string;
  certificate_pem?: string;
  certificate_serial?: string;
  certificate_not_after?: string;
  ca_certificate_pem?: string;
  ca_fingerprint?: string;
  cluster?: { id: string; slug: string; name: string };
}

export interface HeartbeatReport {
  status: "healthy" | "degraded";
  agent_version: string;
  started_at?: string;
  snapshot_version: number | null;
  capabilities: Record<string, unknown>;
  facts?: Record<string, unknown>;
  workloads: { type: string; state: "running" | "idle" | "stopped" | "failed" | "degraded" | "unknown"; version?: string; detail?: Record<string, unknown> }[];
  running_jobs: { job_id: string; tenant_id: string; job_type: string; started_at: string }[];
  degraded?: { reason: string; since?: string; offline_seconds?: number } | null;
}

export interface HeartbeatAnswer {
  server_time: string;
  desired_version: number;
  heartbeat_seconds: number;
  rotate_certificate: boolean;
  certificate_not_after: string;
}

export interface ClaimedJob {
  job_id: string;
  tenant_id: string;
  job_type: string;
  source_id: string | null;
  run_id: string | null;
  source_kind: string | null;
  scope: Record<string, unknown>;
  attempt: number;
  max_attempts: number;
  time_budget_seconds: number;
  lease_seconds: number;
  trace_id: string;
}

export interface ReportedOutput {
  items: number;
  summary: Record<string, unknown>;
  graph: { assets: unknown[]; relations: unknown[]; findings: unknown[] };
  artifacts: { kind: string; content_type: string; body_base64: string }[];
  warnings: { message: string; where?: string }[];
}

export interface RotationAnswer {
  identity_id: string;
  certificate_pem: string;
  certificate_serial: string;
  certificate_not_after: string;
  ca_certificate_pem: string;
  ca_fingerprint: string;
}

/** Before approval: redeem a token and poll the request, signing with the node's own key. */
export class EnrollmentApi {
  constructor(
    readonly client: ControlPlaneClient,
    readonly key: NodeKey,
  ) {}

  join(token: string, claims: JoinClaims): Promise<JoinAnswer> {
    return this.client.call({ privateKey: this.key.privateKey, keyId: JOIN_KEY_ID }, "POST", "/join", { token, ...claims, public_key: this.key.publicKeyRaw });
  }

  status(requestId: string): Promise<JoinStatus> {
    return this.client.call({ privateKey: this.key.privateKey, keyId: joinRequestKeyId(requestId) }, "GET", `/join/${requestId}`);
  }
}

/** After approval: everything a node does, signed with its identity key. */
export class NodeApi {
  constructor(
    readonly client: ControlPlaneClient,
    public identity: { nodeId: string; identityId: string; privateKey: KeyObject },
  ) {}

  private get who() {
    return { privateKey: this.identity.privateKey, keyId: this.identity.identityId, nodeId: this.identity.nodeId };
  }

  heartbeat(report: HeartbeatReport, signal?: AbortSignal): Promise<HeartbeatAnswer> {
    return this.client.call(this.who, "POST", "/heartbeat", report, { signal });
  }

  desiredState(opts: { nodeId?: string } = {}): Promise<SignedDesiredState> {
    return this.client.call(this.who, "GET", `/desired-state${opts.nodeId ? `?node_id=${encodeURIComponent(opts.nodeId)}` : ""}`);
  }

  /** A new key and certificate; the new key proves itself by signing the current identity id. */
  async rotate(next: NodeKey): Promise<RotationAnswer> {
    return this.client.call(this.who, "POST", "/rotate", { public_key: next.publicKeyRaw, proof: rotationProof(next.privateKey, this.identity.identityId) });
  }

  claim(limit: number, jobTypes?: string[], signal?: AbortSignal): Promise<{ jobs: ClaimedJob[] }> {
    return this.client.call(this.who, "POST", "/jobs/claim", { limit, ...(jobTypes ? { job_types: jobTypes } : {}) }, { signal });
  }

  events(job: { job_id: string; tenant_id: string }, logs: { level: "debug" | "info" | "warn" | "error"; message: string }[]): Promise<{ cancel_requested: boolean; lease_seconds: number }> {
    return this.client.call(this.who, "POST", `/jobs/${job.job_id}/events`, { tenant_id: job.tenant_id, logs });
  }

  complete(job: { job_id: string; tenant_id: string }, output: ReportedOutput): Promise<{ job_id: string; status: string; error?: string }> {
    return this.client.call(this.who, "POST", `/jobs/${job.job_id}/complete`, { tenant_id: job.tenant_id, output });
  }

  fail(job: { job_id: string; tenant_id: string }, failure: { error: string; transient: boolean; status: "failed" | "cancelled" | "timed_out" }): Promise<{ job_id: string; status: string }> {
    return this.client.call(this.who, "POST", `/jobs/${job.job_id}/fail`, { tenant_id: job.tenant_id, ...failure });
  }

  release(jobIds: string[]): Promise<{ released: string[] }> {
    return this.client.call(this.who, "POST", "/jobs/release", { job_ids: jobIds });
  }
}
