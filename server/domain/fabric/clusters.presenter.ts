// Clusters as platform owners see them: settings, authority state, their CA, node health counts, pending requests;
// and each cluster's trust material (public certificates only — no private key ever leaves the CA table).
import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { clusterCas, clusterMemberships, clusters, nodeGroups, nodeIdentities, nodeJoinRequests, nodes } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { fabricHealth, type FabricNodeHealth } from "./workload-catalog.ts";

const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;

export type HealthCounts = Record<FabricNodeHealth, number>;
const emptyCounts = (): HealthCounts => ({ healthy: 0, degraded: 0, stale: 0, offline: 0, never_seen: 0, revoked: 0 });

/** Health of every member node of the given clusters, counted per cluster. */
export async function healthByCluster(tx: Tx, clusterIds: string[]): Promise<Map<string, HealthCounts>> {
  const out = new Map<string, HealthCounts>(clusterIds.map((id) => [id, emptyCounts()]));
  if (!clusterIds.length) return out;
  const rows = await tx
    .select({
      clusterId: clusterMemberships.clusterId,
      membership: clusterMemberships.status,
      heartbeats: clusterMemberships.heartbeatCount,
      status: nodes.status,
      age: sql<number>`extract(epoch from now() - ${nodes.lastHeartbeatAt})::float`,
    })
    .from(clusterMemberships)
    .innerJoin(nodes, eq(nodes.id, clusterMemberships.nodeId))
    .where(inArray(clusterMemberships.clusterId, clusterIds));
  for (const r of rows) {
    const h = fabricHealth({ revoked: r.membership === "revoked" || r.status === "revoked", heartbeats: r.heartbeats, reportedStatus: r.status, ageSeconds: r.age });
    out.get(r.clusterId)![h]++;
  }
  return out;
}

type ClusterRow = typeof clusters.$inferSelect;
type CaRow = typeof clusterCas.$inferSelect;

function presentCluster(c: ClusterRow, ca: CaRow | undefined, health: HealthCounts, pending: number) {
  return {
    cluster_id: c.id,
    slug: c.slug,
    name: c.name,
    description: c.description,
    region: c.region,
    authority_state: c.authorityState,
    authority_reason: c.authorityReason,
    authority_changed_at: iso(c.authorityChangedAt),
    authority_changed_by: c.authorityChangedBy,
    cert_ttl_hours: c.certTtlHours,
    desired_version: c.desiredVersion,
    ca: ca ? { fingerprint: ca.fingerprint, serial: ca.serial, not_before: ca.notBefore.toISOString(), not_after: ca.notAfter.toISOString() } : null,
    nodes: { total: Object.values(health).reduce((a, b) => a + b, 0), by_health: health },
    pending_join_requests: pending,
    created_by: c.createdBy,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

export type ClusterView = ReturnType<typeof presentCluster>;

async function present(tx: Tx, rows: ClusterRow[]): Promise<ClusterView[]> {
  const ids = rows.map((c) => c.id);
  if (!ids.length) return [];
  const cas = await tx.select().from(clusterCas).where(and(inArray(clusterCas.clusterId, ids), eq(clusterCas.status, "active")));
  const pending = await tx
    .select({ clusterId: nodeJoinRequests.clusterId, n: sql<number>`count(*)::int` })
    .from(nodeJoinRequests)
    .where(and(inArray(nodeJoinRequests.clusterId, ids), eq(nodeJoinRequests.status, "pending")))
    .groupBy(nodeJoinRequests.clusterId);
  const health = await healthByCluster(tx, ids);
  return rows.map((c) =>
    presentCluster(
      c,
      cas.find((x) => x.clusterId === c.id),
      health.get(c.id)!,
      pending.find((p) => p.clusterId === c.id)?.n ?? 0,
    ),
  );
}

/** Every cluster (a platform has few), by name. */
export async function listClusters(tx: Tx): Promise<ClusterView[]> {
  return present(tx, await tx.select().from(clusters).orderBy(asc(clusters.name), asc(clusters.id)));
}

export async function getCluster(tx: Tx, clusterId: string): Promise<ClusterView> {
  const [c] = await tx.select().from(clusters).where(eq(clusters.id, clusterId));
  if (!c) throw new AppError("NOT_FOUND", "No such cluster", { cluster_id: clusterId });
  return (await present(tx, [c]))[0]!;
}

/** The cluster's CA certificate and every node certificate it issued (public material only). */
export async function clusterTrust(tx: Tx, clusterId: string) {
  const [c] = await tx.select().from(clusters).where(eq(clusters.id, clusterId));
  if (!c) throw new AppError("NOT_FOUND", "No such cluster", { cluster_id: clusterId });
  const cas = await tx.select().from(clusterCas).where(eq(clusterCas.clusterId, clusterId)).orderBy(desc(clusterCas.createdAt));
  const certs = await tx
    .select({ identity: nodeIdentities, nodeName: nodes.name })
    .from(nodeIdentities)
    .innerJoin(nodes, eq(nodes.id, nodeIdentities.nodeId))
    .where(eq(nodeIdentities.clusterId, clusterId))
    .orderBy(desc(nodeIdentities.issuedAt))
    .limit(500);
  const soon = Date.now() + 7 * 86_400_000;
  return {
    cluster_id: c.id,
    authority_state: c.authorityState,
    cas: cas.map((ca) => ({
      ca_id: ca.id,
      status: ca.status,
      fingerprint: ca.fingerprint,
      serial: ca.serial,
      not_before: ca.notBefore.toISOString(),
      not_after: ca.notAfter.toISOString(),
      certificate_pem: ca.certificatePem,
    })),
    certificates: certs.map(({ identity: i, nodeName }) => ({
      identity_id: i.id,
      node_id: i.nodeId,
      node_name: nodeName,
      status: i.status,
      serial: i.certificateSerial,
      key_fingerprint: i.keyFingerprint,
      not_before: i.certificateNotBefore.toISOString(),
      not_after: i.certificateNotAfter.toISOString(),
      expires_soon: i.status === "active" && i.certificateNotAfter.getTime() < soon,
      issued_at: i.issuedAt.toISOString(),
      rotated_at: iso(i.rotatedAt),
      revoked_at: iso(i.revokedAt),
      revoked_reason: i.revokedReason,
    })),
  };
}

/** A cluster's node groups (a flat list with parent ids; the UI builds the tree), with member counts. */
export async function listNodeGroups(tx: Tx, clusterId: string) {
  const [c] = await tx.select({ id: clusters.id }).from(clusters).where(eq(clusters.id, clusterId));
  if (!c) throw new AppError("NOT_FOUND", "No such cluster", { cluster_id: clusterId });
  const groups = await tx.select().from(nodeGroups).where(eq(nodeGroups.clusterId, clusterId)).orderBy(asc(nodeGroups.name));
  const counts = await tx
    .select({ groupId: clusterMemberships.groupId, n: sql<number>`count(*)::int` })
    .from(clusterMemberships)
    .where(and(eq(clusterMemberships.clusterId, clusterId), sql`${clusterMemberships.groupId} is not null`))
    .groupBy(clusterMemberships.groupId);
  return groups.map((g) => ({
    group_id: g.id,
    cluster_id: g.clusterId,
    parent_id: g.parentId,
    name: g.name,
    description: g.description,
    nodes: counts.find((x) => x.groupId === g.id)?.n ?? 0,
    created_by: g.createdBy,
    created_at: g.createdAt.toISOString(),
  }));
}
