// Rate limits shared by every replica: rate-limiter-flexible's PostgreSQL store over our own pool (postgres.js
// behind the node-postgres `query` shape the library speaks).
import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";
import type { Sql } from "postgres";
import { AppError } from "../../errors.ts";

/** The library recognises a pool by its constructor name, so the adapter is a class named Pool. */
class Pool {
  constructor(private readonly sql: Sql) {}
  async query(q: { text: string; values?: unknown[] }) {
    const rows = await this.sql.unsafe(q.text, (q.values ?? []) as never[]);
    return { rows: [...rows], rowCount: rows.count };
  }
}

export interface Limiter {
  consume(key: string, points?: number): Promise<RateLimiterRes>;
  get(key: string): Promise<RateLimiterRes | null>;
  delete(key: string): Promise<boolean>;
}

export function createLimiter(sql: Sql, opts: { keyPrefix: string; points: number; durationSeconds: number; blockSeconds?: number }): Limiter {
  return new RateLimiterPostgres({
    storeClient: new Pool(sql),
    storeType: "pool",
    tableName: "rate_limits",
    tableCreated: true, // created by our migrations (the app role may not create tables)
    clearExpiredByTimeout: false,
    keyPrefix: opts.keyPrefix,
    points: opts.points,
    duration: opts.durationSeconds,
    blockDuration: opts.blockSeconds ?? 0,
  }) as unknown as Limiter;
}

export function retryAfterSeconds(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}

export function rateLimited(message: string, res: RateLimiterRes): AppError {
  const retry = retryAfterSeconds(res);
  return new AppError("RATE_LIMITED", message, { retry_after_seconds: retry }, { "Retry-After": String(retry) });
}

export function isRateLimiterRes(value: unknown): value is RateLimiterRes {
  return value instanceof RateLimiterRes;
}

const anonymousLimiters = new WeakMap<Sql, Map<string, Limiter>>();

/** Per-address budget for unauthenticated endpoints that create state (e.g. WebAuthn challenges). */
export async function chargeAddress(sql: Sql, bucket: string, address: string | null, perMinute: number): Promise<void> {
  let byBucket = anonymousLimiters.get(sql);
  if (!byBucket) anonymousLimiters.set(sql, (byBucket = new Map()));
  let limiter = byBucket.get(bucket);
  if (!limiter) byBucket.set(bucket, (limiter = createLimiter(sql, { keyPrefix: bucket, points: perMinute, durationSeconds: 60 })));
  try {
    await limiter.consume(address ?? "unknown");
  } catch (rej) {
    if (isRateLimiterRes(rej)) throw rateLimited("Too many requests from this address: wait before trying again", rej);
    throw rej;
  }
}
