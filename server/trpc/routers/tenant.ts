// The current tenant: identity and quotas.
import { z } from "zod";
import { router, tenantProcedure } from "../init.ts";
import { currentUsage, readSettings, writeSettings } from "../../domain/tenants/tenant-settings.ts";

const quota = z.object({ requests_per_minute: z.number().int().min(10).max(1_000_000), key_requests_per_minute: z.number().int().min(10).max(1_000_000) });

export const tenantRouter = router({
  current: tenantProcedure
    .meta({ permission: "read:tenant", openapi: { method: "GET", path: "/tenant", tags: ["tenant"], summary: "The tenant this credential acts in, with its quotas and current usage" } })
    .input(z.object({}).strict().optional())
    .output(z.object({ tenant_id: z.string(), slug: z.string(), role: z.string(), quota, usage: z.object({ tenant_requests_this_minute: z.number() }) }))
    .query(async ({ ctx }) => ({
      tenant_id: ctx.tenant.id,
      slug: ctx.tenant.slug,
      role: ctx.tenant.role,
      quota: await ctx.inTenant((tx) => readSettings(tx, ctx.tenant.id)),
      usage: await currentUsage(ctx.rt.db, ctx.tenant.id),
    })),

  updateQuota: tenantProcedure
    .meta({ permission: "update:tenant_settings", openapi: { method: "PUT", path: "/tenant/quota", tags: ["tenant"], summary: "Change the tenant's request quotas" } })
    .input(quota.strict())
    .output(quota)
    .mutation(({ ctx, input }) =>
      ctx.inTenant(async (tx) => {
        const before = await readSettings(tx, ctx.tenant.id);
        const after = await writeSettings(tx, ctx.tenant.id, input);
        await ctx.auditIn(tx, { targetType: "tenant", targetId: ctx.tenant.id, action: "tenant.quota_update", outcome: "success", details: { before, after } });
        return after;
      }),
    ),
});
