// OIDC sign-in (authorization code + PKCE) against the cluster's OpenID provider. Identities map onto existing
// Cairn users only: a tenant admin adds people, the provider proves who they are; nobody is created here.
import { and, eq, gt, isNull, lt, sql } from "drizzle-orm";
import * as client from "openid-client";
import type { Runtime } from "../../runtime.ts";
import { authChallenges, users } from "../../../db/schema/index.ts";
import { recordAudit } from "../audit/audit-writer.service.ts";
import { oidcConfigured } from "./oidc-config.ts";
import { createSession, type CreatedSession, type UserRow } from "./session.service.ts";

export const OIDC_CALLBACK_PATH = "/auth/oidc/callback";
/** Binds the state to the browser that started the login, so a callback URL cannot be replayed into someone else's browser. */
export const OIDC_STATE_COOKIE = "cairn_oidc_state";
const CHALLENGE_TTL_MS = 10 * 60_000;
const DISCOVERY_TIMEOUT_SECONDS = 10;

/** Short codes the login page turns into a sentence (`/login?error=<code>`). */
export type OidcFailureCode =
  | "oidc_state"
  | "oidc_issuer"
  | "oidc_no_account"
  | "oidc_email_unverified"
  | "oidc_disabled"
  | "oidc_unavailable"
  | "oidc_failed";

export class OidcLoginError extends Error {
  constructor(
    readonly code: OidcFailureCode,
    message: string,
    /** What went wrong, for the audit log and server logs; never contains tokens. */
    readonly reason: string = code,
  ) {
    super(message);
    this.name = "OidcLoginError";
  }
}

export type OidcRuntime = Pick<Runtime, "db" | "env" | "log">;

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export interface OidcLoginResult extends CreatedSession {
  user: UserRow;
  returnTo: string;
}

export interface OidcService {
  startLogin(input: { returnTo?: string | null }): Promise<{ url: URL; state: string }>;
  /** `currentUrl` is the callback URL as the provider sent the browser to it; `stateCookie` the browser's binding cookie. */
  finishLogin(currentUrl: URL, input: RequestMeta & { stateCookie: string | undefined }): Promise<OidcLoginResult>;
}

interface ChallengeData {
  code_verifier: string;
  nonce: string;
  return_to: string;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

function hasControlCharacters(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** A same-origin path to land on after login; anything else (absolute, protocol-relative, odd characters) becomes "/". */
export function safeReturnTo(value: unknown, publicUrl: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 2000) return "/";
  if (!value.startsWith("/") || value.startsWith("//") || value.includes("\\") || hasControlCharacters(value)) return "/";
  const origin = new URL(publicUrl).origin;
  const parsed = new URL(value, origin);
  if (parsed.origin !== origin || parsed.pathname.startsWith("/auth/oidc/")) return "/";
  return `${parsed.pathname}${parsed.search}${parsed.hash}`;
}

export function oidcCallbackUrl(publicUrl: string): string {
  return `${publicUrl}${OIDC_CALLBACK_PATH}`;
}

/** Walks an openid-client error and its causes: was the failure that someone other than our issuer answered? */
function isIssuerMismatch(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth++) {
    const e = current as { message?: unknown; cause?: unknown; claim?: unknown; attribute?: unknown };
    if (e.claim === "iss" || e.attribute === "issuer") return true;
    if (typeof e.message === "string" && /"iss" \(issuer\)|issuer does not match/.test(e.message)) return true;
    current = e.cause;
  }
  return false;
}

/** A one-line account of an openid-client failure: error codes and messages only, never the response bodies or tokens. */
function describe(err: unknown): string {
  if (err instanceof client.AuthorizationResponseError) return `provider_error: ${err.error}`;
  if (err instanceof client.ResponseBodyError) return `token_endpoint: ${err.error}`;
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 3 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    parts.push(typeof code === "string" && depth === 0 ? `${code}: ${current.message}` : current.message);
    current = current.cause;
  }
  return parts.join(" / ") || "unknown error";
}

export function createOidcService(rt: OidcRuntime): OidcService {
  const { env } = rt;
  let discovered: Promise<client.Configuration> | undefined;

  function configuration(): Promise<client.Configuration> {
    if (!oidcConfigured(env)) return Promise.reject(new OidcLoginError("oidc_unavailable", "OIDC login is not configured"));
    discovered ??= discover().catch((err: unknown) => {
      // Try again on the next login rather than caching an outage.
      discovered = undefined;
      throw err;
    });
    return discovered;
  }

  async function discover(): Promise<client.Configuration> {
    const issuer = new URL(env.CAIRN_OIDC_ISSUER!);
    const insecure = issuer.protocol === "http:";
    if (insecure && !LOOPBACK_HOSTS.has(issuer.hostname)) {
      throw new OidcLoginError("oidc_unavailable", "CAIRN_OIDC_ISSUER must use https (plain http is accepted only for a loopback issuer)", "issuer_not_https");
    }
    try {
      return await client.discovery(
        issuer,
        env.CAIRN_OIDC_CLIENT_ID!,
        { client_secret: env.CAIRN_OIDC_CLIENT_SECRET!, redirect_uris: [oidcCallbackUrl(env.publicUrl)], response_types: ["code"] },
        client.ClientSecretBasic(env.CAIRN_OIDC_CLIENT_SECRET!),
        { timeout: DISCOVERY_TIMEOUT_SECONDS, execute: insecure ? [client.allowInsecureRequests] : [] },
      );
    } catch (err) {
      if (isIssuerMismatch(err)) {
        throw new OidcLoginError("oidc_issuer", "The OpenID provider's discovery document names a different issuer than CAIRN_OIDC_ISSUER", `discovery: ${describe(err)}`);
      }
      throw new OidcLoginError("oidc_unavailable", "The OpenID provider could not be reached", `discovery: ${describe(err)}`);
    }
  }

  async function refuse(err: OidcLoginError, meta: RequestMeta, identity: Record<string, unknown> = {}): Promise<never> {
    rt.log.warn({ code: err.code, reason: err.reason, requestId: meta.requestId }, "oidc login refused");
    await recordAudit(rt.db, {
      tenantId: null,
      actor: "anonymous",
      actorType: "anonymous",
      targetType: "login",
      action: "auth.login",
      outcome: "failure",
      ip: meta.ip,
      requestId: meta.requestId,
      details: { method: "oidc", reason: err.code, detail: err.reason, ...identity },
    });
    throw err;
  }

  /** Consumes the state exactly once: a second callback with the same state finds nothing to update. */
  async function consumeState(state: string): Promise<ChallengeData | null> {
    const [row] = await rt.db.db
      .update(authChallenges)
      .set({ usedAt: new Date() })
      .where(and(eq(authChallenges.id, state), eq(authChallenges.purpose, "oidc"), isNull(authChallenges.usedAt), gt(authChallenges.expiresAt, new Date())))
      .returning({ data: authChallenges.data });
    return row ? (row.data as unknown as ChallengeData) : null;
  }

  async function resolveUser(issuer: string, claims: { sub: string; email?: string; emailVerified: boolean }): Promise<{ user: UserRow; linked: boolean }> {
    const [bySubject] = await rt.db.db
      .select()
      .from(users)
      .where(and(eq(users.oidcIssuer, issuer), eq(users.oidcSubject, claims.sub)))
      .limit(1);
    if (bySubject) return { user: bySubject, linked: false };

    if (!claims.email) throw new OidcLoginError("oidc_no_account", "No Cairn account for this identity: the provider did not share an email address", "no_email_claim");
    if (!claims.emailVerified) {
      throw new OidcLoginError("oidc_email_unverified", `The provider has not verified ${claims.email}: verify it there, then sign in again`, "email_not_verified");
    }
    const [byEmail] = await rt.db.db
      .select()
      .from(users)
      .where(sql`lower(${users.email}) = ${claims.email.toLowerCase()}`)
      .limit(1);
    if (!byEmail) throw new OidcLoginError("oidc_no_account", `No Cairn account for ${claims.email}: ask a tenant admin to add you`, "no_account");
    if (byEmail.oidcSubject) {
      // Already bound to another identity (another subject, or another issuer): an email match must not take it over.
      throw new OidcLoginError("oidc_no_account", `The Cairn account for ${claims.email} is linked to a different sign-in identity: ask a tenant admin`, "linked_to_other_identity");
    }
    const [linked] = await rt.db.db
      .update(users)
      .set({ oidcIssuer: issuer, oidcSubject: claims.sub })
      .where(and(eq(users.id, byEmail.id), isNull(users.oidcSubject)))
      .returning();
    if (!linked) throw new OidcLoginError("oidc_failed", "Sign-in raced with another change to this account: try again", "link_race");
    return { user: linked, linked: true };
  }

  return {
    async startLogin({ returnTo }) {
      const config = await configuration();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const codeVerifier = client.randomPKCECodeVerifier();
      const data: ChallengeData = { code_verifier: codeVerifier, nonce, return_to: safeReturnTo(returnTo, env.publicUrl) };
      // Abandoned logins leave rows behind; sweep old ones while we are here.
      await rt.db.db.delete(authChallenges).where(and(eq(authChallenges.purpose, "oidc"), lt(authChallenges.expiresAt, new Date(Date.now() - 3_600_000))));
      await rt.db.db.insert(authChallenges).values({
        id: state,
        purpose: "oidc",
        challenge: nonce,
        data: data as unknown as Record<string, unknown>,
        expiresAt: new Date(Date.now() + CHALLENGE_TTL_MS),
      });
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: oidcCallbackUrl(env.publicUrl),
        scope: "openid email profile",
        state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: "S256",
      });
      return { url, state };
    },

    async finishLogin(currentUrl, input) {
      const meta: RequestMeta = { ip: input.ip, userAgent: input.userAgent, requestId: input.requestId };
      const state = currentUrl.searchParams.get("state");
      if (!state || !input.stateCookie || input.stateCookie !== state) {
        return refuse(new OidcLoginError("oidc_state", "This sign-in link was not started in this browser: start again", state ? "state_cookie_mismatch" : "state_missing"), meta);
      }
      const challenge = await consumeState(state);
      if (!challenge) return refuse(new OidcLoginError("oidc_state", "This sign-in link has expired or was already used: start again", "state_unknown_or_used"), meta);

      let config: client.Configuration;
      let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
      try {
        config = await configuration();
        tokens = await client.authorizationCodeGrant(config, currentUrl, {
          expectedState: state,
          expectedNonce: challenge.nonce,
          pkceCodeVerifier: challenge.code_verifier,
          idTokenExpected: true,
        });
      } catch (err) {
        if (err instanceof OidcLoginError) return refuse(err, meta);
        if (isIssuerMismatch(err)) {
          return refuse(new OidcLoginError("oidc_issuer", "The sign-in response did not come from the configured OpenID provider", describe(err)), meta);
        }
        return refuse(new OidcLoginError("oidc_failed", "The OpenID provider did not complete the sign-in", describe(err)), meta);
      }

      const idClaims = tokens.claims()!;
      const issuer = idClaims.iss;
      let email = typeof idClaims.email === "string" ? idClaims.email : undefined;
      let emailVerified = idClaims.email_verified === true;
      if (!email && tokens.access_token) {
        // Providers that follow the spec strictly return scope claims from userinfo rather than in the ID token.
        try {
          const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
          email = typeof info.email === "string" ? info.email : undefined;
          emailVerified = info.email_verified === true;
        } catch (err) {
          return refuse(new OidcLoginError("oidc_failed", "The OpenID provider did not return the account's email address", `userinfo: ${describe(err)}`), meta, { issuer, subject: idClaims.sub });
        }
      }
      const identity = { issuer, subject: idClaims.sub, email: email ?? null };

      let resolved: { user: UserRow; linked: boolean };
      try {
        resolved = await resolveUser(issuer, { sub: idClaims.sub, email, emailVerified });
      } catch (err) {
        if (err instanceof OidcLoginError) return refuse(err, meta, identity);
        throw err;
      }
      const { user, linked } = resolved;
      if (user.disabledAt) return refuse(new OidcLoginError("oidc_disabled", "This Cairn account is disabled", "user_disabled"), meta, identity);

      const memberships = await rt.db.db.execute<{ tenant_id: string }>(sql`select tenant_id from cairn_user_memberships(${user.id}) limit 1`);
      const tenantId = memberships[0]?.tenant_id ?? null;
      const created = await createSession(rt.db, { userId: user.id, authMethod: "oidc", ttlHours: env.CAIRN_SESSION_TTL_HOURS, ip: meta.ip, userAgent: meta.userAgent, tenantId });
      await recordAudit(rt.db, {
        tenantId,
        actor: `user:${user.email}`,
        actorType: "user",
        targetType: "session",
        targetId: created.session.id,
        action: "auth.login",
        outcome: "success",
        ip: meta.ip,
        requestId: meta.requestId,
        details: { method: "oidc", issuer, subject: idClaims.sub, linked_now: linked },
      });
      return { ...created, user, returnTo: safeReturnTo(challenge.return_to, env.publicUrl) };
    },
  };
}
