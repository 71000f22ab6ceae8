// Writes of push ingest: accepting a push (the raw artifact as evidence, a run with trigger `push`, its
// `ingest.process` job and the receipt, audited, in one transaction; a repeated Idempotency-Key returns the first
// receipt), the receipt's status as processing moves on, and its final state.
import { randomUUID } from "node:crypto";
import { and, eq, inArray, isNull, or, sql } from "drizzle-orm";
import type { Tx } from "../../db/tenant.ts";
import { ingestReceipts, runs, sources, type ReceiptError, type ReceiptStatus, type ReceiptTimelineEntry } from "../../db/schema/index.ts";
import type { SourceKind } from "../../db/schema/control.ts";
import { AppError } from "../errors.ts";
import { enqueueJob } from "../queue/enqueue.ts";
import { freshStages } from "../domain/runs/stages.ts";
import { insertEvidence, type PreparedEvidence } from "../evidence/evidence.service.ts";
import { appendAudit, type AuditInput } from "../domain/audit/audit-writer.service.ts";

export const INGEST_JOB_TYPE = "ingest.process";
export const RAW_EVIDENCE_KIND = { result_push: "ingest.raw_document", fleet_sync: "ingest.fleet_inventory" } as const;
export type IngestChannel = keyof typeof RAW_EVIDENCE_KIND;
export const CHANNEL_KIND: Record<IngestChannel, SourceKind> = { result_push: "ingest.result_push", fleet_sync: "ingest.fleet_sync" };

export type ReceiptRow = typeof ingestReceipts.$inferSelect;
export type SourceRow = typeof sources.$inferSelect;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** The Idempotency-Key header as given, or a 400 saying what is wrong with it. */
export function checkIdempotencyKey(value: string | undefined | null): string {
  if (value === undefined || value === null || value === "") {
    throw new AppError("INVALID_INPUT", "Idempotency-Key header: required on every push (any 1–200 visible ASCII characters, e.g. a UUID or the CI build id); a repeat with the same key returns the first receipt", { header: "Idempotency-Key" });
  }
  if (!IDEMPOTENCY_KEY.test(value)) throw new AppError("INVALID_INPUT", "Idempotency-Key header: 1–200 visible ASCII characters, no spaces", { header: "Idempotency-Key" });
  return value;
}

/** The push target: a live source of the channel's kind in this tenant, enabled. */
export async function pushTarget(tx: Tx, sourceId: string, channel: IngestChannel): Promise<SourceRow> {
  const [source] = await tx.select().from(sources).where(and(eq(sources.id, sourceId), isNull(sources.deletedAt)));
  if (!source) throw new AppError("NOT_FOUND", "No such source", { source_id: sourceId });
  const kind = CHANNEL_KIND[channel];
  if (source.kind !== kind) throw new AppError("INVALID_INPUT", `source_id: ${source.displayName} is a ${source.kind} source; ${channel === "result_push" ? "results are pushed" : "fleet syncs go"} to a source of kind ${kind}`, { source_id: sourceId, kind: source.kind });
  if (source.status !== "active") throw new AppError("CONFLICT", `${source.displayName} is disabled: enable it to accept pushes`, { source_id: sourceId });
  return source;
}

export interface AcceptPushInput {
  tenantId: string;
  sourceId: string;
  channel: IngestChannel;
  idempotencyKey: string;
  /** The raw artifact, already stored and signed (its row is inserted here). */
  raw: PreparedEvidence;
  contentType: string;
  requestedBy: string;
  audit: Pick<AuditInput, "actor" | "actorType" | "requestId" | "ip">;
  /** Fleet syncs: the endpoint row this sync is about (written by the caller in the same transaction). */
  onAccepted?: (tx: Tx, receipt: ReceiptRow) => Promise<void>;
}

export interface AcceptPushResult {
  receipt: ReceiptRow;
  duplicate: boolean;
}

/**
 * Accepts a push in the caller's tenant transaction. The same Idempotency-Key on the same source returns the first
 * receipt when the document is the same, and 409 when it is a different document (a key names one push).
 */
export async function acceptPush(tx: Tx, input: AcceptPushInput): Promise<AcceptPushResult> {
  // Serialises pushes that share a key, so two concurrent repeats cannot both create a receipt.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`ingest:${input.sourceId}:${input.idempotencyKey}`}, 0))`);
  const source = await pushTarget(tx, input.sourceId, input.channel);
  const [existing] = await tx
    .select()
    .from(ingestReceipts)
    .where(and(eq(ingestReceipts.tenantId, input.tenantId), eq(ingestReceipts.sourceId, source.id), eq(ingestReceipts.idempotencyKey, input.idempotencyKey)));
  if (existing) {
    if (existing.sha256 !== input.raw.hash) {
      throw new AppError("CONFLICT", `Idempotency-Key was already used on this source for a different document (receipt ${existing.id}, sha256 ${existing.sha256}); use a new key for a new document`, {
        receipt_id: existing.id,
        sha256: existing.sha256,
      });
    }
    return { receipt: existing, duplicate: true };
  }

  const traceId = randomUUID().replace(/-/g, "");
  const [run] = await tx
    .insert(runs)
    .values({ tenantId: input.tenantId, sourceId: source.id, trigger: "push", status: "queued", stages: freshStages(), requestedBy: input.requestedBy, traceId })
    .returning();
  const receiptId = randomUUID();
  const { job } = await enqueueJob(tx, {
    tenantId: input.tenantId,
    jobType: INGEST_JOB_TYPE,
    requestedBy: input.requestedBy,
    sourceId: source.id,
    runId: run!.id,
    payload: { receipt_id: receiptId, channel: input.channel },
    scope: source.scope,
    traceId,
    priority: 5,
    // Pushed documents are data, not a flaky collector: only transient errors (database, storage) are retried.
    maxAttempts: 3,
    timeBudgetSeconds: Math.max(source.timeBudgetSeconds, 60),
  });
  const [raw] = await insertEvidence(tx, [{ ...input.raw, runId: run!.id, jobId: job.id, sourceId: source.id }]);
  const now = new Date();
  const [receipt] = await tx
    .insert(ingestReceipts)
    .values({
      id: receiptId,
      tenantId: input.tenantId,
      sourceId: source.id,
      channel: input.channel,
      runId: run!.id,
      jobId: job.id,
      evidenceId: raw!.id,
      idempotencyKey: input.idempotencyKey,
      status: "received",
      format: input.channel === "fleet_sync" ? "fleet" : null,
      contentType: input.contentType,
      sha256: input.raw.hash,
      size: input.raw.size,
      timeline: [{ status: "received", at: now.toISOString() }],
      requestedBy: input.requestedBy,
      receivedAt: now,
      updatedAt: now,
    })
    .returning();
  await tx.update(sources).set({ lastRunAt: now, lastRunId: run!.id }).where(eq(sources.id, source.id));
  await input.onAccepted?.(tx, receipt!);
  await appendAudit(tx, {
    ...input.audit,
    tenantId: input.tenantId,
    targetType: "ingest_receipt",
    targetId: receiptId,
    action: input.channel === "result_push" ? "results.push" : "fleet.sync",
    outcome: "success",
    traceId,
    details: { source_id: source.id, run_id: run!.id, job_id: job.id, evidence_id: raw!.id, sha256: input.raw.hash, size: input.raw.size, idempotency_key: input.idempotencyKey },
  });
  return { receipt: receipt!, duplicate: false };
}

/** Moves a receipt forward (never backward, never out of done/failed), adding the step to its timeline. */
export async function advanceReceipt(tx: Tx, receiptId: string, status: Exclude<ReceiptStatus, "received" | "failed">, fields: Partial<typeof ingestReceipts.$inferInsert> = {}, at = new Date()): Promise<void> {
  const entry: ReceiptTimelineEntry = { status, at: at.toISOString() };
  await tx
    .update(ingestReceipts)
    .set({ ...fields, status, updatedAt: at, timeline: sql`${ingestReceipts.timeline} || ${JSON.stringify([entry])}::jsonb`, ...(status === "done" ? { finishedAt: at } : {}) })
    .where(and(eq(ingestReceipts.id, receiptId), inArray(ingestReceipts.status, ["received", "parsed", "normalized", "evaluated"])));
}

/** Records what went wrong (kept when the receipt is then failed). */
export async function recordReceiptError(tx: Tx, receiptId: string, error: ReceiptError, fields: Partial<typeof ingestReceipts.$inferInsert> = {}): Promise<void> {
  await tx
    .update(ingestReceipts)
    .set({ ...fields, error, updatedAt: new Date() })
    .where(and(eq(ingestReceipts.id, receiptId), inArray(ingestReceipts.status, ["received", "parsed", "normalized", "evaluated"])));
}

/** The receipt's final failure: its recorded error stays; without one, `fallback` becomes the error. */
export async function failReceipt(tx: Tx, receiptId: string, fallback: ReceiptError, at = new Date()): Promise<void> {
  const entry: ReceiptTimelineEntry = { status: "failed", at: at.toISOString() };
  await tx
    .update(ingestReceipts)
    .set({
      status: "failed",
      error: sql`coalesce(${ingestReceipts.error}, ${JSON.stringify(fallback)}::jsonb)`,
      timeline: sql`${ingestReceipts.timeline} || ${JSON.stringify([entry])}::jsonb`,
      updatedAt: at,
      finishedAt: at,
    })
    .where(and(eq(ingestReceipts.id, receiptId), inArray(ingestReceipts.status, ["received", "parsed", "normalized", "evaluated"])));
}

/** The source's last-run fields after a push run ends (the same rules as the collect pipeline). */
export async function recordPushOutcome(tx: Tx, sourceId: string, runId: string, outcome: "succeeded" | "failed" | "cancelled" | "timed_out", at: Date): Promise<void> {
  await tx
    .update(sources)
    .set({ lastRunAt: sql`greatest(${sources.lastRunAt}, (select ${runs.startedAt} from ${runs} where ${runs.id} = ${runId}))`, lastOutcome: outcome })
    .where(and(eq(sources.id, sourceId), or(eq(sources.lastRunId, runId), isNull(sources.lastRunId))));
  if (outcome === "succeeded") {
    await tx
      .update(sources)
      .set({ lastSuccessAt: sql`greatest(${sources.lastSuccessAt}, ${at.toISOString()}::timestamptz)` })
      .where(eq(sources.id, sourceId));
  }
}
