// Per-tenant settings (rate-limit quotas) and the shared per-key / per-tenant request limits they drive.
import { eq } from "drizzle-orm";
import type { DbClient } from "../../../db/client.ts";
import { withTenant, type Tx } from "../../../db/tenant.ts";
import { tenantSettings } from "../../../db/schema/index.ts";
import { createLimiter, isRateLimiterRes, rateLimited, type Limiter } from "../auth/rate-limit.ts";

export interface TenantQuota {
  requests_per_minute: number;
  key_requests_per_minute: number;
}

const DEFAULTS: TenantQuota = { requests_per_minute: 1200, key_requests_per_minute: 600 };

export async function readSettings(tx: Tx, tenantId: string): Promise<TenantQuota> {
  const [row] = await tx.select().from(tenantSettings).where(eq(tenantSettings.tenantId, tenantId)).limit(1);
  return row ? { requests_per_minute: row.requestsPerMinute, key_requests_per_minute: row.keyRequestsPerMinute } : DEFAULTS;
}

export async function writeSettings(tx: Tx, tenantId: string, quota: TenantQuota): Promise<TenantQuota> {
  await tx
    .insert(tenantSettings)
    .values({ tenantId, requestsPerMinute: quota.requests_per_minute, keyRequestsPerMinute: quota.key_requests_per_minute })
    .onConflictDoUpdate({ target: tenantSettings.tenantId, set: { requestsPerMinute: quota.requests_per_minute, keyRequestsPerMinute: quota.key_requests_per_minute, updatedAt: new Date() } });
  settingsCache.delete(tenantId);
  return quota;
}

const settingsCache = new Map<string, { at: number; quota: TenantQuota }>();
const limiters = new Map<string, Limiter>();

function limiterFor(db: DbClient, prefix: string, points: number): Limiter {
  const key = `${prefix}:${points}`;
  let l = limiters.get(key);
  if (!l) {
    l = createLimiter(db.sql, { keyPrefix: prefix, points, durationSeconds: 60 });
    limiters.set(key, l);
  }
  return l;
}

async function quotaOf(db: DbClient, tenantId: string): Promise<TenantQuota> {
  const hit = settingsCache.get(tenantId);
  if (hit && Date.now() - hit.at < 30_000) return hit.quota;
  const quota = await withTenant(db, tenantId, (tx) => readSettings(tx, tenantId));
  settingsCache.set(tenantId, { at: Date.now(), quota });
  return quota;
}

/** One request by an API key: counts against the key's and the tenant's per-minute quota (shared across replicas). */
export async function chargeApiKeyRequest(db: DbClient, tenantId: string, keyId: string): Promise<void> {
  const quota = await quotaOf(db, tenantId);
  try {
    await limiterFor(db, "tenant_rpm", quota.requests_per_minute).consume(tenantId);
  } catch (rej) {
    if (isRateLimiterRes(rej)) throw rateLimited(`Tenant request quota exceeded (${quota.requests_per_minute} per minute)`, rej);
    throw rej;
  }
  try {
    await limiterFor(db, "key_rpm", quota.key_requests_per_minute).consume(keyId);
  } catch (rej) {
    if (isRateLimiterRes(rej)) throw rateLimited(`API key request quota exceeded (${quota.key_requests_per_minute} per minute)`, rej);
    throw rej;
  }
}

export async function currentUsage(db: DbClient, tenantId: string): Promise<{ tenant_requests_this_minute: number }> {
  const quota = await quotaOf(db, tenantId);
  const res = await limiterFor(db, "tenant_rpm", quota.requests_per_minute).get(tenantId);
  return { tenant_requests_this_minute: res?.consumedPoints ?? 0 };
}
