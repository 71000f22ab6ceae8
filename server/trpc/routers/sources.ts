// Sources of the current tenant: the registry (create, list, get, update, delete), test, run now, and what a source
// has produced (runs, jobs, evidence).
import { z } from "zod";
import { router, tenantProcedure } from "../init.ts";
import { jobStatuses, overlapPolicies, runStatuses, runTriggers, sourceKinds, stageNames, stageStatuses } from "../../../db/schema/control.ts";
import { actorOf } from "../../domain/auth/identity.ts";
import { PAGE_MAX_LIMIT } from "../../domain/keyset.ts";
import { presentJobSchema } from "./jobs.ts";
import { getSource, listSources } from "../../domain/sources/source.presenter.ts";
import { listSourceEvidence, listSourceJobs, listSourceRuns } from "../../domain/sources/source-activity.presenter.ts";
import { createSource, deleteSource, runSource, testSource, updateSource } from "../../domain/sources/source-registry.service.ts";

const sourceId = z.uuid("must be a source id");
const page = {
  cursor: z.string().min(1).max(200).optional().describe("next_cursor from the previous page"),
  limit: z.coerce.number().int().min(1).max(PAGE_MAX_LIMIT).optional().describe(`Page size, 1–${PAGE_MAX_LIMIT} (default 50)`),
};
const timestamp = z.string().nullable();

const sourceView = z.object({
  source_id: z.string(),
  kind: z.enum(sourceKinds),
  display_name: z.string(),
  status: z.enum(["active", "disabled", "unsupported"]).describe("unsupported: no connector for this kind in this build (the source cannot run)"),
  owner: z.string(),
  credential_mode: z.enum(["none", "credential_ref"]),
  credential_ref_id: z.string().nullable(),
  scope: z.record(z.string(), z.unknown()),
  labels: z.record(z.string(), z.string()),
  overlap_policy: z.enum(overlapPolicies),
  time_budget_seconds: z.number().int(),
  push_route: z.string().nullable().describe('Push kinds (ingest.result_push, ingest.fleet_sync): where the source\'s data arrives, e.g. "POST /v1/results/push?source_id=…"; such a source cannot be run or scheduled. null for sources that run'),
  last_run_at: timestamp,
  last_run_id: z.string().nullable(),
  last_success_at: timestamp,
  last_outcome: z.string().nullable(),
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});

const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;
const labels = z.record(z.string(), z.string().max(200, "at most 200 characters")).superRefine((value, ctx) => {
  const keys = Object.keys(value);
  if (keys.length > 32) ctx.addIssue({ code: "custom", message: "at most 32 labels" });
  for (const key of keys.filter((k) => !LABEL_KEY.test(k))) ctx.addIssue({ code: "custom", path: [key], message: "label keys: letters, digits, ., _, / and -, up to 63 characters" });
});

const displayName = z.string({ error: (issue) => (issue.input === undefined ? "required" : "must be a string") }).trim().min(1, "required").max(200, "at most 200 characters");
/** Every field but kind and display_name is optional on create (defaults apply) and on update (unchanged when absent). */
const optionalFields = {
  status: z.enum(["active", "disabled"]).optional(),
  owner: z.string().trim().max(200, "at most 200 characters").optional(),
  credential_mode: z.enum(["none", "credential_ref"]).optional(),
  credential_ref_id: z.uuid("must be a credential ref id").nullable().optional(),
  scope: z.record(z.string(), z.unknown()).optional().describe('What to collect, per kind; scan.mcp_config and scan.repo: {"paths": [...]} or {"url": "<git repository>"}'),
  labels: labels.optional(),
  overlap_policy: z.enum(overlapPolicies).optional().describe("When a run is already active: skip (refuse, 409), replace (cancel it), allow (run both)"),
  time_budget_seconds: z.number().int().min(10, "at least 10").max(86_400, "at most 86400").optional(),
};

const stageCell = z.object({
  status: z.enum(stageStatuses),
  items: z.number(),
  started_at: timestamp,
  ended_at: timestamp,
  errors: z.array(z.object({ message: z.string(), where: z.string().optional() })),
});
/** The run shape of GET /v1/runs (runs.presenter's presentRun). */
const runView = z.object({
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
  fire_time: timestamp,
  credential_ref_id: z.string().nullable(),
  error: z.string().nullable(),
  created_at: z.string(),
  started_at: timestamp,
  ended_at: timestamp,
});
const evidenceView = z.object({
  evidence_id: z.string(),
  source_id: z.string().nullable(),
  run_id: z.string().nullable(),
  job_id: z.string().nullable(),
  kind: z.string(),
  storage_uri: z.string(),
  content_type: z.string(),
  hash: z.string(),
  size: z.number(),
  signed: z.boolean(),
  created_at: z.string(),
});

export const sourcesRouter = router({
  list: tenantProcedure
    .meta({ permission: "read:source", openapi: { method: "GET", path: "/sources", tags: ["sources"], summary: "Sources of the current tenant, newest first" } })
    .input(
      z
        .object({
          kind: z.enum(sourceKinds).optional(),
          status: z.enum(["active", "disabled", "unsupported"]).optional(),
          label: z.string().min(1).max(300).optional().describe("key (has the label) or key=value"),
          ...page,
        })
        .strict()
        .optional(),
    )
    .output(z.object({ items: z.array(sourceView), next_cursor: z.string().nullable() }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => listSources(tx, ctx.tenant.id, input ?? {}))),

  get: tenantProcedure
    .meta({ permission: "read:source", openapi: { method: "GET", path: "/sources/{id}", tags: ["sources"], summary: "One source" } })
    .input(z.object({ id: sourceId }).strict())
    .output(sourceView)
    .query(({ ctx, input }) => ctx.inTenant((tx) => getSource(tx, input.id))),

  create: tenantProcedure
    .meta({ permission: "create:source", openapi: { method: "POST", path: "/sources", tags: ["sources"], summary: "Create a source" }, rest: { successStatus: 201 } })
    .input(z.object({ kind: z.enum(sourceKinds), display_name: displayName, ...optionalFields }).strict())
    .output(sourceView)
    .mutation(({ ctx, input }) => ctx.inTenant((tx) => createSource(tx, ctx.tenant.id, input, actorOf(ctx.identity).actor, ctx.auditIn))),

  update: tenantProcedure
    .meta({ permission: "update:source", openapi: { method: "PUT", path: "/sources/{id}", tags: ["sources"], summary: "Change a source (any of its fields but kind)" } })
    .input(z.object({ id: sourceId, display_name: displayName.optional(), ...optionalFields }).strict())
    .output(sourceView)
    .mutation(({ ctx, input }) => {
      const { id, ...fields } = input;
      return ctx.inTenant((tx) => updateSource(tx, id, fields, ctx.auditIn));
    }),

  remove: tenantProcedure
    .meta({ permission: "delete:source", openapi: { method: "DELETE", path: "/sources/{id}", tags: ["sources"], summary: "Delete a source: its history stays, its schedules are disabled and its active runs cancelled" } })
    .input(z.object({ id: sourceId }).strict())
    .output(z.object({ ok: z.literal(true), source_id: z.string(), schedules_disabled: z.number().int(), runs_cancelled: z.array(z.string()) }))
    .mutation(async ({ ctx, input }) => ({ ok: true as const, ...(await ctx.inTenant((tx) => deleteSource(tx, input.id, ctx.auditIn))) })),

  test: tenantProcedure
    .meta({ permission: "run:source", openapi: { method: "POST", path: "/sources/{id}/test", tags: ["sources"], summary: "Check connector, status, scope and credential presence without running the connector" } })
    .input(z.object({ id: sourceId }).strict())
    .output(
      z.object({
        source_id: z.string(),
        ok: z.boolean(),
        checks: z.array(z.object({ check: z.enum(["connector", "status", "scope", "credential"]), status: z.enum(["pass", "fail", "warn", "skip"]), message: z.string() })),
      }),
    )
    .mutation(({ ctx, input }) => ctx.inTenant((tx) => testSource(tx, ctx.tenant.id, input.id, { credentialsDir: ctx.rt.env.credentialsDir }, ctx.auditIn))),

  run: tenantProcedure
    .meta({
      permission: "run:source",
      openapi: { method: "POST", path: "/sources/{id}/run", tags: ["sources"], summary: "Run now (accepts an Idempotency-Key header: a repeat returns the first run). 409 when a run is active and the overlap policy is skip; 422 for a push source (its push_route says where its data arrives)" },
      rest: { successStatus: 202 },
    })
    .input(z.object({ id: sourceId }).strict())
    .output(z.object({ run_id: z.string(), job_id: z.string(), status: z.string(), duplicate: z.boolean(), replaced_run_ids: z.array(z.string()) }))
    .mutation(({ ctx, input }) =>
      ctx.inTenant((tx) =>
        runSource(tx, ctx.tenant.id, input.id, { trigger: ctx.identity.kind === "api_key" ? "api" : "manual", requestedBy: actorOf(ctx.identity).actor, idempotencyKey: ctx.idempotencyKey }, ctx.auditIn),
      ),
    ),

  runs: tenantProcedure
    .meta({ permission: "read:run", openapi: { method: "GET", path: "/sources/{id}/runs", tags: ["sources"], summary: "Runs of a source, newest first" } })
    .input(z.object({ id: sourceId, status: z.enum(runStatuses).optional(), ...page }).strict())
    .output(z.object({ items: z.array(runView), next_cursor: z.string().nullable() }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => listSourceRuns(tx, input.id, input))),

  jobs: tenantProcedure
    .meta({ permission: "read:job", openapi: { method: "GET", path: "/sources/{id}/jobs", tags: ["sources"], summary: "Jobs of a source, newest first" } })
    .input(z.object({ id: sourceId, status: z.enum(jobStatuses).optional(), ...page }).strict())
    .output(z.object({ items: z.array(presentJobSchema), next_cursor: z.string().nullable() }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => listSourceJobs(tx, input.id, input))),

  evidence: tenantProcedure
    .meta({ permission: "read:evidence", openapi: { method: "GET", path: "/sources/{id}/evidence", tags: ["sources"], summary: "Evidence a source produced, newest first" } })
    .input(z.object({ id: sourceId, ...page }).strict())
    .output(z.object({ items: z.array(evidenceView), next_cursor: z.string().nullable() }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => listSourceEvidence(tx, input.id, input))),
});
