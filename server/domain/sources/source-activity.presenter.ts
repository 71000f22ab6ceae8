// What a source has produced: its runs, jobs and evidence, newest first, in keyset pages. The source must be a live
// source of the caller's tenant (another tenant's id is a 404 here as everywhere). Runs and jobs are presented
// exactly as GET /v1/runs and GET /v1/jobs present them.
import { and, desc, eq } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { evidence, type JobStatus, type RunStatus } from "../../../db/schema/index.ts";
import { listRuns } from "../runs/runs.presenter.ts";
import { listJobs } from "../jobs/jobs.presenter.ts";
import { afterCursor, cursorColumn, pageLimit, toPage, type Page } from "../keyset.ts";
import { findSource } from "./source.presenter.ts";

export interface ActivityFilters {
  cursor?: string;
  limit?: number;
}

export async function listSourceRuns(tx: Tx, sourceId: string, filters: ActivityFilters & { status?: RunStatus }) {
  const source = await findSource(tx, sourceId);
  return listRuns(tx, { source_id: source.id, status: filters.status, cursor: filters.cursor, limit: pageLimit(filters.limit) });
}

export async function listSourceJobs(tx: Tx, sourceId: string, filters: ActivityFilters & { status?: JobStatus }) {
  const source = await findSource(tx, sourceId);
  return listJobs(tx, { source_id: source.id, status: filters.status, cursor: filters.cursor, limit: pageLimit(filters.limit) });
}

export interface SourceEvidenceView {
  evidence_id: string;
  source_id: string | null;
  run_id: string | null;
  job_id: string | null;
  kind: string;
  storage_uri: string;
  content_type: string;
  hash: string;
  size: number;
  signed: boolean;
  created_at: string;
}

export async function listSourceEvidence(tx: Tx, sourceId: string, filters: ActivityFilters): Promise<Page<SourceEvidenceView>> {
  const source = await findSource(tx, sourceId);
  const limit = pageLimit(filters.limit);
  const rows = await tx
    .select({ row: evidence, cursorAt: cursorColumn(evidence.createdAt), id: evidence.id })
    .from(evidence)
    .where(and(eq(evidence.tenantId, source.tenantId), eq(evidence.sourceId, source.id), afterCursor(evidence.createdAt, evidence.id, filters.cursor)))
    .orderBy(desc(evidence.createdAt), desc(evidence.id))
    .limit(limit + 1);
  return toPage(rows, limit, ({ row: e }) => ({
    evidence_id: e.id,
    source_id: e.sourceId,
    run_id: e.runId,
    job_id: e.jobId,
    kind: e.kind,
    storage_uri: e.storageUri,
    content_type: e.contentType,
    hash: e.hash,
    size: e.size,
    signed: e.signature !== null,
    created_at: e.createdAt.toISOString(),
  }));
}
