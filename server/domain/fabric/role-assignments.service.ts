// Role assignments: the only thing that authorizes a node to run a workload, per cluster and optionally per
// organization. Assigned and removed by people (high-risk, audited), never by a node; each change moves the node's
// desired workload state and the cluster's snapshot version.
import { and, eq, ne } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { clusterMemberships, nodeCapabilities, nodeRoleAssignments, nodes, nodeServiceInstances, tenants } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { assertClusterAuthority, assertPersonActor, bumpDesiredVersion, clusterForWrite, type Actor, type PlatformAudit } from "./fabric-context.ts";
import { workloadRoles } from "./workload-catalog.ts";

export type RoleAssignmentRow = typeof nodeRoleAssignments.$inferSelect;

/** The cluster a node's role change is about: the one named, or the node's only active membership. */
async function membershipFor(tx: Tx, nodeId: string, clusterId: string | undefined) {
  const [node] = await tx.select().from(nodes).where(and(eq(nodes.id, nodeId), eq(nodes.kind, "agent")));
  if (!node) throw new AppError("NOT_FOUND", "No such enrolled node", { node_id: nodeId });
  const rows = await tx.select().from(clusterMemberships).where(and(eq(clusterMemberships.nodeId, nodeId), clusterId ? eq(clusterMemberships.clusterId, clusterId) : undefined));
  const active = rows.filter((m) => m.status === "active");
  if (clusterId && !rows.length) throw new AppError("CONFLICT", "This node is not a member of that cluster", { node_id: nodeId, cluster_id: clusterId });
  if (!active.length) throw new AppError("CONFLICT", `This node's membership is ${rows[0]?.status ?? "missing"}: roles go only to active members`, { node_id: nodeId });
  if (active.length > 1) throw new AppError("INVALID_INPUT", "cluster_id: this node belongs to several clusters; say which one");
  return { node, membership: active[0]! };
}

/** Desired state of one workload on one node: running while an active assignment exists and it is not paused. */
async function syncWorkload(tx: Tx, clusterId: string, nodeId: string, serviceType: string, actor: Actor): Promise<void> {
  const [assigned] = await tx
    .select({ id: nodeRoleAssignments.id })
    .from(nodeRoleAssignments)
    .where(and(eq(nodeRoleAssignments.clusterId, clusterId), eq(nodeRoleAssignments.nodeId, nodeId), eq(nodeRoleAssignments.role, serviceType), eq(nodeRoleAssignments.status, "active")))
    .limit(1);
  const [instance] = await tx
    .select()
    .from(nodeServiceInstances)
    .where(and(eq(nodeServiceInstances.clusterId, clusterId), eq(nodeServiceInstances.nodeId, nodeId), eq(nodeServiceInstances.serviceType, serviceType)));
  const desired = assigned && !instance?.paused ? "running" : "stopped";
  if (!instance) {
    if (!assigned) return;
    await tx.insert(nodeServiceInstances).values({ clusterId, nodeId, serviceType, desiredState: desired, desiredChangedBy: actor.actor });
  } else if (instance.desiredState !== desired) {
    await tx.update(nodeServiceInstances).set({ desiredState: desired, desiredChangedAt: new Date(), desiredChangedBy: actor.actor }).where(eq(nodeServiceInstances.id, instance.id));
  }
}

export interface AssignRoleInput {
  node_id: string;
  cluster_id?: string;
  role: string;
  tenant_id?: string | null;
  job_types?: string[];
}

export async function assignRole(tx: Tx, input: AssignRoleInput, actor: Actor, audit: PlatformAudit): Promise<RoleAssignmentRow> {
  assertPersonActor(actor, "assign a role");
  const role = workloadRoles[input.role];
  if (!role) throw new AppError("INVALID_INPUT", `role: unknown role ${input.role} (known: ${Object.keys(workloadRoles).join(", ")})`);
  const jobTypes = input.job_types?.length ? [...new Set(input.job_types)] : role.jobTypes;
  const foreign = jobTypes.filter((t) => !role.jobTypes.includes(t));
  if (foreign.length) throw new AppError("INVALID_INPUT", `job_types: ${foreign.join(", ")} ${foreign.length === 1 ? "is" : "are"} not run by ${role.role} (it runs ${role.jobTypes.join(", ")})`);
  const { node, membership } = await membershipFor(tx, input.node_id, input.cluster_id);
  const cluster = await clusterForWrite(tx, membership.clusterId);
  assertClusterAuthority(cluster, "change role assignments");
  if (input.tenant_id) {
    const [tenant] = await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, input.tenant_id));
    if (!tenant) throw new AppError("NOT_FOUND", "No such organization", { tenant_id: input.tenant_id });
  }
  // Capabilities bound what may be assigned; they never grant anything by themselves.
  const [capability] = await tx.select().from(nodeCapabilities).where(and(eq(nodeCapabilities.nodeId, node.id), eq(nodeCapabilities.name, role.capability)));
  if (!capability || capability.value === false || capability.value === null) {
    throw new AppError("CONFLICT", `Node ${node.name} does not report the capability ${role.capability} that ${role.role} needs`, { reason: "capability_missing", capability: role.capability });
  }
  const [row] = await tx
    .insert(nodeRoleAssignments)
    .values({ clusterId: cluster.id, nodeId: node.id, role: role.role, tenantId: input.tenant_id ?? null, jobTypes, assignedBy: actor.actor })
    .onConflictDoNothing()
    .returning();
  if (!row) throw new AppError("CONFLICT", `Node ${node.name} already holds ${role.role} for ${input.tenant_id ? "this organization" : "every organization"} in this cluster`);
  await syncWorkload(tx, cluster.id, node.id, role.role, actor);
  await bumpDesiredVersion(tx, cluster.id);
  await audit(tx, {
    targetType: "node",
    targetId: node.id,
    action: "node.role_assign",
    outcome: "success",
    details: { assignment_id: row.id, cluster_id: cluster.id, role: role.role, tenant_id: row.tenantId, job_types: jobTypes },
  });
  return row;
}

export async function removeRole(tx: Tx, input: { node_id: string; assignment_id: string; reason?: string }, actor: Actor, audit: PlatformAudit): Promise<RoleAssignmentRow> {
  assertPersonActor(actor, "remove a role");
  const [row] = await tx.select().from(nodeRoleAssignments).where(and(eq(nodeRoleAssignments.id, input.assignment_id), eq(nodeRoleAssignments.nodeId, input.node_id))).for("update");
  if (!row) throw new AppError("NOT_FOUND", "No such role assignment on this node", { assignment_id: input.assignment_id });
  if (row.status !== "active") throw new AppError("CONFLICT", "This role assignment was already removed");
  const cluster = await clusterForWrite(tx, row.clusterId);
  assertClusterAuthority(cluster, "change role assignments");
  const [updated] = await tx
    .update(nodeRoleAssignments)
    .set({ status: "removed", removedAt: new Date(), removedBy: actor.actor, removedReason: input.reason ?? null })
    .where(eq(nodeRoleAssignments.id, row.id))
    .returning();
  await syncWorkload(tx, row.clusterId, row.nodeId, row.role, actor);
  await bumpDesiredVersion(tx, row.clusterId);
  await audit(tx, { targetType: "node", targetId: row.nodeId, action: "node.role_remove", outcome: "success", details: { assignment_id: row.id, cluster_id: row.clusterId, role: row.role, tenant_id: row.tenantId, reason: input.reason ?? null } });
  return updated!;
}

/** Pauses or resumes a workload without touching its role (workload policy: waits for a healthy cluster too). */
export async function setWorkloadPaused(tx: Tx, input: { node_id: string; service_type: string; paused: boolean; cluster_id?: string }, actor: Actor, audit: PlatformAudit) {
  assertPersonActor(actor, "change its workloads");
  if (!workloadRoles[input.service_type]) throw new AppError("INVALID_INPUT", `service_type: unknown workload ${input.service_type}`);
  const { node, membership } = await membershipFor(tx, input.node_id, input.cluster_id);
  const cluster = await clusterForWrite(tx, membership.clusterId);
  assertClusterAuthority(cluster, "change cluster policy");
  const [instance] = await tx
    .select()
    .from(nodeServiceInstances)
    .where(and(eq(nodeServiceInstances.clusterId, cluster.id), eq(nodeServiceInstances.nodeId, node.id), eq(nodeServiceInstances.serviceType, input.service_type)));
  if (!instance) throw new AppError("NOT_FOUND", `Node ${node.name} has no ${input.service_type} workload: assign the role first`);
  if (instance.paused === input.paused) return instance;
  await tx.update(nodeServiceInstances).set({ paused: input.paused }).where(and(eq(nodeServiceInstances.id, instance.id), ne(nodeServiceInstances.paused, input.paused)));
  await syncWorkload(tx, cluster.id, node.id, input.service_type, actor);
  await bumpDesiredVersion(tx, cluster.id);
  await audit(tx, { targetType: "node", targetId: node.id, action: input.paused ? "node.workload_pause" : "node.workload_resume", outcome: "success", details: { cluster_id: cluster.id, service_type: input.service_type } });
  const [after] = await tx.select().from(nodeServiceInstances).where(eq(nodeServiceInstances.id, instance.id));
  return after!;
}
