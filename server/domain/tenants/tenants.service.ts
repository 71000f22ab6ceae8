// Creating tenants (platform owners, bootstrap) with their settings row and first admin.
import { eq, sql } from "drizzle-orm";
import type { DbClient } from "../../../db/client.ts";
import { withTenant } from "../../../db/tenant.ts";
import { memberships, tenants, tenantSettings } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { appendAudit, type AuditInput } from "../audit/audit-writer.service.ts";

export type TenantRow = typeof tenants.$inferSelect;
type Actor = Pick<AuditInput, "actor" | "actorType" | "requestId" | "ip">;

export async function findTenantBySlug(db: DbClient, slug: string): Promise<TenantRow | undefined> {
  const [row] = await db.db.select().from(tenants).where(eq(tenants.slug, slug)).limit(1);
  return row;
}

export async function listTenants(db: DbClient) {
  const rows = await db.db.select().from(tenants).orderBy(tenants.slug);
  return rows.map((t) => ({ tenant_id: t.id, slug: t.slug, name: t.name, created_at: t.createdAt.toISOString() }));
}

/** Creates the tenant, its settings and (optionally) its first admin, auditing on the platform and tenant chains. */
export async function createTenant(db: DbClient, input: { slug: string; name: string; adminUserId?: string }, actor: Actor): Promise<TenantRow> {
  const created = await db.db.transaction(async (tx) => {
    const rows = await tx.insert(tenants).values({ slug: input.slug, name: input.name }).onConflictDoNothing().returning();
    if (!rows[0]) throw new AppError("CONFLICT", `A tenant with slug ${input.slug} already exists`);
    await tx.execute(sql`select set_config('app.platform', 'on', true)`);
    await appendAudit(tx, { ...actor, tenantId: null, targetType: "tenant", targetId: rows[0].id, action: "tenant.create", outcome: "success", details: { slug: input.slug } });
    return rows[0];
  });
  await withTenant(db, created.id, async (tx) => {
    await tx.insert(tenantSettings).values({ tenantId: created.id }).onConflictDoNothing();
    if (input.adminUserId) await tx.insert(memberships).values({ tenantId: created.id, userId: input.adminUserId, role: "admin" }).onConflictDoNothing();
    await appendAudit(tx, { ...actor, tenantId: created.id, targetType: "tenant", targetId: created.id, action: "tenant.create", outcome: "success", details: { slug: input.slug, first_admin: input.adminUserId ?? null } });
  });
  return created;
}
