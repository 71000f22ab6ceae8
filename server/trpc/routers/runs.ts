// Runs: pipeline-run roots with their stage cells; retry with lineage, cancel, bulk by filter, still failing.
import { z } from "zod";
import { router, tenantProcedure } from "../init.ts";
import { getRun, listRuns, stillFailing } from "../../domain/runs/runs.presenter.ts";
import { bulkRuns, retryRun } from "../../domain/runs/retry-run.service.ts";
import { cancelRunInTx } from "../../domain/runs/create-run.service.ts";
import { runStatuses, runTriggers, stageNames, stageStatuses } from "../../../db/schema/control.ts";
import { actorOf } from "../../domain/auth/identity.ts";
import { roleCan } from "../../domain/auth/permissions.ts";
import { AppError } from "../../errors.ts";
import { runs } from "../../../db/schema/index.ts";
import { eq } from "drizzle-orm";
import { presentJobSchema } from "./jobs.ts";

const stageCell = z.object({
  status: z.enum(stageStatuses),
  items: z.number(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  errors: z.array(z.object({ message: z.string(), where: z.string().optional() })),
});
const run = z.object({
  run_id: z.string(),
  tenant_id: z.string(),
  source_id: z.string(),
  source_name: z.string().nullable(),
  trigger: z.enum(runTriggers),
  status: z.enum(runStatuses),
  recovered: z.boolean(),
  recovered_by_run_id: z.string().nullable(),
  retry_of_run_id: z.string().nullable(),
  stages: z.object(Object.fromEntries(stageNames.map((s) => [s, stageCell])) as Record<(typeof stageNames)[number], typeof stageCell>),
  requested_by: z.string(),
  trace_id: z.string(),
  schedule_id: z.string().nullable(),
  fire_time: z.string().nullable(),
  credential_ref_id: z.string().nullable(),
  error: z.string().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
});
const runId = z.uuid("must be a run id");
const filter = {
  status: z.enum(runStatuses).optional(),
  trigger: z.enum(runTriggers).optional(),
  source_id: z.uuid().optional(),
  created_after: z.iso.datetime({ offset: true }).optional(),
  created_before: z.iso.datetime({ offset: true }).optional(),
};
const created = z.object({ run_id: z.string(), job_id: z.string(), status: z.string(), retry_of_run_id: z.string().nullable() });

export const runsRouter = router({
  list: tenantProcedure
    .meta({ permission: "read:run", openapi: { method: "GET", path: "/runs", tags: ["runs"], summary: "Runs, newest first, each with its four stage cells" } })
    .input(z.object({ ...filter, cursor: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(500).default(50) }).strict().optional())
    .output(z.object({ items: z.array(run), next_cursor: z.string().nullable() }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => listRuns(tx, input ?? { limit: 50 }))),

  stillFailing: tenantProcedure
    .meta({ permission: "read:run", openapi: { method: "GET", path: "/runs/still-failing", tags: ["runs"], summary: "Sources whose latest finished run failed and has not been recovered" } })
    .input(z.object({}).strict().optional())
    .output(
      z.object({
        items: z.array(z.object({ source_id: z.string(), display_name: z.string(), kind: z.string(), run_id: z.string(), status: z.string(), error: z.string().nullable(), ended_at: z.string().nullable(), failing_since: z.string().nullable() })),
      }),
    )
    .query(async ({ ctx }) => ({ items: await ctx.inTenant((tx) => stillFailing(tx)) })),

  get: tenantProcedure
    .meta({ permission: "read:run", openapi: { method: "GET", path: "/runs/{id}", tags: ["runs"], summary: "One run: stages, jobs, lineage" } })
    .input(z.object({ id: runId }).strict())
    .output(run.extend({ jobs: z.array(presentJobSchema), retries: z.array(z.object({ run_id: z.string(), status: z.string(), created_at: z.string() })), evidence_count: z.number() }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => getRun(tx, input.id))),

  retry: tenantProcedure
    .meta({ permission: "retry:run", openapi: { method: "POST", path: "/runs/{id}/retry", tags: ["runs"], summary: "Retry a failed, timed-out or cancelled run (a new run linked to it)" }, rest: { successStatus: 202 } })
    .input(z.object({ id: runId }).strict())
    .output(created)
    .mutation(({ ctx, input }) =>
      ctx.inTenant(async (tx) => {
        const r = await retryRun(tx, input.id, actorOf(ctx.identity).actor, ctx.idempotencyKey);
        await ctx.auditIn(tx, { targetType: "run", targetId: input.id, action: "run.retry", outcome: "success", details: { new_run_id: r.run.id } });
        return { run_id: r.run.id, job_id: r.job.id, status: r.run.status, retry_of_run_id: input.id };
      }),
    ),

  cancel: tenantProcedure
    .meta({ permission: "cancel:run", openapi: { method: "POST", path: "/runs/{id}/cancel", tags: ["runs"], summary: "Cancel a queued or running run" } })
    .input(z.object({ id: runId }).strict())
    .output(z.object({ run_id: z.string(), status: z.string() }))
    .mutation(({ ctx, input }) =>
      ctx.inTenant(async (tx) => {
        const [r] = await tx.select().from(runs).where(eq(runs.id, input.id)).for("update");
        if (!r) throw new AppError("NOT_FOUND", "No such run");
        if (r.status !== "queued" && r.status !== "running") throw new AppError("CONFLICT", `This run already ended (${r.status})`);
        await cancelRunInTx(tx, r.id, `cancelled by ${actorOf(ctx.identity).actor}`);
        await ctx.auditIn(tx, { targetType: "run", targetId: r.id, action: "run.cancel", outcome: "success" });
        const [after] = await tx.select({ status: runs.status }).from(runs).where(eq(runs.id, r.id));
        return { run_id: r.id, status: after!.status };
      }),
    ),

  bulk: tenantProcedure
    .meta({
      permission: "retry:run",
      openapi: { method: "POST", path: "/runs/bulk", tags: ["runs"], summary: "Retry or cancel every run matching a filter, a batch per call (follow next_cursor for progress)" },
    })
    .input(
      z
        .object({
          action: z.enum(["retry", "cancel"]),
          filter: z.object(filter).strict().default({}),
          cursor: z.uuid().nullable().optional(),
          batch: z.number().int().min(1).max(500).default(100),
        })
        .strict(),
    )
    .output(
      z.object({
        action: z.enum(["retry", "cancel"]),
        processed: z.number(),
        succeeded: z.number(),
        failed: z.number(),
        items: z.array(z.object({ run_id: z.string(), outcome: z.enum(["ok", "error"]), new_run_id: z.string().optional(), error: z.string().optional() })),
        next_cursor: z.string().nullable(),
      }),
    )
    .mutation(({ ctx, input }) => {
      if (input.action === "cancel" && !roleCan(ctx.tenant.role, "cancel:run")) throw new AppError("FORBIDDEN", `Your role (${ctx.tenant.role}) does not allow cancel:run`);
      return ctx.inTenant(async (tx) => {
        const r = await bulkRuns(tx, input.action, input.filter, input.cursor ?? null, input.batch, actorOf(ctx.identity).actor);
        await ctx.auditIn(tx, { targetType: "run", action: `run.bulk_${input.action}`, outcome: r.failed ? "failure" : "success", details: { filter: input.filter, processed: r.processed, succeeded: r.succeeded, failed: r.failed } });
        return r;
      });
    }),
});
