// Enqueueing: inside the caller's tenant transaction (the same transaction as the domain write), idempotent per
// (tenant, idempotency key). Idle workers are woken by a NOTIFY at commit, sent by the jobs table's insert trigger
// only while some worker is idle (drizzle/0006_queue_tuning.sql): busy workers claim again after every job anyway.
import { param, sql } from "drizzle-orm";
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
  // Prepared (the statement text is the same every time): one round trip instead of describe-then-execute.
  if (values.idempotencyKey) {
    const inserted = await tx.insert(jobs).values(values).onConflictDoNothing({ target: [jobs.tenantId, jobs.idempotencyKey] }).returning().prepare("cairn_enqueue_job_idempotent").execute();
    if (inserted[0]) return { job: inserted[0], created: true };
    const [existing] = await tx.select().from(jobs).where(sql`${jobs.tenantId} = ${input.tenantId} and ${jobs.idempotencyKey} = ${values.idempotencyKey}`);
    return { job: existing!, created: false };
  }
  const [job] = await tx.insert(jobs).values(values).returning().prepare("cairn_enqueue_job").execute();
  return { job: job!, created: true };
}

export { enqueueJobNow } from "./enqueue-now.ts";

/** Many jobs in a few statements (same transaction, at most one NOTIFY): column arrays, unnested by PostgreSQL. */
export async function enqueueJobs(tx: Tx, inputs: EnqueueInput[]): Promise<number> {
  for (let i = 0; i < inputs.length; i += ENQUEUE_CHUNK) {
    const chunk = inputs.slice(i, i + ENQUEUE_CHUNK);
    const col = <T>(f: (input: EnqueueInput) => T) => param(chunk.map(f));
    await tx.execute(sql`
      insert into jobs (tenant_id, job_type, requested_by, source_id, run_id, payload, trace_id, priority, max_attempts, time_budget_seconds)
      select u.tenant_id, u.job_type, u.requested_by, u.source_id, u.run_id, u.payload::jsonb, u.trace_id, u.priority, u.max_attempts, u.time_budget_seconds
      from unnest(${col((x) => x.tenantId)}::uuid[], ${col((x) => x.jobType)}::text[], ${col((x) => x.requestedBy)}::text[],
                  ${col((x) => x.sourceId ?? null)}::uuid[], ${col((x) => x.runId ?? null)}::uuid[], ${col((x) => JSON.stringify(x.payload ?? {}))}::text[],
                  ${col((x) => x.traceId ?? randomUUID().replace(/-/g, ""))}::text[], ${col((x) => x.priority ?? 0)}::int[],
                  ${col((x) => x.maxAttempts ?? 4)}::int[], ${col((x) => x.timeBudgetSeconds ?? 900)}::int[])
        as u(tenant_id, job_type, requested_by, source_id, run_id, payload, trace_id, priority, max_attempts, time_budget_seconds)`);
  }
  return inputs.length;
}

const ENQUEUE_CHUNK = 5_000;
