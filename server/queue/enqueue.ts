// Enqueueing: inside the caller's tenant transaction (the same transaction as the domain write), idempotent per
// (tenant, idempotency key). Idle workers are woken by a NOTIFY at commit, sent by the jobs table's insert trigger
// only while some worker is idle (drizzle/0006_queue_tuning.sql): busy workers claim again after every job anyway.
import { sql } from "drizzle-orm";
import { randomUUID } from "node:crypto";
import type { Tx } from "../../db/tenant.ts";
import { jobs } from "../../db/schema/index.ts";

export const JOBS_CHANNEL = "cairn_jobs";
export const CANCEL_CHANNEL = "cairn_job_cancel";
export const EVENTS_CHANNEL = "cairn_job_events";

export type JobRow = typeof jobs.$inferSelect;

export interface EnqueueInput {
  tenantId: string;
  jobType: string;
  requestedBy: string;
  sourceId?: string | null;
  runId?: string | null;
  payload?: Record<string, unknown>;
  scope?: Record<string, unknown>;
  policyBindings?: unknown[];
  credentialRefId?: string | null;
  traceId?: string;
  idempotencyKey?: string | null;
  priority?: number;
  maxAttempts?: number;
  timeBudgetSeconds?: number;
  runAfter?: Date;
}

/** Returns the job and whether it was created now (false: the idempotency key matched an earlier submission). */
export async function enqueueJob(tx: Tx, input: EnqueueInput): Promise<{ job: JobRow; created: boolean }> {
  const values = {
    tenantId: input.tenantId,
    jobType: input.jobType,
    requestedBy: input.requestedBy,
    sourceId: input.sourceId ?? null,
    runId: input.runId ?? null,
    payload: input.payload ?? {},
    scope: input.scope ?? {},
    policyBindings: input.policyBindings ?? [],
    credentialRefId: input.credentialRefId ?? null,
    traceId: input.traceId ?? randomUUID().replace(/-/g, ""),
    idempotencyKey: input.idempotencyKey ?? null,
    priority: input.priority ?? 0,
    maxAttempts: input.maxAttempts ?? 4,
    timeBudgetSeconds: input.timeBudgetSeconds ?? 900,
    runAfter: input.runAfter ?? new Date(),
  };
  if (values.idempotencyKey) {
    const inserted = await tx.insert(jobs).values(values).onConflictDoNothing({ target: [jobs.tenantId, jobs.idempotencyKey] }).returning();
    if (inserted[0]) return { job: inserted[0], created: true };
    const [existing] = await tx.select().from(jobs).where(sql`${jobs.tenantId} = ${input.tenantId} and ${jobs.idempotencyKey} = ${values.idempotencyKey}`);
    return { job: existing!, created: false };
  }
  const [job] = await tx.insert(jobs).values(values).returning();
  return { job: job!, created: true };
}

/** Many jobs in a few statements (same transaction, at most one NOTIFY). */
export async function enqueueJobs(tx: Tx, inputs: EnqueueInput[]): Promise<number> {
  if (!inputs.length) return 0;
  const rows = inputs.map((input) => ({
    tenantId: input.tenantId,
    jobType: input.jobType,
    requestedBy: input.requestedBy,
    sourceId: input.sourceId ?? null,
    runId: input.runId ?? null,
    payload: input.payload ?? {},
    traceId: input.traceId ?? randomUUID().replace(/-/g, ""),
    priority: input.priority ?? 0,
    maxAttempts: input.maxAttempts ?? 4,
    timeBudgetSeconds: input.timeBudgetSeconds ?? 900,
  }));
  // Bounded statements (PostgreSQL allows 65,535 parameters per statement).
  for (let i = 0; i < rows.length; i += 1_000) await tx.insert(jobs).values(rows.slice(i, i + 1_000));
  return rows.length;
}
