// Enrolled nodes as platform owners see them: membership, health, identity, roles, workloads; a node's full detail
// (capabilities as reported, every identity it held, recent heartbeats, what it claimed at enrollment), its heartbeat
// history and audit timeline; and role assignments across the fabric.
import { and, desc, eq, inArray, lt, or, sql } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import {
  auditEvents,
  clusterMemberships,
  clusters,
  nodeCapabilities,
  nodeGroups,
  nodeHeartbeats,
  nodeIdentities,
  nodeJoinRequests,
  nodeRoleAssignments,
  nodes,
  nodeServiceInstances,
  tenants,
} from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { afterCursor, cursorColumn, pageLimit, toPage, type Page } from "../keyset.ts";
import { decodeCursor, encodeCursor } from "../paging.ts";
import { fabricHealth, HEARTBEAT_HISTORY_PER_NODE, type FabricNodeHealth } from "./workload-catalog.ts";

const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;

type NodeRow = typeof nodes.$inferSelect;
type MembershipRow = typeof clusterMemberships.$inferSelect;

interface Loaded {
  node: NodeRow;
  membership: MembershipRow | null;
  cluster: { id: string; slug: string; name: string; authorityState: string } | null;
  group: { id: string; name: string } | null;
  age: number;
}

async function rolesAndWorkloads(tx: Tx, nodeIds: string[]) {
  if (!nodeIds.length) return { roles: [], workloads: [], identities: [] };
  const roles = await tx
    .select({ a: nodeRoleAssignments, tenantSlug: tenants.slug })
    .from(nodeRoleAssignments)
    .leftJoin(tenants, eq(tenants.id, nodeRoleAssignments.tenantId))
    .where(and(inArray(nodeRoleAssignments.nodeId, nodeIds), eq(nodeRoleAssignments.status, "active")))
    .orderBy(nodeRoleAssignments.role, nodeRoleAssignments.assignedAt);
  const workloads = await tx.select().from(nodeServiceInstances).where(inArray(nodeServiceInstances.nodeId, nodeIds)).orderBy(nodeServiceInstances.serviceType);
  const identities = await tx
    .select()
    .from(nodeIdentities)
    .where(and(inArray(nodeIdentities.nodeId, nodeIds), inArray(nodeIdentities.status, ["active", "revoked"])))
    .orderBy(desc(nodeIdentities.issuedAt));
  return { roles, workloads, identities };
}

function presentRole(r: { a: typeof nodeRoleAssignments.$inferSelect; tenantSlug: string | null }) {
  return {
    assignment_id: r.a.id,
    cluster_id: r.a.clusterId,
    node_id: r.a.nodeId,
    role: r.a.role,
    tenant_id: r.a.tenantId,
    tenant_slug: r.tenantSlug,
    job_types: r.a.jobTypes,
    status: r.a.status,
    assigned_by: r.a.assignedBy,
    assigned_at: r.a.assignedAt.toISOString(),
    removed_by: r.a.removedBy,
    removed_at: iso(r.a.removedAt),
  };
}

function presentWorkload(w: typeof nodeServiceInstances.$inferSelect) {
  return {
    type: w.serviceType,
    cluster_id: w.clusterId,
    desired: w.desiredState,
    paused: w.paused,
    reported: w.reportedState,
    reported_version: w.reportedVersion,
    reported_detail: w.reportedDetail,
    reported_at: iso(w.reportedAt),
    in_sync: w.reportedAt !== null && (w.desiredState === "running" ? ["running", "idle"].includes(w.reportedState) : ["stopped", "unknown"].includes(w.reportedState)),
  };
}

function presentIdentity(i: typeof nodeIdentities.$inferSelect) {
  return {
    identity_id: i.id,
    cluster_id: i.clusterId,
    status: i.status,
    key_fingerprint: i.keyFingerprint,
    certificate_serial: i.certificateSerial,
    certificate_not_before: i.certificateNotBefore.toISOString(),
    certificate_not_after: i.certificateNotAfter.toISOString(),
    issued_at: i.issuedAt.toISOString(),
    rotated_at: iso(i.rotatedAt),
    revoked_at: iso(i.revokedAt),
    revoked_by: i.revokedBy,
    revoked_reason: i.revokedReason,
  };
}

function presentNode(l: Loaded, extra: Awaited<ReturnType<typeof rolesAndWorkloads>>) {
  const { node: n, membership: m } = l;
  const health: FabricNodeHealth | "worker" =
    n.kind === "agent"
      ? fabricHealth({ revoked: n.status === "revoked" || m?.status === "revoked", heartbeats: m?.heartbeatCount ?? 0, reportedStatus: n.status, ageSeconds: l.age })
      : "worker";
  const identity = extra.identities.find((i) => i.nodeId === n.id);
  return {
    node_id: n.id,
    kind: n.kind,
    name: n.name,
    hostname: n.hostname,
    health,
    reported_status: n.status,
    version: n.version,
    cluster: l.cluster ? { cluster_id: l.cluster.id, slug: l.cluster.slug, name: l.cluster.name, authority_state: l.cluster.authorityState } : null,
    membership_status: m?.status ?? null,
    group: l.group ? { group_id: l.group.id, name: l.group.name } : null,
    enrolled_at: iso(m?.joinedAt) ?? n.startedAt.toISOString(),
    last_heartbeat_at: m && m.heartbeatCount === 0 ? null : n.lastHeartbeatAt.toISOString(),
    heartbeat_age_seconds: m && m.heartbeatCount === 0 ? null : Math.round(l.age),
    last_seen_ip: m?.lastSeenIp ?? null,
    identity: identity ? presentIdentity(identity) : null,
    roles: extra.roles.filter((r) => r.a.nodeId === n.id).map(presentRole),
    workloads: extra.workloads.filter((w) => w.nodeId === n.id).map(presentWorkload),
    running_jobs: n.runningJobs.map((j) => ({ job_id: j.job_id, tenant_id: j.tenant_id, job_type: j.job_type, started_at: j.started_at })),
  };
}

export type FabricNodeView = ReturnType<typeof presentNode>;

function baseQuery(tx: Tx) {
  return tx
    .select({
      node: nodes,
      membership: clusterMemberships,
      cluster: { id: clusters.id, slug: clusters.slug, name: clusters.name, authorityState: clusters.authorityState },
      group: { id: nodeGroups.id, name: nodeGroups.name },
      age: sql<number>`extract(epoch from now() - ${nodes.lastHeartbeatAt})::float`,
      cursorAt: cursorColumn(nodes.startedAt),
    })
    .from(nodes)
    .leftJoin(clusterMemberships, eq(clusterMemberships.nodeId, nodes.id))
    .leftJoin(clusters, eq(clusters.id, clusterMemberships.clusterId))
    .leftJoin(nodeGroups, eq(nodeGroups.id, clusterMemberships.groupId));
}

export interface NodeListFilter {
  cluster_id?: string;
  group_id?: string;
  health?: FabricNodeHealth;
  include_revoked?: boolean;
  cursor?: string;
  limit?: number;
}

/** Enrolled nodes (agents), newest enrollment first; health filtering happens on the page (it depends on the clock). */
export async function listFabricNodes(tx: Tx, opts: NodeListFilter): Promise<Page<FabricNodeView>> {
  const limit = pageLimit(opts.limit);
  const rows = await baseQuery(tx)
    .where(
      and(
        eq(nodes.kind, "agent"),
        opts.cluster_id ? eq(clusterMemberships.clusterId, opts.cluster_id) : undefined,
        opts.group_id ? eq(clusterMemberships.groupId, opts.group_id) : undefined,
        opts.include_revoked || opts.health === "revoked" ? undefined : sql`${nodes.status} <> 'revoked'`,
        afterCursor(nodes.startedAt, nodes.id, opts.cursor),
      ),
    )
    .orderBy(desc(nodes.startedAt), desc(nodes.id))
    .limit(limit + 1);
  const extra = await rolesAndWorkloads(
    tx,
    rows.map((r) => r.node.id),
  );
  const page = toPage(
    rows.map((r) => ({ ...r, id: r.node.id })),
    limit,
    (r) => presentNode({ node: r.node, membership: r.membership, cluster: r.cluster, group: r.group, age: r.age }, extra),
  );
  if (opts.health) page.items = page.items.filter((n) => n.health === opts.health);
  return page;
}

/** Any node (agent or worker): workers have no membership, identity or roles. */
export async function getFabricNode(tx: Tx, nodeId: string) {
  const rows = await baseQuery(tx).where(eq(nodes.id, nodeId));
  const row = rows[0];
  if (!row) throw new AppError("NOT_FOUND", "No such node", { node_id: nodeId });
  const extra = await rolesAndWorkloads(tx, [nodeId]);
  const base = presentNode({ node: row.node, membership: row.membership, cluster: row.cluster, group: row.group, age: row.age }, extra);
  const capabilities = await tx.select().from(nodeCapabilities).where(eq(nodeCapabilities.nodeId, nodeId)).orderBy(nodeCapabilities.name);
  const identities = await tx.select().from(nodeIdentities).where(eq(nodeIdentities.nodeId, nodeId)).orderBy(desc(nodeIdentities.issuedAt));
  const [joinRequest] = await tx.select().from(nodeJoinRequests).where(eq(nodeJoinRequests.nodeId, nodeId)).orderBy(desc(nodeJoinRequests.createdAt)).limit(1);
  const heartbeats = await tx.select().from(nodeHeartbeats).where(eq(nodeHeartbeats.nodeId, nodeId)).orderBy(desc(nodeHeartbeats.id)).limit(20);
  const removedRoles = await tx
    .select({ a: nodeRoleAssignments, tenantSlug: tenants.slug })
    .from(nodeRoleAssignments)
    .leftJoin(tenants, eq(tenants.id, nodeRoleAssignments.tenantId))
    .where(and(eq(nodeRoleAssignments.nodeId, nodeId), eq(nodeRoleAssignments.status, "removed")))
    .orderBy(desc(nodeRoleAssignments.removedAt))
    .limit(50);
  return {
    ...base,
    memberships: rows
      .filter((r) => r.membership)
      .map((r) => ({
        cluster_id: r.membership!.clusterId,
        cluster_slug: r.cluster?.slug ?? null,
        status: r.membership!.status,
        group_id: r.membership!.groupId,
        joined_at: r.membership!.joinedAt.toISOString(),
        last_seen_at: iso(r.membership!.lastSeenAt),
        heartbeat_count: r.membership!.heartbeatCount,
      })),
    capabilities: capabilities.map((c) => ({ name: c.name, value: c.value, reported_at: c.reportedAt.toISOString() })),
    identities: identities.map(presentIdentity),
    removed_roles: removedRoles.map(presentRole),
    enrollment: joinRequest
      ? {
          request_id: joinRequest.id,
          token_id: joinRequest.tokenId,
          verified: joinRequest.verified,
          claimed: { hostname: joinRequest.hostname, machine_id: joinRequest.machineId, facts: joinRequest.facts, capabilities: joinRequest.capabilities, requested_roles: joinRequest.requestedRoles },
          approved_by: joinRequest.reviewedBy,
          approved_at: iso(joinRequest.reviewedAt),
          auto_approved: joinRequest.autoApproved,
        }
      : null,
    recent_heartbeats: heartbeats.map(presentHeartbeat),
  };
}

function presentHeartbeat(h: typeof nodeHeartbeats.$inferSelect) {
  return { heartbeat_id: h.id, received_at: h.receivedAt.toISOString(), status: h.status, agent_version: h.agentVersion, snapshot_version: h.snapshotVersion, source_ip: h.sourceIp, workloads: h.workloads, detail: h.detail };
}

/** The bounded heartbeat history of one node, newest first (cursor: the last heartbeat id seen). */
export async function nodeHeartbeatHistory(tx: Tx, nodeId: string, opts: { cursor?: string; limit?: number }) {
  const limit = Math.min(pageLimit(opts.limit), HEARTBEAT_HISTORY_PER_NODE);
  const before = opts.cursor ? Number(decodeCursor(opts.cursor)?.id) : null;
  if (opts.cursor && !Number.isSafeInteger(before)) throw new AppError("INVALID_INPUT", "cursor: not a cursor this API returned");
  const rows = await tx
    .select()
    .from(nodeHeartbeats)
    .where(and(eq(nodeHeartbeats.nodeId, nodeId), before ? lt(nodeHeartbeats.id, before) : undefined))
    .orderBy(desc(nodeHeartbeats.id))
    .limit(limit + 1);
  const items = rows.slice(0, limit);
  return { items: items.map(presentHeartbeat), next_cursor: rows.length > limit ? encodeCursor({ at: items.at(-1)!.receivedAt.toISOString(), id: String(items.at(-1)!.id) }) : null };
}

/** A node's audit timeline from the platform chain: about the node, its enrollment, its identities, or by the node. */
export async function nodeAuditTimeline(tx: Tx, nodeId: string, opts: { cursor?: string; limit?: number }) {
  const [node] = await tx.select({ id: nodes.id }).from(nodes).where(eq(nodes.id, nodeId));
  if (!node) throw new AppError("NOT_FOUND", "No such node", { node_id: nodeId });
  const limit = pageLimit(opts.limit);
  const requestIds = (await tx.select({ id: nodeJoinRequests.id }).from(nodeJoinRequests).where(eq(nodeJoinRequests.nodeId, nodeId))).map((r) => r.id);
  const identityIds = (await tx.select({ id: nodeIdentities.id }).from(nodeIdentities).where(eq(nodeIdentities.nodeId, nodeId))).map((r) => r.id);
  const before = opts.cursor ? Number(decodeCursor(opts.cursor)?.id) : null;
  if (opts.cursor && !Number.isSafeInteger(before)) throw new AppError("INVALID_INPUT", "cursor: not a cursor this API returned");
  const rows = await tx
    .select()
    .from(auditEvents)
    .where(
      and(
        sql`${auditEvents.tenantId} is null`,
        or(
          and(eq(auditEvents.targetType, "node"), eq(auditEvents.targetId, nodeId)),
          requestIds.length ? and(eq(auditEvents.targetType, "join_request"), inArray(auditEvents.targetId, requestIds)) : undefined,
          identityIds.length ? and(eq(auditEvents.targetType, "node_identity"), inArray(auditEvents.targetId, identityIds)) : undefined,
          eq(auditEvents.actor, `node:${nodeId}`),
        ),
        before ? lt(auditEvents.id, before) : undefined,
      ),
    )
    .orderBy(desc(auditEvents.id))
    .limit(limit + 1);
  const items = rows.slice(0, limit);
  return {
    items: items.map((e) => ({
      event_id: e.eventId,
      seq: e.seq,
      action: e.action,
      outcome: e.outcome,
      actor: e.actor,
      actor_type: e.actorType,
      target_type: e.targetType,
      target_id: e.targetId,
      timestamp: e.occurredAt.toISOString(),
      details: e.details,
    })),
    next_cursor: rows.length > limit ? encodeCursor({ at: items.at(-1)!.occurredAt.toISOString(), id: String(items.at(-1)!.id) }) : null,
  };
}

/** Role assignments across the fabric (platform owners), newest first. */
export async function listRoleAssignments(tx: Tx, opts: { cluster_id?: string; tenant_id?: string; role?: string; status?: "active" | "removed"; cursor?: string; limit?: number }) {
  const limit = pageLimit(opts.limit);
  const rows = await tx
    .select({ a: nodeRoleAssignments, tenantSlug: tenants.slug, nodeName: nodes.name, cursorAt: cursorColumn(nodeRoleAssignments.assignedAt) })
    .from(nodeRoleAssignments)
    .innerJoin(nodes, eq(nodes.id, nodeRoleAssignments.nodeId))
    .leftJoin(tenants, eq(tenants.id, nodeRoleAssignments.tenantId))
    .where(
      and(
        opts.cluster_id ? eq(nodeRoleAssignments.clusterId, opts.cluster_id) : undefined,
        opts.tenant_id ? eq(nodeRoleAssignments.tenantId, opts.tenant_id) : undefined,
        opts.role ? eq(nodeRoleAssignments.role, opts.role) : undefined,
        eq(nodeRoleAssignments.status, opts.status ?? "active"),
        afterCursor(nodeRoleAssignments.assignedAt, nodeRoleAssignments.id, opts.cursor),
      ),
    )
    .orderBy(desc(nodeRoleAssignments.assignedAt), desc(nodeRoleAssignments.id))
    .limit(limit + 1);
  return toPage(
    rows.map((r) => ({ ...r, id: r.a.id })),
    limit,
    (r) => ({ ...presentRole(r), node_name: r.nodeName }),
  );
}
