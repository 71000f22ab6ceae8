// Heartbeats: the agent's report of its status, version, capabilities, workloads and running jobs. The latest state
// goes on the node and its membership, a bounded history is kept, health changes are audited, and the answer tells
// the agent whether its desired state moved on and whether to rotate its certificate.
import { eq, sql } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { nodeCapabilities, type AgentReportedStatus, type ReportedWorkloadState } from "../../../db/schema/index.ts";
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
  const routine = node.status === body.status;
  const detail = { ...(body.degraded ? { degraded: body.degraded } : {}), ...(body.facts ? { facts: body.facts } : {}), ...(body.started_at ? { started_at: body.started_at } : {}), running_jobs: body.running_jobs.length };
  const workloads = body.workloads.map((w) => ({ type: w.type, state: w.state, version: w.version ?? body.agent_version, detail: w.detail ?? {} }));
  // The hot path in one statement: latest state on the node and its membership, reported workload states, and the
  // history row (one round trip per heartbeat, whatever it reports).
  const [row] = await tx.execute<{ count: string }>(sql`
    with n as (
      update nodes set last_heartbeat_at = now(), version = ${body.agent_version}, status = ${body.status}, running_jobs = ${JSON.stringify(body.running_jobs)}::jsonb,
        capabilities = case when ${capabilitiesChanged} then ${JSON.stringify(body.capabilities)}::jsonb else capabilities end
      where id = ${node.id} returning id),
    m as (
      update cluster_memberships set last_seen_at = now(), last_seen_ip = ${ip}, heartbeat_count = heartbeat_count + 1
      where node_id = ${node.id} and cluster_id = ${cluster.id} returning heartbeat_count),
    w as (
      update node_service_instances s set reported_state = x.state, reported_version = x.version, reported_detail = x.detail, reported_at = now()
      from jsonb_to_recordset(${JSON.stringify(workloads)}::jsonb) as x(type text, state text, version text, detail jsonb)
      where s.cluster_id = ${cluster.id} and s.node_id = ${node.id} and s.service_type = x.type returning 1),
    h as (
      insert into node_heartbeats (node_id, cluster_id, status, agent_version, snapshot_version, source_ip, workloads, detail)
      values (${node.id}, ${cluster.id}, ${body.status}, ${body.agent_version}, ${body.snapshot_version}, ${ip}, ${JSON.stringify(body.workloads)}::jsonb, ${JSON.stringify(detail)}::jsonb)
      returning 1)
    select (select heartbeat_count from m)::text as count,
      -- A routine heartbeat is telemetry: it need not wait for its WAL flush (a crash loses at most the last moments
      -- of heartbeats, which the next ones replace). A health change is audited below and commits durably.
      case when ${routine} then set_config('synchronous_commit', 'off', true) end as async_commit`);
  const count = Number(row?.count ?? 0);

  // Capabilities are what the node says it can do: recorded as reported, never turned into a grant.
  if (capabilitiesChanged || count === 1) {
    await tx.delete(nodeCapabilities).where(eq(nodeCapabilities.nodeId, node.id));
    const entries = Object.entries(body.capabilities);
    if (entries.length) await tx.insert(nodeCapabilities).values(entries.map(([name, value]) => ({ nodeId: node.id, name, value: value ?? null })));
  }
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
