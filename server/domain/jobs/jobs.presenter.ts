// Read models for jobs: keyset lists, one job with its counts, and its stored log.
import { and, desc, eq, gt, sql, type SQL } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { evidence, jobLogs, jobs, type JobStatus } from "../../../db/schema/index.ts";
import { afterCursor, cursorColumn, toPage } from "../keyset.ts";
import { AppError } from "../../errors.ts";

type JobRow = typeof jobs.$inferSelect;

export function presentJob(j: JobRow, evidenceCount?: number) {
  return {
    job_id: j.id,
    tenant_id: j.tenantId,
    source_id: j.sourceId,
    run_id: j.runId,
    job_type: j.jobType,
    status: j.status,
    priority: j.priority,
    attempts: j.attempts,
    max_attempts: j.maxAttempts,
    requested_by: j.requestedBy,
    credential_ref_id: j.credentialRefId,
    scope: j.scope,
    policy_bindings: j.policyBindings,
    trace_id: j.traceId,
    idempotency_key: j.idempotencyKey,
    lease_owner: j.leaseOwner,
    lease_expires_at: j.leaseExpiresAt?.toISOString() ?? null,
    cancel_requested: j.cancelRequested,
    last_error: j.lastError,
    result_summary: j.result ?? null,
    evidence_count: evidenceCount ?? null,
    created_at: j.createdAt.toISOString(),
    started_at: j.startedAt?.toISOString() ?? null,
    finished_at: j.finishedAt?.toISOString() ?? null,
  };
}
export type JobView = ReturnType<typeof presentJob>;

export interface JobFilter {
  status?: JobStatus;
  job_type?: string;
  source_id?: string;
  run_id?: string;
  cursor?: string;
  limit: number;
}

export async function listJobs(tx: Tx, f: JobFilter) {
  const where: SQL[] = [];
  if (f.status) where.push(eq(jobs.status, f.status));
  if (f.job_type) where.push(eq(jobs.jobType, f.job_type));
  if (f.source_id) where.push(eq(jobs.sourceId, f.source_id));
  if (f.run_id) where.push(eq(jobs.runId, f.run_id));
  const after = afterCursor(jobs.createdAt, jobs.id, f.cursor);
  if (after) where.push(after);
  const rows = await tx
    .select({ job: jobs, cursorAt: cursorColumn(jobs.createdAt), id: jobs.id })
    .from(jobs)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(jobs.createdAt), desc(jobs.id))
    .limit(f.limit + 1);
  return toPage(rows, f.limit, (r) => presentJob(r.job));
}

export async function getJob(tx: Tx, id: string) {
  const [j] = await tx.select().from(jobs).where(eq(jobs.id, id));
  if (!j) throw new AppError("NOT_FOUND", "No such job");
  const [count] = await tx.select({ n: sql<number>`count(*)::int` }).from(evidence).where(eq(evidence.jobId, id));
  return presentJob(j, count?.n ?? 0);
}

export async function jobLogLines(tx: Tx, jobId: string, afterId: number, limit: number) {
  const rows = await tx
    .select()
    .from(jobLogs)
    .where(and(eq(jobLogs.jobId, jobId), gt(jobLogs.id, afterId)))
    .orderBy(jobLogs.id)
    .limit(limit);
  return rows.map((l) => ({ id: l.id, level: l.level, message: l.message, at: l.createdAt.toISOString() }));
}
