// API keys of the current tenant: create, list, rotate, revoke (the three changes are high-risk).
import { z } from "zod";
import { router, tenantProcedure } from "../init.ts";
import { createKey, listKeys, revokeKey, rotateKey } from "../../domain/api-keys/api-keys.service.ts";
import { tenantRoles } from "../../../db/schema/tenancy.ts";
import { actorOf } from "../../domain/auth/identity.ts";

const keyView = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  role: z.string(),
  high_risk: z.boolean(),
  status: z.enum(["active", "rotating", "revoked", "expired"]),
  created_by: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  rotated_to: z.string().nullable(),
  grace_until: z.string().nullable(),
});
const withSecret = keyView.extend({ api_key: z.string().describe("The full key. Shown once; only its hash is stored.") });
const keyId = z.string().regex(/^[a-z2-7]{12}$/, "must be an API key id");

export const apiKeysRouter = router({
  list: tenantProcedure
    .meta({ permission: "read:api_key", openapi: { method: "GET", path: "/auth/keys", tags: ["keys"], summary: "API keys of the current tenant (never their secrets)" } })
    .input(z.object({}).strict().optional())
    .output(z.object({ items: z.array(keyView), next_cursor: z.string().nullable() }))
    .query(async ({ ctx }) => ({ items: await ctx.inTenant((tx) => listKeys(tx)), next_cursor: null })),

  create: tenantProcedure
    .meta({ permission: "create:api_key", highRisk: true, openapi: { method: "POST", path: "/auth/keys", tags: ["keys"], summary: "Create an API key (high-risk; the secret is shown once)" }, rest: { successStatus: 201 } })
    .input(
      z
        .object({
          name: z.string().trim().min(1, "required").max(100),
          role: z.enum(tenantRoles),
          high_risk: z.boolean().default(false).describe("Allow this key to perform high-risk actions (each use is audited)"),
          expires_in_days: z.number().int().min(1).max(3650).optional(),
        })
        .strict(),
    )
    .output(withSecret)
    .mutation(({ ctx, input }) =>
      ctx.inTenant((tx) =>
        createKey(
          tx,
          { tenantId: ctx.tenant.id, name: input.name, role: input.role, highRisk: input.high_risk, expiresAt: input.expires_in_days ? new Date(Date.now() + input.expires_in_days * 86_400_000) : null, createdBy: actorOf(ctx.identity).actor },
          ctx.auditIn,
        ),
      ),
    ),

  rotate: tenantProcedure
    .meta({ permission: "rotate:api_key", highRisk: true, openapi: { method: "POST", path: "/auth/keys/{id}/rotate", tags: ["keys"], summary: "Rotate: issue a successor; the old key works until its grace window ends (high-risk)" } })
    .input(z.object({ id: keyId, grace_hours: z.number().int().min(0).max(720).optional() }).strict())
    .output(z.object({ successor: withSecret, previous: keyView }))
    .mutation(({ ctx, input }) => ctx.inTenant((tx) => rotateKey(tx, input.id, input.grace_hours ?? ctx.rt.env.CAIRN_KEY_ROTATION_GRACE_HOURS, actorOf(ctx.identity).actor, ctx.auditIn))),

  revoke: tenantProcedure
    .meta({ permission: "revoke:api_key", highRisk: true, openapi: { method: "DELETE", path: "/auth/keys/{id}", tags: ["keys"], summary: "Revoke at once (high-risk)" } })
    .input(z.object({ id: keyId }).strict())
    .output(keyView)
    .mutation(({ ctx, input }) => ctx.inTenant((tx) => revokeKey(tx, input.id, ctx.auditIn))),
});
