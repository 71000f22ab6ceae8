// The scheduler against a real database: catch-up after downtime, skip reasons, and three schedulers racing over the
// same due schedules through three separate pools — each fire time is enqueued exactly once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { createTestDatabase, type TestDatabase } from "../../test/test-db.ts";
import { testRuntime } from "../../test/runtime.ts";
import { createDbClient, type DbClient } from "../../db/client.ts";
import { withTenant } from "../../db/tenant.ts";
import { schedules, sources, type OverlapPolicy, type SourceKind } from "../../db/schema/index.ts";
import { registerConnector } from "../connectors/registry.ts";
import type { Runtime } from "../runtime.ts";
import { startScheduler, tickOnce } from "./scheduler.ts";
import { MAX_SKIP_ROWS } from "./catch-up.ts";

let t: TestDatabase;
let rt: Runtime;
let tenantA: string;
let tenantB: string;

registerConnector({
  kind: "scan.iac",
  validateScope: () => null,
  collect: async () => ({ items: 0, summary: {}, graph: { assets: [], relations: [], findings: [] }, artifacts: [], warnings: [] }),
});

const T0 = new Date("2025-06-01T00:00:00Z");
const at = (minutes: number, seconds = 0) => new Date(T0.getTime() + minutes * 60_000 + seconds * 1000);

async function tenant(slug: string): Promise<string> {
  const [row] = await t.owner.sql<{ id: string }[]>`insert into tenants (slug, name) values (${slug}, ${slug}) returning id`;
  return row!.id;
}

async function source(tenantId: string, opts: { kind?: SourceKind; status?: "active" | "disabled"; deleted?: boolean } = {}): Promise<string> {
  const [row] = await withTenant(t.client, tenantId, (tx) =>
    tx
      .insert(sources)
      .values({ tenantId, kind: opts.kind ?? "scan.iac", displayName: "iac", status: opts.status ?? "active", createdBy: "test", deletedAt: opts.deleted ? T0 : null })
      .returning({ id: sources.id }),
  );
  return row!.id;
}

interface ScheduleFields {
  cron?: string;
  catchUp?: "none" | "once";
  startingDeadlineSeconds?: number;
  overlapPolicy?: OverlapPolicy;
  enabled?: boolean;
  nextRunAt?: Date | null;
}

async function schedule(tenantId: string, sourceId: string, f: ScheduleFields = {}): Promise<string> {
  const [row] = await withTenant(t.client, tenantId, (tx) =>
    tx
      .insert(schedules)
      .values({
        tenantId,
        sourceId,
        cron: f.cron ?? "* * * * *",
        timezone: "UTC",
        enabled: f.enabled ?? true,
        catchUp: f.catchUp ?? "once",
        startingDeadlineSeconds: f.startingDeadlineSeconds ?? 3600,
        overlapPolicy: f.overlapPolicy ?? "allow",
        nextRunAt: f.nextRunAt === undefined ? T0 : f.nextRunAt,
        createdBy: "test",
      })
      .returning({ id: schedules.id }),
  );
  return row!.id;
}

interface TickRow {
  fire_time: Date;
  outcome: string;
  reason: string | null;
  run_id: string | null;
  decided_by: string;
}

// Assertions read as the owner: they see every tenant's rows at once. The driver hands timestamps over as text.
const date = (v: Date | string | null) => (v === null ? null : new Date(v));
const ticksOf = async (id: string): Promise<TickRow[]> =>
  (await t.owner.sql<TickRow[]>`select fire_time, outcome, reason, run_id, decided_by from schedule_ticks where schedule_id = ${id} order by fire_time`).map((r) => ({ ...r, fire_time: date(r.fire_time)! }));
const runsOf = async (id: string) =>
  (await t.owner.sql<{ id: string; fire_time: Date; trigger: string; status: string }[]>`select id, fire_time, trigger, status from runs where schedule_id = ${id} order by fire_time`).map((r) => ({ ...r, fire_time: date(r.fire_time)! }));
const scheduleRow = async (id: string) => {
  const [r] = await t.owner.sql<{ next_run_at: Date | null; last_fire_at: Date | null; last_run_id: string | null; last_outcome: string | null }[]>`select next_run_at, last_fire_at, last_run_id, last_outcome from schedules where id = ${id}`;
  return { ...r!, next_run_at: date(r!.next_run_at), last_fire_at: date(r!.last_fire_at) };
};
const reasonCode = (r: string | null) => r?.split(":")[0] ?? null;

beforeAll(async () => {
  t = await createTestDatabase();
  rt = testRuntime(t);
  tenantA = await tenant("sched-a");
  tenantB = await tenant("sched-b");
});

afterAll(async () => {
  await t?.drop();
});

describe("discovery", () => {
  it("the app role finds due schedules of every tenant only through the definer function", async () => {
    const s = await schedule(tenantB, await source(tenantB), { nextRunAt: at(0) });
    const direct = await t.client.db.execute(sql`select id from schedules where id = ${s}`);
    expect(direct).toHaveLength(0);
    const due = await t.client.db.execute<{ id: string }>(sql`select id from cairn_due_schedules(${at(1).toISOString()}::timestamptz, 1000)`);
    expect(due.map((d) => d.id)).toContain(s);
    await t.owner.sql`delete from schedules where id = ${s}`;
  });
});

describe("catch-up after downtime", () => {
  it("once: a backlog runs its most recent fire once and records the rest as collapsed", async () => {
    const s = await schedule(tenantA, await source(tenantA), { cron: "0 * * * *", catchUp: "once", nextRunAt: at(0) });
    const r = await tickOnce(rt, at(10 * 60 + 30), { decidedBy: "test" });
    expect(r.enqueued).toBeGreaterThanOrEqual(1);
    const ticks = await ticksOf(s);
    expect(ticks).toHaveLength(11);
    expect(ticks.slice(0, 10).every((x) => x.outcome === "skipped" && reasonCode(x.reason) === "catch_up_collapsed")).toBe(true);
    expect(ticks[10]).toMatchObject({ fire_time: at(600), outcome: "enqueued" });
    const runs = await runsOf(s);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ id: ticks[10]!.run_id, fire_time: at(600), trigger: "schedule" });
    expect(await scheduleRow(s)).toMatchObject({ next_run_at: at(660), last_fire_at: at(600), last_run_id: runs[0]!.id, last_outcome: "enqueued" });
  });

  it("none: only fire times still within the starting deadline run; older ones missed it", async () => {
    const s = await schedule(tenantA, await source(tenantA), { cron: "*/15 * * * *", catchUp: "none", startingDeadlineSeconds: 3600, nextRunAt: at(0) });
    await tickOnce(rt, at(10 * 60 + 30, 20), { decidedBy: "test" });
    const ticks = await ticksOf(s);
    expect(ticks).toHaveLength(43);
    expect(ticks.filter((x) => x.outcome === "skipped").every((x) => reasonCode(x.reason) === "missed_deadline")).toBe(true);
    expect(ticks.filter((x) => x.outcome === "enqueued").map((x) => x.fire_time)).toEqual([at(585), at(600), at(615), at(630)]);
    expect(await runsOf(s)).toHaveLength(4);
  });

  it("once, past the deadline: nothing runs, and the reason says by how much", async () => {
    const s = await schedule(tenantA, await source(tenantA), { cron: "0 * * * *", catchUp: "once", startingDeadlineSeconds: 600, nextRunAt: at(0) });
    await tickOnce(rt, at(10 * 60 + 30), { decidedBy: "test" });
    const ticks = await ticksOf(s);
    expect(ticks[ticks.length - 1]).toMatchObject({ outcome: "skipped", reason: "missed_deadline: decided 1800s after its fire time; the starting deadline is 600s" });
    expect(await runsOf(s)).toHaveLength(0);
    expect((await scheduleRow(s)).last_outcome).toBe("skipped:missed_deadline");
  });

  it("a month of every-minute fires writes a bounded number of rows", async () => {
    const s = await schedule(tenantA, await source(tenantA), { cron: "* * * * *", catchUp: "once", nextRunAt: at(0) });
    await tickOnce(rt, at(30 * 24 * 60, 5), { decidedBy: "test" });
    const ticks = await ticksOf(s);
    expect(ticks).toHaveLength(MAX_SKIP_ROWS + 1);
    expect(ticks[0]!.reason).toMatch(/^catch_up_collapsed: .*more than \d+ earlier fire times since 2025-06-01T00:00:00.000Z were collapsed too/);
    expect(await runsOf(s)).toHaveLength(1);
  });
});

describe("skip reasons", () => {
  it("overlap: a fire while the previous run is still queued is skipped and names that run", async () => {
    const s = await schedule(tenantA, await source(tenantA), { overlapPolicy: "skip", nextRunAt: at(0) });
    await tickOnce(rt, at(0, 1), { decidedBy: "test" });
    await tickOnce(rt, at(1, 1), { decidedBy: "test" });
    const [first, second] = await ticksOf(s);
    expect(first).toMatchObject({ outcome: "enqueued" });
    expect(second).toMatchObject({ outcome: "skipped", reason: `overlap: run ${first!.run_id} is still queued or running`, run_id: null });
    expect(await scheduleRow(s)).toMatchObject({ last_outcome: "skipped:overlap", last_run_id: first!.run_id, last_fire_at: at(1) });
  });

  it("a disabled source, a deleted source and a kind without a connector are skipped with their reason", async () => {
    const cases = [
      [await source(tenantB, { status: "disabled" }), "source_disabled"],
      [await source(tenantB, { deleted: true }), "source_deleted"],
      [await source(tenantB, { kind: "runtime.proxy" }), "unsupported"],
    ] as const;
    const ids = await Promise.all(cases.map(([src]) => schedule(tenantB, src, { nextRunAt: at(0) })));
    await tickOnce(rt, at(0, 2), { decidedBy: "test" });
    for (const [i, [, reason]] of cases.entries()) {
      const ticks = await ticksOf(ids[i]!);
      expect(ticks, reason).toHaveLength(1);
      expect(ticks[0]!.outcome).toBe("skipped");
      expect(reasonCode(ticks[0]!.reason)).toBe(reason);
      expect(await runsOf(ids[i]!)).toHaveLength(0);
      // Skipped fires still move the schedule on.
      expect((await scheduleRow(ids[i]!)).next_run_at).toEqual(at(1));
    }
  });

  it("a disabled schedule never fires, however overdue", async () => {
    const s = await schedule(tenantA, await source(tenantA), { enabled: false, nextRunAt: at(0) });
    await tickOnce(rt, at(24 * 60), { decidedBy: "test" });
    expect(await ticksOf(s)).toHaveLength(0);
    expect(await runsOf(s)).toHaveLength(0);
  });
});

describe("three schedulers at once", () => {
  let pools: DbClient[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  it("enqueue each fire time exactly once, none lost", async () => {
    // A fresh clock region so earlier tests' schedules are not due here.
    const base = new Date("2026-01-01T00:00:00Z");
    const minute = (m: number, s = 0) => new Date(base.getTime() + m * 60_000 + s * 1000);
    const ids: string[] = [];
    for (const tenantId of [tenantA, tenantB]) {
      for (let i = 0; i < 6; i++) ids.push(await schedule(tenantId, await source(tenantId), { cron: i % 3 === 2 ? "*/2 * * * *" : "* * * * *", overlapPolicy: i % 3 === 1 ? "skip" : "allow", nextRunAt: minute(0) }));
    }
    // Only these schedules are due in the new region: park every other one.
    await t.owner.sql`update schedules set enabled = false where not (id = any(${ids}::uuid[]))`;

    pools = [1, 2, 3].map((n) => createDbClient(t.url, { max: 4, applicationName: `cairn-test-scheduler-${n}` }));
    const schedulers = pools.map((db, n) => ({ rt: { ...rt, db }, id: `replica-${n + 1}` }));
    let enqueued = 0;
    const race = async (now: Date) => {
      const results = await Promise.all(schedulers.flatMap((s) => [1, 2, 3].map(() => tickOnce(s.rt, now, { decidedBy: s.id }))));
      for (const r of results) expect(r.failed).toBe(0);
      enqueued += results.reduce((sum, r) => sum + r.enqueued, 0);
    };
    for (let m = 0; m < 10; m++) await race(minute(m, 1));
    // Then a downtime: everyone wakes up at once, 50 minutes later.
    await race(minute(60, 3));

    let runsTotal = 0;
    const deciders = new Set<string>();
    for (const [i, id] of ids.entries()) {
      const ticks = await ticksOf(id);
      const runs = await runsOf(id);
      const every = i % 3 === 2 ? 2 : 1;
      // Minutes 0–9 on time, then 10–60 as one backlog: every fire time has exactly one tick.
      const expected: number[] = [];
      for (let k = 0; k <= 60; k += every) expected.push(minute(k).getTime());
      expect(ticks.map((x) => x.fire_time.getTime()), id).toEqual(expected);
      const enqueuedTicks = ticks.filter((x) => x.outcome === "enqueued");
      expect(runs.map((r) => r.id).sort()).toEqual(enqueuedTicks.map((x) => x.run_id).sort());
      expect(new Set(runs.map((r) => r.fire_time.getTime())).size).toBe(runs.length);
      for (const x of ticks) deciders.add(x.decided_by);
      runsTotal += runs.length;
    }
    expect(runsTotal).toBe(enqueued);
    const [jobs] = await t.owner.sql<{ n: number }[]>`select count(*)::int as n from jobs where run_id in (select id from runs where schedule_id = any(${ids}::uuid[]))`;
    expect(jobs!.n).toBe(runsTotal);
    expect([...deciders].every((d) => d.startsWith("replica-"))).toBe(true);
  });
});

describe("DST nights, ticking every minute", () => {
  it("New York: each fire is one instant — shifted out of the gap, once in the repeated hour, both passes for an interval", async () => {
    await t.owner.sql`update schedules set enabled = false`;
    const make = async (cron: string, from: string) => {
      const id = await schedule(tenantA, await source(tenantA), { cron, nextRunAt: null });
      await t.owner.sql`update schedules set timezone = 'America/New_York', next_run_at = ${from}::timestamptz where id = ${id}`;
      return id;
    };
    const spring = await make("30 2 * * *", "2025-03-09T07:00:00Z");
    const fallFixed = await make("30 1 * * *", "2025-11-02T05:30:00Z");
    const fallInterval = await make("*/30 1 * * *", "2025-11-02T05:00:00Z");
    for (const [start, hours] of [
      ["2025-03-09T05:00:00Z", 4],
      ["2025-11-02T04:00:00Z", 4],
    ] as const) {
      for (let m = 0; m < hours * 60; m++) await tickOnce(rt, new Date(Date.parse(start) + m * 60_000 + 1_000), { decidedBy: "test" });
    }
    // The night itself (the spring schedule also catches up on the months before the autumn night, and fires then).
    const fires = async (id: string, day: string) => (await ticksOf(id)).filter((x) => x.fire_time.toISOString().startsWith(day)).map((x) => `${x.fire_time.toISOString()} ${x.outcome}`);
    expect(await fires(spring, "2025-03-09")).toEqual(["2025-03-09T07:00:00.000Z enqueued"]);
    expect(await fires(fallFixed, "2025-11-02")).toEqual(["2025-11-02T05:30:00.000Z enqueued"]);
    expect(await fires(fallInterval, "2025-11-02")).toEqual(["05:00", "05:30", "06:00", "06:30"].map((hm) => `2025-11-02T${hm}:00.000Z enqueued`));
    expect((await scheduleRow(fallFixed)).next_run_at).toEqual(new Date("2025-11-03T06:30:00Z"));
  });
});

describe("startScheduler", () => {
  it("ticks on the database clock and stops cleanly, waiting for the tick in flight", async () => {
    await t.owner.sql`update schedules set enabled = false`;
    const src = await source(tenantA);
    const [row] = await t.owner.sql<{ now: string }[]>`select date_trunc('minute', now()) as now`;
    const minuteStart = new Date(row!.now);
    const s = await schedule(tenantA, src, { cron: "* * * * *", nextRunAt: minuteStart });
    const scheduler = startScheduler(rt, { id: "live" });
    const deadline = Date.now() + 10_000;
    while ((await ticksOf(s)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await scheduler.stop();
    // The live scheduler decided this minute's fire time. If its first look came after the next minute began (a test
    // started in a minute's last moments, or a slow machine), `once` ran the latest due fire time and recorded this
    // one as collapsed into it; either way every due fire time is decided once, and one of them ran.
    const ticks = await ticksOf(s);
    expect(ticks[0]!.fire_time).toEqual(minuteStart);
    expect(ticks.every((x) => x.decided_by === "live")).toBe(true);
    expect(ticks.filter((x) => x.outcome === "enqueued").length).toBeGreaterThan(0);
    for (const x of ticks) {
      if (x.outcome !== "enqueued") expect({ outcome: x.outcome, reason: reasonCode(x.reason) }).toEqual({ outcome: "skipped", reason: "catch_up_collapsed" });
    }
    expect(new Set(ticks.map((x) => x.fire_time.getTime())).size).toBe(ticks.length);
    const after = (await t.owner.sql<{ n: number }[]>`select count(*)::int as n from schedule_ticks`)[0]!.n;
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await t.owner.sql<{ n: number }[]>`select count(*)::int as n from schedule_ticks`)[0]!.n).toBe(after);
  });
});
