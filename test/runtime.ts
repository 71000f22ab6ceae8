// A Runtime over a per-file test database, and callers that act as a given credential (API key or session).
import { createLogger } from "../server/logger.ts";
import { parseEnv } from "../server/config/env.ts";
import type { Runtime } from "../server/runtime.ts";
import { createContextFactory } from "../server/trpc/context.ts";
import { createCaller } from "../server/trpc/router.ts";
import type { TestDatabase } from "./test-db.ts";

export function testRuntime(t: TestDatabase, env: Record<string, string> = {}): Runtime {
  return {
    mode: "all",
    env: parseEnv({ NODE_ENV: "test", LOG_LEVEL: "silent", CAIRN_SECRET: t.secret, ...env }),
    log: createLogger("silent"),
    db: t.client,
    owner: t.owner,
    secret: t.secret,
    databaseKind: "embedded",
    startedAt: new Date(),
    draining: false,
  };
}

export interface CallAs {
  apiKey?: string;
  sessionToken?: string;
  ip?: string;
  /** Sent as the Idempotency-Key header would be. */
  idempotencyKey?: string;
}

export async function callerAs(rt: Runtime, who: CallAs = {}) {
  return (await callerWithCookies(rt, who)).caller;
}

/** The caller plus every Set-Cookie its calls produced (the caller is a proxy, so they travel beside it). */
export async function callerWithCookies(rt: Runtime, who: CallAs = {}) {
  const cookies: string[] = [];
  const ctx = await createContextFactory(rt)({
    requestId: `test-${Math.random().toString(36).slice(2)}`,
    via: "rest",
    authorization: who.apiKey ? `Bearer ${who.apiKey}` : undefined,
    cookie: who.sessionToken ? `cairn_session=${who.sessionToken}` : undefined,
    ip: who.ip ?? "127.0.0.1",
    userAgent: "vitest",
    idempotencyKey: who.idempotencyKey ?? null,
    setCookie: (c) => cookies.push(c),
  });
  return { caller: createCaller(ctx), cookies };
}

/** The AppError code a failed call carries (tRPC wraps it as the cause). */
export async function errorCode(promise: Promise<unknown>): Promise<string | null> {
  try {
    await promise;
    return null;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return cause?.code ?? (err as { code?: string }).code ?? "UNKNOWN";
  }
}
