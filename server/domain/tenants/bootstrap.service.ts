// First-run and break-glass set-up: the platform owner, a tenant with its admin, and API keys minted outside the UI.
import { sql } from "drizzle-orm";
import type { DbClient } from "../../../db/client.ts";
import { withPlatform, withTenant } from "../../../db/tenant.ts";
import { memberships, users } from "../../../db/schema/index.ts";
import { hashPassword, oneTimePassword } from "../auth/password.ts";
import { appendAudit } from "../audit/audit-writer.service.ts";
import { createKey } from "../api-keys/api-keys.service.ts";
import { createTenant, findTenantBySlug } from "./tenants.service.ts";
import { AppError } from "../../errors.ts";

const BREAK_GLASS = { actor: "cli:cairn-admin", actorType: "break_glass" as const, requestId: null, ip: null };
const FIRST_RUN = { actor: "system:first-start", actorType: "system" as const, requestId: null, ip: null };

export interface FirstRunLogin {
  email: string;
  password: string;
  tenantSlug: string;
}

/** On an empty installation: create the platform owner (one-time password) and a `default` tenant they administer. */
export async function ensureFirstOwner(db: DbClient): Promise<FirstRunLogin | null> {
  return db.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(7204118312)`);
    const [existing] = await tx.select({ id: users.id }).from(users).limit(1);
    if (existing) return null;
    const password = oneTimePassword();
    const [owner] = await tx.insert(users).values({ email: "owner@cairn.local", name: "Platform owner", passwordHash: await hashPassword(password), mustChangePassword: true, isPlatformOwner: true }).returning();
    await tx.execute(sql`select set_config('app.platform', 'on', true)`);
    await appendAudit(tx, { ...FIRST_RUN, tenantId: null, targetType: "user", targetId: owner!.id, action: "user.create", outcome: "success", details: { email: owner!.email, platform_owner: true } });
    return { email: owner!.email, password, tenantSlug: "default" };
  }).then(async (login) => {
    if (login) {
      const [owner] = await db.db.select().from(users).where(sql`${users.email} = ${login.email}`);
      if (!(await findTenantBySlug(db, login.tenantSlug))) await createTenant(db, { slug: login.tenantSlug, name: "Default", adminUserId: owner!.id }, FIRST_RUN);
    }
    return login;
  });
}

export interface BootstrapResult {
  tenant_id: string;
  tenant_slug: string;
  email: string;
  password: string | null;
  api_key: string;
}

/** `cairn admin bootstrap --tenant SLUG`: idempotent tenant + admin; always a fresh tenant-admin API key. */
export async function bootstrapTenant(db: DbClient, slug: string, opts: { highRisk: boolean }): Promise<BootstrapResult> {
  if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(slug)) throw new AppError("INVALID_INPUT", "--tenant: lowercase letters, digits and dashes, 2–63 characters");
  const email = `admin@${slug}.cairn.local`;
  let password: string | null = null;
  const userId = await db.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(7204118313)`);
    const [found] = await tx.select().from(users).where(sql`lower(${users.email}) = ${email}`).limit(1);
    if (found) return found.id;
    const [anyOwner] = await tx.select({ id: users.id }).from(users).where(sql`${users.isPlatformOwner}`).limit(1);
    password = oneTimePassword();
    const [created] = await tx.insert(users).values({ email, name: `${slug} admin`, passwordHash: await hashPassword(password), mustChangePassword: true, isPlatformOwner: !anyOwner }).returning();
    await tx.execute(sql`select set_config('app.platform', 'on', true)`);
    await appendAudit(tx, { ...BREAK_GLASS, tenantId: null, targetType: "user", targetId: created!.id, action: "user.create", outcome: "success", details: { email, platform_owner: !anyOwner } });
    return created!.id;
  });
  let tenant = await findTenantBySlug(db, slug);
  if (!tenant) {
    try {
      tenant = await createTenant(db, { slug, name: slug, adminUserId: userId }, BREAK_GLASS);
    } catch (err) {
      if (!(err instanceof AppError && err.code === "CONFLICT")) throw err;
      tenant = await findTenantBySlug(db, slug);
    }
  }
  const tenantId = tenant!.id;
  const key = await withTenant(db, tenantId, async (tx) => {
    const added = await tx.insert(memberships).values({ tenantId, userId, role: "admin" }).onConflictDoNothing().returning();
    if (added.length) await appendAudit(tx, { ...BREAK_GLASS, tenantId, targetType: "member", targetId: userId, action: "member.add", outcome: "success", details: { email, role: "admin" } });
    return createKey(tx, { tenantId, name: "bootstrap admin key", role: "admin", highRisk: opts.highRisk, expiresAt: null, createdBy: BREAK_GLASS.actor }, (t, e) => appendAudit(t, { ...BREAK_GLASS, tenantId, ...e }));
  });
  return { tenant_id: tenantId, tenant_slug: slug, email, password, api_key: key.api_key };
}

/** `cairn admin api-key create`: break-glass key minting for a tenant role or the platform. */
export async function mintKey(db: DbClient, opts: { tenantSlug?: string; role?: string; platform: boolean; highRisk: boolean; name?: string }): Promise<{ id: string; api_key: string }> {
  if (opts.platform) {
    const key = await withPlatform(db, (tx) =>
      createKey(tx, { tenantId: null, name: opts.name ?? "platform key (cli)", role: "platform_owner", highRisk: opts.highRisk, expiresAt: null, createdBy: BREAK_GLASS.actor }, (t, e) => appendAudit(t, { ...BREAK_GLASS, tenantId: null, ...e })),
    );
    return { id: key.id, api_key: key.api_key };
  }
  const tenant = opts.tenantSlug ? await findTenantBySlug(db, opts.tenantSlug) : undefined;
  if (!tenant) throw new AppError("NOT_FOUND", `No tenant with slug ${opts.tenantSlug}`);
  const key = await withTenant(db, tenant.id, (tx) =>
    createKey(tx, { tenantId: tenant.id, name: opts.name ?? `${opts.role} key (cli)`, role: opts.role!, highRisk: opts.highRisk, expiresAt: null, createdBy: BREAK_GLASS.actor }, (t, e) => appendAudit(t, { ...BREAK_GLASS, tenantId: tenant.id, ...e })),
  );
  return { id: key.id, api_key: key.api_key };
}
