// Real WebAuthn ceremonies (software authenticator, real verification) through the same procedures the browser uses.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { createTestDatabase, type TestDatabase } from "../../test/test-db.ts";
import { callerAs, callerWithCookies, errorCode, testRuntime } from "../../test/runtime.ts";
import { SoftAuthenticator } from "../../test/soft-authenticator.ts";
import type { Runtime } from "../runtime.ts";
import { bootstrapTenant } from "../domain/tenants/bootstrap.service.ts";
import { createSession } from "../domain/auth/session.service.ts";
import { users } from "../../db/schema/index.ts";

let t: TestDatabase;
let rt: Runtime;
let token: string;
const origin = "http://localhost:3000";

beforeAll(async () => {
  t = await createTestDatabase();
  rt = testRuntime(t, { CAIRN_PUBLIC_URL: origin });
  const boot = await bootstrapTenant(t.client, "keys", { highRisk: false });
  const [user] = await t.client.db.select().from(users).where(sql`${users.email} = ${boot.email}`);
  await t.client.db.update(users).set({ mustChangePassword: false }).where(sql`${users.id} = ${user!.id}`);
  token = (await createSession(t.client, { userId: user!.id, authMethod: "password", ttlHours: 24, tenantId: boot.tenant_id })).token;
});
afterAll(async () => {
  await t.drop();
});

describe("passkeys", () => {
  const auth = new SoftAuthenticator("localhost", origin);

  it("register, then sign in with the passkey alone (discoverable), then step up for a high-risk action", async () => {
    const me = await callerAs(rt, { sessionToken: token });
    expect(await errorCode(me.apiKeys.create({ name: "k", role: "viewer" }))).toBe("STEP_UP_REQUIRED");

    const reg = await me.passkeys.registrationOptions();
    expect((reg.options as { authenticatorSelection?: { residentKey?: string; userVerification?: string } }).authenticatorSelection).toMatchObject({ residentKey: "required", userVerification: "required" });
    await me.passkeys.register({ challenge_id: reg.challenge_id, name: "laptop", response: auth.register(reg.options as never) });
    expect((await me.passkeys.list()).map((p) => p.name)).toEqual(["laptop"]);

    const { caller: anon, cookies } = await callerWithCookies(rt, {});
    const login = await anon.passkeys.loginOptions();
    await anon.passkeys.login({ challenge_id: login.challenge_id, response: auth.assert(login.options as never) });
    const cookie = cookies.find((c) => c.startsWith("cairn_session="))!;
    const passkeySession = cookie.split(";")[0]!.split("=")[1]!;

    const fresh = await callerAs(rt, { sessionToken: passkeySession });
    expect((await fresh.auth.me()).auth_method).toBe("passkey");
    // A passkey sign-in is itself a fresh step-up.
    expect((await fresh.apiKeys.create({ name: "after passkey login", role: "viewer" })).api_key).toBeTruthy();

    const stepUp = await me.passkeys.stepUpOptions();
    await me.passkeys.stepUp({ challenge_id: stepUp.challenge_id, response: auth.assert(stepUp.options as never) });
    expect((await (await callerAs(rt, { sessionToken: token })).apiKeys.create({ name: "after step-up", role: "viewer" })).api_key).toBeTruthy();
  });

  it("a challenge is single-use and a replayed assertion is refused", async () => {
    const me = await callerAs(rt, { sessionToken: token });
    const o = await me.passkeys.stepUpOptions();
    const response = auth.assert(o.options as never);
    await me.passkeys.stepUp({ challenge_id: o.challenge_id, response });
    expect(await errorCode(me.passkeys.stepUp({ challenge_id: o.challenge_id, response }))).not.toBeNull();
    // Same assertion (old counter) against a new challenge: wrong challenge and stale counter.
    const o2 = await me.passkeys.stepUpOptions();
    expect(await errorCode(me.passkeys.stepUp({ challenge_id: o2.challenge_id, response }))).not.toBeNull();
  });

  it("a signature counter that goes backwards is refused (cloned authenticator)", async () => {
    const me = await callerAs(rt, { sessionToken: token });
    auth.counter = 1; // below what the server has seen
    const o = await me.passkeys.stepUpOptions();
    expect(await errorCode(me.passkeys.stepUp({ challenge_id: o.challenge_id, response: auth.assert(o.options as never) }))).not.toBeNull();
  });

  it("ceremonies are audited", async () => {
    const rows = await t.owner.sql<{ action: string }[]>`select distinct action from audit_events`;
    const actions = rows.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(["passkey.register", "auth.step_up", "auth.login"]));
  });
});
