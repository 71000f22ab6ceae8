// Identity end to end through the same procedures REST, tRPC and loaders use: tenants, keys, isolation, step-up.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { createTestDatabase, type TestDatabase } from "../../test/test-db.ts";
import { callerAs, errorCode, testRuntime } from "../../test/runtime.ts";
import type { Runtime } from "../runtime.ts";
import { bootstrapTenant, mintKey } from "../domain/tenants/bootstrap.service.ts";
import { createSession } from "../domain/auth/session.service.ts";
import { users } from "../../db/schema/index.ts";

let t: TestDatabase;
let rt: Runtime;
let a: Awaited<ReturnType<typeof bootstrapTenant>>;
let b: Awaited<ReturnType<typeof bootstrapTenant>>;

beforeAll(async () => {
  t = await createTestDatabase();
  rt = testRuntime(t);
  a = await bootstrapTenant(t.client, "tenant-a", { highRisk: true });
  b = await bootstrapTenant(t.client, "tenant-b", { highRisk: true });
});
afterAll(async () => {
  await t.drop();
});

describe("bootstrap", () => {
  it("creates the tenant, its admin with a one-time password, and a working admin key; re-running mints a new key only", async () => {
    expect(a.password).toMatch(/^[a-z2-7-]{20,}$/);
    const again = await bootstrapTenant(t.client, "tenant-a", { highRisk: false });
    expect(again.tenant_id).toBe(a.tenant_id);
    expect(again.password).toBeNull();
    expect(again.api_key).not.toBe(a.api_key);
    const me = await (await callerAs(rt, { apiKey: again.api_key })).tenant.current();
    expect(me).toMatchObject({ tenant_id: a.tenant_id, slug: "tenant-a", role: "admin" });
  });
});

describe("API keys", () => {
  it("rotate keeps the old key working through the grace window, then it stops; revoke stops a key at once", async () => {
    const admin = await callerAs(rt, { apiKey: a.api_key });
    const created = await admin.apiKeys.create({ name: "ci", role: "operator" });
    expect(created.api_key).toMatch(/^cairn_[a-z2-7]{12}_[a-z2-7]{32}$/);
    const listed = await admin.apiKeys.list();
    expect(JSON.stringify(listed)).not.toContain(created.api_key.split("_")[2]); // never the secret
    expect((await (await callerAs(rt, { apiKey: created.api_key })).tenant.current()).role).toBe("operator");

    const rotated = await admin.apiKeys.rotate({ id: created.id });
    expect(rotated.previous.status).toBe("rotating");
    expect(new Date(rotated.previous.grace_until!).getTime() - Date.now()).toBeGreaterThan(23 * 3_600_000);
    // Both keys work during the grace window.
    expect((await (await callerAs(rt, { apiKey: created.api_key })).tenant.current()).role).toBe("operator");
    expect((await (await callerAs(rt, { apiKey: rotated.successor.api_key })).tenant.current()).role).toBe("operator");
    // The grace window ends: the old key stops, with a reason.
    await t.owner.sql`update api_keys set grace_until = now() - interval '1 second' where id = ${created.id}`;
    const old = await callerAs(rt, { apiKey: created.api_key });
    await expect(old.tenant.current()).rejects.toThrow(/rotated and its grace period has ended/);

    await admin.apiKeys.revoke({ id: rotated.successor.id });
    expect(await errorCode((await callerAs(rt, { apiKey: rotated.successor.api_key })).tenant.current())).toBe("UNAUTHENTICATED");
    expect(await errorCode(admin.apiKeys.revoke({ id: rotated.successor.id }))).toBe("CONFLICT");
  });

  it("high-risk actions need a key created with the high-risk scope (428 otherwise), and each use is audited", async () => {
    const plain = await mintKey(t.client, { tenantSlug: "tenant-a", role: "admin", platform: false, highRisk: false });
    const caller = await callerAs(rt, { apiKey: plain.api_key });
    expect(await errorCode(caller.apiKeys.create({ name: "nope", role: "viewer" }))).toBe("STEP_UP_REQUIRED");
    expect((await caller.members.list()).items.length).toBeGreaterThan(0); // ordinary actions still work

    const scoped = await callerAs(rt, { apiKey: a.api_key });
    await scoped.apiKeys.create({ name: "scoped use", role: "viewer" });
    const events = await t.owner.sql<{ action: string; outcome: string; actor: string }[]>`
      select action, outcome, actor from audit_events where tenant_id = ${a.tenant_id} order by id`;
    expect(events.some((e) => e.action === "api_key.high_risk_use" && e.actor === `api_key:${a.api_key.split("_")[1]}`)).toBe(true);
    expect(events.some((e) => e.action === "apiKeys.create" && e.outcome === "denied")).toBe(true);
  });
});

describe("tenant isolation", () => {
  it("another tenant's ids read exactly like missing ids", async () => {
    const inA = await callerAs(rt, { apiKey: a.api_key });
    const inB = await callerAs(rt, { apiKey: b.api_key });
    const bMember = (await inB.members.list()).items[0]!;
    const bKey = (await inB.apiKeys.list()).items[0]!;
    const missingUser = "00000000-0000-4000-8000-000000000000";
    const attempts: [() => Promise<unknown>, () => Promise<unknown>][] = [
      [() => inA.members.changeRole({ user_id: bMember.user_id, role: "viewer" }), () => inA.members.changeRole({ user_id: missingUser, role: "viewer" })],
      [() => inA.members.remove({ user_id: bMember.user_id }), () => inA.members.remove({ user_id: missingUser })],
      [() => inA.apiKeys.rotate({ id: bKey.id }), () => inA.apiKeys.rotate({ id: "aaaaaaaaaaaa" })],
      [() => inA.apiKeys.revoke({ id: bKey.id }), () => inA.apiKeys.revoke({ id: "aaaaaaaaaaaa" })],
    ];
    for (const [foreign, missing] of attempts) {
      const [f, m] = [await errorCode(foreign()), await errorCode(missing())];
      expect(f).toBe("NOT_FOUND");
      expect(m).toBe("NOT_FOUND");
    }
    expect((await inA.members.list()).items.map((m) => m.user_id)).not.toContain(bMember.user_id);
    // B is untouched.
    expect((await inB.apiKeys.list()).items.find((k) => k.id === bKey.id)?.status).toBe("active");
  });

  it("the app role without app.tenant_id sees no tenant rows, even with no where clause", async () => {
    for (const table of ["memberships", "api_keys", "audit_events", "audit_chain_heads", "tenant_settings"]) {
      const rows = await t.client.sql.unsafe(`select count(*)::int as n from ${table}`);
      expect(rows[0]!.n, table).toBe(0);
      const asOwner = await t.owner.sql.unsafe(`select count(*)::int as n from ${table}`);
      expect(asOwner[0]!.n, `${table} has rows for the owner`).toBeGreaterThan(0);
    }
    const [role] = await t.client.sql<{ rolname: string; rolbypassrls: boolean; rolsuper: boolean }[]>`select rolname, rolbypassrls, rolsuper from pg_roles where rolname = current_user`;
    expect(role).toEqual({ rolname: "cairn_app", rolbypassrls: false, rolsuper: false });
  });

  it("RLS refuses writing rows into another tenant", async () => {
    await expect(
      t.client.sql.begin(async (q) => {
        await q`select set_config('app.tenant_id', ${a.tenant_id}, true)`;
        await q`insert into tenant_settings (tenant_id, requests_per_minute) values (${b.tenant_id}, 1) on conflict (tenant_id) do update set requests_per_minute = 1`;
      }),
    ).rejects.toThrow(/row-level security/);
  });
});

describe("sessions and step-up", () => {
  it("a session needs a fresh WebAuthn step-up for high-risk actions; a stale one gets STEP_UP_REQUIRED", async () => {
    const [admin] = await t.client.db.select().from(users).where(sql`${users.email} = ${a.email}`);
    await t.client.db.update(users).set({ mustChangePassword: false }).where(sql`${users.id} = ${admin!.id}`);
    const s = await createSession(t.client, { userId: admin!.id, authMethod: "password", ttlHours: 24, tenantId: a.tenant_id });
    const caller = await callerAs(rt, { sessionToken: s.token });
    expect(await errorCode(caller.apiKeys.create({ name: "needs step-up", role: "viewer" }))).toBe("STEP_UP_REQUIRED");
    await t.client.sql`update sessions set step_up_at = now() where id = ${s.session.id}`;
    expect((await (await callerAs(rt, { sessionToken: s.token })).apiKeys.create({ name: "fresh", role: "viewer" })).api_key).toBeTruthy();
    await t.client.sql`update sessions set step_up_at = now() - interval '301 seconds' where id = ${s.session.id}`;
    expect(await errorCode((await callerAs(rt, { sessionToken: s.token })).apiKeys.create({ name: "stale", role: "viewer" }))).toBe("STEP_UP_REQUIRED");
  });

  it("a one-time password allows nothing but changing it", async () => {
    const [user] = await t.client.db.select().from(users).where(sql`${users.email} = ${b.email}`);
    const s = await createSession(t.client, { userId: user!.id, authMethod: "password", ttlHours: 24, tenantId: b.tenant_id });
    const caller = await callerAs(rt, { sessionToken: s.token });
    expect(await errorCode(caller.members.list())).toBe("FORBIDDEN");
    expect((await caller.auth.me()).must_change_password).toBe(true);
    expect(await errorCode(caller.auth.changePassword({ current_password: b.password!, new_password: "short" }))).toBe("INVALID_INPUT");
    await caller.auth.changePassword({ current_password: b.password!, new_password: "a much longer passphrase" });
    expect((await (await callerAs(rt, { sessionToken: s.token })).members.list()).items.length).toBeGreaterThan(0);
  });
});
