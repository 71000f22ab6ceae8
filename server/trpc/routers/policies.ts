// Policies and their bindings for the current tenant, the rules catalogue, and the deploy gate (rematerialize) for
// platform owners. Binding a policy in enforce or disabled mode — or changing the rules of a policy bound that way,
// or removing such a binding — is high-risk and needs a fresh step-up.
import { z } from "zod";
import { platformProcedure, requireStepUp, router, tenantProcedure } from "../init.ts";
import { bindingModes, bindingTargets, severities } from "../../../db/schema/index.ts";
import { actorOf } from "../../domain/auth/identity.ts";
import { PAGE_MAX_LIMIT, pageLimit } from "../../domain/keyset.ts";
import { allRules } from "../../findings/rules.ts";
import {
  createPolicy,
  deleteBinding,
  deletePolicy,
  findBinding,
  getPolicy,
  listBindings,
  listPolicies,
  policyBindingModes,
  resolveBindingTarget,
  setBinding,
  uncataloguedRules,
  updatePolicy,
} from "../../findings/policies.service.ts";
import { rematerialize } from "../../findings/rematerialize.service.ts";

const policyId = z.uuid("must be a policy id");
const page = {
  cursor: z.string().min(1).max(200).optional().describe("next_cursor from the previous page"),
  limit: z.coerce.number().int().min(1).max(PAGE_MAX_LIMIT).optional().describe(`Page size, 1–${PAGE_MAX_LIMIT} (default 50)`),
};

const ruleEntry = z
  .object({
    rule: z.string().trim().min(1, "required").max(300, "at most 300 characters").describe("A rule id (mcp.inline_secret), a prefix pattern (mcp.*) or *"),
    enabled: z.boolean().optional().describe("false turns the rule off wherever the policy is bound (default true)"),
    severity: z.enum(severities).nullable().optional().describe("Overrides the producer's severity"),
  })
  .strict();
const ruleView = z.object({ rule: z.string(), enabled: z.boolean(), severity: z.enum(severities).nullable(), catalogued: z.boolean().nullable() });
const policyView = z.object({
  policy_id: z.string(),
  name: z.string(),
  description: z.string(),
  rules: z.array(ruleView),
  bindings: z.number().int(),
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});
const bindingView = z.object({
  binding_id: z.string(),
  tenant_id: z.string(),
  policy_id: z.string(),
  policy_name: z.string().nullable(),
  policy_kind: z.string(),
  target_type: z.enum(bindingTargets),
  target_id: z.string(),
  target_name: z.string().nullable(),
  mode: z.enum(bindingModes),
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});
const name = z.string({ error: (issue) => (issue.input === undefined ? "required" : "must be a string") }).trim().min(1, "required").max(100, "at most 100 characters");
const description = z.string().trim().max(2000, "at most 2000 characters");
const rules = z.array(ruleEntry).min(1, "at least one rule entry").max(200, "at most 200 rule entries");

const highRiskMode = (mode: string): boolean => mode === "enforce" || mode === "disabled";

export const policiesRouter = router({
  rules: tenantProcedure
    .meta({ permission: "read:policy", openapi: { method: "GET", path: "/policies/rules", tags: ["policies"], summary: "The built-in rules catalogue, and rules seen in this tenant's findings that it does not describe" } })
    .input(z.object({}).strict().optional())
    .output(
      z.object({
        items: z.array(z.object({ id: z.string(), title: z.string(), description: z.string(), severity: z.enum(severities), producer: z.string(), category: z.string() })),
        uncatalogued: z.array(z.object({ rule: z.string(), findings: z.number().int() })),
      }),
    )
    .query(async ({ ctx }) => ({ items: allRules(), uncatalogued: await ctx.inTenant((tx) => uncataloguedRules(tx)) })),

  list: tenantProcedure
    .meta({ permission: "read:policy", openapi: { method: "GET", path: "/policies", tags: ["policies"], summary: "Policies of the current tenant, newest first" } })
    .input(z.object({ ...page }).strict().optional())
    .output(z.object({ items: z.array(policyView), next_cursor: z.string().nullable() }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => listPolicies(tx, { cursor: input?.cursor, limit: pageLimit(input?.limit) }))),

  get: tenantProcedure
    .meta({ permission: "read:policy", openapi: { method: "GET", path: "/policies/{id}", tags: ["policies"], summary: "One policy with its bindings" } })
    .input(z.object({ id: policyId }).strict())
    .output(policyView.extend({ binding_list: z.array(bindingView) }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => getPolicy(tx, input.id))),

  create: tenantProcedure
    .meta({ permission: "create:policy", openapi: { method: "POST", path: "/policies", tags: ["policies"], summary: "Create a policy (a named list of rule entries); bind it to take effect" }, rest: { successStatus: 201 } })
    .input(z.object({ name, description: description.optional(), rules }).strict())
    .output(policyView)
    .mutation(({ ctx, input }) => ctx.inTenant((tx) => createPolicy(tx, ctx.tenant.id, input, actorOf(ctx.identity).actor, ctx.auditIn))),

  update: tenantProcedure
    .meta({ permission: "update:policy", openapi: { method: "PUT", path: "/policies/{id}", tags: ["policies"], summary: "Change a policy's name, description or rules (step-up when it is bound in enforce or disabled mode)" } })
    .input(z.object({ id: policyId, name: name.optional(), description: description.optional(), rules: rules.optional() }).strict())
    .output(policyView)
    .mutation(({ ctx, input, path }) =>
      ctx.inTenant(async (tx) => {
        const { id, ...fields } = input;
        if (fields.rules && (await policyBindingModes(tx, id)).some(highRiskMode)) await requireStepUp(ctx, ctx.tenant.id, path);
        return updatePolicy(tx, id, fields, ctx.auditIn);
      }),
    ),

  remove: tenantProcedure
    .meta({ permission: "delete:policy", openapi: { method: "DELETE", path: "/policies/{id}", tags: ["policies"], summary: "Delete a policy that has no bindings" } })
    .input(z.object({ id: policyId }).strict())
    .output(z.object({ ok: z.literal(true), policy_id: z.string() }))
    .mutation(async ({ ctx, input }) => ({ ok: true as const, ...(await ctx.inTenant((tx) => deletePolicy(tx, input.id, ctx.auditIn))) })),

  bindings: tenantProcedure
    .meta({ permission: "read:policy", openapi: { method: "GET", path: "/policy-bindings", tags: ["policies"], summary: "Policy bindings, newest first; filter by policy, target or mode" } })
    .input(
      z
        .object({
          policy_id: policyId.optional(),
          target_type: z.enum(bindingTargets).optional(),
          target_id: z.uuid("must be a tenant or source id").optional(),
          mode: z.enum(bindingModes).optional(),
          ...page,
        })
        .strict()
        .optional(),
    )
    .output(z.object({ items: z.array(bindingView), next_cursor: z.string().nullable() }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => listBindings(tx, { ...(input ?? {}), limit: pageLimit(input?.limit) }))),

  bind: tenantProcedure
    .meta({
      permission: "create:policy_binding",
      openapi: {
        method: "POST",
        path: "/policy-bindings",
        tags: ["policies"],
        summary: "Bind a policy to the tenant or a source with a mode (audit, enforce, disabled); binding the same policy to the same target again changes its mode. enforce and disabled need a step-up",
      },
      rest: { successStatus: 201 },
    })
    .input(
      z
        .object({
          policy_id: policyId,
          target_type: z.enum(bindingTargets),
          target_id: z.uuid("must be a source id").nullable().optional().describe('The source id for target_type "source"; leave out for the tenant'),
          mode: z.enum(bindingModes),
        })
        .strict(),
    )
    .output(bindingView.extend({ created: z.boolean() }))
    .mutation(({ ctx, input, path }) =>
      ctx.inTenant(async (tx) => {
        const { existing } = await resolveBindingTarget(tx, ctx.tenant.id, input);
        // A change to enforce or disabled, or away from them, decides which findings count: step-up.
        const modeChange = existing !== null && existing.mode !== input.mode;
        if (highRiskMode(input.mode) || (modeChange && highRiskMode(existing.mode))) await requireStepUp(ctx, ctx.tenant.id, path);
        return setBinding(tx, ctx.tenant.id, input, actorOf(ctx.identity).actor, ctx.auditIn);
      }),
    ),

  unbind: tenantProcedure
    .meta({ permission: "delete:policy_binding", openapi: { method: "DELETE", path: "/policy-bindings/{id}", tags: ["policies"], summary: "Remove a binding (step-up when it is in enforce or disabled mode)" } })
    .input(z.object({ id: z.uuid("must be a binding id") }).strict())
    .output(z.object({ ok: z.literal(true), binding_id: z.string() }))
    .mutation(({ ctx, input, path }) =>
      ctx.inTenant(async (tx) => {
        const binding = await findBinding(tx, input.id);
        if (highRiskMode(binding.mode)) await requireStepUp(ctx, ctx.tenant.id, path);
        return { ok: true as const, ...(await deleteBinding(tx, input.id, ctx.auditIn)) };
      }),
    ),

  rematerialize: platformProcedure
    .meta({
      permission: "rematerialize:findings",
      highRisk: true,
      openapi: {
        method: "POST",
        path: "/admin/rematerialize",
        tags: ["policies"],
        summary:
          "Deploy gate: for the chosen tenants, a deploy_gate run per active source with stored inventory evidence re-evaluates that evidence under today's rules and bindings (nothing is collected). Idempotent: an unchanged picture changes nothing but last_seen_at. Accepts an Idempotency-Key header",
      },
      rest: { successStatus: 202 },
    })
    .input(
      z
        .object({
          tenant_ids: z.array(z.uuid("must be a tenant id")).min(1, "name at least one tenant").max(100, "at most 100 tenants per call"),
          source_ids: z.array(z.uuid("must be a source id")).max(1000, "at most 1000 sources").optional().describe("Only these sources (default: every eligible source of the tenants)"),
        })
        .strict(),
    )
    .output(
      z.object({
        items: z.array(
          z.object({
            tenant_id: z.string(),
            source_id: z.string(),
            source_name: z.string(),
            outcome: z.enum(["queued", "already_queued", "skipped"]),
            run_id: z.string().nullable(),
            job_id: z.string().nullable(),
            reason: z.string().nullable(),
          }),
        ),
        queued: z.number().int(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const items = await rematerialize(ctx.rt.db, input, ctx.audit, ctx.idempotencyKey);
      const queued = items.filter((i) => i.outcome === "queued").length;
      await ctx.inPlatform((tx) =>
        ctx.auditIn(tx, { targetType: "platform", action: "findings.rematerialize", outcome: "success", details: { tenant_ids: input.tenant_ids, source_ids: input.source_ids ?? null, queued, items: items.length } }),
      );
      return { items, queued };
    }),
});
