// Join tokens (never their secrets) and join requests as a reviewer sees them: what the control plane verified kept
// apart from what the node merely claims.
import { and, desc, eq, lt, lte, or, sql, type SQL } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { clusters, nodeJoinRequests, nodeJoinTokens, type JoinRequestStatus } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { afterCursor, cursorColumn, pageLimit, toPage, type Page } from "../keyset.ts";
import { decodeCursor } from "../paging.ts";

const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;

type TokenRow = typeof nodeJoinTokens.$inferSelect;

function presentToken(t: TokenRow) {
  const state = t.revokedAt ? "revoked" : t.expiresAt.getTime() <= Date.now() ? "expired" : t.usedCount >= t.maxUses ? "exhausted" : "active";
  return {
    token_id: t.id,
    cluster_id: t.clusterId,
    scope: t.scope,
    description: t.description,
    state: state as "active" | "expired" | "exhausted" | "revoked",
    expires_at: t.expiresAt.toISOString(),
    max_uses: t.maxUses,
    used_count: t.usedCount,
    remaining_uses: Math.max(0, t.maxUses - t.usedCount),
    binding: { hostname: t.bindHostname, machine_id: t.bindMachineId, key_fingerprint: t.bindKeyFingerprint },
    created_by: t.createdBy,
    created_at: t.createdAt.toISOString(),
    last_used_at: iso(t.lastUsedAt),
    revoked_at: iso(t.revokedAt),
    revoked_by: t.revokedBy,
  };
}

export type JoinTokenView = ReturnType<typeof presentToken>;
export { presentToken };

export async function listJoinTokens(tx: Tx, clusterId: string, opts: { cursor?: string; limit?: number }): Promise<Page<JoinTokenView>> {
  const [c] = await tx.select({ id: clusters.id }).from(clusters).where(eq(clusters.id, clusterId));
  if (!c) throw new AppError("NOT_FOUND", "No such cluster", { cluster_id: clusterId });
  const limit = pageLimit(opts.limit);
  const rows = await tx
    .select({ t: nodeJoinTokens, cursorAt: cursorColumn(nodeJoinTokens.createdAt) })
    .from(nodeJoinTokens)
    .where(and(eq(nodeJoinTokens.clusterId, clusterId), tokenAfter(opts.cursor)))
    .orderBy(desc(nodeJoinTokens.createdAt), desc(nodeJoinTokens.id))
    .limit(limit + 1);
  return toPage(
    rows.map((r) => ({ ...r, id: r.t.id })),
    limit,
    (r) => presentToken(r.t),
  );
}

/** Token ids are not uuids, so their cursor is checked here rather than by afterCursor; same (created_at, id) order. */
function tokenAfter(cursor: string | undefined): SQL | undefined {
  const key = decodeCursor(cursor);
  if (!key) return undefined;
  if (!/^[a-z0-9]{6}$/.test(key.id) || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/.test(key.at)) throw new AppError("INVALID_INPUT", "cursor: not a cursor this API returned");
  const at = sql`${key.at}::timestamptz`;
  return and(lte(nodeJoinTokens.createdAt, at), or(lt(nodeJoinTokens.createdAt, at), and(eq(nodeJoinTokens.createdAt, at), lt(nodeJoinTokens.id, key.id))));
}

type RequestRow = typeof nodeJoinRequests.$inferSelect;

function presentRequest(r: RequestRow, cluster: { id: string; slug: string; name: string; authorityState: string } | undefined) {
  return {
    request_id: r.id,
    status: r.status,
    cluster: cluster ? { cluster_id: cluster.id, slug: cluster.slug, name: cluster.name, authority_state: cluster.authorityState } : null,
    /** Checked by the control plane. */
    verified: r.verified,
    /** Said by the node; nothing here was checked. */
    claimed: {
      node_name: r.nodeName,
      hostname: r.hostname,
      machine_id: r.machineId,
      agent_version: r.agentVersion,
      facts: r.facts,
      capabilities: r.capabilities,
      requested_roles: r.requestedRoles,
    },
    auto_approved: r.autoApproved,
    created_at: r.createdAt.toISOString(),
    reviewed_by: r.reviewedBy,
    reviewed_at: iso(r.reviewedAt),
    rejection_reason: r.rejectionReason,
    node_id: r.nodeId,
  };
}

export type JoinRequestView = ReturnType<typeof presentRequest>;

export async function listJoinRequests(tx: Tx, opts: { status?: JoinRequestStatus; cluster_id?: string; cursor?: string; limit?: number }): Promise<Page<JoinRequestView>> {
  const limit = pageLimit(opts.limit);
  const rows = await tx
    .select({ r: nodeJoinRequests, c: clusters, cursorAt: cursorColumn(nodeJoinRequests.createdAt) })
    .from(nodeJoinRequests)
    .leftJoin(clusters, eq(clusters.id, nodeJoinRequests.clusterId))
    .where(
      and(
        opts.status ? eq(nodeJoinRequests.status, opts.status) : undefined,
        opts.cluster_id ? eq(nodeJoinRequests.clusterId, opts.cluster_id) : undefined,
        afterCursor(nodeJoinRequests.createdAt, nodeJoinRequests.id, opts.cursor),
      ),
    )
    .orderBy(desc(nodeJoinRequests.createdAt), desc(nodeJoinRequests.id))
    .limit(limit + 1);
  return toPage(
    rows.map((x) => ({ ...x, id: x.r.id })),
    limit,
    (x) => presentRequest(x.r, x.c ?? undefined),
  );
}

export async function getJoinRequest(tx: Tx, id: string): Promise<JoinRequestView> {
  const [row] = await tx.select({ r: nodeJoinRequests, c: clusters }).from(nodeJoinRequests).leftJoin(clusters, eq(clusters.id, nodeJoinRequests.clusterId)).where(eq(nodeJoinRequests.id, id));
  if (!row) throw new AppError("NOT_FOUND", "No such join request", { request_id: id });
  return presentRequest(row.r, row.c ?? undefined);
}
