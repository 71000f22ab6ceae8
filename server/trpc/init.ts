// tRPC v11 setup: superjson, readable zod errors, AppError mapping, and the procedure builders every router uses:
// authenticated → tenant (membership checked in the query) → permission → step-up.
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import { sql } from "drizzle-orm";
import type { OpenApiMeta } from "trpc-to-openapi";
import { AppError, appErrorCodeFromTrpc, appErrorTrpcCode, describeIssues, type AppErrorCode } from "../errors.ts";
import type { TrpcContext } from "./context.ts";
import { withPlatform, withTenant, type Tx } from "../../db/tenant.ts";
import { tenantRoles, type TenantRole } from "../../db/schema/tenancy.ts";
import { actorOf } from "../domain/auth/identity.ts";
import { isPlatformPermission, isTenantPermission, roleCan, type Permission } from "../domain/auth/permissions.ts";
import { appendAudit, recordAudit, type AuditInput } from "../domain/audit/audit-writer.service.ts";
import { chargeApiKeyRequest } from "../domain/tenants/tenant-settings.ts";

export type Meta = OpenApiMeta<{
  /** Every procedure declares what it needs; a test fails any procedure without one. */
  permission?: Permission;
  /** High-risk actions need a WebAuthn step-up in the last few minutes (or an API key with the high-risk scope). */
  highRisk?: boolean;
  rest?: { successStatus?: number };
}>;

const t = initTRPC
  .context<TrpcContext>()
  .meta<Meta>()
  .create({
    transformer: superjson,
    errorFormatter({ shape, error, ctx }) {
      const app = toAppError(error);
      return {
        ...shape,
        message: app.message,
        data: {
          ...shape.data,
          stack: undefined,
          appCode: app.code,
          details: app.details ?? null,
          requestId: ctx?.requestId ?? null,
        },
      };
    },
  });

/** Normalises anything a procedure threw into an AppError; unknown errors never leak their message. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof TRPCError) {
    if (error.cause instanceof AppError) return error.cause;
    if (error.cause instanceof ZodError) {
      return new AppError("INVALID_INPUT", describeIssues(error.cause.issues), { issues: error.cause.issues.map((i) => ({ path: i.path.map(String), message: i.message, code: i.code })) });
    }
    const code = appErrorCodeFromTrpc(error.code);
    return new AppError(code, code === "INTERNAL" ? "Internal error" : error.message);
  }
  return new AppError("INTERNAL", "Internal error");
}

export function trpcErrorFrom(app: AppError): TRPCError {
  return new TRPCError({ code: appErrorTrpcCode[app.code as AppErrorCode], message: app.message, cause: app });
}

/** Converts thrown AppErrors to TRPCErrors (keeping the AppError as cause) and logs unexpected failures. */
const errorMapping = t.middleware(async ({ ctx, next, path }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (cause instanceof AppError) {
      (result as { error: TRPCError }).error = trpcErrorFrom(cause);
    } else if (result.error.code === "INTERNAL_SERVER_ERROR") {
      ctx.log.error({ err: cause ?? result.error, path }, "procedure failed");
    }
  }
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const middleware = t.middleware;

/** Anyone who can reach the server (login, passkey login options). */
export const publicProcedure = t.procedure.use(errorMapping);

function auditBase(ctx: TrpcContext): Pick<AuditInput, "actor" | "actorType" | "requestId" | "ip"> {
  const { actor, actorType } = actorOf(ctx.identity);
  return { actor, actorType: ctx.via === "cli" ? "break_glass" : actorType, requestId: ctx.requestId, ip: ctx.ip };
}

const unauthenticatedMessages: Record<string, string> = {
  malformed: "Authorization must be `Bearer cairn_<id>_<secret>`",
  unknown: "Unknown API key",
  revoked: "This API key has been revoked",
  expired: "This API key has expired",
  rotated: "This API key was rotated and its grace period has ended",
  session_invalid: "Your session has ended: sign in again",
};

/** Step 1: someone is signed in (session) or presented a valid API key. */
export const authedProcedure = publicProcedure.use(async ({ ctx, next, meta }) => {
  const identity = ctx.identity;
  if (!identity) {
    throw new AppError("UNAUTHENTICATED", unauthenticatedMessages[ctx.credentialFailure ?? ""] ?? "Sign in or present an API key");
  }
  if (identity.kind === "session" && identity.user.mustChangePassword && meta?.permission !== "self") {
    throw new AppError("FORBIDDEN", "Change your one-time password before doing anything else", { reason: "password_change_required" });
  }
  return next({ ctx: { ...ctx, identity, audit: auditBase(ctx) } });
});

/** The signed-in person's own account: sessions only (API keys have no person behind them). */
export const selfProcedure = authedProcedure.use(async ({ ctx, next }) => {
  if (ctx.identity.kind !== "session") throw new AppError("FORBIDDEN", "This action needs a signed-in person, not an API key");
  return next({ ctx: { ...ctx, session: ctx.identity.session, user: ctx.identity.user } });
});

export interface TenantScope {
  id: string;
  slug: string;
  role: TenantRole;
}

async function sessionTenant(ctx: TrpcContext & { identity: { kind: "session" } & NonNullable<TrpcContext["identity"]> }): Promise<TenantScope> {
  const { user, session } = ctx.identity as Extract<NonNullable<TrpcContext["identity"]>, { kind: "session" }>;
  const rows = await ctx.rt.db.db.execute<{ tenant_id: string; tenant_slug: string; role: TenantRole }>(sql`select tenant_id, tenant_slug, role from cairn_user_memberships(${user.id})`);
  const chosen = rows.find((r) => r.tenant_id === session.tenantId) ?? rows[0];
  if (!chosen) throw new AppError("FORBIDDEN", "You are not a member of any tenant yet: ask a tenant admin to add you");
  // Membership re-checked inside the tenant's own row-level-security scope.
  const confirmed = await withTenant(ctx.rt.db, chosen.tenant_id, (tx) => tx.execute<{ role: TenantRole }>(sql`select role from memberships where user_id = ${user.id}`));
  const role = confirmed[0]?.role;
  if (!role) throw new AppError("FORBIDDEN", "Your membership in this tenant has ended");
  if (chosen.tenant_id !== session.tenantId) {
    await ctx.rt.db.db.execute(sql`update sessions set tenant_id = ${chosen.tenant_id} where id = ${session.id}`);
    session.tenantId = chosen.tenant_id;
  }
  return { id: chosen.tenant_id, slug: chosen.tenant_slug, role };
}

async function denied(ctx: TrpcContext, tenantId: string | null, path: string, reason: string, details: Record<string, unknown>) {
  try {
    await recordAudit(ctx.rt.db, { ...auditBase(ctx), tenantId, targetType: "procedure", targetId: path, action: path, outcome: "denied", details: { reason, ...details } });
  } catch (err) {
    ctx.log.error({ err }, "could not audit a denied attempt");
  }
}

function stepUpFresh(ctx: TrpcContext): boolean {
  const identity = ctx.identity;
  if (identity?.kind !== "session" || !identity.session.stepUpAt) return false;
  return Date.now() - identity.session.stepUpAt.getTime() <= ctx.rt.env.CAIRN_STEP_UP_WINDOW_SECONDS * 1000;
}

/** Throws STEP_UP_REQUIRED unless this session made a fresh WebAuthn assertion (or the key has the high-risk scope). */
export async function requireStepUp(ctx: TrpcContext, tenantId: string | null, path: string): Promise<void> {
  const identity = ctx.identity!;
  if (identity.kind === "api_key") {
    if (identity.key.highRisk) {
      await recordAudit(ctx.rt.db, { ...auditBase(ctx), tenantId, targetType: "api_key", targetId: identity.key.id, action: "api_key.high_risk_use", outcome: "success", details: { procedure: path } });
      return;
    }
    await denied(ctx, tenantId, path, "step_up_required", { api_key: identity.key.id });
    throw new AppError("STEP_UP_REQUIRED", "This is a high-risk action and this API key was not created with the high-risk scope", { reason: "api_key_without_high_risk_scope" });
  }
  if (stepUpFresh(ctx)) return;
  await denied(ctx, tenantId, path, "step_up_required", {});
  throw new AppError("STEP_UP_REQUIRED", "Confirm it's you with your passkey to continue", { window_seconds: ctx.rt.env.CAIRN_STEP_UP_WINDOW_SECONDS });
}

/** Steps 2–4 for tenant data: resolve the tenant (membership checked), check the permission, then step-up. */
export const tenantProcedure = authedProcedure.use(async ({ ctx, next, meta, path }) => {
  const identity = ctx.identity;
  let tenant: TenantScope;
  if (identity.kind === "api_key") {
    if (!identity.key.tenantId || !identity.key.tenantSlug) throw new AppError("FORBIDDEN", "Platform API keys cannot act inside a tenant");
    if (!(tenantRoles as readonly string[]).includes(identity.key.role)) throw new AppError("FORBIDDEN", "This API key has no tenant role");
    tenant = { id: identity.key.tenantId, slug: identity.key.tenantSlug, role: identity.key.role as TenantRole };
  } else {
    tenant = await sessionTenant(ctx as never);
  }
  if (identity.kind === "api_key") await chargeApiKeyRequest(ctx.rt.db, tenant.id, identity.key.id);
  const permission = meta?.permission;
  if (!permission || !isTenantPermission(permission)) throw new AppError("INTERNAL", `Procedure ${path} declares no tenant permission`);
  if (!roleCan(tenant.role, permission)) {
    await denied(ctx, tenant.id, path, "permission", { permission, role: tenant.role });
    throw new AppError("FORBIDDEN", `Your role (${tenant.role}) does not allow ${permission}`);
  }
  if (meta?.highRisk) await requireStepUp(ctx, tenant.id, path);
  const audit = ctx.audit;
  return next({
    ctx: {
      ...ctx,
      tenant,
      /** Runs fn in a transaction scoped to this tenant (row-level security on). */
      inTenant: <T>(fn: (tx: Tx) => Promise<T>) => withTenant(ctx.rt.db, tenant.id, fn),
      /** Appends an audit event for this tenant in the same transaction as the change. */
      auditIn: (tx: Tx, event: Omit<AuditInput, "tenantId" | "actor" | "actorType" | "requestId" | "ip">) => appendAudit(tx, { ...audit, tenantId: tenant.id, ...event }),
    },
  });
});

/** Platform owners only (sessions of platform-owner users, or platform API keys). */
export const platformProcedure = authedProcedure.use(async ({ ctx, next, meta, path }) => {
  const identity = ctx.identity;
  const isOwner = identity.kind === "session" ? identity.user.isPlatformOwner : identity.key.tenantId === null && identity.key.role === "platform_owner";
  const permission = meta?.permission;
  if (!permission || !isPlatformPermission(permission)) throw new AppError("INTERNAL", `Procedure ${path} declares no platform permission`);
  if (!isOwner) {
    await denied(ctx, null, path, "permission", { permission });
    throw new AppError("FORBIDDEN", `Only platform owners may ${permission}`);
  }
  if (meta?.highRisk) await requireStepUp(ctx, null, path);
  const audit = ctx.audit;
  return next({
    ctx: {
      ...ctx,
      inPlatform: <T>(fn: (tx: Tx) => Promise<T>) => withPlatform(ctx.rt.db, fn),
      auditIn: (tx: Tx, event: Omit<AuditInput, "tenantId" | "actor" | "actorType" | "requestId" | "ip">) => appendAudit(tx, { ...audit, tenantId: null, ...event }),
    },
  });
});
