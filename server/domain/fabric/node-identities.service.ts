// Node identities: issued at approval (a certificate from the cluster's CA for the node's own key), rotated by the
// agent before its certificate expires (new key, proven with the current one), revoked by a platform owner — which
// takes effect on the node's very next request.
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { clusterCas, clusterMemberships, nodeIdentities, nodeRoleAssignments, nodes, nodeServiceInstances } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { appendAudit } from "../audit/audit-writer.service.ts";
import { issueNodeCertificate, loadActiveCa } from "./cluster-ca.service.ts";
import { keyFingerprint, publicKeyFromRaw } from "./agent-protocol.ts";
import { assertClusterAuthority, bumpDesiredVersion, clusterForWrite, type Actor, type ClusterRow, type PlatformAudit } from "./fabric-context.ts";

export type NodeIdentityRow = typeof nodeIdentities.$inferSelect;

/** Issues a certificate for `publicKeyRaw` and records the identity (the caller has checked the cluster's authority). */
export async function issueIdentity(tx: Tx, secret: string, cluster: ClusterRow, node: { id: string; name: string }, publicKeyRaw: string): Promise<NodeIdentityRow> {
  assertClusterAuthority(cluster, "issue certificates");
  publicKeyFromRaw(publicKeyRaw);
  const fingerprint = keyFingerprint(publicKeyRaw);
  const [taken] = await tx.select({ id: nodeIdentities.id }).from(nodeIdentities).where(eq(nodeIdentities.keyFingerprint, fingerprint));
  if (taken) throw new AppError("CONFLICT", "This public key already belongs to a node identity: every identity needs a key of its own", { key_fingerprint: fingerprint });
  const ca = await loadActiveCa(tx, secret, cluster.id);
  const cert = await issueNodeCertificate(ca, { nodeId: node.id, clusterId: cluster.id, nodeName: node.name, publicKeyRaw, ttlHours: cluster.certTtlHours });
  const [row] = await tx
    .insert(nodeIdentities)
    .values({
      nodeId: node.id,
      clusterId: cluster.id,
      caId: ca.row.id,
      publicKey: publicKeyRaw,
      keyFingerprint: fingerprint,
      certificatePem: cert.pem,
      certificateSerial: cert.serial,
      certificateNotBefore: cert.notBefore,
      certificateNotAfter: cert.notAfter,
    })
    .returning();
  return row!;
}

/** Whether the agent should rotate now: less than a third of the certificate's lifetime is left. */
export function rotationDue(identity: Pick<NodeIdentityRow, "certificateNotBefore" | "certificateNotAfter">, now = Date.now()): boolean {
  const start = identity.certificateNotBefore.getTime();
  const end = identity.certificateNotAfter.getTime();
  return now >= end - (end - start) / 3;
}

/**
 * Rotation, asked for by the agent with a request signed by its current key: a new certificate for a new key the
 * agent generated. The old identity is marked rotated; it keeps working only until the new one is first used (or the
 * grace period ends), so a lost response cannot strand the node.
 */
export async function rotateIdentity(tx: Tx, secret: string, current: { identity: NodeIdentityRow; node: { id: string; name: string } }, newPublicKeyRaw: string, ip: string | null): Promise<NodeIdentityRow> {
  if (current.identity.status !== "active") throw new AppError("CONFLICT", "Only the active identity can be rotated: this one was already replaced", { reason: "identity_rotated" });
  const cluster = await clusterForWrite(tx, current.identity.clusterId);
  const next = await issueIdentity(tx, secret, cluster, current.node, newPublicKeyRaw);
  await tx.update(nodeIdentities).set({ status: "rotated", rotatedAt: new Date(), replacedBy: next.id }).where(eq(nodeIdentities.id, current.identity.id));
  await appendAudit(tx, {
    tenantId: null,
    actor: `node:${current.node.id}`,
    actorType: "node",
    ip,
    targetType: "node_identity",
    targetId: next.id,
    action: "node_identity.rotate",
    outcome: "success",
    details: { node_id: current.node.id, cluster_id: cluster.id, previous_identity_id: current.identity.id, previous_serial: current.identity.certificateSerial, serial: next.certificateSerial, not_after: next.certificateNotAfter.toISOString() },
  });
  return next;
}

/** Rotation as the agent receives it: the new identity with its certificate and the CA that issued it. */
export async function rotateIdentityForAgent(tx: Tx, secret: string, current: { identity: NodeIdentityRow; node: { id: string; name: string } }, newPublicKeyRaw: string, ip: string | null) {
  const identity = await rotateIdentity(tx, secret, current, newPublicKeyRaw, ip);
  const [ca] = await tx.select().from(clusterCas).where(eq(clusterCas.id, identity.caId));
  return {
    identity_id: identity.id,
    certificate_pem: identity.certificatePem,
    certificate_serial: identity.certificateSerial,
    certificate_not_after: identity.certificateNotAfter.toISOString(),
    ca_certificate_pem: ca!.certificatePem,
    ca_fingerprint: ca!.fingerprint,
  };
}

/**
 * Revokes a node (high-risk): every identity it holds, its memberships, its role assignments and workloads. Its next
 * request is refused and its claims stop; jobs it held return to the queue when their lease runs out.
 */
export async function revokeNode(tx: Tx, nodeId: string, input: { reason: string }, actor: Actor, audit: PlatformAudit) {
  const [node] = await tx.select().from(nodes).where(and(eq(nodes.id, nodeId), eq(nodes.kind, "agent"))).for("update");
  if (!node) throw new AppError("NOT_FOUND", "No such enrolled node", { node_id: nodeId });
  const now = new Date();
  const revoked = await tx
    .update(nodeIdentities)
    .set({ status: "revoked", revokedAt: now, revokedBy: actor.actor, revokedReason: input.reason })
    .where(and(eq(nodeIdentities.nodeId, nodeId), inArray(nodeIdentities.status, ["active", "rotated"])))
    .returning({ id: nodeIdentities.id, clusterId: nodeIdentities.clusterId, serial: nodeIdentities.certificateSerial });
  const memberships = await tx
    .update(clusterMemberships)
    .set({ status: "revoked", statusChangedAt: now })
    .where(and(eq(clusterMemberships.nodeId, nodeId), sql`${clusterMemberships.status} <> 'revoked'`))
    .returning({ clusterId: clusterMemberships.clusterId });
  const roles = await tx
    .update(nodeRoleAssignments)
    .set({ status: "removed", removedAt: now, removedBy: actor.actor, removedReason: "node revoked" })
    .where(and(eq(nodeRoleAssignments.nodeId, nodeId), eq(nodeRoleAssignments.status, "active")))
    .returning({ id: nodeRoleAssignments.id, role: nodeRoleAssignments.role, tenantId: nodeRoleAssignments.tenantId });
  await tx.update(nodeServiceInstances).set({ desiredState: "stopped", desiredChangedAt: now, desiredChangedBy: actor.actor }).where(eq(nodeServiceInstances.nodeId, nodeId));
  await tx.update(nodes).set({ status: "revoked", stoppedAt: now, runningJobs: [] }).where(eq(nodes.id, nodeId));
  if (!revoked.length && !memberships.length) throw new AppError("CONFLICT", "This node is already revoked", { node_id: nodeId });
  for (const clusterId of new Set([...revoked.map((r) => r.clusterId), ...memberships.map((m) => m.clusterId)])) await bumpDesiredVersion(tx, clusterId);
  await audit(tx, {
    targetType: "node",
    targetId: nodeId,
    action: "node_identity.revoke",
    outcome: "success",
    details: { node_name: node.name, reason: input.reason, identities: revoked.map((r) => ({ id: r.id, serial: r.serial, cluster_id: r.clusterId })), roles_removed: roles },
  });
  return { node_id: nodeId, revoked_at: now.toISOString(), identities_revoked: revoked.length, roles_removed: roles.length };
}
