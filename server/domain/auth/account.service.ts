// The signed-in person's own account: password change, sessions, tenant switching.
import { and, eq, sql } from "drizzle-orm";
import type { Runtime } from "../../runtime.ts";
import { sessions, users } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { recordAudit } from "../audit/audit-writer.service.ts";
import { hashPassword, passwordProblem, verifyPassword } from "./password.ts";
import { invalidateOtherSessions, type SessionRow, type UserRow } from "./session.service.ts";

interface Who {
  user: UserRow;
  session: SessionRow;
  requestId: string;
  ip: string | null;
}

function auditFor(who: Who) {
  return { tenantId: who.session.tenantId, actor: `user:${who.user.email}`, actorType: "user" as const, requestId: who.requestId, ip: who.ip };
}

export async function changePassword(rt: Runtime, who: Who, currentPassword: string, newPassword: string): Promise<{ signedOutOthers: number }> {
  const problem = passwordProblem(newPassword);
  if (problem) throw new AppError("INVALID_INPUT", `new_password: ${problem}`);
  if (!who.user.passwordHash || !(await verifyPassword(who.user.passwordHash, currentPassword))) {
    await recordAudit(rt.db, { ...auditFor(who), targetType: "user", targetId: who.user.id, action: "auth.password_change", outcome: "failure", details: { reason: "wrong_current_password" } });
    throw new AppError("INVALID_INPUT", "current_password: is incorrect");
  }
  if (currentPassword === newPassword) throw new AppError("INVALID_INPUT", "new_password: must differ from the current password");
  const hash = await hashPassword(newPassword);
  await rt.db.db.update(users).set({ passwordHash: hash, mustChangePassword: false }).where(eq(users.id, who.user.id));
  const signedOutOthers = await invalidateOtherSessions(rt.db, who.user.id, who.session.id);
  await recordAudit(rt.db, { ...auditFor(who), targetType: "user", targetId: who.user.id, action: "auth.password_change", outcome: "success", details: { other_sessions_ended: signedOutOthers } });
  return { signedOutOthers };
}

export async function listSessions(rt: Runtime, who: Who) {
  const rows = await rt.db.db.select().from(sessions).where(eq(sessions.userId, who.user.id)).orderBy(sql`${sessions.lastSeenAt} desc`);
  return rows.map((s) => ({
    session_id: s.id,
    current: s.id === who.session.id,
    auth_method: s.authMethod,
    created_at: s.createdAt.toISOString(),
    last_seen_at: s.lastSeenAt.toISOString(),
    expires_at: s.expiresAt.toISOString(),
    ip: s.ip,
    user_agent: s.userAgent,
  }));
}

export async function revokeSession(rt: Runtime, who: Who, sessionId: string): Promise<void> {
  if (sessionId === who.session.id) throw new AppError("INVALID_INPUT", "session_id: use sign out to end the current session");
  const removed = await rt.db.db.delete(sessions).where(and(eq(sessions.id, sessionId), eq(sessions.userId, who.user.id))).returning({ id: sessions.id });
  if (!removed.length) throw new AppError("NOT_FOUND", "No such session");
  await recordAudit(rt.db, { ...auditFor(who), targetType: "session", targetId: sessionId, action: "auth.session_revoke", outcome: "success" });
}

export async function memberships(rt: Runtime, userId: string) {
  const rows = await rt.db.db.execute<{ tenant_id: string; tenant_slug: string; tenant_name: string; role: string }>(sql`select * from cairn_user_memberships(${userId})`);
  return rows.map((r) => ({ tenant_id: r.tenant_id, slug: r.tenant_slug, name: r.tenant_name, role: r.role }));
}

export async function switchTenant(rt: Runtime, who: Who, tenantId: string) {
  const mine = await memberships(rt, who.user.id);
  const target = mine.find((m) => m.tenant_id === tenantId);
  if (!target) throw new AppError("NOT_FOUND", "No such tenant");
  await rt.db.db.update(sessions).set({ tenantId }).where(eq(sessions.id, who.session.id));
  await recordAudit(rt.db, { ...auditFor(who), tenantId, targetType: "tenant", targetId: tenantId, action: "auth.tenant_switch", outcome: "success" });
  return target;
}
