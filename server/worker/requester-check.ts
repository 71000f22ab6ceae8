// Claim-time authorization: the person or key that asked for a job must still be allowed to run it. A member removed,
// demoted below `run:source`, or a key revoked since the job was queued stops the job before it does any work.
import { sql } from "drizzle-orm";
import type { DbClient } from "../../db/client.ts";
import type { TenantRole } from "../../db/schema/tenancy.ts";
import { roleCan, type TenantPermission } from "../domain/auth/permissions.ts";

/** Returns why the requester may no longer run this job, or null when it may (system requesters always may). */
export async function requesterRefusal(db: DbClient, tenantId: string, requestedBy: string, permission: TenantPermission): Promise<string | null> {
  const [kind, ...rest] = requestedBy.split(":");
  const who = rest.join(":");
  if (kind === "api_key") {
    const rows = await db.db.execute<{ tenant_id: string | null; role: string; revoked_at: string | null; expires_at: string | null; grace_until: string | null }>(sql`select tenant_id, role, revoked_at, expires_at, grace_until from cairn_api_key_for_auth(${who})`);
    const key = rows[0];
    if (!key || key.tenant_id !== tenantId) return `the API key ${who} that requested this job no longer exists`;
    const now = Date.now();
    if (key.revoked_at) return `the API key ${who} that requested this job was revoked`;
    if (key.expires_at && Date.parse(key.expires_at) <= now) return `the API key ${who} that requested this job has expired`;
    if (key.grace_until && Date.parse(key.grace_until) <= now) return `the API key ${who} that requested this job was rotated out`;
    if (!roleCan(key.role as TenantRole, permission)) return `the API key ${who} no longer holds ${permission}`;
    return null;
  }
  if (kind === "user") {
    const rows = await db.db.execute<{ role: string; disabled: boolean }>(sql`
      select m.role, u.disabled_at is not null as disabled
      from users u cross join lateral cairn_user_memberships(u.id) m
      where lower(u.email) = lower(${who}) and m.tenant_id = ${tenantId}`);
    const m = rows[0];
    if (!m) return `${who}, who requested this job, is no longer a member of this tenant`;
    if (m.disabled) return `${who}, who requested this job, is disabled`;
    if (!roleCan(m.role as TenantRole, permission)) return `${who} no longer holds ${permission} (role ${m.role})`;
    return null;
  }
  return null; // schedules, the system, break-glass: authorized when they were set up
}
