// Platform-owner views across the installation: tenants (never tenant secrets).
import { z } from "zod";
import { platformProcedure, router } from "../init.ts";
import { createTenant, listTenants } from "../../domain/tenants/tenants.service.ts";

const tenant = z.object({ tenant_id: z.string(), slug: z.string(), name: z.string(), created_at: z.string() });

export const platformRouter = router({
  tenants: platformProcedure
    .meta({ permission: "read:platform", openapi: { method: "GET", path: "/platform/tenants", tags: ["platform"], summary: "All tenants (platform owners)" } })
    .input(z.object({}).strict().optional())
    .output(z.object({ items: z.array(tenant), next_cursor: z.string().nullable() }))
    .query(async ({ ctx }) => ({ items: await listTenants(ctx.rt.db), next_cursor: null })),

  createTenant: platformProcedure
    .meta({ permission: "create:tenant", openapi: { method: "POST", path: "/platform/tenants", tags: ["platform"], summary: "Create a tenant (platform owners)" }, rest: { successStatus: 201 } })
    .input(z.object({ slug: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, "lowercase letters, digits and dashes, 2–63 characters"), name: z.string().trim().min(1).max(200) }).strict())
    .output(tenant)
    .mutation(async ({ ctx, input }) => {
      const adminUserId = ctx.identity.kind === "session" ? ctx.identity.user.id : undefined;
      const t = await createTenant(ctx.rt.db, { ...input, adminUserId }, ctx.audit);
      return { tenant_id: t.id, slug: t.slug, name: t.name, created_at: t.createdAt.toISOString() };
    }),
});
