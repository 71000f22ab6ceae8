// Per-request tRPC context: request id, child logger, runtime, caller identity and a way to set cookies.
import type { Logger } from "../logger.ts";
import type { Runtime } from "../runtime.ts";
import { resolveIdentity, type Identity } from "../domain/auth/identity.ts";
import type { ApiKeyFailure } from "../domain/auth/api-key-auth.ts";
import { sessionCookie } from "../domain/auth/session.service.ts";

export interface TrpcContext {
  requestId: string;
  log: Logger;
  rt: Runtime;
  /** Where the call came from: the browser's tRPC client, the REST adapter, a Remix loader/action, or the CLI. */
  via: "trpc" | "rest" | "loader" | "cli";
  identity: Identity | null;
  credentialFailure?: ApiKeyFailure | "session_invalid";
  ip: string | null;
  userAgent: string | null;
  /** The request's Idempotency-Key header, for mutations that start work. */
  idempotencyKey: string | null;
  setCookie(cookie: string): void;
}

export interface RequestFacts {
  requestId: string;
  log?: Logger;
  via: TrpcContext["via"];
  cookie?: string;
  authorization?: string;
  ip?: string | null;
  userAgent?: string | null;
  idempotencyKey?: string | null;
  setCookie?: (cookie: string) => void;
}

export function createContextFactory(rt: Runtime) {
  return async (facts: RequestFacts): Promise<TrpcContext> => {
    const resolved = await resolveIdentity(rt.db, { cookie: facts.cookie, authorization: facts.authorization }, rt.env.CAIRN_SESSION_TTL_HOURS);
    const setCookie = facts.setCookie ?? (() => {});
    if (resolved.refreshedSession && resolved.identity?.kind === "session") {
      setCookie(sessionCookie(resolved.identity.token, resolved.refreshedSession.expiresAt, rt.env.publicUrl.startsWith("https://")));
    }
    return {
      requestId: facts.requestId,
      log: (facts.log ?? rt.log).child({ requestId: facts.requestId }),
      rt,
      via: facts.via,
      identity: resolved.identity,
      credentialFailure: resolved.failure,
      ip: facts.ip ?? null,
      userAgent: facts.userAgent ?? null,
      idempotencyKey: facts.idempotencyKey ?? null,
      setCookie,
    };
  };
}
