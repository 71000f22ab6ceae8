// Node groups: cluster-scoped folders (sites, regions, rings) that organize nodes for people. Inventory only: a group
// never authorizes anything, so group changes do not wait for a healthy cluster authority.
import { and, eq } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { clusterMemberships, clusters, nodeGroups } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import type { Actor, PlatformAudit } from "./fabric-context.ts";

export type NodeGroupRow = typeof nodeGroups.$inferSelect;

const MAX_DEPTH = 8;

async function groupIn(tx: Tx, clusterId: string, groupId: string): Promise<NodeGroupRow> {
  const [g] = await tx.select().from(nodeGroups).where(and(eq(nodeGroups.id, groupId), eq(nodeGroups.clusterId, clusterId)));
  if (!g) throw new AppError("NOT_FOUND", "No such node group in this cluster", { group_id: groupId });
  return g;
}

async function depthOf(tx: Tx, group: NodeGroupRow): Promise<number> {
  let depth = 1;
  let parent = group.parentId;
  while (parent && depth <= MAX_DEPTH) {
    const [p] = await tx.select({ parentId: nodeGroups.parentId }).from(nodeGroups).where(eq(nodeGroups.id, parent));
    parent = p?.parentId ?? null;
    depth++;
  }
  return depth;
}

function nameTaken(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code === "23505" || e?.cause?.code === "23505";
}

export async function createNodeGroup(tx: Tx, input: { cluster_id: string; name: string; parent_id?: string | null; description?: string }, actor: Actor, audit: PlatformAudit): Promise<NodeGroupRow> {
  const [cluster] = await tx.select({ id: clusters.id }).from(clusters).where(eq(clusters.id, input.cluster_id));
  if (!cluster) throw new AppError("NOT_FOUND", "No such cluster", { cluster_id: input.cluster_id });
  if (input.parent_id) {
    const parent = await groupIn(tx, input.cluster_id, input.parent_id);
    if ((await depthOf(tx, parent)) >= MAX_DEPTH) throw new AppError("INVALID_INPUT", `parent_id: groups nest at most ${MAX_DEPTH} levels deep`);
  }
  try {
    const [row] = await tx.insert(nodeGroups).values({ clusterId: input.cluster_id, parentId: input.parent_id ?? null, name: input.name, description: input.description ?? "", createdBy: actor.actor }).returning();
    await audit(tx, { targetType: "node_group", targetId: row!.id, action: "node_group.create", outcome: "success", details: { cluster_id: input.cluster_id, name: input.name, parent_id: input.parent_id ?? null } });
    return row!;
  } catch (err) {
    if (nameTaken(err)) throw new AppError("CONFLICT", `A group named ${input.name} already exists there`);
    throw err;
  }
}

export async function updateNodeGroup(tx: Tx, input: { group_id: string; name?: string; description?: string }, audit: PlatformAudit): Promise<NodeGroupRow> {
  const [g] = await tx.select().from(nodeGroups).where(eq(nodeGroups.id, input.group_id)).for("update");
  if (!g) throw new AppError("NOT_FOUND", "No such node group", { group_id: input.group_id });
  try {
    const [row] = await tx
      .update(nodeGroups)
      .set({ name: input.name ?? g.name, description: input.description ?? g.description, updatedAt: new Date() })
      .where(eq(nodeGroups.id, g.id))
      .returning();
    await audit(tx, { targetType: "node_group", targetId: g.id, action: "node_group.update", outcome: "success", details: { from: { name: g.name, description: g.description }, to: { name: row!.name, description: row!.description } } });
    return row!;
  } catch (err) {
    if (nameTaken(err)) throw new AppError("CONFLICT", `A group named ${input.name} already exists there`);
    throw err;
  }
}

/** Deletes an empty-of-children group; its nodes fall back to no group. */
export async function deleteNodeGroup(tx: Tx, groupId: string, audit: PlatformAudit): Promise<{ group_id: string; nodes_ungrouped: number }> {
  const [g] = await tx.select().from(nodeGroups).where(eq(nodeGroups.id, groupId)).for("update");
  if (!g) throw new AppError("NOT_FOUND", "No such node group", { group_id: groupId });
  const [child] = await tx.select({ id: nodeGroups.id }).from(nodeGroups).where(eq(nodeGroups.parentId, groupId)).limit(1);
  if (child) throw new AppError("CONFLICT", "This group has child groups: move or delete them first");
  const moved = await tx.update(clusterMemberships).set({ groupId: null }).where(eq(clusterMemberships.groupId, groupId)).returning({ nodeId: clusterMemberships.nodeId });
  await tx.delete(nodeGroups).where(eq(nodeGroups.id, groupId));
  await audit(tx, { targetType: "node_group", targetId: groupId, action: "node_group.delete", outcome: "success", details: { cluster_id: g.clusterId, name: g.name, nodes_ungrouped: moved.length } });
  return { group_id: groupId, nodes_ungrouped: moved.length };
}

/** Puts a node's membership of a cluster into a group of that cluster (or none). */
export async function setNodeGroup(tx: Tx, input: { node_id: string; cluster_id: string; group_id: string | null }, audit: PlatformAudit) {
  const [m] = await tx.select().from(clusterMemberships).where(and(eq(clusterMemberships.nodeId, input.node_id), eq(clusterMemberships.clusterId, input.cluster_id))).for("update");
  if (!m) throw new AppError("NOT_FOUND", "This node is not a member of that cluster", { node_id: input.node_id, cluster_id: input.cluster_id });
  if (input.group_id) await groupIn(tx, input.cluster_id, input.group_id);
  if (m.groupId === input.group_id) return { node_id: input.node_id, cluster_id: input.cluster_id, group_id: input.group_id };
  await tx
    .update(clusterMemberships)
    .set({ groupId: input.group_id })
    .where(and(eq(clusterMemberships.nodeId, input.node_id), eq(clusterMemberships.clusterId, input.cluster_id)));
  await audit(tx, { targetType: "node", targetId: input.node_id, action: "node.group_set", outcome: "success", details: { cluster_id: input.cluster_id, from: m.groupId, to: input.group_id } });
  return { node_id: input.node_id, cluster_id: input.cluster_id, group_id: input.group_id };
}
