// Passkeys and step-up against a real database, through the same tRPC procedures the browser calls. A software
// authenticator answers the ceremonies, so @simplewebauthn/server verifies real signatures; the browser side of the
// ceremony is covered by the Playwright journey (e2e/passkeys.spec.ts).
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isoBase64URL } from "@simplewebauthn/server/helpers";
import { createTestDatabase, type TestDatabase } from "../../../test/test-db.ts";
import { SoftAuthenticator } from "../../../test/soft-authenticator.ts";
import { parseEnv } from "../../config/env.ts";
import { createLogger } from "../../logger.ts";
import type { Runtime } from "../../runtime.ts";
import type { AppError } from "../../errors.ts";
import { toAppError } from "../../trpc/init.ts";
import { createContextFactory } from "../../trpc/context.ts";
import { createCaller } from "../../trpc/router.ts";
import { memberships, tenants, users } from "../../../db/schema/index.ts";
import { createSession, SESSION_COOKIE } from "./session.service.ts";
import { checkSignCounter, consumeChallenge, issueChallenge, recordAssertion } from "./webauthn.ts";

const PUBLIC_URL = "http://localhost:3999";
const RP_ID = "localhost";
const device = (origin = PUBLIC_URL) => new SoftAuthenticator(RP_ID, origin);
const idOf = (a: SoftAuthenticator) => a.credentialId.toString("base64url");

// ---------- Harness ----------

let t: TestDatabase;
let rt: Runtime;

beforeAll(async () => {
  t = await createTestDatabase();
  rt = {
    mode: "all",
    env: parseEnv({ PORT: "3999", CAIRN_PUBLIC_URL: PUBLIC_URL, CAIRN_STEP_UP_WINDOW_SECONDS: "300" }),
    log: createLogger("silent"),
    db: t.client,
    owner: t.owner,
    secret: t.secret,
    databaseKind: "embedded",
    startedAt: new Date(),
    draining: false,
  };
});
afterAll(async () => {
  await t.drop();
});

interface Client {
  caller: ReturnType<typeof createCaller>;
  cookies: string[];
}

async function clientFor(token?: string): Promise<Client> {
  const cookies: string[] = [];
  const ctx = await createContextFactory(rt)({
    requestId: randomUUID(),
    via: "trpc",
    cookie: token ? `${SESSION_COOKIE}=${token}` : undefined,
    ip: "127.0.0.1",
    userAgent: "vitest",
    setCookie: (c) => cookies.push(c),
  });
  return { caller: createCaller(ctx), cookies };
}

async function newUser(opts: { tenant?: boolean } = {}) {
  const email = `u-${randomBytes(4).toString("hex")}@example.test`;
  const [user] = await t.owner.db.insert(users).values({ email, name: "Test Person" }).returning();
  let tenantId: string | null = null;
  if (opts.tenant) {
    const [tenant] = await t.owner.db.insert(tenants).values({ slug: `t-${randomBytes(4).toString("hex")}`, name: "Acme" }).returning();
    await t.owner.db.insert(memberships).values({ tenantId: tenant!.id, userId: user!.id, role: "admin" });
    tenantId = tenant!.id;
  }
  const { token, session } = await createSession(t.client, { userId: user!.id, authMethod: "password", ttlHours: 24, tenantId });
  return { user: user!, token, sessionId: session.id, tenantId };
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!err) throw new Error("expected the call to fail");
  return toAppError(err);
}

async function addPasskey(c: Client, authenticator: SoftAuthenticator, name?: string) {
  const { challenge_id, options } = await c.caller.passkeys.registrationOptions();
  return c.caller.passkeys.register({ challenge_id, name, response: authenticator.register(options) });
}

async function auditEvents(action: string) {
  return t.owner.sql<{ chain: string; outcome: string; actor: string; details: Record<string, unknown> }[]>`
    select chain, outcome, actor, details from audit_events where action = ${action} order by occurred_at, seq`;
}

const ageSession = (sessionId: string, column: "authenticated_at" | "step_up_at", seconds: number) =>
  t.owner.sql`update sessions set ${t.owner.sql(column)} = now() - make_interval(secs => ${seconds}) where id = ${sessionId}`;

// ---------- Tests ----------

describe("challenges", () => {
  it("can be consumed exactly once, even by concurrent answers", async () => {
    const id = await issueChallenge(t.client, { purpose: "passkey_login", challenge: "abc" });
    const results = await Promise.all([1, 2, 3, 4].map(() => consumeChallenge(t.client, { id, purpose: "passkey_login" })));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await consumeChallenge(t.client, { id, purpose: "passkey_login" })).toBeNull();
  });

  it("are refused after five minutes, for another purpose, or for another session", async () => {
    const { user, sessionId } = await newUser();
    const expired = await issueChallenge(t.client, { purpose: "passkey_login", challenge: "x" });
    await t.owner.sql`update auth_challenges set expires_at = now() - interval '1 second' where id = ${expired}`;
    expect(await consumeChallenge(t.client, { id: expired, purpose: "passkey_login" })).toBeNull();

    const [row] = await t.owner.sql<{ ttl: number }[]>`
      select extract(epoch from expires_at - now())::float8 as ttl from auth_challenges where id = ${await issueChallenge(t.client, { purpose: "step_up", challenge: "y" })}`;
    expect(row!.ttl).toBeGreaterThan(290);
    expect(row!.ttl).toBeLessThanOrEqual(300);

    const bound = await issueChallenge(t.client, { purpose: "step_up", challenge: "z", userId: user.id, sessionId });
    expect(await consumeChallenge(t.client, { id: bound, purpose: "passkey_login" })).toBeNull();
    expect(await consumeChallenge(t.client, { id: bound, purpose: "step_up", userId: user.id, sessionId: "someone-elses" })).toBeNull();
    expect(await consumeChallenge(t.client, { id: bound, purpose: "step_up", userId: user.id, sessionId })).toMatchObject({ challenge: "z" });
  });
});

describe("signature counters", () => {
  it("accept only a counter that moves forward, or authenticators that keep none", () => {
    expect(checkSignCounter(0, 0)).toEqual({ ok: true, next: 0 });
    expect(checkSignCounter(0, 1)).toEqual({ ok: true, next: 1 });
    expect(checkSignCounter(41, 42)).toEqual({ ok: true, next: 42 });
    expect(checkSignCounter(42, 42).ok).toBe(false);
    expect(checkSignCounter(42, 7).ok).toBe(false);
    expect(checkSignCounter(42, 0).ok).toBe(false);
  });

  it("refuse a verified assertion whose counter was overtaken by a concurrent one", async () => {
    const { token } = await newUser();
    const c = await clientFor(token);
    const created = await addPasskey(c, device());
    const stale = { id: created.id, counter: 0 };
    expect(await recordAssertion(t.client, stale, { newCounter: 5, backedUp: false })).toBe(true);
    // A second assertion verified against the same stored counter (0) but reporting 3 arrives late.
    expect(await recordAssertion(t.client, stale, { newCounter: 3, backedUp: false })).toBe(false);
    const [row] = await t.owner.sql<{ counter: string }[]>`select counter::text from passkeys where id = ${created.id}`;
    expect(row!.counter).toBe("5");
  });

  it("turn away a sign-in from a cloned authenticator whose counter went backwards", async () => {
    const { token } = await newUser();
    const authenticator = device();
    await addPasskey(await clientFor(token), authenticator);
    const anon = await clientFor();

    let opts = await anon.caller.passkeys.loginOptions();
    authenticator.counter = 9; // the next assertion reports 10
    await anon.caller.passkeys.login({ challenge_id: opts.challenge_id, response: authenticator.assert(opts.options) });

    // A copy of the key made earlier still counts from where it was copied.
    authenticator.counter = 3;
    opts = await anon.caller.passkeys.loginOptions();
    const err = await rejection(anon.caller.passkeys.login({ challenge_id: opts.challenge_id, response: authenticator.assert(opts.options) }));
    expect(err.code).toBe("UNAUTHENTICATED");
    expect((await auditEvents("auth.login")).at(-1)).toMatchObject({ chain: "platform", outcome: "failure", actor: "anonymous" });
  });
});

describe("passkey registration", () => {
  it("registers a discoverable, user-verified passkey with a default name, and audits it", async () => {
    const { user, token } = await newUser();
    const c = await clientFor(token);
    const { options } = await c.caller.passkeys.registrationOptions();
    expect(options.rp).toEqual({ id: RP_ID, name: "Cairn" });
    expect(options.authenticatorSelection).toMatchObject({ residentKey: "required", userVerification: "required" });
    expect(isoBase64URL.toUTF8String(options.user.id)).toBe(user.id);

    const laptop = device();
    const phone = device();
    const first = await addPasskey(c, phone);
    const second = await addPasskey(c, laptop, "  Work laptop ");
    expect(first.name).toBe("Passkey 1");
    expect(second.name).toBe("Work laptop");
    expect((await c.caller.passkeys.list()).map((p) => p.name)).toEqual(["Passkey 1", "Work laptop"]);

    // Already-registered credentials are excluded from the next ceremony.
    const next = await c.caller.passkeys.registrationOptions();
    expect(next.options.excludeCredentials?.map((x) => x.id).sort()).toEqual([idOf(laptop), idOf(phone)].sort());

    const audited = (await auditEvents("passkey.register")).filter((e) => e.actor === `user:${user.email}`);
    expect(audited.map((e) => [e.chain, e.outcome])).toEqual([
      ["platform", "success"],
      ["platform", "success"],
    ]);
  });

  it("needs a sign-in from the last ten minutes", async () => {
    const { token, sessionId } = await newUser();
    const c = await clientFor(token);
    const { challenge_id, options } = await c.caller.passkeys.registrationOptions();
    await ageSession(sessionId, "authenticated_at", 11 * 60);

    const stale = await clientFor(token);
    const err = await rejection(stale.caller.passkeys.registrationOptions());
    expect(err.code).toBe("FORBIDDEN");
    expect(err.details).toMatchObject({ reason: "recent_login_required" });
    // Options fetched while still fresh do not help once the window has passed.
    const late = await rejection(stale.caller.passkeys.register({ challenge_id, response: device().register(options) }));
    expect(late.details).toMatchObject({ reason: "recent_login_required" });
    expect(await stale.caller.passkeys.list()).toEqual([]);
  });

  it("refuses a replayed ceremony, one from another origin, and a credential registered twice", async () => {
    const { token } = await newUser();
    const c = await clientFor(token);
    const authenticator = device();
    const { challenge_id, options } = await c.caller.passkeys.registrationOptions();
    const response = authenticator.register(options);
    await c.caller.passkeys.register({ challenge_id, response });

    const replay = await rejection(c.caller.passkeys.register({ challenge_id, response }));
    expect(replay.details).toMatchObject({ reason: "challenge_invalid" });

    const again = await c.caller.passkeys.registrationOptions();
    const twice = await rejection(c.caller.passkeys.register({ challenge_id: again.challenge_id, response: authenticator.register(again.options) }));
    expect(twice.code).toBe("CONFLICT");

    const phished = await c.caller.passkeys.registrationOptions();
    const evil = await rejection(c.caller.passkeys.register({ challenge_id: phished.challenge_id, response: device("https://cairn.example.evil").register(phished.options) }));
    expect(evil.details).toMatchObject({ reason: "verification_failed" });
    expect(await c.caller.passkeys.list()).toHaveLength(1);
  });
});

describe("passkey sign-in", () => {
  it("signs in with a discoverable credential: session cookie, fresh step-up, audited in the user's tenant", async () => {
    const { user, token, tenantId } = await newUser({ tenant: true });
    const authenticator = device();
    const registered = await addPasskey(await clientFor(token), authenticator);

    const anon = await clientFor();
    const { challenge_id, options } = await anon.caller.passkeys.loginOptions();
    expect(options.allowCredentials ?? []).toEqual([]);
    expect(options.userVerification).toBe("required");
    const result = await anon.caller.passkeys.login({ challenge_id, response: authenticator.assert(options) });
    expect(result).toEqual({ must_change_password: false });

    const cookie = anon.cookies.find((x) => x.startsWith(`${SESSION_COOKIE}=`));
    expect(cookie).toMatch(/HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    const newToken = cookie!.slice(SESSION_COOKIE.length + 1, cookie!.indexOf(";"));
    const me = await (await clientFor(newToken)).caller.auth.me();
    expect(me).toMatchObject({ user_id: user.id, auth_method: "passkey", current_tenant_id: tenantId });
    expect(me.step_up_at).not.toBeNull();

    const [pk] = await (await clientFor(newToken)).caller.passkeys.list();
    expect(pk).toMatchObject({ id: registered.id });
    expect(pk!.last_used_at).not.toBeNull();
    const success = (await auditEvents("auth.login")).filter((e) => e.actor === `user:${user.email}`);
    expect(success).toEqual([expect.objectContaining({ chain: tenantId, outcome: "success", details: expect.objectContaining({ method: "passkey" }) })]);
  });

  it("gives one generic answer for unknown credentials and replays, and audits each on the platform chain", async () => {
    const { token } = await newUser();
    const known = device();
    await addPasskey(await clientFor(token), known);
    const anon = await clientFor();
    const before = (await auditEvents("auth.login")).length;

    // A credential the server never stored.
    const stranger = device();
    let opts = await anon.caller.passkeys.loginOptions();
    const unknown = await rejection(anon.caller.passkeys.login({ challenge_id: opts.challenge_id, response: stranger.assert(opts.options) }));

    opts = await anon.caller.passkeys.loginOptions();
    const response = known.assert(opts.options);
    await anon.caller.passkeys.login({ challenge_id: opts.challenge_id, response });
    const replay = await rejection(anon.caller.passkeys.login({ challenge_id: opts.challenge_id, response }));

    for (const err of [unknown, replay]) {
      expect(err.code).toBe("UNAUTHENTICATED");
      expect(err.message).toBe(unknown.message);
    }
    const failures = (await auditEvents("auth.login")).slice(before).filter((e) => e.outcome === "failure");
    expect(failures.map((f) => [f.chain, f.details.reason])).toEqual([
      ["platform", "unknown_credential"],
      ["platform", "challenge_invalid"],
    ]);
  });
});

describe("step-up", () => {
  it("tells a person without a passkey to add one", async () => {
    const c = await clientFor((await newUser()).token);
    const err = await rejection(c.caller.passkeys.stepUpOptions());
    expect(err.code).toBe("FORBIDDEN");
    expect(err.details).toEqual({ reason: "no_passkey" });
  });

  it("accepts only the person's own passkeys, then marks the session fresh", async () => {
    const { user, token, sessionId, tenantId } = await newUser({ tenant: true });
    const mine = device();
    const c = await clientFor(token);
    await addPasskey(c, mine);
    const other = await newUser();
    const theirs = device();
    await addPasskey(await clientFor(other.token), theirs);

    const { challenge_id, options } = await c.caller.passkeys.stepUpOptions();
    expect(options.allowCredentials?.map((x) => x.id)).toEqual([idOf(mine)]);
    const foreign = await rejection(c.caller.passkeys.stepUp({ challenge_id, response: theirs.assert(options) }));
    expect(foreign.details).toEqual({ reason: "step_up_failed" });

    const again = await c.caller.passkeys.stepUpOptions();
    // A challenge issued to one session cannot step up another session of the same person.
    const otherSession = await createSession(t.client, { userId: user.id, authMethod: "password", ttlHours: 1, tenantId });
    const elsewhere = await rejection((await clientFor(otherSession.token)).caller.passkeys.stepUp({ challenge_id: again.challenge_id, response: mine.assert(again.options) }));
    expect(elsewhere.details).toEqual({ reason: "step_up_failed" });

    const fresh = await c.caller.passkeys.stepUpOptions();
    const ok = await c.caller.passkeys.stepUp({ challenge_id: fresh.challenge_id, response: mine.assert(fresh.options) });
    expect(ok.window_seconds).toBe(300);
    const [row] = await t.owner.sql<{ age: number }[]>`select extract(epoch from now() - step_up_at)::float8 as age from sessions where id = ${sessionId}`;
    expect(row!.age).toBeLessThan(10);
    const audited = (await auditEvents("auth.step_up")).filter((e) => e.actor === `user:${user.email}`);
    expect(audited.map((e) => [e.chain, e.outcome])).toEqual([
      [tenantId, "failure"],
      [tenantId, "failure"],
      [tenantId, "success"],
    ]);
  });
});

describe("managing passkeys", () => {
  it("removes any passkey but the last without a step-up; the last needs one made within the window", async () => {
    const { token, sessionId } = await newUser();
    const phone = device();
    const c = await clientFor(token);
    const a = await addPasskey(c, device(), "Laptop");
    const b = await addPasskey(c, phone, "Phone");

    expect(await c.caller.passkeys.remove({ id: a.id })).toEqual({ id: a.id, was_last: false });

    const required = await rejection(c.caller.passkeys.remove({ id: b.id }));
    expect(required.code).toBe("STEP_UP_REQUIRED");
    expect(await c.caller.passkeys.list()).toHaveLength(1);

    // A step-up older than the window does not count.
    await t.owner.sql`update sessions set step_up_at = now() - interval '301 seconds' where id = ${sessionId}`;
    expect((await rejection((await clientFor(token)).caller.passkeys.remove({ id: b.id }))).code).toBe("STEP_UP_REQUIRED");

    const fresh = await clientFor(token);
    const opts = await fresh.caller.passkeys.stepUpOptions();
    await fresh.caller.passkeys.stepUp({ challenge_id: opts.challenge_id, response: phone.assert(opts.options) });
    expect(await (await clientFor(token)).caller.passkeys.remove({ id: b.id })).toEqual({ id: b.id, was_last: true });
    expect(await fresh.caller.passkeys.list()).toEqual([]);

    const removals = await t.owner.sql<{ outcome: string; details: Record<string, unknown> }[]>`
      select outcome, details from audit_events where target_id = ${b.id} and action = 'passkey.remove'`;
    expect(removals).toEqual([{ outcome: "success", details: { name: "Phone", was_last: true } }]);
    const denied = await t.owner.sql<{ n: number }[]>`
      select count(*)::int as n from audit_events where action = 'passkeys.remove' and outcome = 'denied' and details->>'reason' = 'step_up_required'`;
    expect(denied[0]!.n).toBeGreaterThanOrEqual(2);
  });

  it("renames only the person's own passkeys", async () => {
    const { token } = await newUser();
    const c = await clientFor(token);
    const pk = await addPasskey(c, device());
    expect((await c.caller.passkeys.rename({ id: pk.id, name: " YubiKey 5 " })).name).toBe("YubiKey 5");

    const stranger = await clientFor((await newUser()).token);
    expect((await rejection(stranger.caller.passkeys.rename({ id: pk.id, name: "mine now" }))).code).toBe("NOT_FOUND");
    expect((await rejection(stranger.caller.passkeys.remove({ id: pk.id }))).code).toBe("NOT_FOUND");
    expect((await rejection(c.caller.passkeys.rename({ id: pk.id, name: "   " }))).code).toBe("INVALID_INPUT");
    const renamed = await t.owner.sql<{ details: Record<string, unknown> }[]>`select details from audit_events where action = 'passkey.rename' and target_id = ${pk.id}`;
    expect(renamed.map((r) => r.details)).toEqual([{ from: "Passkey 1", to: "YubiKey 5" }]);
  });

  it("is for signed-in people only", async () => {
    const anon = await clientFor();
    expect((await rejection(anon.caller.passkeys.list())).code).toBe("UNAUTHENTICATED");
    expect((await rejection(anon.caller.passkeys.stepUpOptions())).code).toBe("UNAUTHENTICATED");
  });
});
