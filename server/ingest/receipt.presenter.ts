// Read models of push ingest: one receipt, receipts of the tenant or of a source (keyset pages), the findings a
// receipt produced, and a source's last-ingest health.
import { and, desc, eq, gt, isNull, sql } from "drizzle-orm";
import type { Tx } from "../../db/tenant.ts";
import { findings, ingestReceiptFindings, ingestReceipts, runs, sources, type ReceiptError, type ReceiptStatus, type ReceiptTimelineEntry } from "../../db/schema/index.ts";
import { AppError } from "../errors.ts";
import { afterCursor, cursorColumn, pageLimit, toPage, type Page } from "../domain/keyset.ts";
import { decodeCursor, encodeCursor } from "../domain/paging.ts";
import type { ReceiptRow } from "./receipt.service.ts";

export interface ReceiptView {
  receipt_id: string;
  source_id: string;
  channel: "result_push" | "fleet_sync";
  status: ReceiptStatus;
  format: string | null;
  format_version: string | null;
  sha256: string;
  size: number;
  content_type: string;
  idempotency_key: string;
  run_id: string | null;
  job_id: string | null;
  evidence_id: string | null;
  endpoint_id: string | null;
  counts: Record<string, number>;
  warnings: { message: string; where: string }[];
  tools: string[];
  error: ReceiptError | null;
  timeline: ReceiptTimelineEntry[];
  requested_by: string;
  received_at: string;
  updated_at: string;
  finished_at: string | null;
  links: { self: string; raw: string; findings: string; run: string | null };
}

export function presentReceipt(r: ReceiptRow): ReceiptView {
  return {
    receipt_id: r.id,
    source_id: r.sourceId,
    channel: r.channel,
    status: r.status,
    format: r.format,
    format_version: r.formatVersion,
    sha256: r.sha256,
    size: r.size,
    content_type: r.contentType,
    idempotency_key: r.idempotencyKey,
    run_id: r.runId,
    job_id: r.jobId,
    evidence_id: r.evidenceId,
    endpoint_id: r.endpointId,
    counts: r.counts,
    warnings: r.warnings,
    tools: r.tools,
    error: r.error ?? null,
    timeline: r.timeline,
    requested_by: r.requestedBy,
    received_at: r.receivedAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
    finished_at: r.finishedAt?.toISOString() ?? null,
    links: {
      self: `/v1/results/receipts/${r.id}`,
      raw: `/v1/results/receipts/${r.id}/raw`,
      findings: `/v1/results/receipts/${r.id}/findings`,
      run: r.runId ? `/v1/runs/${r.runId}` : null,
    },
  };
}

/** A receipt of the transaction's tenant; another tenant's id reads exactly like a missing one. */
export async function findReceipt(tx: Tx, id: string): Promise<ReceiptRow> {
  const [row] = await tx.select().from(ingestReceipts).where(eq(ingestReceipts.id, id));
  if (!row) throw new AppError("NOT_FOUND", "No such receipt");
  return row;
}

export async function getReceipt(tx: Tx, id: string): Promise<ReceiptView> {
  return presentReceipt(await findReceipt(tx, id));
}

export interface ReceiptFilters {
  source_id?: string;
  status?: ReceiptStatus;
  channel?: "result_push" | "fleet_sync";
  cursor?: string;
  limit?: number;
}

export async function listReceipts(tx: Tx, tenantId: string, filters: ReceiptFilters): Promise<Page<ReceiptView>> {
  const limit = pageLimit(filters.limit);
  const r = ingestReceipts;
  if (filters.source_id) {
    const [src] = await tx.select({ id: sources.id }).from(sources).where(eq(sources.id, filters.source_id));
    if (!src) throw new AppError("NOT_FOUND", "No such source");
  }
  const rows = await tx
    .select({ row: r, cursorAt: cursorColumn(r.receivedAt), id: r.id })
    .from(r)
    .where(
      and(
        eq(r.tenantId, tenantId),
        filters.source_id ? eq(r.sourceId, filters.source_id) : undefined,
        filters.status ? eq(r.status, filters.status) : undefined,
        filters.channel ? eq(r.channel, filters.channel) : undefined,
        afterCursor(r.receivedAt, r.id, filters.cursor),
      ),
    )
    .orderBy(desc(r.receivedAt), desc(r.id))
    .limit(limit + 1);
  return toPage(rows, limit, (x) => presentReceipt(x.row));
}

export interface ReceiptFindingView {
  finding_id: string;
  change: string;
  rule: string | null;
  severity: string | null;
  title: string | null;
  status: string | null;
  location: string | null;
  url: string;
}

/** The findings a receipt produced (and the ones it resolved), in link order, paged by an opaque cursor. */
export async function listReceiptFindings(tx: Tx, receiptId: string, input: { cursor?: string; limit?: number; change?: string }): Promise<Page<ReceiptFindingView>> {
  await findReceipt(tx, receiptId);
  const limit = pageLimit(input.limit);
  const after = decodeCursor(input.cursor);
  const afterId = after ? Number(after.id) : 0;
  if (after && (!Number.isInteger(afterId) || afterId < 0)) throw new AppError("INVALID_INPUT", "cursor: not a cursor this API returned");
  const l = ingestReceiptFindings;
  const rows = await tx
    .select({ id: l.id, findingId: l.findingId, change: l.change, rule: findings.rule, severity: findings.severity, title: findings.title, status: findings.status, location: findings.location })
    .from(l)
    .leftJoin(findings, eq(findings.id, l.findingId))
    .where(and(eq(l.receiptId, receiptId), input.change ? eq(l.change, input.change as "created") : undefined, afterId ? gt(l.id, afterId) : undefined))
    .orderBy(l.id)
    .limit(limit + 1);
  const more = rows.length > limit;
  const items = rows.slice(0, limit).map((x) => ({
    finding_id: x.findingId,
    change: x.change,
    rule: x.rule,
    severity: x.severity,
    title: x.title,
    status: x.status,
    location: x.location,
    url: `/findings/${x.findingId}`,
  }));
  const last = rows[limit - 1];
  return { items, next_cursor: more && last ? encodeCursor({ at: "1970-01-01T00:00:00.000000Z", id: String(last.id) }) : null };
}

export interface IngestHealthView {
  source_id: string;
  kind: string;
  /** ok: the latest push is done; failing: it failed; processing: it is still moving; never: nothing pushed yet. */
  health: "ok" | "failing" | "processing" | "never";
  last_receipt: ReceiptView | null;
  last_done_at: string | null;
  last_failure: { receipt_id: string; at: string | null; error: ReceiptError | null } | null;
  last_24h: { received: number; done: number; failed: number };
  run_status: string | null;
}

/** A push source's last-ingest health: its latest receipt, its last success and last failure, the past day's tally. */
export async function ingestHealth(tx: Tx, sourceId: string): Promise<IngestHealthView> {
  const [source] = await tx.select().from(sources).where(and(eq(sources.id, sourceId), isNull(sources.deletedAt)));
  if (!source) throw new AppError("NOT_FOUND", "No such source");
  const r = ingestReceipts;
  const latest = async (status?: ReceiptStatus) =>
    (
      await tx
        .select()
        .from(r)
        .where(and(eq(r.sourceId, sourceId), status ? eq(r.status, status) : undefined))
        .orderBy(desc(r.receivedAt), desc(r.id))
        .limit(1)
    )[0] ?? null;
  const [last, lastDone, lastFailed] = await Promise.all([latest(), latest("done"), latest("failed")]);
  const [tally] = await tx.execute<{ received: number; done: number; failed: number }>(sql`
    select count(*)::int as received, count(*) filter (where status = 'done')::int as done, count(*) filter (where status = 'failed')::int as failed
    from ingest_receipts where source_id = ${sourceId} and received_at > now() - interval '24 hours'`);
  const [run] = last?.runId ? await tx.select({ status: runs.status }).from(runs).where(eq(runs.id, last.runId)) : [];
  const health: IngestHealthView["health"] = !last ? "never" : last.status === "done" ? "ok" : last.status === "failed" ? "failing" : "processing";
  return {
    source_id: source.id,
    kind: source.kind,
    health,
    last_receipt: last ? presentReceipt(last) : null,
    last_done_at: lastDone?.finishedAt?.toISOString() ?? null,
    last_failure: lastFailed ? { receipt_id: lastFailed.id, at: lastFailed.finishedAt?.toISOString() ?? null, error: lastFailed.error ?? null } : null,
    last_24h: { received: tally?.received ?? 0, done: tally?.done ?? 0, failed: tally?.failed ?? 0 },
    run_status: run?.status ?? null,
  };
}
