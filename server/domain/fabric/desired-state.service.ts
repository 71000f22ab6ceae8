// A node's desired state: only what its own role assignments need (its workloads, and for each the organizations and
// job types it may serve), signed with its cluster's CA key and versioned, so the agent can verify it and keep
// running from it while the control plane is out of reach.
import { and, eq } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { nodeRoleAssignments, nodeServiceInstances } from "../../../db/schema/index.ts";
import { DESIRED_STATE_FORMAT, signDesiredState, type DesiredState, type DesiredWorkload, type SignedDesiredState } from "./agent-protocol.ts";
import { loadActiveCa } from "./cluster-ca.service.ts";
import type { AgentPrincipal } from "./agent-auth.service.ts";
import { AGENT_HEARTBEAT_SECONDS } from "./workload-catalog.ts";

export async function desiredStateFor(tx: Tx, principal: AgentPrincipal): Promise<DesiredState> {
  const { node, cluster, identity } = principal;
  const assignments = await tx
    .select({ role: nodeRoleAssignments.role, tenantId: nodeRoleAssignments.tenantId, jobTypes: nodeRoleAssignments.jobTypes })
    .from(nodeRoleAssignments)
    .where(and(eq(nodeRoleAssignments.nodeId, node.id), eq(nodeRoleAssignments.clusterId, cluster.id), eq(nodeRoleAssignments.status, "active")))
    .orderBy(nodeRoleAssignments.role, nodeRoleAssignments.tenantId);
  const instances = await tx
    .select()
    .from(nodeServiceInstances)
    .where(and(eq(nodeServiceInstances.nodeId, node.id), eq(nodeServiceInstances.clusterId, cluster.id)));
  const workloads = new Map<string, DesiredWorkload>();
  for (const i of instances) workloads.set(i.serviceType, { type: i.serviceType, desired: i.desiredState, assignments: [] });
  for (const a of assignments) {
    const w = workloads.get(a.role) ?? { type: a.role, desired: "stopped" as const, assignments: [] };
    w.assignments.push({ tenant_id: a.tenantId, job_types: [...a.jobTypes].sort() });
    workloads.set(a.role, w);
  }
  return {
    format: DESIRED_STATE_FORMAT,
    cluster: { id: cluster.id, slug: cluster.slug, authority_state: cluster.authorityState },
    node_id: node.id,
    identity_id: identity.id,
    version: cluster.desiredVersion,
    issued_at: new Date().toISOString(),
    heartbeat_seconds: AGENT_HEARTBEAT_SECONDS,
    workloads: [...workloads.values()].sort((a, b) => a.type.localeCompare(b.type)),
  };
}

export async function signedDesiredStateFor(tx: Tx, secret: string, principal: AgentPrincipal): Promise<SignedDesiredState> {
  const payload = await desiredStateFor(tx, principal);
  const ca = await loadActiveCa(tx, secret, principal.cluster.id);
  return signDesiredState(ca.privateKey, ca.row.fingerprint, payload);
}
