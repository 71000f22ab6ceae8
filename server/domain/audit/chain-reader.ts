// Reads one hash chain in sequence order, in the exact form canonical.ts hashes (shared by verify and export).
import { sql } from "drizzle-orm";
import type { DbClient } from "../../../db/client.ts";
import { withPlatform, withTenant, type Tx } from "../../../db/tenant.ts";
import type { AuditRecord } from "./canonical.ts";

/** A chain and the only transaction scope that can see it (the tenant's, or the platform's). */
export interface ChainScope {
  chain: string;
  tenantId: string | null;
  run<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
}

export function tenantChain(db: DbClient, tenantId: string): ChainScope {
  return { chain: tenantId, tenantId, run: (fn) => withTenant(db, tenantId, fn) };
}

export function platformChain(db: DbClient): ChainScope {
  return { chain: "platform", tenantId: null, run: (fn) => withPlatform(db, fn) };
}

export type StoredAuditRecord = AuditRecord & { hash: string };

export interface ChainHead {
  seq: number;
  hash: string;
}

export async function readChainHead(tx: Tx, chain: string): Promise<ChainHead | null> {
  const rows = await tx.execute<{ seq: string; hash: string }>(sql`select seq::text, hash from audit_chain_heads where chain = ${chain}`);
  const row = rows[0];
  return row ? { seq: Number(row.seq), hash: row.hash } : null;
}

type Row = {
  event_id: string;
  tenant_id: string | null;
  chain: string;
  seq: string;
  prev_hash: string;
  hash: string;
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
  details: string;
};

/** The timestamp exactly as the writer hashed it (Date#toISOString: millisecond precision, UTC, "Z"). */
export const isoTimestamp = sql.raw(`to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/** Events with afterSeq < seq <= uptoSeq, at most `limit`, in seq order (keyset on the (chain, seq) index). The
 * order names the table's column: a bare `seq` would sort by the text output column of the same name. */
export async function readChainBatch(tx: Tx, chain: string, afterSeq: number, uptoSeq: number, limit: number): Promise<StoredAuditRecord[]> {
  const rows = await tx.execute<Row>(sql`
    select event_id, tenant_id, chain, seq::text, prev_hash, hash, actor, actor_type, target_type, target_id, action, outcome,
      request_id, trace_id, ip, ${isoTimestamp} as timestamp, details::text as details
    from audit_events
    where chain = ${chain} and seq > ${afterSeq} and seq <= ${uptoSeq}
    order by audit_events.seq
    limit ${limit}`);
  return rows.map((r) => ({ ...r, seq: Number(r.seq), details: JSON.parse(r.details) as Record<string, unknown> }));
}
