// Jobs: the queue's units of work. List, inspect, read the log, cancel.
import { z } from "zod";
import { router, tenantProcedure } from "../init.ts";
import { getJob, jobLogLines, listJobs } from "../../domain/jobs/jobs.presenter.ts";
import { cancelJob } from "../../domain/jobs/cancel-job.service.ts";
import { jobStatuses } from "../../../db/schema/control.ts";
import { actorOf } from "../../domain/auth/identity.ts";

const job = z.object({
  job_id: z.string(),
  tenant_id: z.string(),
  source_id: z.string().nullable(),
  run_id: z.string().nullable(),
  job_type: z.string(),
  status: z.enum(jobStatuses),
  priority: z.number(),
  attempts: z.number(),
  max_attempts: z.number(),
  requested_by: z.string(),
  credential_ref_id: z.string().nullable(),
  scope: z.record(z.string(), z.unknown()),
  policy_bindings: z.array(z.unknown()),
  trace_id: z.string(),
  idempotency_key: z.string().nullable(),
  lease_owner: z.string().nullable(),
  lease_expires_at: z.string().nullable(),
  cancel_requested: z.boolean(),
  last_error: z.string().nullable(),
  result_summary: z.record(z.string(), z.unknown()).nullable(),
  evidence_count: z.number().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});
export const presentJobSchema = job;
const jobId = z.uuid("must be a job id");

export const jobsRouter = router({
  list: tenantProcedure
    .meta({ permission: "read:job", openapi: { method: "GET", path: "/jobs", tags: ["jobs"], summary: "Jobs, newest first (keyset paging)" } })
    .input(
      z
        .object({
          status: z.enum(jobStatuses).optional(),
          job_type: z.string().max(100).optional(),
          source_id: z.uuid().optional(),
          run_id: z.uuid().optional(),
          cursor: z.string().max(200).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        })
        .strict()
        .optional(),
    )
    .output(z.object({ items: z.array(job), next_cursor: z.string().nullable() }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => listJobs(tx, input ?? { limit: 50 }))),

  get: tenantProcedure
    .meta({ permission: "read:job", openapi: { method: "GET", path: "/jobs/{id}", tags: ["jobs"], summary: "One job" } })
    .input(z.object({ id: jobId }).strict())
    .output(job)
    .query(({ ctx, input }) => ctx.inTenant((tx) => getJob(tx, input.id))),

  logs: tenantProcedure
    .meta({ permission: "read:job", openapi: { method: "GET", path: "/jobs/{id}/logs", tags: ["jobs"], summary: "Stored log lines (secret values redacted), after a line id" } })
    .input(z.object({ id: jobId, after_id: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(1000).default(500) }).strict())
    .output(z.object({ items: z.array(z.object({ id: z.number(), level: z.string(), message: z.string(), at: z.string() })) }))
    .query(({ ctx, input }) =>
      ctx.inTenant(async (tx) => {
        await getJob(tx, input.id); // 404 for another tenant's job
        return { items: await jobLogLines(tx, input.id, input.after_id, input.limit) };
      }),
    ),

  cancel: tenantProcedure
    .meta({ permission: "cancel:job", openapi: { method: "DELETE", path: "/jobs/{id}", tags: ["jobs"], summary: "Cancel: a queued job ends now; a running job's handler is told to stop" } })
    .input(z.object({ id: jobId }).strict())
    .output(z.object({ job_id: z.string(), status: z.string(), cancel_requested: z.boolean() }))
    .mutation(({ ctx, input }) =>
      ctx.inTenant(async (tx) => {
        const r = await cancelJob(tx, input.id, `cancelled by ${actorOf(ctx.identity).actor}`);
        await ctx.auditIn(tx, { targetType: "job", targetId: input.id, action: "job.cancel", outcome: "success", details: r });
        return { job_id: input.id, ...r };
      }),
    ),
});
