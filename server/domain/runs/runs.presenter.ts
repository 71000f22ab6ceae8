// Read models for runs: the list with every stage on one row, one run with its jobs and lineage, and the
// "still failing" view (sources whose latest finished run failed and was not recovered).
import { and, desc, eq, inArray, sql, type SQL } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { evidence, jobs, runs, sources, type RunStatus, type RunTrigger } from "../../../db/schema/index.ts";
import { afterCursor, cursorColumn, toPage } from "../keyset.ts";
import { AppError } from "../../errors.ts";
import { presentJob } from "../jobs/jobs.presenter.ts";

type RunRow = typeof runs.$inferSelect;

export function presentRun(r: RunRow, sourceName?: string | null) {
  return {
    run_id: r.id,
    tenant_id: r.tenantId,
    source_id: r.sourceId,
    source_name: sourceName ?? null,
    trigger: r.trigger,
    status: r.status,
    recovered: r.recoveredByRunId !== null,
    recovered_by_run_id: r.recoveredByRunId,
    retry_of_run_id: r.retryOfRunId,
    stages: r.stages,
    requested_by: r.requestedBy,
    trace_id: r.traceId,
    schedule_id: r.scheduleId,
    fire_time: r.fireTime?.toISOString() ?? null,
    credential_ref_id: r.credentialRefId,
    error: r.error,
    created_at: r.createdAt.toISOString(),
    started_at: r.startedAt?.toISOString() ?? null,
    ended_at: r.endedAt?.toISOString() ?? null,
  };
}
export type RunView = ReturnType<typeof presentRun>;

export interface RunFilter {
  status?: RunStatus;
  trigger?: RunTrigger;
  source_id?: string;
  created_after?: string;
  created_before?: string;
  cursor?: string;
  limit: number;
}

export function runWhere(f: Omit<RunFilter, "cursor" | "limit">): SQL[] {
  const where: SQL[] = [];
  if (f.status) where.push(eq(runs.status, f.status));
  if (f.trigger) where.push(eq(runs.trigger, f.trigger));
  if (f.source_id) where.push(eq(runs.sourceId, f.source_id));
  if (f.created_after) where.push(sql`${runs.createdAt} >= ${f.created_after}::timestamptz`);
  if (f.created_before) where.push(sql`${runs.createdAt} < ${f.created_before}::timestamptz`);
  return where;
}

export async function listRuns(tx: Tx, f: RunFilter) {
  const where = runWhere(f);
  const after = afterCursor(runs.createdAt, runs.id, f.cursor);
  if (after) where.push(after);
  const rows = await tx
    .select({ run: runs, sourceName: sources.displayName, cursorAt: cursorColumn(runs.createdAt), id: runs.id })
    .from(runs)
    .leftJoin(sources, eq(sources.id, runs.sourceId))
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(runs.createdAt), desc(runs.id))
    .limit(f.limit + 1);
  return toPage(rows, f.limit, (r) => presentRun(r.run, r.sourceName));
}

export async function getRun(tx: Tx, id: string) {
  const [row] = await tx.select({ run: runs, sourceName: sources.displayName }).from(runs).leftJoin(sources, eq(sources.id, runs.sourceId)).where(eq(runs.id, id));
  if (!row) throw new AppError("NOT_FOUND", "No such run");
  const runJobs = await tx.select().from(jobs).where(eq(jobs.runId, id)).orderBy(jobs.createdAt);
  const retries = await tx.select().from(runs).where(eq(runs.retryOfRunId, id)).orderBy(runs.createdAt);
  const [ev] = await tx.select({ n: sql<number>`count(*)::int` }).from(evidence).where(eq(evidence.runId, id));
  return {
    ...presentRun(row.run, row.sourceName),
    jobs: runJobs.map((j) => presentJob(j)),
    retries: retries.map((r) => ({ run_id: r.id, status: r.status, created_at: r.createdAt.toISOString() })),
    evidence_count: ev?.n ?? 0,
  };
}

/** Sources whose most recent finished run failed (or timed out) and has not been recovered by a retry. */
export async function stillFailing(tx: Tx) {
  const rows = await tx.execute<{ source_id: string; display_name: string; kind: string; run_id: string; status: string; error: string | null; ended_at: string | null; failing_since: string | null }>(sql`
    select s.id as source_id, s.display_name, s.kind, r.id as run_id, r.status, r.error, r.ended_at::text,
      (select min(f.created_at)::text from runs f where f.source_id = s.id and f.status in ('failed','timed_out')
         and f.created_at > coalesce((select max(ok.created_at) from runs ok where ok.source_id = s.id and ok.status = 'succeeded'), '-infinity')) as failing_since
    from sources s
    cross join lateral (
      select * from runs r where r.source_id = s.id and r.status in ('succeeded','failed','timed_out') order by r.created_at desc limit 1
    ) r
    where s.deleted_at is null and r.status in ('failed','timed_out') and r.recovered_by_run_id is null
    order by r.ended_at desc nulls last`);
  return rows.map((r) => ({ ...r, ended_at: r.ended_at ? new Date(r.ended_at).toISOString() : null, failing_since: r.failing_since ? new Date(r.failing_since).toISOString() : null }));
}

export async function runsMatching(tx: Tx, f: Omit<RunFilter, "cursor" | "limit">, statuses: RunStatus[], afterId: string | null, limit: number, unrecoveredOnly = false): Promise<RunRow[]> {
  const where = runWhere(f);
  where.push(inArray(runs.status, statuses));
  if (unrecoveredOnly) where.push(sql`${runs.recoveredByRunId} is null`);
  if (afterId) where.push(sql`${runs.id} > ${afterId}::uuid`);
  return tx.select().from(runs).where(and(...where)).orderBy(runs.id).limit(limit);
}
