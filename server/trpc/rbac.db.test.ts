// Walks the whole router: every procedure declares a permission, the doc matches the code, and every role is
// tried against every tenant procedure with the expected allow/deny.
import fs from "node:fs";
import path from "node:path";
import type { AnyProcedure } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter } from "./router.ts";
import { createTestDatabase, type TestDatabase } from "../../test/test-db.ts";
import { callerAs, errorCode, testRuntime } from "../../test/runtime.ts";
import { bootstrapTenant, mintKey } from "../domain/tenants/bootstrap.service.ts";
import { procedureInfos, renderRbacTables } from "../domain/auth/rbac-doc.ts";
import { isPlatformPermission, isTenantPermission, roleCan, type TenantPermission } from "../domain/auth/permissions.ts";
import { tenantRoles } from "../../db/schema/tenancy.ts";
import type { Runtime } from "../runtime.ts";

const procedures = appRouter._def.procedures as unknown as Record<string, AnyProcedure>;
const infos = procedureInfos(procedures);

describe("every procedure declares a permission", () => {
  it("has no procedure without one", () => {
    expect(infos.filter((p) => !p.permission).map((p) => p.path)).toEqual([]);
  });

  it("docs/rbac.md carries the current matrix and procedure table", () => {
    const doc = fs.readFileSync(path.resolve(import.meta.dirname, "../../docs/rbac.md"), "utf8");
    expect(doc).toContain(renderRbacTables(procedures));
  });
});

let t: TestDatabase;
let rt: Runtime;
const keys = new Map<string, string>();
let platformKey: string;

beforeAll(async () => {
  t = await createTestDatabase();
  rt = testRuntime(t);
  await bootstrapTenant(t.client, "rbac", { highRisk: true });
  for (const role of tenantRoles) keys.set(role, (await mintKey(t.client, { tenantSlug: "rbac", role, platform: false, highRisk: true })).api_key);
  platformKey = (await mintKey(t.client, { platform: true, highRisk: true })).api_key;
});
afterAll(async () => {
  await t?.drop();
});

function call(caller: unknown, procPath: string): Promise<unknown> {
  const fn = procPath.split(".").reduce<unknown>((acc, k) => (acc as Record<string, unknown>)[k], caller) as (i: unknown) => Promise<unknown>;
  // Inputs are deliberately empty: authorization runs before input validation, so an allowed call ends in
  // success or INVALID_INPUT, and a denied one in FORBIDDEN, without changing anything.
  return fn({});
}

describe("role × procedure", () => {
  const tenantProcs = infos.filter((p) => p.permission && isTenantPermission(p.permission as TenantPermission));
  const platformProcs = infos.filter((p) => p.permission && isPlatformPermission(p.permission as never));
  const selfProcs = infos.filter((p) => p.permission === "self");

  it("covers tenant, platform and self procedures", () => {
    expect(tenantProcs.length).toBeGreaterThan(5);
    expect(platformProcs.length).toBeGreaterThan(0);
    expect(selfProcs.length).toBeGreaterThan(0);
  });

  for (const role of tenantRoles) {
    it(`${role}: allowed exactly where the matrix says`, async () => {
      const caller = await callerAs(rt, { apiKey: keys.get(role)! });
      const mismatches: string[] = [];
      for (const p of tenantProcs) {
        const code = await errorCode(call(caller, p.path));
        const allowed = code !== "FORBIDDEN";
        if (allowed !== roleCan(role, p.permission as TenantPermission)) mismatches.push(`${p.path} (${p.permission}): got ${code ?? "success"}`);
      }
      expect(mismatches).toEqual([]);
    });
  }

  it("platform procedures refuse every tenant role and admit platform owners", async () => {
    for (const role of tenantRoles) {
      const caller = await callerAs(rt, { apiKey: keys.get(role)! });
      for (const p of platformProcs) expect(await errorCode(call(caller, p.path)), `${role} → ${p.path}`).toBe("FORBIDDEN");
    }
    const owner = await callerAs(rt, { apiKey: platformKey });
    for (const p of platformProcs) expect(await errorCode(call(owner, p.path)), p.path).not.toBe("FORBIDDEN");
    // ...and platform keys cannot act inside a tenant.
    for (const p of tenantProcs) expect(await errorCode(call(owner, p.path)), p.path).toBe("FORBIDDEN");
  });

  it("self procedures need a person: API keys are refused", async () => {
    const caller = await callerAs(rt, { apiKey: keys.get("admin")! });
    for (const p of selfProcs) expect(await errorCode(call(caller, p.path)), p.path).toBe("FORBIDDEN");
  });

  it("no credential at all: everything but public procedures says UNAUTHENTICATED", async () => {
    const anon = await callerAs(rt, {});
    for (const p of infos.filter((i) => i.permission !== "public")) expect(await errorCode(call(anon, p.path)), p.path).toBe("UNAUTHENTICATED");
  });

  it("denials are audited", async () => {
    const rows = await t.owner.sql<{ n: number }[]>`select count(*)::int as n from audit_events where outcome = 'denied'`;
    expect(rows[0]!.n).toBeGreaterThan(0);
  });
});
