// Password sign-in with brute-force protection: failures per account and per address slow down, then get 429.
// Failures are audited on the platform chain without saying whether the account exists.
import { sql } from "drizzle-orm";
import type { Runtime } from "../../runtime.ts";
import { users } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { recordAudit } from "../audit/audit-writer.service.ts";
import { dummyHash, verifyPassword } from "./password.ts";
import { createLimiter, isRateLimiterRes, rateLimited, type Limiter } from "./rate-limit.ts";
import { createSession, type CreatedSession } from "./session.service.ts";

interface LoginLimiters {
  account: Limiter;
  address: Limiter;
}

const limiterCache = new WeakMap<Runtime["db"], LoginLimiters>();

function limiters(rt: Runtime): LoginLimiters {
  let l = limiterCache.get(rt.db);
  if (!l) {
    const max = rt.env.CAIRN_LOGIN_MAX_FAILURES;
    l = {
      account: createLimiter(rt.db.sql, { keyPrefix: "login_account", points: max, durationSeconds: 15 * 60, blockSeconds: 15 * 60 }),
      address: createLimiter(rt.db.sql, { keyPrefix: "login_address", points: max * 4, durationSeconds: 15 * 60, blockSeconds: 15 * 60 }),
    };
    limiterCache.set(rt.db, l);
  }
  return l;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LoginInput {
  email: string;
  password: string;
  ip: string | null;
  userAgent: string | null;
  requestId: string;
}

export async function firstTenantOf(rt: Runtime, userId: string): Promise<string | null> {
  const rows = await rt.db.db.execute<{ tenant_id: string }>(sql`select tenant_id from cairn_user_memberships(${userId}) limit 1`);
  return rows[0]?.tenant_id ?? null;
}

export async function loginWithPassword(rt: Runtime, input: LoginInput): Promise<CreatedSession & { mustChangePassword: boolean }> {
  const email = input.email.trim().toLowerCase();
  const { account, address } = limiters(rt);
  const accountKey = email;
  const addressKey = input.ip ?? "unknown";

  // Refuse at once while either bucket is exhausted.
  const [a, b] = await Promise.all([account.get(accountKey), address.get(addressKey)]);
  for (const res of [a, b]) {
    if (res && res.remainingPoints <= 0 && res.msBeforeNext > 0) {
      await recordAudit(rt.db, { tenantId: null, actor: "anonymous", actorType: "anonymous", targetType: "login", action: "auth.login", outcome: "denied", ip: input.ip, requestId: input.requestId, details: { method: "password", reason: "rate_limited" } });
      throw rateLimited("Too many failed sign-in attempts: wait before trying again", res);
    }
  }

  const [user] = await rt.db.db.select().from(users).where(sql`lower(${users.email}) = ${email}`).limit(1);
  const ok = user?.passwordHash && !user.disabledAt ? await verifyPassword(user.passwordHash, input.password) : (await verifyPassword(await dummyHash(), input.password), false);

  if (!ok || !user) {
    let consumed = 0;
    for (const [limiter, key] of [[account, accountKey], [address, addressKey]] as const) {
      try {
        const res = await limiter.consume(key);
        consumed = Math.max(consumed, res.consumedPoints);
      } catch (rej) {
        if (!isRateLimiterRes(rej)) throw rej;
        consumed = Number.MAX_SAFE_INTEGER;
      }
    }
    // The same event whether or not the account exists, and no attempted email in it.
    await recordAudit(rt.db, {
      tenantId: null,
      actor: "anonymous",
      actorType: "anonymous",
      targetType: "login",
      action: "auth.login",
      outcome: "failure",
      ip: input.ip,
      requestId: input.requestId,
      details: { method: "password", reason: "invalid_credentials" },
    });
    // Slow down: each failure in the window adds 250 ms, up to 2 s.
    await sleep(Math.min(2_000, 250 * Math.min(consumed, 8)));
    throw new AppError("UNAUTHENTICATED", "Email or password is incorrect");
  }

  await account.delete(accountKey);
  const tenantId = await firstTenantOf(rt, user.id);
  const created = await createSession(rt.db, { userId: user.id, authMethod: "password", ttlHours: rt.env.CAIRN_SESSION_TTL_HOURS, ip: input.ip, userAgent: input.userAgent, tenantId });
  await recordAudit(rt.db, { tenantId, actor: `user:${user.email}`, actorType: "user", targetType: "session", targetId: created.session.id, action: "auth.login", outcome: "success", ip: input.ip, requestId: input.requestId, details: { method: "password" } });
  return { ...created, mustChangePassword: user.mustChangePassword };
}
