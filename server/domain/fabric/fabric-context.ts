// What fabric services are handed by their callers: who acts, how to audit in the caller's transaction, and the
// cluster authority guard every trust-changing write goes through.
import { eq, sql } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { clusters } from "../../../db/schema/index.ts";
import type { ActorType, AuditInput } from "../audit/audit-writer.service.ts";
import { AppError } from "../../errors.ts";

/** Appends a platform-chain audit event in the caller's transaction (ctx.auditIn of a platform procedure). */
export type PlatformAudit = (tx: Tx, event: Omit<AuditInput, "tenantId" | "actor" | "actorType" | "requestId" | "ip">) => Promise<unknown>;

export interface Actor {
  actor: string;
  actorType: ActorType;
}

export type ClusterRow = typeof clusters.$inferSelect;

export type AuthorityAction = "approve join requests" | "issue certificates" | "change role assignments" | "change cluster policy";

/**
 * In a degraded or partitioned cluster, approvals, certificate issuance, role and policy changes wait until a
 * platform owner recovers it: a cut-off part of the fabric must not add nodes or change who may do what.
 */
export function assertClusterAuthority(cluster: Pick<ClusterRow, "id" | "slug" | "authorityState" | "authorityReason">, action: AuthorityAction): void {
  if (cluster.authorityState === "healthy") return;
  throw new AppError(
    "CONFLICT",
    `Cluster ${cluster.slug} is ${cluster.authorityState}${cluster.authorityReason ? ` (${cluster.authorityReason})` : ""}: it refuses to ${action} until a platform owner recovers it`,
    { reason: "cluster_authority", authority_state: cluster.authorityState, cluster_id: cluster.id },
  );
}

/** The cluster row, share-locked so an authority change cannot slip between the check and the write. */
export async function clusterForWrite(tx: Tx, clusterId: string): Promise<ClusterRow> {
  const [cluster] = await tx.select().from(clusters).where(eq(clusters.id, clusterId)).for("share");
  if (!cluster) throw new AppError("NOT_FOUND", "No such cluster", { cluster_id: clusterId });
  return cluster;
}

/** Every change that alters some node's desired state moves the cluster's snapshot version on. */
export async function bumpDesiredVersion(tx: Tx, clusterId: string): Promise<number> {
  const [row] = await tx
    .update(clusters)
    .set({ desiredVersion: sql`${clusters.desiredVersion} + 1`, updatedAt: new Date() })
    .where(eq(clusters.id, clusterId))
    .returning({ v: clusters.desiredVersion });
  return row?.v ?? 0;
}

/** People (sessions, API keys, break-glass) assign roles and approve nodes; a node never does, for itself or others. */
export function assertPersonActor(actor: Actor, what: string): void {
  if (actor.actorType === "node" || actor.actor.startsWith("node:")) {
    throw new AppError("FORBIDDEN", `A node can never ${what}: only a platform owner can`, { reason: "node_self_service" });
  }
}
