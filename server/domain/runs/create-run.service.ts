// Starting a run of a source: applies the source's (or schedule's) overlap policy, creates the run and enqueues its
// job in the caller's tenant transaction. Every trigger (manual, api, schedule, retry, push, deploy_gate) comes here.
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { randomUUID } from "node:crypto";
import type { Tx } from "../../../db/tenant.ts";
import { jobs, runs, sources, type OverlapPolicy, type RunTrigger } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { enqueueJob, CANCEL_CHANNEL, type JobRow } from "../../queue/enqueue.ts";
import { freshStages } from "./stages.ts";
import { connectorFor, pushIntakeOf, pushRouteOf } from "../../connectors/registry.ts";

export const RUN_JOB_TYPE = "source.collect";

export type RunRow = typeof runs.$inferSelect;

/**
 * Push sources (ingest.result_push, ingest.fleet_sync) get their data by push: a run or a schedule of their own would
 * have nothing to collect, so both are refused up front with the route to push to.
 */
export function refuseRunOfPushSource(source: { id: string; kind: string }, what: "run" | "schedule"): void {
  const intake = pushIntakeOf(source.kind);
  if (!intake) return;
  const route = pushRouteOf(source)!;
  const message =
    what === "run"
      ? `This source receives ${intake.receives} by push: ${route} with an Idempotency-Key header. A ${source.kind} source is not run by hand, by the API or by a schedule`
      : `This source receives ${intake.receives} by push: ${route} with an Idempotency-Key header. A ${source.kind} source takes no schedules`;
  throw new AppError("UNSUPPORTED", message, { kind: source.kind, push_route: route, ...(what === "schedule" ? { field: "source_id" } : {}) });
}

export interface CreateRunInput {
  tenantId: string;
  sourceId: string;
  trigger: RunTrigger;
  requestedBy: string;
  /** Overrides the source's overlap policy (schedules carry their own). */
  overlapPolicy?: OverlapPolicy;
  scheduleId?: string | null;
  fireTime?: Date | null;
  retryOfRunId?: string | null;
  idempotencyKey?: string | null;
  traceId?: string;
  priority?: number;
}

export type CreateRunResult =
  | { status: "created"; run: RunRow; job: JobRow; replaced: string[] }
  | { status: "duplicate"; run: RunRow; job: JobRow }
  | { status: "skipped"; reason: "overlap"; activeRunId: string };

export async function createRun(tx: Tx, input: CreateRunInput): Promise<CreateRunResult> {
  const [source] = await tx.select().from(sources).where(and(eq(sources.id, input.sourceId), isNull(sources.deletedAt))).for("update");
  if (!source) throw new AppError("NOT_FOUND", "No such source");
  if (source.status === "disabled") throw new AppError("CONFLICT", "This source is disabled: enable it before running it");
  if (!connectorFor(source.kind)) throw new AppError("UNSUPPORTED", `Sources of kind ${source.kind} cannot run yet: no connector for this kind exists in this build`, { kind: source.kind, status: "unsupported" });
  refuseRunOfPushSource(source, "run");

  // A repeated submission with the same idempotency key returns the first run.
  if (input.idempotencyKey) {
    const [existing] = await tx.select().from(jobs).where(and(eq(jobs.tenantId, input.tenantId), eq(jobs.idempotencyKey, input.idempotencyKey)));
    if (existing?.runId) {
      const [run] = await tx.select().from(runs).where(eq(runs.id, existing.runId));
      if (run) return { status: "duplicate", run, job: existing };
    }
  }

  // The source row lock above serialises run creation per source, so this check cannot race.
  const policy = input.overlapPolicy ?? source.overlapPolicy;
  const active = await tx.select({ id: runs.id }).from(runs).where(and(eq(runs.sourceId, source.id), inArray(runs.status, ["queued", "running"])));
  const replaced: string[] = [];
  if (active.length && policy === "skip") return { status: "skipped", reason: "overlap", activeRunId: active[0]!.id };
  if (active.length && policy === "replace") {
    for (const r of active) {
      await cancelRunInTx(tx, r.id, `replaced by a newer ${input.trigger} run`);
      replaced.push(r.id);
    }
  }

  const traceId = input.traceId ?? randomUUID().replace(/-/g, "");
  const [run] = await tx
    .insert(runs)
    .values({
      tenantId: input.tenantId,
      sourceId: source.id,
      trigger: input.trigger,
      status: "queued",
      stages: freshStages(),
      requestedBy: input.requestedBy,
      traceId,
      scheduleId: input.scheduleId ?? null,
      fireTime: input.fireTime ?? null,
      retryOfRunId: input.retryOfRunId ?? null,
      credentialRefId: source.credentialRefId,
    })
    .returning();
  const { job } = await enqueueJob(tx, {
    tenantId: input.tenantId,
    jobType: RUN_JOB_TYPE,
    requestedBy: input.requestedBy,
    sourceId: source.id,
    runId: run!.id,
    scope: source.scope,
    credentialRefId: source.credentialRefId,
    traceId,
    idempotencyKey: input.idempotencyKey ?? null,
    priority: input.priority ?? (input.trigger === "manual" || input.trigger === "api" ? 10 : 0),
    timeBudgetSeconds: source.timeBudgetSeconds,
  });
  await tx.update(sources).set({ lastRunAt: new Date(), lastRunId: run!.id }).where(eq(sources.id, source.id));
  return { status: "created", run: run!, job, replaced };
}

/** Cancels a run: queued jobs end now; a running job is told to stop (its handler's AbortSignal fires). */
export async function cancelRunInTx(tx: Tx, runId: string, reason: string): Promise<void> {
  const now = new Date();
  const runJobs = await tx.select().from(jobs).where(and(eq(jobs.runId, runId), inArray(jobs.status, ["queued", "running"])));
  for (const j of runJobs) {
    if (j.status === "queued") {
      await tx.update(jobs).set({ status: "cancelled", finishedAt: now, lastError: reason }).where(eq(jobs.id, j.id));
    } else {
      await tx.update(jobs).set({ cancelRequested: true, lastError: reason }).where(eq(jobs.id, j.id));
      await tx.execute(sql`select pg_notify(${CANCEL_CHANNEL}, ${j.id})`);
    }
  }
  const stillRunning = runJobs.some((j) => j.status === "running");
  await tx
    .update(runs)
    .set(stillRunning ? { error: reason } : { status: "cancelled", endedAt: now, error: reason })
    .where(and(eq(runs.id, runId), inArray(runs.status, ["queued", "running"])));
}
