// Sign-in, sign-out and the signed-in person's own account (sessions, password, tenant switch).
import { z } from "zod";
import { publicProcedure, router, selfProcedure } from "../init.ts";
import { loginWithPassword } from "../../domain/auth/login.service.ts";
import { changePassword, listSessions, memberships, revokeSession, switchTenant } from "../../domain/auth/account.service.ts";
import { clearedSessionCookie, invalidateSession, sessionCookie } from "../../domain/auth/session.service.ts";
import { recordAudit } from "../../domain/audit/audit-writer.service.ts";
import { oidcConfigured, oidcLabel } from "../../domain/auth/oidc-config.ts";

const secureCookies = (publicUrl: string) => publicUrl.startsWith("https://");

export const authRouter = router({
  methods: publicProcedure
    .meta({ permission: "public" })
    .input(z.void())
    .output(z.object({ password: z.boolean(), passkey: z.boolean(), oidc: z.object({ enabled: z.boolean(), label: z.string() }) }))
    .query(({ ctx }) => ({ password: true, passkey: true, oidc: { enabled: oidcConfigured(ctx.rt.env), label: oidcLabel(ctx.rt.env) } })),

  login: publicProcedure
    .meta({ permission: "public" })
    .input(z.object({ email: z.string().trim().min(3, "enter your email").max(320), password: z.string().min(1, "enter your password").max(256) }).strict())
    .output(z.object({ must_change_password: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      const created = await loginWithPassword(ctx.rt, { ...input, ip: ctx.ip, userAgent: ctx.userAgent, requestId: ctx.requestId });
      ctx.setCookie(sessionCookie(created.token, created.session.expiresAt, secureCookies(ctx.rt.env.publicUrl)));
      return { must_change_password: created.mustChangePassword };
    }),

  logout: selfProcedure
    .meta({ permission: "self" })
    .input(z.void())
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx }) => {
      await invalidateSession(ctx.rt.db, ctx.session.id);
      ctx.setCookie(clearedSessionCookie(secureCookies(ctx.rt.env.publicUrl)));
      await recordAudit(ctx.rt.db, { tenantId: ctx.session.tenantId, actor: `user:${ctx.user.email}`, actorType: "user", targetType: "session", targetId: ctx.session.id, action: "auth.logout", outcome: "success", requestId: ctx.requestId, ip: ctx.ip });
      return { ok: true as const };
    }),

  me: selfProcedure
    .meta({ permission: "self" })
    .input(z.void())
    .output(
      z.object({
        user_id: z.string(),
        email: z.string(),
        name: z.string(),
        is_platform_owner: z.boolean(),
        must_change_password: z.boolean(),
        auth_method: z.string(),
        authenticated_at: z.string(),
        step_up_at: z.string().nullable(),
        current_tenant_id: z.string().nullable(),
        memberships: z.array(z.object({ tenant_id: z.string(), slug: z.string(), name: z.string(), role: z.string() })),
      }),
    )
    .query(async ({ ctx }) => {
      const mine = await memberships(ctx.rt, ctx.user.id);
      const current = mine.find((m) => m.tenant_id === ctx.session.tenantId) ?? mine[0] ?? null;
      return {
        user_id: ctx.user.id,
        email: ctx.user.email,
        name: ctx.user.name,
        is_platform_owner: ctx.user.isPlatformOwner,
        must_change_password: ctx.user.mustChangePassword,
        auth_method: ctx.session.authMethod,
        authenticated_at: ctx.session.authenticatedAt.toISOString(),
        step_up_at: ctx.session.stepUpAt?.toISOString() ?? null,
        current_tenant_id: current?.tenant_id ?? null,
        memberships: mine,
      };
    }),

  changePassword: selfProcedure
    .meta({ permission: "self" })
    .input(z.object({ current_password: z.string().min(1).max(256), new_password: z.string().max(256) }).strict())
    .output(z.object({ other_sessions_ended: z.number() }))
    .mutation(async ({ ctx, input }) => {
      const r = await changePassword(ctx.rt, { user: ctx.user, session: ctx.session, requestId: ctx.requestId, ip: ctx.ip }, input.current_password, input.new_password);
      return { other_sessions_ended: r.signedOutOthers };
    }),

  sessions: selfProcedure
    .meta({ permission: "self" })
    .input(z.void())
    .output(
      z.array(
        z.object({
          session_id: z.string(),
          current: z.boolean(),
          auth_method: z.string(),
          created_at: z.string(),
          last_seen_at: z.string(),
          expires_at: z.string(),
          ip: z.string().nullable(),
          user_agent: z.string().nullable(),
        }),
      ),
    )
    .query(({ ctx }) => listSessions(ctx.rt, { user: ctx.user, session: ctx.session, requestId: ctx.requestId, ip: ctx.ip })),

  revokeSession: selfProcedure
    .meta({ permission: "self" })
    .input(z.object({ session_id: z.string().min(1).max(64) }).strict())
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      await revokeSession(ctx.rt, { user: ctx.user, session: ctx.session, requestId: ctx.requestId, ip: ctx.ip }, input.session_id);
      return { ok: true as const };
    }),

  switchTenant: selfProcedure
    .meta({ permission: "self" })
    .input(z.object({ tenant_id: z.uuid("must be a tenant id") }).strict())
    .output(z.object({ tenant_id: z.string(), slug: z.string(), name: z.string(), role: z.string() }))
    .mutation(({ ctx, input }) => switchTenant(ctx.rt, { user: ctx.user, session: ctx.session, requestId: ctx.requestId, ip: ctx.ip }, input.tenant_id)),
});
