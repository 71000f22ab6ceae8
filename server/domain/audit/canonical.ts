// Canonical JSON and the audit hash: the one definition shared by the writer, the verifier and `cairn audit verify`.
import { createHash } from "node:crypto";

export const GENESIS_HASH = "0".repeat(64);

/** JSON with object keys sorted at every level; undefined members dropped, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** The fields an audit hash covers, in their exported (snake_case) form. */
export interface AuditRecord {
  event_id: string;
  tenant_id: string | null;
  chain: string;
  seq: number;
  prev_hash: string;
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
}

export function auditHash(record: AuditRecord): string {
  const { event_id, tenant_id, chain, seq, prev_hash, actor, actor_type, target_type, target_id, action, outcome, request_id, trace_id, ip, timestamp, details } = record;
  const body = canonicalJson({ v: 1, event_id, tenant_id, chain, seq, prev_hash, actor, actor_type, target_type, target_id, action, outcome, request_id, trace_id, ip, timestamp, details });
  return createHash("sha256").update(body).digest("hex");
}
