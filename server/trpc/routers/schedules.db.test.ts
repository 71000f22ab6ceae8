// The schedules API through REST and the tRPC caller: validation that names the field, 404 for other tenants'
// sources, the DST-aware preview in two hemispheres, toggling, tick history with reasons, audit and roles.
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import type http from "node:http";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { createTestDatabase, type TestDatabase } from "../../../test/test-db.ts";
import { callerAs, errorCode, testRuntime } from "../../../test/runtime.ts";
import { withTenant } from "../../../db/tenant.ts";
import { sources } from "../../../db/schema/index.ts";
import type { Runtime } from "../../runtime.ts";
import { createContextFactory } from "../context.ts";
import { requestId } from "../../http/request-id.ts";
import { restRouter } from "../../http/rest.ts";
import { hashSecret } from "../../domain/auth/tokens.ts";
import { registerConnector } from "../../connectors/registry.ts";
import { tickOnce } from "../../scheduler/scheduler.ts";

let t: TestDatabase;
let rt: Runtime;
let server: http.Server;
let base: string;
let tenantId: string;
let otherTenantId: string;
let sourceId: string;
let deletedSourceId: string;
let foreignSourceId: string;
const keys: Record<"admin" | "operator" | "viewer" | "auditor" | "otherAdmin", string> = {} as never;

registerConnector({
  kind: "scan.iac",
  validateScope: () => null,
  collect: async () => ({ items: 0, summary: {}, graph: { assets: [], relations: [], findings: [] }, artifacts: [], warnings: [] }),
});

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
const base32 = (n: number) => Array.from(randomBytes(n), (b) => BASE32[b % 32]).join("");

async function apiKey(tenant: string, role: string): Promise<string> {
  const id = base32(12);
  const secret = base32(32);
  await t.owner.sql`insert into api_keys (id, tenant_id, name, secret_hash, role, high_risk, created_by)
    values (${id}, ${tenant}, ${`${role} key`}, ${Buffer.from(hashSecret(secret))}, ${role}, false, 'test')`;
  return `cairn_${id}_${secret}`;
}

async function source(tenant: string, deleted = false): Promise<string> {
  const [row] = await withTenant(t.client, tenant, (tx) =>
    tx
      .insert(sources)
      .values({ tenantId: tenant, kind: "scan.iac", displayName: "iac", createdBy: "test", deletedAt: deleted ? new Date() : null })
      .returning({ id: sources.id }),
  );
  return row!.id;
}

/** A REST response body, loosely typed for assertions. */
interface Body {
  [field: string]: unknown;
  error: { code: string; message: string };
  items: Record<string, unknown>[];
}

async function rest(method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(`${base}/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Body };
}

const as = (key: string) => callerAs(rt, { apiKey: key });

beforeAll(async () => {
  t = await createTestDatabase();
  rt = testRuntime(t);
  const [a] = await t.owner.sql<{ id: string }[]>`insert into tenants (slug, name) values ('sched-api', 'Sched API') returning id`;
  const [b] = await t.owner.sql<{ id: string }[]>`insert into tenants (slug, name) values ('sched-other', 'Other') returning id`;
  tenantId = a!.id;
  otherTenantId = b!.id;
  for (const role of ["admin", "operator", "viewer", "auditor"] as const) keys[role] = await apiKey(tenantId, role);
  keys.otherAdmin = await apiKey(otherTenantId, "admin");
  sourceId = await source(tenantId);
  deletedSourceId = await source(tenantId, true);
  foreignSourceId = await source(otherTenantId);

  const contextFor = createContextFactory(rt);
  const app = express();
  app.use(requestId);
  app.use(
    "/v1",
    restRouter({
      createContext: (req, res) => contextFor({ requestId: res.locals.requestId as string, via: "rest", authorization: req.headers.authorization, cookie: req.headers.cookie, ip: req.ip ?? null, userAgent: null }),
      bodyLimitBytes: 1_000_000,
      publicUrl: "http://localhost",
    }),
  );
  server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await t?.drop();
});

describe("create", () => {
  it("POST /v1/schedules answers 201 with the schedule, its description and next_run_at", async () => {
    const before = Date.now();
    const res = await rest("POST", "/schedules", keys.operator, { source_id: sourceId, cron: "30 2 * * *", timezone: "America/New_York" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      source_id: sourceId,
      cron: "30 2 * * *",
      timezone: "America/New_York",
      description: "every day at 02:30 (America/New_York)",
      enabled: true,
      overlap_policy: "skip",
      catch_up: "once",
      starting_deadline_seconds: 3600,
      last_run_at: null,
      last_outcome: null,
    });
    const next = Date.parse(res.body.next_run_at as string);
    expect(next).toBeGreaterThan(before);
    expect(next - before).toBeLessThanOrEqual(25 * 3600_000);
  });

  it("refuses a bad cron or zone with 400 naming the field, and writes nothing", async () => {
    const badCron = await rest("POST", "/schedules", keys.admin, { source_id: sourceId, cron: "61 * * * *" });
    expect(badCron.status).toBe(400);
    expect(badCron.body.error.message).toMatch(/^cron: /);
    const badZone = await rest("POST", "/schedules", keys.admin, { source_id: sourceId, cron: "0 * * * *", timezone: "Europe/Atlantis" });
    expect(badZone.status).toBe(400);
    expect(badZone.body.error.message).toMatch(/^timezone: /);
    const badDeadline = await rest("POST", "/schedules", keys.admin, { source_id: sourceId, cron: "0 * * * *", starting_deadline_seconds: 0 });
    expect(badDeadline.status).toBe(400);
    expect(badDeadline.body.error.message).toContain("starting_deadline_seconds");
    // The field is named once, by the error's formatter: messages in the schemas do not repeat it.
    const badSource = await rest("POST", "/schedules", keys.admin, { source_id: "nope", cron: "0 * * * *" });
    expect(badSource.status).toBe(400);
    expect(badSource.body.error.message).toBe("source_id: must be a source id");
    const badId = await rest("GET", "/schedules/nope/upcoming?n=3", keys.admin);
    expect(badId.status).toBe(400);
    expect(badId.body.error.message).toBe("id: must be a schedule id; n: unknown field");
    const [n] = await t.owner.sql<{ n: number }[]>`select count(*)::int as n from schedules where cron in ('61 * * * *') or timezone = 'Europe/Atlantis'`;
    expect(n!.n).toBe(0);
  });

  it("another tenant's source and a deleted source are both 404", async () => {
    expect(await errorCode((await as(keys.admin)).schedules.create({ source_id: foreignSourceId, cron: "0 * * * *" }))).toBe("NOT_FOUND");
    expect(await errorCode((await as(keys.admin)).schedules.create({ source_id: deletedSourceId, cron: "0 * * * *" }))).toBe("NOT_FOUND");
  });

  it("viewers and auditors cannot create; viewers can read, auditors cannot", async () => {
    expect(await errorCode((await as(keys.viewer)).schedules.create({ source_id: sourceId, cron: "0 * * * *" }))).toBe("FORBIDDEN");
    expect(await errorCode((await as(keys.viewer)).schedules.list())).toBeNull();
    expect(await errorCode((await as(keys.auditor)).schedules.list())).toBe("FORBIDDEN");
  });
});

describe("upcoming", () => {
  it("New York: spring forward shifts 02:30 to 03:00 EDT, fall back runs 01:30 once (REST, count and from in the query)", async () => {
    const spring = await (await as(keys.admin)).schedules.create({ source_id: sourceId, cron: "30 2 * * *", timezone: "America/New_York" });
    const res = await rest("GET", `/schedules/${spring.schedule_id}/upcoming?count=3&from=2025-03-07T12:00:00Z`, keys.viewer);
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      { fire_time: "2025-03-08T07:30:00.000Z", local_time: "2025-03-08T02:30:00", utc_offset: "-05:00", dst: null },
      { fire_time: "2025-03-09T07:00:00.000Z", local_time: "2025-03-09T03:00:00", utc_offset: "-04:00", dst: "gap_shifted" },
      { fire_time: "2025-03-10T06:30:00.000Z", local_time: "2025-03-10T02:30:00", utc_offset: "-04:00", dst: null },
    ]);

    const fall = await (await as(keys.admin)).schedules.create({ source_id: sourceId, cron: "30 1 * * *", timezone: "America/New_York" });
    const up = await (await as(keys.viewer)).schedules.upcoming({ id: fall.schedule_id, count: 2, from: "2025-11-01T12:00:00Z" });
    expect(up.items.map((i) => [i.fire_time, i.local_time, i.utc_offset, i.dst])).toEqual([
      ["2025-11-02T05:30:00.000Z", "2025-11-02T01:30:00", "-04:00", "repeated_first"],
      ["2025-11-03T06:30:00.000Z", "2025-11-03T01:30:00", "-05:00", null],
    ]);
  });

  it("Sydney: the southern hemisphere changes in October (forward) and April (back)", async () => {
    const s = await (await as(keys.admin)).schedules.create({ source_id: sourceId, cron: "30 2 * * *", timezone: "Australia/Sydney" });
    const caller = await as(keys.viewer);
    const october = await caller.schedules.upcoming({ id: s.schedule_id, count: 2, from: "2025-10-04T00:00:00Z" });
    expect(october.items.map((i) => [i.local_time, i.utc_offset, i.dst])).toEqual([
      ["2025-10-05T03:00:00", "+11:00", "gap_shifted"],
      ["2025-10-06T02:30:00", "+11:00", null],
    ]);
    const april = await caller.schedules.upcoming({ id: s.schedule_id, count: 2, from: "2025-04-05T00:00:00Z" });
    expect(april.items.map((i) => [i.fire_time, i.local_time, i.utc_offset, i.dst])).toEqual([
      ["2025-04-05T15:30:00.000Z", "2025-04-06T02:30:00", "+11:00", "repeated_first"],
      ["2025-04-06T16:30:00.000Z", "2025-04-07T02:30:00", "+10:00", null],
    ]);
  });

  it("an interval schedule previews both passes through the repeated hour", async () => {
    const s = await (await as(keys.admin)).schedules.create({ source_id: sourceId, cron: "*/30 1 * * *", timezone: "America/New_York" });
    const up = await (await as(keys.admin)).schedules.upcoming({ id: s.schedule_id, count: 4, from: "2025-11-02T04:00:00Z" });
    expect(up.items.map((i) => `${i.local_time}${i.utc_offset}`)).toEqual(["2025-11-02T01:00:00-04:00", "2025-11-02T01:30:00-04:00", "2025-11-02T01:00:00-05:00", "2025-11-02T01:30:00-05:00"]);
    expect(new Set(up.items.map((i) => i.fire_time)).size).toBe(4);
  });
});

describe("update, toggle, list, delete", () => {
  it("toggling off clears next_run_at; on recomputes it from now, and both are audited", async () => {
    const caller = await as(keys.operator);
    const s = await caller.schedules.create({ source_id: sourceId, cron: "*/5 * * * *" });
    const off = await rest("PUT", `/schedules/${s.schedule_id}/toggle`, keys.operator, { enabled: false });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ enabled: false, next_run_at: null });
    const before = Date.now();
    const on = await caller.schedules.toggle({ id: s.schedule_id, enabled: true });
    const next = Date.parse(on.next_run_at!);
    expect(next).toBeGreaterThan(before - 1000);
    expect(next - before).toBeLessThanOrEqual(5 * 60_000);
    expect(new Date(next).getUTCMinutes() % 5).toBe(0);
    const audit = await t.owner.sql<{ action: string }[]>`select action from audit_events where target_id = ${s.schedule_id} order by seq`;
    expect(audit.map((a) => a.action)).toEqual(["schedule.create", "schedule.disable", "schedule.enable"]);
  });

  it("a disabled schedule is not due even when its old next_run_at has passed", async () => {
    const caller = await as(keys.operator);
    const s = await caller.schedules.create({ source_id: sourceId, cron: "* * * * *" });
    await caller.schedules.toggle({ id: s.schedule_id, enabled: false });
    await tickOnce(rt, new Date(Date.now() + 3 * 60_000), { decidedBy: "test" });
    expect((await caller.schedules.ticks({ id: s.schedule_id })).items).toEqual([]);
  });

  it("PUT changes the expression and recomputes next_run_at; unknown fields are refused", async () => {
    const caller = await as(keys.operator);
    const s = await caller.schedules.create({ source_id: sourceId, cron: "0 0 1 1 *", timezone: "UTC" });
    const res = await rest("PUT", `/schedules/${s.schedule_id}`, keys.operator, { cron: "0 9 * * 1-5", timezone: "Europe/Berlin", catch_up: "none" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ cron: "0 9 * * 1-5", timezone: "Europe/Berlin", catch_up: "none", description: "weekdays at 09:00 (Europe/Berlin)" });
    expect(Date.parse(res.body.next_run_at as string) - Date.now()).toBeLessThan(4 * 86_400_000);
    const bad = await rest("PUT", `/schedules/${s.schedule_id}`, keys.operator, { enabled: false });
    expect(bad.status).toBe(400);
  });

  it("lists newest first with filters and an opaque cursor", async () => {
    const other = await source(tenantId);
    const caller = await as(keys.admin);
    const a = await caller.schedules.create({ source_id: other, cron: "0 1 * * *" });
    const b = await caller.schedules.create({ source_id: other, cron: "0 2 * * *", enabled: false });
    const page1 = await caller.schedules.list({ source_id: other, limit: 1 });
    expect(page1.items.map((i) => i.schedule_id)).toEqual([b.schedule_id]);
    const page2 = await caller.schedules.list({ source_id: other, limit: 1, cursor: page1.next_cursor! });
    expect(page2).toEqual({ items: [expect.objectContaining({ schedule_id: a.schedule_id })], next_cursor: null });
    const disabled = await rest("GET", `/schedules?source_id=${other}&enabled=false`, keys.viewer);
    expect(disabled.body.items.map((i) => i.schedule_id)).toEqual([b.schedule_id]);
    // Another tenant sees none of it, and gets 404 for the id.
    expect((await (await as(keys.otherAdmin)).schedules.list({ source_id: other })).items).toEqual([]);
    expect((await rest("GET", `/schedules/${a.schedule_id}`, keys.otherAdmin)).status).toBe(404);
  });

  it("DELETE removes the schedule and its ticks (runs stay)", async () => {
    const caller = await as(keys.operator);
    const s = await caller.schedules.create({ source_id: sourceId, cron: "0 3 * * *" });
    const res = await rest("DELETE", `/schedules/${s.schedule_id}`, keys.operator);
    expect(res).toEqual({ status: 200, body: { ok: true, schedule_id: s.schedule_id } });
    expect(await errorCode(caller.schedules.get({ id: s.schedule_id }))).toBe("NOT_FOUND");
    expect(await errorCode((await as(keys.viewer)).schedules.remove({ id: s.schedule_id }))).toBe("FORBIDDEN");
  });
});

describe("tick history", () => {
  it("shows each fire time with its outcome, reason and detail, newest first, paged", async () => {
    const caller = await as(keys.operator);
    const s = await caller.schedules.create({ source_id: await source(tenantId), cron: "* * * * *", overlap_policy: "skip" });
    // Put it a few minutes in the past as if the scheduler had been down, then decide two fires with overlap.
    const downSince = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 3 * 60_000);
    await withTenant(t.client, tenantId, (tx) => tx.execute(sql`update schedules set next_run_at = ${downSince.toISOString()}::timestamptz where id = ${s.schedule_id}`));
    const now = new Date(downSince.getTime() + 3 * 60_000 + 5_000);
    await tickOnce(rt, now, { decidedBy: "test" });
    await tickOnce(rt, new Date(now.getTime() + 60_000), { decidedBy: "test" });
    const page = await caller.schedules.ticks({ id: s.schedule_id, limit: 2 });
    expect(page.items[0]).toMatchObject({ outcome: "skipped", reason: "overlap", run_id: null });
    expect(page.items[0]!.detail).toMatch(/^run [0-9a-f-]{36} is still queued or running$/);
    expect(page.items[1]).toMatchObject({ outcome: "enqueued", reason: null, detail: null });
    const rest1 = await rest("GET", `/schedules/${s.schedule_id}/ticks?limit=50&cursor=${page.next_cursor}`, keys.viewer);
    expect(rest1.status).toBe(200);
    expect(rest1.body.items.every((i) => i.reason === "catch_up_collapsed")).toBe(true);
    expect(rest1.body.items).toHaveLength(3);
    const view = await caller.schedules.get({ id: s.schedule_id });
    expect(view).toMatchObject({ last_outcome: "skipped:overlap", last_run_id: page.items[1]!.run_id });
    expect(await errorCode(caller.schedules.ticks({ id: s.schedule_id, cursor: "bm9wZQ" }))).toBe("INVALID_INPUT");
  });
});
