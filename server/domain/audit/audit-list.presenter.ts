// One page of a tenant's audit events, newest first, by keyset on id: every filter maps onto an index that starts
// with (tenant_id, …, id), so a page costs the same on the first and the millionth row (no OFFSET, no count).
import { and, desc, eq, gte, lt, lte, sql, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import type { Tx } from "../../../db/tenant.ts";
import { auditEvents } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { isoTimestamp, readChainHead } from "./chain-reader.ts";

export const AUDIT_LIST_DEFAULT_LIMIT = 50;
export const AUDIT_LIST_MAX_LIMIT = 500;

export interface AuditListFilters {
  /** Exact actor, or a prefix when it ends in `*` (`user:*`). */
  actor?: string;
  /** Exact action, or a prefix when it ends in `*` (`api_key.*`). */
  action?: string;
  target_type?: string;
  target_id?: string;
  outcome?: string;
  /** ISO time, inclusive. */
  from?: string;
  /** ISO time, exclusive. */
  to?: string;
  cursor?: string;
  limit?: number;
}

export interface AuditListItem {
  event_id: string;
  seq: number;
  actor: string;
  actor_type: string;
  target_type: string;
  target_id: string | null;
  action: string;
  outcome: string;
  request_id: string | null;
  trace_id: string | null;
  ip: string | null;
  timestamp: string;
  details: Record<string, unknown>;
  hash: string;
  prev_hash: string;
}

export interface AuditListPage {
  items: AuditListItem[];
  next_cursor: string | null;
}

export function encodeCursor(id: number): string {
  return Buffer.from(String(id)).toString("base64url");
}

export function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, "base64url").toString();
  const id = Number(text);
  if (!/^[1-9]\d{0,15}$/.test(text) || !Number.isSafeInteger(id)) throw new AppError("INVALID_INPUT", "cursor: not a cursor returned by this list");
  return id;
}

/**
 * `value` exactly, or everything starting with it when it ends in `*`. The prefix test is `^@` (starts_with), not
 * LIKE: under row-level security only leakproof conditions may use an index, and LIKE is not leakproof. With the
 * C collation (the embedded database's) the planner turns `^@` into a range on the (tenant_id, actor|action, id) index.
 */
function textFilter(column: PgColumn, value: string | undefined): SQL | undefined {
  if (value === undefined || value === "") return undefined;
  if (!value.endsWith("*")) return eq(column, value);
  const prefix = value.slice(0, -1);
  return prefix ? sql`${column} ^@ ${prefix}` : undefined;
}

/**
 * The first seq in the chain stamped at or after `at`, found by binary search on the (chain, seq) index: the writer
 * stamps each event while holding the chain's head lock, so time only grows along a chain (barring a server clock
 * stepping back, which can move the boundary by the size of the step). Returns the ids at that seq and just before it.
 * The midpoint is carried as a column because under row-level security only leakproof conditions reach the index,
 * and arithmetic in the join condition is not leakproof (it can raise an overflow error).
 */
async function seqBoundary(tx: Tx, chain: string, headSeq: number, at: string): Promise<{ seq: number; idAt: number | null; idBefore: number | null } | null> {
  const rows = await tx.execute<{ lo: string; id_at: string | null; id_before: string | null }>(sql`
    with recursive search(lo, hi, mid) as (
      select 1::bigint, ${headSeq + 1}::bigint, ${Math.floor((headSeq + 2) / 2)}::bigint
      union all
      select case when e.occurred_at >= ${at}::timestamptz then s.lo else e.seq + 1 end,
             case when e.occurred_at >= ${at}::timestamptz then e.seq else s.hi end,
             case when e.occurred_at >= ${at}::timestamptz then (s.lo + e.seq) / 2 else (e.seq + 1 + s.hi) / 2 end
      from search s join audit_events e on e.chain = ${chain} and e.seq = s.mid
      where s.lo < s.hi
    )
    select lo::text,
      (select id::text from audit_events where chain = ${chain} and seq = search.lo) as id_at,
      (select id::text from audit_events where chain = ${chain} and seq = search.lo - 1) as id_before
    from search where lo = hi`);
  const row = rows[0];
  // No row: a probe found a hole in the chain; the caller falls back to filtering on time alone.
  if (!row) return null;
  return { seq: Number(row.lo), idAt: row.id_at === null ? null : Number(row.id_at), idBefore: row.id_before === null ? null : Number(row.id_before) };
}

/** Runs inside the tenant's transaction (ctx.inTenant); tenantId is repeated in the query so the indexes apply. */
export async function listAuditEvents(tx: Tx, tenantId: string, filters: AuditListFilters): Promise<AuditListPage> {
  const limit = Math.min(Math.max(filters.limit ?? AUDIT_LIST_DEFAULT_LIMIT, 1), AUDIT_LIST_MAX_LIMIT);
  const e = auditEvents;
  const conditions: (SQL | undefined)[] = [
    eq(e.tenantId, tenantId),
    filters.cursor ? lt(e.id, decodeCursor(filters.cursor)) : undefined,
    textFilter(e.actor, filters.actor),
    textFilter(e.action, filters.action),
    filters.target_type ? eq(e.targetType, filters.target_type) : undefined,
    filters.target_id ? eq(e.targetId, filters.target_id) : undefined,
    filters.outcome ? eq(e.outcome, filters.outcome) : undefined,
  ];

  if (filters.from || filters.to) {
    const head = await readChainHead(tx, tenantId);
    if (!head) return { items: [], next_cursor: null };
    if (filters.from) {
      conditions.push(gte(e.occurredAt, new Date(filters.from)));
      const b = await seqBoundary(tx, tenantId, head.seq, filters.from);
      if (b && b.seq > head.seq) return { items: [], next_cursor: null };
      if (b && b.idAt !== null) conditions.push(gte(e.id, b.idAt));
    }
    if (filters.to) {
      conditions.push(lt(e.occurredAt, new Date(filters.to)));
      const b = await seqBoundary(tx, tenantId, head.seq, filters.to);
      if (b && b.seq <= 1) return { items: [], next_cursor: null };
      // When every event so far is before `to`, no id bound: events appended since the head was read still qualify.
      if (b && b.seq <= head.seq && b.idBefore !== null) conditions.push(lte(e.id, b.idBefore));
    }
  }

  const rows = await tx
    .select({
      id: e.id,
      event_id: e.eventId,
      seq: e.seq,
      actor: e.actor,
      actor_type: e.actorType,
      target_type: e.targetType,
      target_id: e.targetId,
      action: e.action,
      outcome: e.outcome,
      request_id: e.requestId,
      trace_id: e.traceId,
      ip: e.ip,
      timestamp: sql<string>`${isoTimestamp}`,
      details: e.details,
      hash: e.hash,
      prev_hash: e.prevHash,
    })
    .from(e)
    .where(and(...conditions))
    .orderBy(desc(e.id))
    .limit(limit + 1);

  const page = rows.slice(0, limit);
  const next_cursor = rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : null;
  return { items: page.map(({ id: _id, ...item }) => item), next_cursor };
}
