// Writes to clusters: create (with its own CA), change settings, mark the authority degraded/partitioned, recover it.
import { eq } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { clusters, type ClusterAuthorityState } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { createClusterCa } from "./cluster-ca.service.ts";
import { assertClusterAuthority, bumpDesiredVersion, type Actor, type ClusterRow, type PlatformAudit } from "./fabric-context.ts";

export interface CreateClusterInput {
  slug: string;
  name: string;
  description?: string;
  region?: string;
  cert_ttl_hours?: number;
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code === "23505" || e?.cause?.code === "23505";
}

export async function createCluster(tx: Tx, secret: string, input: CreateClusterInput, actor: Actor, audit: PlatformAudit): Promise<ClusterRow> {
  const [existing] = await tx.select({ id: clusters.id }).from(clusters).where(eq(clusters.slug, input.slug));
  if (existing) throw new AppError("CONFLICT", `A cluster with slug ${input.slug} already exists`, { cluster_id: existing.id });
  let cluster: ClusterRow;
  try {
    [cluster] = (await tx
      .insert(clusters)
      .values({ slug: input.slug, name: input.name, description: input.description ?? "", region: input.region ?? "", certTtlHours: input.cert_ttl_hours ?? 720, createdBy: actor.actor })
      .returning()) as [ClusterRow];
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError("CONFLICT", `A cluster with slug ${input.slug} already exists`);
    throw err;
  }
  const ca = await createClusterCa(tx, secret, cluster);
  await audit(tx, {
    targetType: "cluster",
    targetId: cluster.id,
    action: "cluster.create",
    outcome: "success",
    details: { slug: cluster.slug, name: cluster.name, region: cluster.region, cert_ttl_hours: cluster.certTtlHours, ca_fingerprint: ca.fingerprint, ca_not_after: ca.notAfter.toISOString() },
  });
  return cluster;
}

export interface UpdateClusterInput {
  name?: string;
  description?: string;
  region?: string;
  cert_ttl_hours?: number;
}

/** Labels change freely; the certificate lifetime is cluster policy and waits for a healthy authority. */
export async function updateCluster(tx: Tx, clusterId: string, input: UpdateClusterInput, audit: PlatformAudit): Promise<ClusterRow> {
  const [cluster] = await tx.select().from(clusters).where(eq(clusters.id, clusterId)).for("update");
  if (!cluster) throw new AppError("NOT_FOUND", "No such cluster", { cluster_id: clusterId });
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  const set: Partial<typeof clusters.$inferInsert> = {};
  for (const [field, column] of [["name", "name"], ["description", "description"], ["region", "region"], ["cert_ttl_hours", "certTtlHours"]] as const) {
    const value = input[field];
    if (value === undefined || value === cluster[column]) continue;
    changes[field] = { from: cluster[column], to: value };
    (set as Record<string, unknown>)[column] = value;
  }
  if (!Object.keys(changes).length) return cluster;
  if (changes.cert_ttl_hours) assertClusterAuthority(cluster, "change cluster policy");
  const [updated] = await tx.update(clusters).set({ ...set, updatedAt: new Date() }).where(eq(clusters.id, clusterId)).returning();
  await audit(tx, { targetType: "cluster", targetId: clusterId, action: "cluster.update", outcome: "success", details: { changes } });
  return updated!;
}

/** Marks a cluster degraded or partitioned (high-risk): from then on it refuses trust-changing writes. */
export async function setClusterAuthority(tx: Tx, clusterId: string, input: { state: Exclude<ClusterAuthorityState, "healthy">; reason: string }, actor: Actor, audit: PlatformAudit): Promise<ClusterRow> {
  return changeAuthority(tx, clusterId, input.state, input.reason, actor, audit, "cluster.authority_change");
}

/** A platform owner's recovery (high-risk): the cluster is healthy again and accepts approvals and changes. */
export async function recoverCluster(tx: Tx, clusterId: string, input: { reason: string }, actor: Actor, audit: PlatformAudit): Promise<ClusterRow> {
  const [cluster] = await tx.select().from(clusters).where(eq(clusters.id, clusterId));
  if (!cluster) throw new AppError("NOT_FOUND", "No such cluster", { cluster_id: clusterId });
  if (cluster.authorityState === "healthy") throw new AppError("CONFLICT", `Cluster ${cluster.slug} is already healthy: nothing to recover`);
  return changeAuthority(tx, clusterId, "healthy", input.reason, actor, audit, "cluster.recover");
}

async function changeAuthority(tx: Tx, clusterId: string, state: ClusterAuthorityState, reason: string, actor: Actor, audit: PlatformAudit, action: string): Promise<ClusterRow> {
  const [cluster] = await tx.select().from(clusters).where(eq(clusters.id, clusterId)).for("update");
  if (!cluster) throw new AppError("NOT_FOUND", "No such cluster", { cluster_id: clusterId });
  const [updated] = await tx
    .update(clusters)
    .set({ authorityState: state, authorityReason: state === "healthy" ? null : reason, authorityChangedAt: new Date(), authorityChangedBy: actor.actor, updatedAt: new Date() })
    .where(eq(clusters.id, clusterId))
    .returning();
  // Snapshots carry the authority state, so every node learns of it on its next poll.
  await bumpDesiredVersion(tx, clusterId);
  await audit(tx, { targetType: "cluster", targetId: clusterId, action, outcome: "success", details: { from: cluster.authorityState, to: state, reason } });
  return { ...updated!, desiredVersion: updated!.desiredVersion + 1 };
}
