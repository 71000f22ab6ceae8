// The join flow: an agent redeems a join token with its public key (the request itself is signed with the matching
// private key: proof of possession); the control plane checks the token and any binding and opens a pending request;
// a platform owner approves (high-risk; several at once with one step-up) or rejects. Approval creates the node, its
// membership and its identity with a certificate from the cluster's CA. Only explicitly scoped bootstrap tokens
// approve on redemption.
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { clusterCas, clusterMemberships, clusters, nodeCapabilities, nodeIdentities, nodeJoinRequests, nodeJoinTokens, nodes, type JoinVerified } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { appendAudit } from "../audit/audit-writer.service.ts";
import { secretMatches } from "../auth/tokens.ts";
import { keyFingerprint, parseJoinToken } from "./agent-protocol.ts";
import { assertClusterAuthority, assertPersonActor, clusterForWrite, type Actor, type PlatformAudit } from "./fabric-context.ts";
import { issueIdentity, type NodeIdentityRow } from "./node-identities.service.ts";

export type JoinRequestRow = typeof nodeJoinRequests.$inferSelect;

export interface JoinBody {
  token: string;
  /** The cluster the operator expects to join (slug or id); a token of another cluster is refused. */
  cluster?: string | null;
  node_name: string;
  hostname: string;
  machine_id?: string | null;
  facts: Record<string, unknown>;
  capabilities: Record<string, unknown>;
  requested_roles?: string[];
  agent_version: string;
  public_key: string;
}

/** A refusal that is audited (as denied) by the caller, outside the rolled-back transaction. */
export class JoinRefused extends AppError {
  constructor(
    code: "UNAUTHENTICATED" | "FORBIDDEN" | "CONFLICT" | "INVALID_INPUT",
    message: string,
    readonly reason: string,
    readonly tokenId: string | null,
  ) {
    super(code, message, { reason });
  }
}

/** Opens a join request (the request's signature was already verified against body.public_key by the caller). */
export async function openJoinRequest(tx: Tx, secret: string, body: JoinBody, sourceIp: string | null): Promise<{ request: JoinRequestRow; cluster: typeof clusters.$inferSelect; identity: NodeIdentityRow | null; duplicate: boolean }> {
  const parsed = parseJoinToken(body.token);
  if (!parsed) throw new JoinRefused("INVALID_INPUT", "token: not a join token (expected id.secret: 6 and 32 characters of a-z and 0-9)", "malformed", null);
  const [token] = await tx.select().from(nodeJoinTokens).where(eq(nodeJoinTokens.id, parsed.id)).for("update");
  // Unknown id and wrong secret read alike: nothing tells a guesser which part was wrong.
  if (!token || !secretMatches(parsed.secret, token.secretHash)) throw new JoinRefused("UNAUTHENTICATED", "Join token not recognised", "token_unknown", token ? token.id : null);
  if (token.revokedAt) throw new JoinRefused("UNAUTHENTICATED", "This join token was revoked: ask a platform owner for a new one", "token_revoked", token.id);
  if (token.expiresAt.getTime() <= Date.now()) throw new JoinRefused("UNAUTHENTICATED", `This join token expired at ${token.expiresAt.toISOString()}: ask a platform owner for a new one`, "token_expired", token.id);
  const [cluster] = await tx.select().from(clusters).where(eq(clusters.id, token.clusterId));
  if (!cluster) throw new JoinRefused("UNAUTHENTICATED", "Join token not recognised", "token_unknown", token.id);
  if (body.cluster && body.cluster !== cluster.id && body.cluster !== cluster.slug) {
    throw new JoinRefused("FORBIDDEN", `This join token belongs to a different cluster than ${body.cluster}`, "wrong_cluster", token.id);
  }
  const fingerprint = keyFingerprint(body.public_key);
  const mismatched: string[] = [];
  if (token.bindHostname && token.bindHostname.toLowerCase() !== body.hostname.toLowerCase()) mismatched.push("hostname");
  if (token.bindMachineId && token.bindMachineId !== (body.machine_id ?? "")) mismatched.push("machine id");
  if (token.bindKeyFingerprint && token.bindKeyFingerprint !== fingerprint) mismatched.push("key fingerprint");
  if (mismatched.length) throw new JoinRefused("FORBIDDEN", `This join token is bound to another machine: the ${mismatched.join(" and ")} do not match`, "binding_mismatch", token.id);

  // The same key asking again (a retry after a lost response) gets its own pending request back, without a use.
  const [pending] = await tx.select().from(nodeJoinRequests).where(and(eq(nodeJoinRequests.keyFingerprint, fingerprint), eq(nodeJoinRequests.status, "pending")));
  if (pending) {
    if (pending.tokenId !== token.id) throw new JoinRefused("CONFLICT", "This key already has a pending join request made with another token", "duplicate_key", token.id);
    return { request: pending, cluster, identity: null, duplicate: true };
  }
  if (token.usedCount >= token.maxUses) throw new JoinRefused("UNAUTHENTICATED", `This join token has been used up (max_uses ${token.maxUses}): ask a platform owner for a new one`, "token_exhausted", token.id);
  await tx.update(nodeJoinTokens).set({ usedCount: sql`${nodeJoinTokens.usedCount} + 1`, lastUsedAt: new Date() }).where(eq(nodeJoinTokens.id, token.id));

  const verified: JoinVerified = {
    token_matched: true,
    token_id: token.id,
    token_scope: token.scope,
    proof_of_possession: true,
    key_fingerprint: fingerprint,
    binding: {
      hostname: token.bindHostname ? "matched" : "not_bound",
      machine_id: token.bindMachineId ? "matched" : "not_bound",
      key_fingerprint: token.bindKeyFingerprint ? "matched" : "not_bound",
    },
    source_address: sourceIp,
    expected_cluster: body.cluster ? "matched" : "not_given",
  };
  let request: JoinRequestRow;
  try {
    [request] = (await tx
      .insert(nodeJoinRequests)
      .values({
        clusterId: cluster.id,
        tokenId: token.id,
        nodeName: body.node_name,
        hostname: body.hostname,
        machineId: body.machine_id ?? null,
        facts: body.facts,
        capabilities: body.capabilities,
        requestedRoles: body.requested_roles ?? [],
        agentVersion: body.agent_version,
        publicKey: body.public_key,
        keyFingerprint: fingerprint,
        sourceIp,
        verified,
      })
      .returning()) as [JoinRequestRow];
  } catch (err) {
    if ((err as { code?: string }).code === "23505" || (err as { cause?: { code?: string } }).cause?.code === "23505") {
      throw new JoinRefused("CONFLICT", "This key already has a pending join request", "duplicate_key", token.id);
    }
    throw err;
  }
  await appendAudit(tx, {
    tenantId: null,
    actor: `join-key:${fingerprint.slice(0, 16)}`,
    actorType: "node",
    ip: sourceIp,
    targetType: "join_request",
    targetId: request.id,
    action: "join_request.create",
    outcome: "success",
    details: { cluster_id: cluster.id, token_id: token.id, token_scope: token.scope, node_name: body.node_name, hostname: body.hostname, key_fingerprint: fingerprint },
  });

  // Bootstrap tokens are the one explicit exception to manual review — and still wait while the cluster is unhealthy.
  let identity: NodeIdentityRow | null = null;
  if (token.scope === "bootstrap" && cluster.authorityState === "healthy") {
    const system: Actor = { actor: `join_token:${token.id}`, actorType: "system" };
    const done = await approveOne(tx, secret, request, system, (t, e) => appendAudit(t, { tenantId: null, actor: system.actor, actorType: system.actorType, ip: sourceIp, ...e }), { autoApproved: true });
    request = done.request;
    identity = done.identity;
  }
  return { request, cluster, identity, duplicate: false };
}

async function uniqueNodeName(tx: Tx, wanted: string): Promise<string> {
  const [taken] = await tx.select({ id: nodes.id }).from(nodes).where(eq(nodes.name, wanted));
  if (!taken) return wanted;
  for (let i = 2; i < 1000; i++) {
    const candidate = `${wanted}-${i}`;
    const [t] = await tx.select({ id: nodes.id }).from(nodes).where(eq(nodes.name, candidate));
    if (!t) return candidate;
  }
  throw new AppError("CONFLICT", `Too many nodes are named ${wanted}`);
}

async function approveOne(tx: Tx, secret: string, request: JoinRequestRow, actor: Actor, audit: PlatformAudit, opts: { autoApproved?: boolean } = {}) {
  const cluster = await clusterForWrite(tx, request.clusterId);
  assertClusterAuthority(cluster, "approve join requests");
  const name = await uniqueNodeName(tx, request.nodeName);
  const [node] = await tx
    .insert(nodes)
    .values({ kind: "agent", name, hostname: request.hostname, pid: null, version: request.agentVersion, status: "enrolled", capabilities: request.capabilities, runningJobs: [] })
    .returning();
  await tx.insert(clusterMemberships).values({ clusterId: cluster.id, nodeId: node!.id, status: "active" });
  // What the node claimed at enrollment stands as its reported capabilities until its first heartbeat.
  const caps = Object.entries(request.capabilities);
  if (caps.length) await tx.insert(nodeCapabilities).values(caps.map(([capName, value]) => ({ nodeId: node!.id, name: capName, value: value ?? null, reportedAt: request.createdAt })));
  const identity = await issueIdentity(tx, secret, cluster, node!, request.publicKey);
  const [updated] = await tx
    .update(nodeJoinRequests)
    .set({ status: "approved", autoApproved: opts.autoApproved ?? false, reviewedBy: actor.actor, reviewedAt: new Date(), nodeId: node!.id, identityId: identity.id })
    .where(eq(nodeJoinRequests.id, request.id))
    .returning();
  await audit(tx, {
    targetType: "join_request",
    targetId: request.id,
    action: "join_request.approve",
    outcome: "success",
    details: { cluster_id: cluster.id, node_id: node!.id, node_name: name, key_fingerprint: request.keyFingerprint, auto_approved: opts.autoApproved ?? false },
  });
  await audit(tx, {
    targetType: "node_identity",
    targetId: identity.id,
    action: "node_identity.issue",
    outcome: "success",
    details: { cluster_id: cluster.id, node_id: node!.id, serial: identity.certificateSerial, not_after: identity.certificateNotAfter.toISOString(), key_fingerprint: identity.keyFingerprint },
  });
  return { request: updated!, identity, node: node! };
}

async function pendingForReview(tx: Tx, ids: string[]): Promise<JoinRequestRow[]> {
  const unique = [...new Set(ids)];
  const rows = await tx.select().from(nodeJoinRequests).where(inArray(nodeJoinRequests.id, unique)).orderBy(nodeJoinRequests.createdAt).for("update");
  const missing = unique.filter((id) => !rows.some((r) => r.id === id));
  if (missing.length) throw new AppError("NOT_FOUND", `No such join request: ${missing.join(", ")}`, { missing });
  const decided = rows.filter((r) => r.status !== "pending");
  if (decided.length) {
    throw new AppError("CONFLICT", `Already decided: ${decided.map((r) => `${r.id} (${r.status})`).join(", ")}`, { decided: decided.map((r) => ({ id: r.id, status: r.status })) });
  }
  return rows;
}

/** Approves a selection (one step-up covers it), all or nothing: one transaction, every request still pending. */
export async function approveJoinRequests(tx: Tx, secret: string, ids: string[], actor: Actor, audit: PlatformAudit) {
  assertPersonActor(actor, "approve a join request");
  const rows = await pendingForReview(tx, ids);
  const approved = [];
  for (const r of rows) {
    const { identity, node, request } = await approveOne(tx, secret, r, actor, audit);
    approved.push({ request_id: request.id, node_id: node.id, node_name: node.name, identity_id: identity.id, certificate_serial: identity.certificateSerial, certificate_not_after: identity.certificateNotAfter.toISOString() });
  }
  return approved;
}

export async function rejectJoinRequests(tx: Tx, ids: string[], reason: string, actor: Actor, audit: PlatformAudit) {
  assertPersonActor(actor, "reject a join request");
  const rows = await pendingForReview(tx, ids);
  const now = new Date();
  for (const r of rows) {
    await tx.update(nodeJoinRequests).set({ status: "rejected", reviewedBy: actor.actor, reviewedAt: now, rejectionReason: reason }).where(eq(nodeJoinRequests.id, r.id));
    await audit(tx, { targetType: "join_request", targetId: r.id, action: "join_request.reject", outcome: "success", details: { cluster_id: r.clusterId, reason, key_fingerprint: r.keyFingerprint } });
  }
  return rows.map((r) => ({ request_id: r.id, status: "rejected" as const }));
}

/** What a pending enrollment learns when it polls its own request: the decision and, once approved, its identity. */
export async function joinRequestStatusForAgent(tx: Tx, request: JoinRequestRow) {
  const base = { request_id: request.id, status: request.status, cluster_id: request.clusterId };
  if (request.status === "rejected") return { ...base, rejection_reason: request.rejectionReason };
  if (request.status !== "approved" || !request.identityId) return { ...base, poll_after_seconds: 5 };
  const [identity] = await tx.select().from(nodeIdentities).where(eq(nodeIdentities.id, request.identityId));
  const [cluster] = await tx.select().from(clusters).where(eq(clusters.id, request.clusterId));
  const [ca] = await tx.select().from(clusterCas).where(eq(clusterCas.id, identity!.caId));
  return {
    ...base,
    node_id: request.nodeId,
    identity_id: identity!.id,
    identity_status: identity!.status,
    certificate_pem: identity!.certificatePem,
    certificate_serial: identity!.certificateSerial,
    certificate_not_after: identity!.certificateNotAfter.toISOString(),
    ca_certificate_pem: ca!.certificatePem,
    ca_fingerprint: ca!.fingerprint,
    cluster: { id: cluster!.id, slug: cluster!.slug, name: cluster!.name },
  };
}
