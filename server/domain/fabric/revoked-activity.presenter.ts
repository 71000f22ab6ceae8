// Revoked nodes that keep calling: every refused agent request is audited on the platform chain (at most once a
// minute per node and reason), so the audit log already says which revoked identities are still knocking, how often
// and from where. The fabric overview lists them as a risky state.
import { and, desc, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import { isUuid, type Tx } from "../../../db/tenant.ts";
import { auditEvents, nodes } from "../../../db/schema/index.ts";

export interface RevokedActivity {
  node_id: string;
  node_name: string;
  revoked: boolean;
  /** Audited refusals (one per minute at most), so roughly the minutes in which the node called. */
  refusals: number;
  first_refused_at: string;
  last_refused_at: string;
  last_ip: string | null;
  last_path: string | null;
}

export async function revokedNodeActivity(tx: Tx, opts: { hours: number }): Promise<RevokedActivity[]> {
  const rows = await tx
    .select({
      nodeId: auditEvents.targetId,
      refusals: sql<number>`count(*)::int`,
      first: sql<string>`min(${auditEvents.occurredAt})`,
      last: sql<string>`max(${auditEvents.occurredAt})`,
      lastIp: sql<string | null>`(array_agg(${auditEvents.ip} order by ${auditEvents.id} desc))[1]`,
      lastPath: sql<string | null>`(array_agg(${auditEvents.details}->>'path' order by ${auditEvents.id} desc))[1]`,
    })
    .from(auditEvents)
    .where(
      and(
        isNull(auditEvents.tenantId),
        eq(auditEvents.action, "agent.request"),
        eq(auditEvents.outcome, "denied"),
        sql`${auditEvents.details}->>'reason' = 'node_revoked'`,
        gt(auditEvents.occurredAt, sql`now() - make_interval(hours => ${opts.hours})`),
      ),
    )
    .groupBy(auditEvents.targetId)
    .orderBy(desc(sql`max(${auditEvents.occurredAt})`))
    .limit(100);
  const ids = rows.map((r) => r.nodeId).filter((id): id is string => Boolean(id) && isUuid(id!));
  const named = ids.length ? await tx.select({ id: nodes.id, name: nodes.name, status: nodes.status }).from(nodes).where(inArray(nodes.id, ids)) : [];
  const byId = new Map(named.map((n) => [n.id, n]));
  return rows
    .filter((r) => r.nodeId && byId.has(r.nodeId))
    .map((r) => {
      const n = byId.get(r.nodeId!)!;
      return {
        node_id: n.id,
        node_name: n.name,
        revoked: n.status === "revoked",
        refusals: r.refusals,
        first_refused_at: new Date(r.first).toISOString(),
        last_refused_at: new Date(r.last).toISOString(),
        last_ip: r.lastIp,
        last_path: r.lastPath,
      };
    });
}
