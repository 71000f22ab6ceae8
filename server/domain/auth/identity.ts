// Who is calling: a browser session (cookie) or an API key (bearer). Resolved once per request.
import type { DbClient } from "../../../db/client.ts";
import { authenticateApiKey, type ApiKeyFailure, type ApiKeyIdentity } from "./api-key-auth.ts";
import { readCookie, SESSION_COOKIE, validateSessionToken, type SessionRow, type UserRow } from "./session.service.ts";

export type Identity = { kind: "session"; session: SessionRow; user: UserRow; token: string } | { kind: "api_key"; key: ApiKeyIdentity };

export interface ResolvedIdentity {
  identity: Identity | null;
  /** Why a presented credential was refused (so 401 can say so). */
  failure?: ApiKeyFailure | "session_invalid";
  /** A refreshed session cookie to send back (sliding expiry). */
  refreshedSession?: SessionRow;
}

export async function resolveIdentity(db: DbClient, headers: { cookie?: string; authorization?: string }, ttlHours: number): Promise<ResolvedIdentity> {
  const auth = headers.authorization;
  if (auth) {
    const [scheme, value] = auth.split(/\s+/, 2);
    if (scheme?.toLowerCase() !== "bearer" || !value) return { identity: null, failure: "malformed" };
    const key = await authenticateApiKey(db, value);
    if (typeof key === "string") return { identity: null, failure: key };
    return { identity: { kind: "api_key", key } };
  }
  const token = readCookie(headers.cookie, SESSION_COOKIE);
  if (!token) return { identity: null };
  const validated = await validateSessionToken(db, token, ttlHours);
  if (!validated) return { identity: null, failure: "session_invalid" };
  return {
    identity: { kind: "session", session: validated.session, user: validated.user, token },
    refreshedSession: validated.refreshed ? validated.session : undefined,
  };
}

export function actorOf(identity: Identity | null): { actor: string; actorType: "user" | "api_key" | "anonymous" } {
  if (!identity) return { actor: "anonymous", actorType: "anonymous" };
  if (identity.kind === "session") return { actor: `user:${identity.user.email}`, actorType: "user" };
  return { actor: `api_key:${identity.key.id}`, actorType: "api_key" };
}
