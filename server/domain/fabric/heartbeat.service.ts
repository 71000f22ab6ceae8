// Heartbeats: the agent's report of its status, version, capabilities, workloads and running jobs. The latest state
// goes on the node and its membership, a bounded history is kept, health changes are audited, and the answer tells
// the agent whether its desired state moved on and whether to rotate its certificate.
import { and, eq, sql } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { clusterMemberships, nodeCapabilities, nodeHeartbeats, nodes, nodeServiceInstances, type AgentReportedStatus, type ReportedWorkloadState } from "../../../db/schema/index.ts";
import { canonicalJson } from "../audit/canonical.ts";
import { appendAudit } from "../audit/audit-writer.service.ts";
import type { AgentPrincipal } from "./agent-auth.service.ts";
import { rotationDue } from "./node-identities.service.ts";
import { AGENT_HEARTBEAT_SECONDS, HEARTBEAT_HISTORY_PER_NODE } from "./workload-catalog.ts";

export interface HeartbeatBody {
  status: AgentReportedStatus;
  agent_version: string;
  started_at?: string;
  snapshot_version: number | null;
  capabilities: Record<string, unknown>;
  facts?: Record<string, unknown>;
  workloads: { type: string; state: ReportedWorkloadState; version?: string; detail?: Record<string, unknown> }[];
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

const PRUNE_EVERY = 50;

export async function recordHeartbeat(tx: Tx, principal: AgentPrincipal, body: HeartbeatBody, ip: string | null): Promise<HeartbeatAnswer> {
  const { node, cluster, identity } = principal;
  const capabilitiesChanged = canonicalJson(node.capabilities) !== canonicalJson(body.capabilities);
  await tx
    .update(nodes)
    .set({ lastHeartbeatAt: sql`now()`, version: body.agent_version, status: body.status, runningJobs: body.running_jobs, ...(capabilitiesChanged ? { capabilities: body.capabilities } : {}) })
    .where(eq(nodes.id, node.id));
  const [membership] = await tx
    .update(clusterMemberships)
    .set({ lastSeenAt: sql`now()`, lastSeenIp: ip, heartbeatCount: sql`${clusterMemberships.heartbeatCount} + 1` })
    .where(and(eq(clusterMemberships.nodeId, node.id), eq(clusterMemberships.clusterId, cluster.id)))
    .returning({ count: clusterMemberships.heartbeatCount });
  const count = membership?.count ?? 0;

  // Capabilities are what the node says it can do: recorded as reported, never turned into a grant.
  if (capabilitiesChanged || count === 1) {
    await tx.delete(nodeCapabilities).where(eq(nodeCapabilities.nodeId, node.id));
    const entries = Object.entries(body.capabilities);
    if (entries.length) await tx.insert(nodeCapabilities).values(entries.map(([name, value]) => ({ nodeId: node.id, name, value: value ?? null })));
  }
  for (const w of body.workloads) {
    await tx
      .update(nodeServiceInstances)
      .set({ reportedState: w.state, reportedVersion: w.version ?? body.agent_version, reportedDetail: w.detail ?? {}, reportedAt: sql`now()` })
      .where(and(eq(nodeServiceInstances.clusterId, cluster.id), eq(nodeServiceInstances.nodeId, node.id), eq(nodeServiceInstances.serviceType, w.type)));
  }
  await tx.insert(nodeHeartbeats).values({
    nodeId: node.id,
    clusterId: cluster.id,
    status: body.status,
    agentVersion: body.agent_version,
    snapshotVersion: body.snapshot_version,
    sourceIp: ip,
    workloads: body.workloads,
    detail: { ...(body.degraded ? { degraded: body.degraded } : {}), ...(body.facts ? { facts: body.facts } : {}), ...(body.started_at ? { started_at: body.started_at } : {}), running_jobs: body.running_jobs.length },
  });
  if (count % PRUNE_EVERY === 0) {
    await tx.execute(sql`
      delete from node_heartbeats where node_id = ${node.id} and id < (
        select id from node_heartbeats where node_id = ${node.id} order by id desc offset ${HEARTBEAT_HISTORY_PER_NODE - 1} limit 1)`);
  }
  // Health changes (first contact, degraded, recovered) join the platform audit chain.
  if (node.status !== body.status) {
    await appendAudit(tx, {
      tenantId: null,
      actor: `node:${node.id}`,
      actorType: "node",
      ip,
      targetType: "node",
      targetId: node.id,
      action: "node.health_change",
      outcome: "success",
      details: { cluster_id: cluster.id, from: node.status, to: body.status, ...(body.degraded ? { degraded: body.degraded } : {}) },
    });
  }
  return {
    server_time: new Date().toISOString(),
    desired_version: cluster.desiredVersion,
    heartbeat_seconds: AGENT_HEARTBEAT_SECONDS,
    rotate_certificate: identity.status === "active" && rotationDue(identity),
    certificate_not_after: identity.certificateNotAfter.toISOString(),
  };
}
