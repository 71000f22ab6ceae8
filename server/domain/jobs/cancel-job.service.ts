// Cancelling a job: a queued job ends now; a running one is told to stop (its handler's AbortSignal fires within a
// second: NOTIFY, with the worker's one-second lease poll as the fallback).
import { eq, sql } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { jobs, runs } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { CANCEL_CHANNEL, EVENTS_CHANNEL } from "../../queue/enqueue.ts";

export async function cancelJob(tx: Tx, id: string, reason: string): Promise<{ status: string; cancel_requested: boolean }> {
  const [job] = await tx.select().from(jobs).where(eq(jobs.id, id)).for("update");
  if (!job) throw new AppError("NOT_FOUND", "No such job");
  if (job.status === "queued") {
    await tx.update(jobs).set({ status: "cancelled", finishedAt: new Date(), lastError: reason }).where(eq(jobs.id, id));
    if (job.runId) await tx.update(runs).set({ status: "cancelled", endedAt: new Date(), error: reason }).where(eq(runs.id, job.runId));
    await tx.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${JSON.stringify({ tenant_id: job.tenantId, job_id: id, run_id: job.runId, kind: "status" })})`);
    return { status: "cancelled", cancel_requested: false };
  }
  if (job.status === "running") {
    await tx.update(jobs).set({ cancelRequested: true }).where(eq(jobs.id, id));
    await tx.execute(sql`select pg_notify(${CANCEL_CHANNEL}, ${id})`);
    return { status: "running", cancel_requested: true };
  }
  throw new AppError("CONFLICT", `This job already ended (${job.status})`);
}
