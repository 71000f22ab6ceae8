// The fabric at a glance for platform owners (overview counts, role coverage gaps, workload health, risky states),
// the topology graph (clusters → groups → nodes → organizations served) for React Flow, and the one safe view an
// organization gets: the endpoints allowed to serve it, under aliases, with coarse status.
import { and, eq, gt, inArray, isNull, lt, sql } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import {
  clusterCas,
  clusterMemberships,
  clusters,
  nodeGroups,
  nodeIdentities,
  nodeJoinRequests,
  nodeJoinTokens,
  nodeRoleAssignments,
  nodes,
  nodeServiceInstances,
  tenants,
} from "../../../db/schema/index.ts";
import { healthByCluster } from "./clusters.presenter.ts";
import { fabricHealth, type FabricNodeHealth } from "./workload-catalog.ts";

interface Risk {
  kind: string;
  severity: "critical" | "warning" | "info";
  message: string;
  cluster_id?: string;
  node_id?: string;
  token_id?: string;
}

async function memberHealth(tx: Tx) {
  const rows = await tx
    .select({
      nodeId: nodes.id,
      name: nodes.name,
      clusterId: clusterMemberships.clusterId,
      membership: clusterMemberships.status,
      heartbeats: clusterMemberships.heartbeatCount,
      status: nodes.status,
      age: sql<number>`extract(epoch from now() - ${nodes.lastHeartbeatAt})::float`,
    })
    .from(clusterMemberships)
    .innerJoin(nodes, eq(nodes.id, clusterMemberships.nodeId));
  return rows.map((r) => ({ ...r, health: fabricHealth({ revoked: r.membership === "revoked" || r.status === "revoked", heartbeats: r.heartbeats, reportedStatus: r.status, ageSeconds: r.age }) }));
}

export async function fabricOverview(tx: Tx) {
  const allClusters = await tx.select().from(clusters);
  const health = await healthByCluster(
    tx,
    allClusters.map((c) => c.id),
  );
  const byHealth: Record<FabricNodeHealth, number> = { healthy: 0, degraded: 0, stale: 0, offline: 0, never_seen: 0, revoked: 0 };
  for (const counts of health.values()) for (const [k, v] of Object.entries(counts)) byHealth[k as FabricNodeHealth] += v;
  const [pending] = await tx.select({ n: sql<number>`count(*)::int` }).from(nodeJoinRequests).where(eq(nodeJoinRequests.status, "pending"));
  const members = await memberHealth(tx);
  const nodeHealth = new Map(members.map((m) => [`${m.clusterId}:${m.nodeId}`, m]));

  // Role coverage: every (cluster, role, organization) someone assigned, and how many of its holders are healthy.
  const assignments = await tx
    .select({ a: nodeRoleAssignments, tenantSlug: tenants.slug, clusterSlug: clusters.slug })
    .from(nodeRoleAssignments)
    .innerJoin(clusters, eq(clusters.id, nodeRoleAssignments.clusterId))
    .leftJoin(tenants, eq(tenants.id, nodeRoleAssignments.tenantId))
    .where(eq(nodeRoleAssignments.status, "active"));
  const coverage = new Map<string, { cluster_id: string; cluster_slug: string; role: string; tenant_id: string | null; tenant_slug: string | null; assigned_nodes: number; healthy_nodes: number }>();
  for (const { a, tenantSlug, clusterSlug } of assignments) {
    const key = `${a.clusterId}:${a.role}:${a.tenantId ?? "*"}`;
    const c = coverage.get(key) ?? { cluster_id: a.clusterId, cluster_slug: clusterSlug, role: a.role, tenant_id: a.tenantId, tenant_slug: tenantSlug, assigned_nodes: 0, healthy_nodes: 0 };
    c.assigned_nodes++;
    const h = nodeHealth.get(`${a.clusterId}:${a.nodeId}`)?.health;
    if (h === "healthy" || h === "degraded") c.healthy_nodes++;
    coverage.set(key, c);
  }

  const workloads = await tx.select().from(nodeServiceInstances);
  const inSync = (w: (typeof workloads)[number]) => w.reportedAt !== null && (w.desiredState === "running" ? ["running", "idle"].includes(w.reportedState) : ["stopped", "unknown"].includes(w.reportedState));

  const risks: Risk[] = [];
  for (const c of allClusters) {
    if (c.authorityState !== "healthy") risks.push({ kind: "cluster_authority", severity: "critical", message: `Cluster ${c.slug} is ${c.authorityState}${c.authorityReason ? ` (${c.authorityReason})` : ""}: approvals, certificates, role and policy changes are refused`, cluster_id: c.id });
  }
  for (const m of members) {
    if (m.health === "offline" || m.health === "stale" || m.health === "degraded") {
      risks.push({ kind: `node_${m.health}`, severity: m.health === "offline" ? "warning" : "info", message: `Node ${m.name} is ${m.health}`, cluster_id: m.clusterId, node_id: m.nodeId });
    }
  }
  const expiring = await tx
    .select({ nodeId: nodeIdentities.nodeId, clusterId: nodeIdentities.clusterId, notAfter: nodeIdentities.certificateNotAfter, name: nodes.name })
    .from(nodeIdentities)
    .innerJoin(nodes, eq(nodes.id, nodeIdentities.nodeId))
    .where(and(eq(nodeIdentities.status, "active"), lt(nodeIdentities.certificateNotAfter, sql`now() + interval '7 days'`)));
  for (const e of expiring) risks.push({ kind: "certificate_expiring", severity: "warning", message: `Node ${e.name}'s certificate expires at ${e.notAfter.toISOString()}`, cluster_id: e.clusterId, node_id: e.nodeId });
  const caExpiring = await tx.select().from(clusterCas).where(and(eq(clusterCas.status, "active"), lt(clusterCas.notAfter, sql`now() + interval '90 days'`)));
  for (const ca of caExpiring) risks.push({ kind: "ca_expiring", severity: "critical", message: `A cluster CA expires at ${ca.notAfter.toISOString()}`, cluster_id: ca.clusterId });
  const bootstrap = await tx
    .select()
    .from(nodeJoinTokens)
    .where(and(eq(nodeJoinTokens.scope, "bootstrap"), isNull(nodeJoinTokens.revokedAt), gt(nodeJoinTokens.expiresAt, sql`now()`), sql`${nodeJoinTokens.usedCount} < ${nodeJoinTokens.maxUses}`));
  for (const t of bootstrap) risks.push({ kind: "bootstrap_token_active", severity: "warning", message: `Bootstrap token ${t.id} approves nodes without review until ${t.expiresAt.toISOString()}`, cluster_id: t.clusterId, token_id: t.id });
  for (const { a, clusterSlug } of assignments.filter((x) => !x.a.tenantId)) {
    risks.push({ kind: "role_serves_every_organization", severity: "info", message: `A ${a.role} role in cluster ${clusterSlug} serves every organization`, cluster_id: a.clusterId, node_id: a.nodeId });
  }
  for (const w of workloads.filter((x) => x.reportedState === "failed")) risks.push({ kind: "workload_failed", severity: "warning", message: `Workload ${w.serviceType} reports failed`, cluster_id: w.clusterId, node_id: w.nodeId });

  const authority = { healthy: 0, degraded: 0, partitioned: 0 };
  for (const c of allClusters) authority[c.authorityState]++;
  return {
    clusters: { total: allClusters.length, by_authority: authority },
    nodes: { total: Object.values(byHealth).reduce((a, b) => a + b, 0), by_health: byHealth },
    pending_join_requests: pending?.n ?? 0,
    role_coverage: [...coverage.values()],
    role_coverage_gaps: [...coverage.values()].filter((c) => c.healthy_nodes === 0),
    workloads: {
      total: workloads.length,
      in_sync: workloads.filter(inSync).length,
      out_of_sync: workloads.filter((w) => !inSync(w)).length,
      failed: workloads.filter((w) => w.reportedState === "failed").length,
    },
    risky_states: risks,
  };
}

/** The fabric as a graph for React Flow: clusters, their groups, their nodes, and the organizations nodes serve. */
export async function fabricTopology(tx: Tx, opts: { cluster_id?: string }) {
  const cs = await tx.select().from(clusters).where(opts.cluster_id ? eq(clusters.id, opts.cluster_id) : undefined);
  const ids = cs.map((c) => c.id);
  if (!ids.length) return { nodes: [], edges: [] };
  const groups = await tx.select().from(nodeGroups).where(inArray(nodeGroups.clusterId, ids));
  const members = (await memberHealth(tx)).filter((m) => ids.includes(m.clusterId));
  const memberships = await tx.select().from(clusterMemberships).where(inArray(clusterMemberships.clusterId, ids));
  const roles = await tx
    .select({ a: nodeRoleAssignments, tenantSlug: tenants.slug })
    .from(nodeRoleAssignments)
    .leftJoin(tenants, eq(tenants.id, nodeRoleAssignments.tenantId))
    .where(and(inArray(nodeRoleAssignments.clusterId, ids), eq(nodeRoleAssignments.status, "active")));
  const graphNodes: { id: string; type: "cluster" | "group" | "node" | "tenant"; label: string; data: Record<string, unknown> }[] = [];
  const edges: { id: string; source: string; target: string; kind: "group_of" | "member_of" | "serves" }[] = [];
  for (const c of cs) graphNodes.push({ id: `cluster:${c.id}`, type: "cluster", label: c.name, data: { cluster_id: c.id, slug: c.slug, authority_state: c.authorityState } });
  for (const g of groups) {
    graphNodes.push({ id: `group:${g.id}`, type: "group", label: g.name, data: { group_id: g.id, cluster_id: g.clusterId } });
    const parent = g.parentId ? `group:${g.parentId}` : `cluster:${g.clusterId}`;
    edges.push({ id: `e:${parent}->group:${g.id}`, source: parent, target: `group:${g.id}`, kind: "group_of" });
  }
  for (const m of members) {
    const id = `node:${m.nodeId}`;
    if (!graphNodes.some((n) => n.id === id)) graphNodes.push({ id, type: "node", label: m.name, data: { node_id: m.nodeId, health: m.health } });
    const ms = memberships.find((x) => x.nodeId === m.nodeId && x.clusterId === m.clusterId);
    const parent = ms?.groupId ? `group:${ms.groupId}` : `cluster:${m.clusterId}`;
    edges.push({ id: `e:${parent}->${id}`, source: parent, target: id, kind: "member_of" });
  }
  for (const { a, tenantSlug } of roles) {
    const tenantNode = a.tenantId ? `tenant:${a.tenantId}` : "tenant:*";
    if (!graphNodes.some((n) => n.id === tenantNode)) graphNodes.push({ id: tenantNode, type: "tenant", label: a.tenantId ? (tenantSlug ?? a.tenantId) : "every organization", data: { tenant_id: a.tenantId } });
    edges.push({ id: `e:node:${a.nodeId}->${tenantNode}:${a.role}`, source: `node:${a.nodeId}`, target: tenantNode, kind: "serves" });
  }
  return { nodes: graphNodes, edges };
}

/** What an organization may see (through the SECURITY DEFINER view, in its own tenant transaction). */
export async function tenantFabricStatus(tx: Tx) {
  const rows = await tx.execute<{ endpoint: string; workload: string; shared: boolean; status: string; workload_state: string; last_seen_at: Date | string | null }>(
    sql`select endpoint, workload, shared, status, workload_state, last_seen_at from cairn_fabric_tenant_endpoints() order by workload, endpoint`,
  );
  const endpoints = rows.map((r) => ({
    endpoint: r.endpoint,
    workload: r.workload,
    shared: r.shared,
    status: r.status as "healthy" | "degraded" | "offline" | "unavailable",
    workload_state: r.workload_state,
    last_seen_at: r.last_seen_at ? new Date(r.last_seen_at).toISOString() : null,
  }));
  return { served_by_fabric: endpoints.some((e) => !e.shared), endpoints };
}
