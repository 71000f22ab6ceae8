// Appends audit events to their hash chain inside the caller's transaction (same transaction as the change).
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { DbClient } from "../../../db/client.ts";
import { withPlatform, withTenant, type Tx } from "../../../db/tenant.ts";
import { auditHash, GENESIS_HASH, type AuditRecord } from "./canonical.ts";

export type ActorType = "user" | "api_key" | "system" | "break_glass" | "anonymous" | "node";
export type Outcome = "success" | "denied" | "failure";

export interface AuditInput {
  tenantId: string | null;
  actor: string;
  actorType: ActorType;
  targetType: string;
  targetId?: string | null;
  action: string;
  outcome: Outcome;
  requestId?: string | null;
  traceId?: string | null;
  ip?: string | null;
  details?: Record<string, unknown>;
}

/** Writes one event; `tx` must be a tenant transaction for that tenant, or a platform transaction for tenantId null. */
export async function appendAudit(tx: Tx, input: AuditInput): Promise<AuditRecord & { hash: string }> {
  const chain = input.tenantId ?? "platform";
  await tx.execute(sql`
    insert into audit_chain_heads (chain, tenant_id, seq, hash) values (${chain}, ${input.tenantId}, 0, ${GENESIS_HASH})
    on conflict (chain) do nothing`);
  // The head row lock serialises appends per chain; other chains proceed in parallel.
  const heads = await tx.execute<{ seq: string; hash: string }>(sql`select seq::text, hash from audit_chain_heads where chain = ${chain} for update`);
  const head = heads[0]!;
  const record: AuditRecord = {
    event_id: randomUUID(),
    tenant_id: input.tenantId,
    chain,
    seq: Number(head.seq) + 1,
    prev_hash: head.hash,
    actor: input.actor,
    actor_type: input.actorType,
    target_type: input.targetType,
    target_id: input.targetId ?? null,
    action: input.action,
    outcome: input.outcome,
    request_id: input.requestId ?? null,
    trace_id: input.traceId ?? null,
    ip: input.ip ?? null,
    timestamp: new Date().toISOString(),
    details: JSON.parse(JSON.stringify(input.details ?? {})) as Record<string, unknown>,
  };
  const hash = auditHash(record);
  await tx.execute(sql`
    insert into audit_events (event_id, tenant_id, chain, seq, prev_hash, hash, actor, actor_type, target_type, target_id,
      action, outcome, request_id, trace_id, ip, occurred_at, details)
    values (${record.event_id}, ${record.tenant_id}, ${chain}, ${record.seq}, ${record.prev_hash}, ${hash}, ${record.actor},
      ${record.actor_type}, ${record.target_type}, ${record.target_id}, ${record.action}, ${record.outcome}, ${record.request_id},
      ${record.trace_id}, ${record.ip}, ${record.timestamp}, ${JSON.stringify(record.details)}::jsonb)`);
  await tx.execute(sql`update audit_chain_heads set seq = ${record.seq}, hash = ${hash}, updated_at = now() where chain = ${chain}`);
  return { ...record, hash };
}

/** For events with no surrounding change (denials, login failures): its own transaction in the right scope. */
export async function recordAudit(client: DbClient, input: AuditInput): Promise<void> {
  if (input.tenantId) await withTenant(client, input.tenantId, (tx) => appendAudit(tx, input));
  else await withPlatform(client, (tx) => appendAudit(tx, input));
}
