// Findings of the current tenant: the filtered keyset list, one finding, its provenance graph, and exceptions
// (request by anyone allowed to; approve, reject or revoke by an admin).
import { z } from "zod";
import { router, tenantProcedure } from "../init.ts";
import { exceptionStatuses, findingStatuses, severities } from "../../../db/schema/index.ts";
import { actorOf } from "../../domain/auth/identity.ts";
import { PAGE_MAX_LIMIT, pageLimit } from "../../domain/keyset.ts";
import { getFinding, listFindings, sourceFindingsSummary } from "../../findings/findings.presenter.ts";
import { findingProvenance, provenanceNodeTypes } from "../../findings/provenance.presenter.ts";
import { decideException, EXCEPTION_MAX_DAYS, requestException } from "../../findings/exceptions.service.ts";
import { listExceptions } from "../../findings/exceptions.presenter.ts";

const findingId = z.uuid("must be a finding id");
const exceptionId = z.uuid("must be an exception id");
const page = {
  cursor: z.string().min(1).max(200).optional().describe("next_cursor from the previous page"),
  limit: z.coerce.number().int().min(1).max(PAGE_MAX_LIMIT).optional().describe(`Page size, 1–${PAGE_MAX_LIMIT} (default 50)`),
};
const ts = z.string().nullable();

const liveException = z.object({ exception_id: z.string(), status: z.string(), expires_at: z.string() });
const findingView = z.object({
  finding_id: z.string(),
  tenant_id: z.string(),
  source_id: z.string(),
  source_name: z.string().nullable(),
  fingerprint: z.string(),
  rule: z.string(),
  rule_title: z.string().nullable().describe("From the rules catalogue; null for a rule the catalogue does not describe"),
  severity: z.enum(severities),
  title: z.string(),
  status: z.enum(findingStatuses),
  resolution: z.enum(["not_seen", "disabled_by_policy"]).nullable(),
  asset: z.object({ asset_id: z.string().nullable(), type: z.string().nullable(), key: z.string(), name: z.string().nullable() }).nullable(),
  where: z.string().nullable().describe("file:line or file#/json/pointer"),
  details: z.record(z.string(), z.unknown()),
  enforcement: z.enum(["default", "audit", "enforce"]).describe("How the last evaluation treated it: default (no binding covers the rule), audit or enforce"),
  policy_binding_ids: z.array(z.string()),
  exception: liveException.nullable().describe("The pending or approved exception, if any"),
  first_seen_at: z.string(),
  last_seen_at: z.string(),
  resolved_at: ts,
  first_run_id: z.string().nullable(),
  last_run_id: z.string().nullable(),
  last_job_id: z.string().nullable(),
  last_evidence_id: z.string().nullable(),
  resolved_run_id: z.string().nullable(),
  reopened_count: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});
const exceptionView = z.object({
  exception_id: z.string(),
  finding_id: z.string(),
  reason: z.string(),
  expires_at: z.string(),
  status: z.enum(exceptionStatuses),
  requested_by: z.string(),
  decided_by: z.string().nullable(),
  decided_at: ts,
  decision_note: z.string().nullable(),
  expired_at: ts,
  created_at: z.string(),
  updated_at: z.string(),
});
const evidenceLink = z.object({
  evidence_id: z.string(),
  kind: z.string(),
  content_type: z.string(),
  hash: z.string(),
  size: z.number(),
  signed: z.boolean(),
  evidence_run_id: z.string().nullable(),
  evidence_job_id: z.string().nullable(),
  linked_by_run_id: z.string().nullable(),
  linked_by_job_id: z.string().nullable(),
  linked_at: z.string(),
  created_at: z.string(),
});
const provenanceView = z.object({
  finding_id: z.string(),
  nodes: z.array(
    z.object({
      id: z.string(),
      type: z.enum(provenanceNodeTypes),
      label: z.string(),
      detail: z.string().nullable(),
      href: z.string().nullable().describe("The UI page that shows this node"),
      data: z.record(z.string(), z.unknown()),
    }),
  ),
  edges: z.array(z.object({ id: z.string(), from: z.string(), to: z.string(), label: z.string() })),
  evidence_shown: z.number().int(),
  evidence_total: z.number().int(),
  policy_binding_ids: z.array(z.string()),
});

const decisionInput = z.object({ id: exceptionId, note: z.string().trim().max(2000, "at most 2000 characters").optional() }).strict();

export const findingsRouter = router({
  list: tenantProcedure
    .meta({ permission: "read:finding", openapi: { method: "GET", path: "/findings", tags: ["findings"], summary: "Findings of the current tenant, newest first; filter by severity, status, source and rule" } })
    .input(
      z
        .object({
          severity: z.enum(severities).optional(),
          status: z.enum(findingStatuses).optional(),
          source_id: z.uuid("must be a source id").optional(),
          rule: z.string().min(1).max(300).optional(),
          ...page,
        })
        .strict()
        .optional(),
    )
    .output(z.object({ items: z.array(findingView), next_cursor: z.string().nullable() }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => listFindings(tx, ctx.tenant.id, { ...(input ?? {}), limit: pageLimit(input?.limit) }))),

  sourceSummary: tenantProcedure
    .meta({ permission: "read:finding", openapi: { method: "GET", path: "/sources/{id}/findings-summary", tags: ["findings"], summary: "How many findings a source has: open ones by severity, suppressed and resolved" } })
    .input(z.object({ id: z.uuid("must be a source id") }).strict())
    .output(
      z.object({
        source_id: z.string(),
        open: z.number().int(),
        open_by_severity: z.object(Object.fromEntries(severities.map((s) => [s, z.number().int()])) as Record<(typeof severities)[number], z.ZodNumber>),
        suppressed: z.number().int(),
        resolved: z.number().int(),
      }),
    )
    .query(({ ctx, input }) => ctx.inTenant((tx) => sourceFindingsSummary(tx, ctx.tenant.id, input.id))),

  get: tenantProcedure
    .meta({ permission: "read:finding", openapi: { method: "GET", path: "/findings/{id}", tags: ["findings"], summary: "One finding with its asset, evidence links and exceptions" } })
    .input(z.object({ id: findingId }).strict())
    .output(findingView.extend({ rule_description: z.string().nullable(), evidence: z.array(evidenceLink), evidence_total: z.number().int(), exceptions: z.array(exceptionView) }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => getFinding(tx, ctx.tenant.id, input.id))),

  provenance: tenantProcedure
    .meta({
      permission: "read:finding",
      openapi: { method: "GET", path: "/findings/{id}/provenance", tags: ["findings"], summary: "The chain finding → evidence → job → run → source (→ schedule or requester, credential ref, policy bindings) as nodes and edges" },
    })
    .input(z.object({ id: findingId }).strict())
    .output(provenanceView)
    .query(({ ctx, input }) => ctx.inTenant((tx) => findingProvenance(tx, ctx.tenant.id, input.id))),

  requestException: tenantProcedure
    .meta({
      permission: "request:finding_exception",
      openapi: { method: "POST", path: "/findings/{id}/exceptions", tags: ["findings"], summary: "Ask for an exception: the finding is suppressed with a reason until expires_at once an admin approves" },
      rest: { successStatus: 201 },
    })
    .input(
      z
        .object({
          id: findingId,
          reason: z.string().trim().min(1, "required: say why this finding may be suppressed").max(2000, "at most 2000 characters"),
          expires_at: z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time" }).describe(`When the exception ends and the finding reopens (at most ${EXCEPTION_MAX_DAYS} days ahead)`),
        })
        .strict(),
    )
    .output(exceptionView)
    .mutation(({ ctx, input }) => ctx.inTenant((tx) => requestException(tx, ctx.tenant.id, input.id, input, actorOf(ctx.identity).actor, ctx.auditIn))),

  exceptions: tenantProcedure
    .meta({ permission: "read:finding", openapi: { method: "GET", path: "/exceptions", tags: ["findings"], summary: "Exceptions, newest first; filter by status or finding" } })
    .input(z.object({ status: z.enum(exceptionStatuses).optional(), finding_id: findingId.optional(), ...page }).strict().optional())
    .output(z.object({ items: z.array(exceptionView), next_cursor: z.string().nullable() }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => listExceptions(tx, ctx.tenant.id, { ...(input ?? {}), limit: pageLimit(input?.limit) }))),

  approveException: tenantProcedure
    .meta({ permission: "approve:finding_exception", openapi: { method: "POST", path: "/exceptions/{id}/approve", tags: ["findings"], summary: "Approve a requested exception: its finding is suppressed until the exception expires" } })
    .input(decisionInput)
    .output(exceptionView)
    .mutation(({ ctx, input }) => ctx.inTenant((tx) => decideException(tx, ctx.tenant.id, input.id, "approve", actorOf(ctx.identity).actor, input.note, ctx.auditIn))),

  rejectException: tenantProcedure
    .meta({ permission: "approve:finding_exception", openapi: { method: "POST", path: "/exceptions/{id}/reject", tags: ["findings"], summary: "Reject a requested exception" } })
    .input(decisionInput)
    .output(exceptionView)
    .mutation(({ ctx, input }) => ctx.inTenant((tx) => decideException(tx, ctx.tenant.id, input.id, "reject", actorOf(ctx.identity).actor, input.note, ctx.auditIn))),

  revokeException: tenantProcedure
    .meta({ permission: "approve:finding_exception", openapi: { method: "POST", path: "/exceptions/{id}/revoke", tags: ["findings"], summary: "Revoke a pending or approved exception: a suppressed finding reopens now" } })
    .input(decisionInput)
    .output(exceptionView)
    .mutation(({ ctx, input }) => ctx.inTenant((tx) => decideException(tx, ctx.tenant.id, input.id, "revoke", actorOf(ctx.identity).actor, input.note, ctx.auditIn))),
});
