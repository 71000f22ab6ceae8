// Exports a hash chain as JSON Lines that stay verifiable offline: every event exactly as canonical.ts hashes it,
// then a head line signed with the control plane's Ed25519 key.
//
// The export audits itself first: `audit.export` is appended (and committed) before anything is read, and the
// export runs up to and including that event, so the file's own head records who exported it and when.
import type { Tx } from "../../../db/tenant.ts";
import { AppError } from "../../errors.ts";
import type { AuditInput } from "./audit-writer.service.ts";
import { readChainBatch, readChainHead, type ChainScope, type StoredAuditRecord } from "./chain-reader.ts";
import { signCanonical, type SigningKey } from "./signing-key.service.ts";

export const EXPORT_BATCH_SIZE = 5_000;

/** Where an export ends: the `audit.export` event that announced it. */
export interface ExportPlan {
  chain: string;
  seq: number;
  hash: string;
  event_id: string;
}

export interface ExportHead {
  type: "head";
  chain: string;
  seq: number;
  hash: string;
  /** Event lines in the file. */
  count: number;
  exported_at: string;
  key_id: string;
  /** SPKI PEM of the key that made `signature`. */
  public_key: string;
  /** Ed25519 over the canonical JSON of this object without `signature`, base64. */
  signature: string;
}

export type AuditAppend = (tx: Tx, event: Omit<AuditInput, "tenantId" | "actor" | "actorType" | "requestId" | "ip">) => Promise<StoredAuditRecord>;

/** Appends `audit.export` in the caller's transaction (refusing first when the chain is over `maxEvents`). */
export async function beginAuditExport(tx: Tx, chain: string, append: AuditAppend, opts: { via: string; maxEvents?: number }): Promise<ExportPlan> {
  if (opts.maxEvents !== undefined) {
    const head = await readChainHead(tx, chain);
    const events = (head?.seq ?? 0) + 1;
    if (events > opts.maxEvents) {
      throw new AppError("PAYLOAD_TOO_LARGE", `The audit log has ${events} events, over the ${opts.maxEvents} this download allows: use GET /v1/audit/export, which streams any size`, {
        events,
        limit: opts.maxEvents,
        streaming_route: "/v1/audit/export",
      });
    }
  }
  const event = await append(tx, { targetType: "audit_chain", targetId: chain, action: "audit.export", outcome: "success", details: { format: "jsonl", via: opts.via } });
  return { chain, seq: event.seq, hash: event.hash, event_id: event.event_id };
}

/** One event line: the fields the hash covers, plus the hash, in a fixed order. */
export function exportLine(r: StoredAuditRecord): string {
  return JSON.stringify({
    event_id: r.event_id,
    tenant_id: r.tenant_id,
    chain: r.chain,
    seq: r.seq,
    prev_hash: r.prev_hash,
    hash: r.hash,
    actor: r.actor,
    actor_type: r.actor_type,
    target_type: r.target_type,
    target_id: r.target_id,
    action: r.action,
    outcome: r.outcome,
    request_id: r.request_id,
    trace_id: r.trace_id,
    ip: r.ip,
    timestamp: r.timestamp,
    details: r.details,
  });
}

export function signedHead(key: SigningKey, fields: Omit<ExportHead, "type" | "key_id" | "public_key" | "signature">): ExportHead {
  const unsigned = { type: "head" as const, ...fields, key_id: key.id, public_key: key.publicKeyPem };
  return { ...unsigned, signature: signCanonical(key, unsigned) };
}

/** Chunks of whole lines (one batch at a time, so a million events never sit in memory), ending with the signed head. */
export async function* auditExportLines(scope: ChainScope, plan: ExportPlan, key: SigningKey, batchSize = EXPORT_BATCH_SIZE): AsyncGenerator<string> {
  const read = (after: number) => scope.run((tx) => readChainBatch(tx, scope.chain, after, plan.seq, batchSize));
  let count = 0;
  let pending: Promise<StoredAuditRecord[]> | null = read(0);
  try {
    while (pending) {
      const batch: StoredAuditRecord[] = await pending;
      // The next batch is fetched while this one is written out.
      pending = batch.length === batchSize ? read(batch[batch.length - 1]!.seq) : null;
      if (batch.length === 0) break;
      count += batch.length;
      yield `${batch.map(exportLine).join("\n")}\n`;
    }
  } finally {
    // A reader that stops early (client gone) leaves a fetch in flight; its outcome no longer matters.
    pending?.catch(() => {});
  }
  const head = signedHead(key, { chain: plan.chain, seq: plan.seq, hash: plan.hash, count, exported_at: new Date().toISOString() });
  yield `${JSON.stringify(head)}\n`;
}

export function exportFilename(label: string, at = new Date()): string {
  const stamp = at.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  return `cairn-audit-${label.replace(/[^A-Za-z0-9-]/g, "-")}-${stamp}.jsonl`;
}
