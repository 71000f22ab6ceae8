// Tenant members: list, add, change role (high-risk), remove.
import { z } from "zod";
import { router, tenantProcedure } from "../init.ts";
import { addMember, changeMemberRole, listMembers, removeMember } from "../../domain/members/members.service.ts";
import { tenantRoles } from "../../../db/schema/tenancy.ts";

const member = z.object({ user_id: z.string(), email: z.string(), name: z.string(), role: z.enum(tenantRoles), created_at: z.string(), must_change_password: z.boolean() });
const userId = z.uuid("must be a user id");

export const membersRouter = router({
  list: tenantProcedure
    .meta({ permission: "read:member", openapi: { method: "GET", path: "/members", tags: ["members"], summary: "Members of the current tenant" } })
    .input(z.object({}).strict().optional())
    .output(z.object({ items: z.array(member) }))
    .query(async ({ ctx }) => ({ items: await ctx.inTenant((tx) => listMembers(tx)) })),

  add: tenantProcedure
    .meta({ permission: "create:member", openapi: { method: "POST", path: "/members", tags: ["members"], summary: "Add a member (new people get a one-time password)" }, rest: { successStatus: 201 } })
    .input(z.object({ email: z.email("must be an email address"), name: z.string().max(200).optional(), role: z.enum(tenantRoles) }).strict())
    .output(member.extend({ one_time_password: z.string().nullable() }))
    .mutation(({ ctx, input }) => ctx.inTenant((tx) => addMember(tx, ctx.tenant.id, input, ctx.auditIn))),

  changeRole: tenantProcedure
    .meta({ permission: "update:member", highRisk: true, openapi: { method: "PUT", path: "/members/{user_id}/role", tags: ["members"], summary: "Change a member's role (high-risk)" } })
    .input(z.object({ user_id: userId, role: z.enum(tenantRoles) }).strict())
    .output(member)
    .mutation(({ ctx, input }) => ctx.inTenant((tx) => changeMemberRole(tx, input.user_id, input.role, ctx.auditIn))),

  remove: tenantProcedure
    .meta({ permission: "delete:member", openapi: { method: "DELETE", path: "/members/{user_id}", tags: ["members"], summary: "Remove a member" } })
    .input(z.object({ user_id: userId }).strict())
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      await ctx.inTenant((tx) => removeMember(tx, input.user_id, ctx.auditIn));
      return { ok: true as const };
    }),
});
