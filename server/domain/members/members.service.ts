// Tenant membership: list, add (creating the person with a one-time password when new), change role, remove.
import { and, eq, sql } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { memberships, users, type TenantRole } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { hashPassword, oneTimePassword } from "../auth/password.ts";
import type { AuditInput } from "../audit/audit-writer.service.ts";

type AuditIn = (tx: Tx, event: Omit<AuditInput, "tenantId" | "actor" | "actorType" | "requestId" | "ip">) => Promise<unknown>;

export interface Member {
  user_id: string;
  email: string;
  name: string;
  role: TenantRole;
  created_at: string;
  must_change_password: boolean;
}

export async function listMembers(tx: Tx): Promise<Member[]> {
  const rows = await tx
    .select({ userId: memberships.userId, role: memberships.role, createdAt: memberships.createdAt, email: users.email, name: users.name, mustChange: users.mustChangePassword })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .orderBy(users.email);
  return rows.map((r) => ({ user_id: r.userId, email: r.email, name: r.name, role: r.role, created_at: r.createdAt.toISOString(), must_change_password: r.mustChange }));
}

export async function addMember(tx: Tx, tenantId: string, input: { email: string; name?: string; role: TenantRole }, auditIn: AuditIn): Promise<Member & { one_time_password: string | null }> {
  const email = input.email.trim().toLowerCase();
  let [user] = await tx.select().from(users).where(sql`lower(${users.email}) = ${email}`).limit(1);
  let password: string | null = null;
  if (!user) {
    password = oneTimePassword();
    [user] = await tx.insert(users).values({ email, name: input.name ?? "", passwordHash: await hashPassword(password), mustChangePassword: true }).returning();
  }
  const inserted = await tx.insert(memberships).values({ tenantId, userId: user!.id, role: input.role }).onConflictDoNothing().returning();
  if (!inserted.length) throw new AppError("CONFLICT", `${email} is already a member of this tenant`);
  await auditIn(tx, { targetType: "member", targetId: user!.id, action: "member.add", outcome: "success", details: { email, role: input.role, new_user: password !== null } });
  return { user_id: user!.id, email: user!.email, name: user!.name, role: input.role, created_at: inserted[0]!.createdAt.toISOString(), must_change_password: user!.mustChangePassword, one_time_password: password };
}

async function adminCount(tx: Tx): Promise<number> {
  const [row] = await tx.select({ n: sql<number>`count(*)::int` }).from(memberships).where(eq(memberships.role, "admin"));
  return row?.n ?? 0;
}

export async function changeMemberRole(tx: Tx, userId: string, role: TenantRole, auditIn: AuditIn): Promise<Member> {
  const [current] = await tx.select().from(memberships).where(eq(memberships.userId, userId)).for("update");
  if (!current) throw new AppError("NOT_FOUND", "No such member");
  if (current.role === "admin" && role !== "admin" && (await adminCount(tx)) <= 1) throw new AppError("CONFLICT", "The last admin of a tenant cannot be demoted: make someone else admin first");
  await tx.update(memberships).set({ role }).where(and(eq(memberships.userId, userId), eq(memberships.tenantId, current.tenantId)));
  await auditIn(tx, { targetType: "member", targetId: userId, action: "member.role_change", outcome: "success", details: { from: current.role, to: role } });
  const [m] = (await listMembers(tx)).filter((x) => x.user_id === userId);
  return m!;
}

export async function removeMember(tx: Tx, userId: string, auditIn: AuditIn): Promise<void> {
  const [current] = await tx.select().from(memberships).where(eq(memberships.userId, userId)).for("update");
  if (!current) throw new AppError("NOT_FOUND", "No such member");
  if (current.role === "admin" && (await adminCount(tx)) <= 1) throw new AppError("CONFLICT", "The last admin of a tenant cannot be removed");
  await tx.delete(memberships).where(and(eq(memberships.userId, userId), eq(memberships.tenantId, current.tenantId)));
  await auditIn(tx, { targetType: "member", targetId: userId, action: "member.remove", outcome: "success", details: { role: current.role } });
}
