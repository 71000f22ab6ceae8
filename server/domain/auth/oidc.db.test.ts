// OIDC sign-in end to end against a real OpenID provider (oidc-provider) on loopback, driven by fetch like a browser.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import express, { type RequestHandler } from "express";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/test-db.ts";
import { parseEnv } from "../../config/env.ts";
import { createLogger } from "../../logger.ts";
import { oidcRoutes } from "../../http/oidc-routes.ts";
import { createOidcService, OIDC_STATE_COOKIE, safeReturnTo, type OidcRuntime } from "./oidc.service.ts";
import { SESSION_COOKIE, validateSessionToken } from "./session.service.ts";

// oidc-provider ships no type declarations; this is the part of its API the test uses.
interface ProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<{ params: Record<string, unknown> }>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, opts: { mergeWithLastSubmission: boolean }): Promise<void>;
  Grant: new (init: { accountId: string; clientId: string }) => { addOIDCScope(scope: string): void; save(): Promise<string> };
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;

interface TestAccount {
  email: string;
  email_verified: boolean;
}

const CLIENT_ID = "cairn";
const CLIENT_SECRET = randomBytes(24).toString("hex");
const accounts: Record<string, TestAccount> = {
  "alice-sub": { email: "Alice@Example.com", email_verified: true },
  "bob-sub": { email: "bob@example.com", email_verified: true },
  "carol-sub": { email: "carol@example.com", email_verified: false },
  "dave-new-sub": { email: "dave@example.com", email_verified: true },
};

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * A real OpenID provider on loopback. Its interaction endpoint signs in `signInAs` and grants consent at once.
 * It also serves two doctored discovery documents under the same origin:
 *   /mixup — claims issuer ".../mixup" but points at this provider's endpoints, so tokens carry the wrong `iss`;
 *   /liar  — lives at ".../liar" but claims to be this provider.
 */
async function startProvider(Provider: ProviderConstructor, callbackUrl: string) {
  const server = http.createServer();
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  const jwk = { ...generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" }), kid: "test-key", use: "sig", alg: "RS256" };
  const provider = new Provider(issuer, {
    clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [callbackUrl], grant_types: ["authorization_code"], response_types: ["code"], token_endpoint_auth_method: "client_secret_basic" }],
    cookies: { keys: [randomBytes(32).toString("hex")] },
    jwks: { keys: [jwk] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx: unknown, sub: string) => {
      const account = accounts[sub];
      return account ? { accountId: sub, claims: () => ({ sub, ...account, name: account.email }) } : undefined;
    },
  });
  const state = { signInAs: "alice-sub" };
  const handle = provider.callback();

  async function doctoredDiscovery(claimedIssuer: string): Promise<string> {
    const real = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    delete real.authorization_response_iss_parameter_supported;
    return JSON.stringify({ ...real, issuer: claimedIssuer });
  }

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const path = (req.url ?? "").split("?")[0];
      if (path === "/mixup/.well-known/openid-configuration" || path === "/liar/.well-known/openid-configuration") {
        const body = await doctoredDiscovery(path.startsWith("/mixup") ? `${issuer}/mixup` : issuer);
        res.writeHead(200, { "content-type": "application/json" }).end(body);
        return;
      }
      if (path?.startsWith("/interaction/")) {
        const details = await provider.interactionDetails(req, res);
        const grant = new provider.Grant({ accountId: state.signInAs, clientId: String(details.params.client_id) });
        grant.addOIDCScope(String(details.params.scope));
        const grantId = await grant.save();
        await provider.interactionFinished(req, res, { login: { accountId: state.signInAs }, consent: { grantId } }, { mergeWithLastSubmission: false });
        return;
      }
      handle(req, res);
    })().catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  });
  return { issuer, state, close: () => closeServer(server) };
}

/** Just enough of a browser: one cookie jar per origin, redirects followed by hand. */
class Browser {
  private jars = new Map<string, Map<string, string>>();

  async get(url: string): Promise<Response> {
    const target = new URL(url);
    const jar = this.jars.get(target.origin) ?? new Map<string, string>();
    this.jars.set(target.origin, jar);
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const res = await fetch(target, { redirect: "manual", headers: cookie ? { cookie } : {} });
    for (const line of res.headers.getSetCookie()) {
      const [pair = "", ...attrs] = line.split(";");
      const name = pair.slice(0, pair.indexOf("=")).trim();
      const value = pair.slice(pair.indexOf("=") + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split("=")[1]!) < Date.now()));
      if (expired || value === "") jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }

  cookie(origin: string, name: string): string | undefined {
    return this.jars.get(origin)?.get(name);
  }
}

let t: TestDatabase;
let Provider: ProviderConstructor;
let provider: Awaited<ReturnType<typeof startProvider>>;
let appServer: http.Server;
let publicUrl: string;
let tenantId: string;
let aliceId: string;
let carolId: string;
let daveId: string;
/** Which Cairn configuration the test app serves right now (issuer switches for the mix-up cases). */
let activeRoutes: RequestHandler;

const quiet = (original: (...args: unknown[]) => void) => (...args: unknown[]) => {
  if (typeof args[0] === "string" && args[0].startsWith("oidc-provider")) return;
  original(...args);
};

function runtimeFor(vars: Record<string, string>): OidcRuntime {
  return {
    db: t.client,
    env: parseEnv({ NODE_ENV: "test", CAIRN_PUBLIC_URL: publicUrl, ...vars }),
    log: createLogger("silent"),
  };
}

function serveIssuer(issuer: string | null): OidcRuntime {
  const rt = runtimeFor(issuer ? { CAIRN_OIDC_ISSUER: issuer, CAIRN_OIDC_CLIENT_ID: CLIENT_ID, CAIRN_OIDC_CLIENT_SECRET: CLIENT_SECRET, CAIRN_OIDC_LABEL: "Test IdP" } : {});
  activeRoutes = oidcRoutes(rt);
  return rt;
}

/** Start at Cairn, follow the provider's redirects, and stop at the callback URL it sends the browser back to. */
async function authorize(browser: Browser, returnTo?: string): Promise<string> {
  const start = await browser.get(`${publicUrl}/auth/oidc/start${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ""}`);
  expect(start.status).toBe(302);
  let url = new URL(start.headers.get("location")!, publicUrl);
  for (let hop = 0; hop < 10; hop++) {
    if (url.origin === new URL(publicUrl).origin) return url.href;
    const res = await browser.get(url.href);
    if (res.status < 300 || res.status >= 400) throw new Error(`provider answered ${res.status} at ${url.pathname}: ${await res.text()}`);
    url = new URL(res.headers.get("location")!, url);
  }
  throw new Error("too many redirects");
}

async function loginEvents() {
  return t.owner.sql<{ tenant_id: string | null; outcome: string; actor: string; details: Record<string, unknown> }[]>`
    select tenant_id, outcome, actor, details from audit_events where action = 'auth.login' order by chain, seq`;
}

async function sessionCount(): Promise<number> {
  const [row] = await t.owner.sql<{ n: number }[]>`select count(*)::int as n from sessions`;
  return row!.n;
}

beforeAll(async () => {
  const warn = console.warn.bind(console);
  const info = console.info.bind(console);
  vi.spyOn(console, "warn").mockImplementation(quiet(warn));
  vi.spyOn(console, "info").mockImplementation(quiet(info));
  // Imported here, after the spies, so its start-up notices (e.g. the runtime advisory) stay out of the output.
  const specifier = "oidc-provider";
  Provider = ((await import(specifier)) as { default: ProviderConstructor }).default;

  t = await createTestDatabase();
  const app = express();
  app.use((req, res, next) => activeRoutes(req, res, next));
  appServer = http.createServer(app);
  publicUrl = `http://127.0.0.1:${await listen(appServer)}`;
  provider = await startProvider(Provider, `${publicUrl}/auth/oidc/callback`);

  const [tenant] = await t.owner.sql<{ id: string }[]>`insert into tenants (slug, name) values ('acme', 'Acme') returning id`;
  tenantId = tenant!.id;
  const [alice] = await t.owner.sql<{ id: string }[]>`insert into users (email, name) values ('alice@example.com', 'Alice') returning id`;
  aliceId = alice!.id;
  const [carol] = await t.owner.sql<{ id: string }[]>`insert into users (email, name) values ('carol@example.com', 'Carol') returning id`;
  carolId = carol!.id;
  const [dave] = await t.owner.sql<{ id: string }[]>`insert into users (email, name, oidc_issuer, oidc_subject) values ('dave@example.com', 'Dave', 'https://old-idp.example.com', 'dave-old-sub') returning id`;
  daveId = dave!.id;
  await t.owner.sql`insert into memberships (tenant_id, user_id, role) values (${tenantId}, ${aliceId}, 'operator')`;
});

afterAll(async () => {
  await provider?.close();
  if (appServer) await closeServer(appServer);
  await t?.drop();
  vi.restoreAllMocks();
});

describe("OIDC sign-in", () => {
  it("signs in an existing user by verified email, links the identity, and lands on return_to", async () => {
    serveIssuer(provider.issuer);
    provider.state.signInAs = "alice-sub";
    const browser = new Browser();
    const callback = await authorize(browser, "/t/acme/runs?status=failed");
    const res = await browser.get(callback);

    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/t/acme/runs?status=failed");
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
    expect(setCookie).toMatch(/HttpOnly; SameSite=Lax/);
    const token = browser.cookie(publicUrl, SESSION_COOKIE)!;
    const validated = await validateSessionToken(t.client, token, 24);
    expect(validated?.user.id).toBe(aliceId);
    expect(validated?.session.authMethod).toBe("oidc");
    expect(validated?.session.tenantId).toBe(tenantId);

    const [linked] = await t.owner.sql<{ oidc_issuer: string; oidc_subject: string }[]>`select oidc_issuer, oidc_subject from users where id = ${aliceId}`;
    expect(linked).toEqual({ oidc_issuer: provider.issuer, oidc_subject: "alice-sub" });

    const success = (await loginEvents()).filter((e) => e.outcome === "success");
    expect(success).toHaveLength(1);
    expect(success[0]).toMatchObject({ tenant_id: tenantId, actor: "user:alice@example.com", details: { method: "oidc", subject: "alice-sub", linked_now: true } });
  });

  it("recognises a linked user by subject even after their email changes in Cairn", async () => {
    serveIssuer(provider.issuer);
    provider.state.signInAs = "alice-sub";
    await t.owner.sql`update users set email = 'alice.renamed@example.com' where id = ${aliceId}`;
    try {
      const browser = new Browser();
      const res = await browser.get(await authorize(browser));
      expect(res.headers.get("location")).toBe("/");
      expect((await validateSessionToken(t.client, browser.cookie(publicUrl, SESSION_COOKIE)!, 24))?.user.id).toBe(aliceId);
    } finally {
      await t.owner.sql`update users set email = 'alice@example.com' where id = ${aliceId}`;
    }
  });

  it("refuses a replayed callback: the state works once", async () => {
    serveIssuer(provider.issuer);
    provider.state.signInAs = "alice-sub";
    const browser = new Browser();
    const callback = await authorize(browser);
    const first = await browser.get(callback);
    expect(first.headers.get("location")).toBe("/");
    const sessions = await sessionCount();

    // The attacker still holds the URL and the binding cookie.
    const replay = await fetch(callback, { redirect: "manual", headers: { cookie: `${OIDC_STATE_COOKIE}=${new URL(callback).searchParams.get("state")}` } });
    expect(replay.status).toBe(302);
    expect(replay.headers.get("location")).toBe("/login?error=oidc_state");
    expect(await sessionCount()).toBe(sessions);
  });

  it("refuses a callback opened in a browser that did not start the sign-in", async () => {
    serveIssuer(provider.issuer);
    provider.state.signInAs = "alice-sub";
    const victim = new Browser();
    const callback = await authorize(new Browser());
    const res = await victim.get(callback);
    expect(res.headers.get("location")).toBe("/login?error=oidc_state");
    expect(victim.cookie(publicUrl, SESSION_COOKIE)).toBeUndefined();
  });

  it("refuses tokens from an issuer other than the configured one", async () => {
    // Cairn trusts ".../mixup"; the provider behind it signs as the real issuer.
    serveIssuer(`${provider.issuer}/mixup`);
    provider.state.signInAs = "alice-sub";
    const before = await sessionCount();

    const browser = new Browser();
    const asSent = await browser.get(await authorize(browser));
    expect(asSent.headers.get("location")).toBe("/login?error=oidc_issuer");

    // Without the response's `iss` parameter the mismatch must still be caught, in the ID token itself.
    const second = new Browser();
    const stripped = new URL(await authorize(second));
    expect(stripped.searchParams.get("iss")).toBe(provider.issuer);
    stripped.searchParams.delete("iss");
    const res = await second.get(stripped.href);
    expect(res.headers.get("location")).toBe("/login?error=oidc_issuer");
    expect(await sessionCount()).toBe(before);

    const failures = (await loginEvents()).filter((e) => e.outcome === "failure" && e.details.reason === "oidc_issuer");
    expect(failures).toHaveLength(2);
    expect(failures[1]!.details.detail).toMatch(/"iss" \(issuer\) claim/);
    expect(failures.every((e) => e.tenant_id === null)).toBe(true);
  });

  it("refuses to start when the discovery document names a different issuer", async () => {
    serveIssuer(`${provider.issuer}/liar`);
    const res = await new Browser().get(`${publicUrl}/auth/oidc/start`);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/login?error=oidc_issuer");
  });

  it("refuses a verified identity with no Cairn account, and says so", async () => {
    const rt = serveIssuer(provider.issuer);
    provider.state.signInAs = "bob-sub";
    const browser = new Browser();
    const res = await browser.get(await authorize(browser));
    expect(res.headers.get("location")).toBe("/login?error=oidc_no_account");

    const callback = new URL(await authorize(browser));
    await expect(
      createOidcService(rt).finishLogin(callback, { stateCookie: callback.searchParams.get("state")!, ip: null, userAgent: null, requestId: null }),
    ).rejects.toThrow("No Cairn account for bob@example.com: ask a tenant admin to add you");

    const [users] = await t.owner.sql<{ n: number }[]>`select count(*)::int as n from users where lower(email) = 'bob@example.com'`;
    expect(users!.n).toBe(0);
    const refusal = (await loginEvents()).find((e) => e.details.reason === "oidc_no_account");
    expect(refusal).toMatchObject({ tenant_id: null, outcome: "failure", details: { method: "oidc", email: "bob@example.com", subject: "bob-sub" } });
    expect(JSON.stringify(refusal)).not.toMatch(/code=|access_token|id_token/);
  });

  it("refuses an unverified email even when a Cairn account has that address", async () => {
    serveIssuer(provider.issuer);
    provider.state.signInAs = "carol-sub";
    const browser = new Browser();
    const res = await browser.get(await authorize(browser));
    expect(res.headers.get("location")).toBe("/login?error=oidc_email_unverified");
    const [carol] = await t.owner.sql<{ oidc_subject: string | null }[]>`select oidc_subject from users where id = ${carolId}`;
    expect(carol!.oidc_subject).toBeNull();
    expect(browser.cookie(publicUrl, SESSION_COOKIE)).toBeUndefined();
  });

  it("does not hand an account already linked to another identity to a new subject with the same email", async () => {
    serveIssuer(provider.issuer);
    provider.state.signInAs = "dave-new-sub";
    const browser = new Browser();
    const res = await browser.get(await authorize(browser));
    expect(res.headers.get("location")).toBe("/login?error=oidc_no_account");
    const [dave] = await t.owner.sql<{ oidc_subject: string }[]>`select oidc_subject from users where id = ${daveId}`;
    expect(dave!.oidc_subject).toBe("dave-old-sub");
  });

  it("refuses a disabled account", async () => {
    serveIssuer(provider.issuer);
    provider.state.signInAs = "alice-sub";
    await t.owner.sql`update users set disabled_at = now() where id = ${aliceId}`;
    try {
      const browser = new Browser();
      const res = await browser.get(await authorize(browser));
      expect(res.headers.get("location")).toBe("/login?error=oidc_disabled");
    } finally {
      await t.owner.sql`update users set disabled_at = null where id = ${aliceId}`;
    }
  });

  it("answers 404 at /auth/oidc/start when OIDC is not configured", async () => {
    serveIssuer(null);
    const res = await fetch(`${publicUrl}/auth/oidc/start`, { redirect: "manual" });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });
});

describe("safeReturnTo", () => {
  it("keeps same-origin paths and turns everything else into /", () => {
    const origin = "https://cairn.example.com";
    expect(safeReturnTo("/t/acme/runs?x=1#top", origin)).toBe("/t/acme/runs?x=1#top");
    for (const hostile of ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "/auth/oidc/start", "", undefined, "/\nx"]) {
      expect(safeReturnTo(hostile, origin)).toBe("/");
    }
  });
});
