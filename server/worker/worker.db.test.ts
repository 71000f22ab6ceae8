// The queue and worker against real PostgreSQL: exactly-once effects, idempotency, fair share, priorities,
// transient retries, cancellation, time budgets, the reaper, graceful shutdown, and node registration.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { createTestDatabase, type TestDatabase } from "../../test/test-db.ts";
import { expectUuidV7 } from "../../test/uuid-v7.ts";
import { testRuntime } from "../../test/runtime.ts";
import type { Runtime } from "../runtime.ts";
import { tenantGroups, withTenant } from "../../db/tenant.ts";
import { enqueueJob, enqueueJobs } from "../queue/enqueue.ts";
import { fenceOf, QueueClient } from "../queue/queue.ts";
import { startWorker } from "./worker.ts";
import { TransientError, type HandlerDefinition } from "./handler.ts";
import { createTenant } from "../domain/tenants/tenants.service.ts";

let t: TestDatabase;
let rt: Runtime;
let tenantA: string;
let tenantB: string;
const system = { actor: "system:test", actorType: "system" as const, requestId: null, ip: null };

beforeAll(async () => {
  t = await createTestDatabase();
  rt = testRuntime(t);
  tenantA = (await createTenant(t.client, { slug: "queue-a", name: "A" }, system)).id;
  tenantB = (await createTenant(t.client, { slug: "queue-b", name: "B" }, system)).id;
  await t.owner.sql`create table test_effects (job_id uuid not null, tenant_id uuid not null, at timestamptz default now())`;
  await t.owner.sql`grant select, insert on test_effects to cairn_app`;
});
afterAll(async () => {
  await t.drop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting; last value ${JSON.stringify(v)}`);
    await sleep(50);
  }
}

const statusCounts = async (jobType: string) =>
  Object.fromEntries(
    (await t.owner.sql<{ status: string; n: number }[]>`select status, count(*)::int as n from jobs where job_type = ${jobType} group by status`).map((r) => [r.status, r.n]),
  ) as Record<string, number>;

const effectHandler = (jobType: string): HandlerDefinition => ({
  jobType,
  handler: async (ctx) => ({
    commit: async (tx) => {
      await tx.execute(sql`insert into test_effects (job_id, tenant_id) values (${ctx.job.id}, ${ctx.job.tenantId})`);
    },
  }),
});

describe("queue", () => {
  it("runs every job once, with its side effect committed exactly once, and registers the worker as a node", async () => {
    await withTenant(t.client, tenantA, (tx) => enqueueJobs(tx, Array.from({ length: 200 }, () => ({ tenantId: tenantA, jobType: "test.effect", requestedBy: "test" }))));
    const worker = await startWorker(rt, { concurrency: 8, handlers: [effectHandler("test.effect")] });
    await waitFor(() => statusCounts("test.effect"), (c) => c.succeeded === 200);
    const [effects] = await t.owner.sql<{ n: number; distinct_jobs: number }[]>`select count(*)::int as n, count(distinct job_id)::int as distinct_jobs from test_effects`;
    expect(effects).toEqual({ n: 200, distinct_jobs: 200 });
    const [node] = await t.owner.sql<{ kind: string; status: string }[]>`select kind, status from nodes where name = ${worker.id}`;
    expect(node).toEqual({ kind: "worker", status: "healthy" });
    await worker.stop();
    // Every claim this worker made was reported done and its lease row dropped (nothing left for the reaper).
    const [claims] = await t.owner.sql<{ n: number }[]>`select count(*)::int as n from job_leases where lease_owner = ${worker.id}`;
    expect(claims).toEqual({ n: 0 });
    const [stopped] = await t.owner.sql<{ status: string; stopped_at: Date | null }[]>`select status, stopped_at from nodes where name = ${worker.id}`;
    expect(stopped!.status).toBe("stopped");
    expect(stopped!.stopped_at).not.toBeNull();
  });

  it("with two claim lanes, short jobs still run once each and every claim row is dropped", async () => {
    await withTenant(t.client, tenantA, (tx) => enqueueJobs(tx, Array.from({ length: 2000 }, () => ({ tenantId: tenantA, jobType: "test.lanes", requestedBy: "test" }))));
    const seen: string[] = [];
    const worker = await startWorker(rt, { concurrency: 4, claimLanes: 2, handlers: [{ jobType: "test.lanes", handler: async (ctx) => void seen.push(ctx.job.id) }] });
    await waitFor(() => statusCounts("test.lanes"), (c) => c.succeeded === 2000);
    await worker.stop();
    expect(seen.length).toBe(2000);
    expect(new Set(seen).size).toBe(2000);
    const [claims] = await t.owner.sql<{ n: number }[]>`select count(*)::int as n from job_leases where lease_owner = ${worker.id}`;
    expect(claims).toEqual({ n: 0 });
  });

  it("1,000 concurrent submissions with one idempotency key make one job", async () => {
    const submit = () => withTenant(t.client, tenantA, (tx) => enqueueJob(tx, { tenantId: tenantA, jobType: "test.idem", requestedBy: "test", idempotencyKey: "same-key" }));
    const results = await Promise.all(Array.from({ length: 1000 }, () => submit().catch((err: Error) => err)));
    const ids = new Set(results.filter((r): r is Awaited<ReturnType<typeof submit>> => !(r instanceof Error)).map((r) => r.job.id));
    expect(results.filter((r) => r instanceof Error)).toEqual([]);
    expect(ids.size).toBe(1);
    expect((await t.owner.sql`select 1 from jobs where idempotency_key = 'same-key'`).length).toBe(1);
  });

  it("shares claims fairly: one tenant's flood does not starve another tenant's single job; priority orders within a tenant", async () => {
    await withTenant(t.client, tenantA, (tx) => enqueueJobs(tx, Array.from({ length: 20_000 }, () => ({ tenantId: tenantA, jobType: "test.fair", requestedBy: "test" }))));
    await withTenant(t.client, tenantA, (tx) => enqueueJob(tx, { tenantId: tenantA, jobType: "test.fair", requestedBy: "test", priority: 50, payload: { urgent: true } }));
    await withTenant(t.client, tenantB, (tx) => enqueueJob(tx, { tenantId: tenantB, jobType: "test.fair", requestedBy: "test" }));
    const queue = new QueueClient(t.client.sql, "fairness-probe");
    const first = await queue.claim(4, 30, ["test.fair"]);
    expect(first.map((j) => j.tenantId)).toContain(tenantB);
    expect(first.find((j) => j.tenantId === tenantA)?.payload).toEqual({ urgent: true });
    await t.owner.sql`delete from jobs where job_type = 'test.fair'`;
  });

  it("retries only transient failures, after 1 s then 2 s, and fails permanent ones at once", async () => {
    const seen = new Map<string, number[]>();
    const handler: HandlerDefinition = {
      jobType: "test.flaky",
      handler: async (ctx) => {
        const times = seen.get(ctx.job.id) ?? [];
        times.push(Date.now());
        seen.set(ctx.job.id, times);
        if ((ctx.job.payload as { kind: string }).kind === "permanent") throw new Error("bad scope: nothing to retry");
        if (times.length < 3) throw new TransientError("connection reset by the remote");
      },
    };
    const ids = await withTenant(t.client, tenantA, async (tx) => [
      (await enqueueJob(tx, { tenantId: tenantA, jobType: "test.flaky", requestedBy: "test", payload: { kind: "transient" } })).job.id,
      (await enqueueJob(tx, { tenantId: tenantA, jobType: "test.flaky", requestedBy: "test", payload: { kind: "permanent" } })).job.id,
    ]);
    const worker = await startWorker(rt, { concurrency: 2, handlers: [handler], pollMs: 100 });
    const rows = await waitFor(
      () => t.owner.sql<{ id: string; status: string; attempts: number; last_error: string | null }[]>`select id, status, attempts, last_error from jobs where job_type = 'test.flaky'`,
      (r) => r.every((x) => x.status === "succeeded" || x.status === "failed"),
    );
    await worker.stop();
    const transient = rows.find((r) => r.id === ids[0])!;
    const permanent = rows.find((r) => r.id === ids[1])!;
    expect(transient).toMatchObject({ status: "succeeded", attempts: 3 });
    expect(permanent).toMatchObject({ status: "failed", attempts: 1, last_error: "bad scope: nothing to retry" });
    const times = seen.get(ids[0]!)!;
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(900);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(1900);
  });

  // Cancellation has two paths: the NOTIFY on cairn_job_cancel aborts the handler at once, and the lease renewal
  // (every second while a job runs) reads cancel_requested, so a NOTIFY missed during a reconnect is honoured within a
  // second too. Both are tested for their effect; how fast is a property of those two mechanisms, not a timing
  // assertion here (a loaded CI machine would make one flaky).
  const cancellable = (jobType: string) => {
    const state = { started: false, aborted: false };
    const handler: HandlerDefinition = {
      jobType,
      handler: (ctx) =>
        new Promise((_, reject) => {
          state.started = true;
          ctx.signal.addEventListener("abort", () => {
            state.aborted = true;
            reject(ctx.signal.reason);
          });
        }),
    };
    return { state, handler };
  };

  it("cancellation reaches a running handler through its AbortSignal", async () => {
    const { state, handler } = cancellable("test.long");
    const { job } = await withTenant(t.client, tenantA, (tx) => enqueueJob(tx, { tenantId: tenantA, jobType: "test.long", requestedBy: "test" }));
    const worker = await startWorker(rt, { concurrency: 1, handlers: [handler] });
    await waitFor(async () => state.started, (s) => s);
    await withTenant(t.client, tenantA, async (tx) => {
      await tx.execute(sql`update jobs set cancel_requested = true where id = ${job.id}`);
      await tx.execute(sql`select pg_notify('cairn_job_cancel', ${job.id})`);
    });
    const [row] = await waitFor(() => t.owner.sql<{ status: string }[]>`select status from jobs where id = ${job.id}`, (r) => r[0]?.status === "cancelled");
    expect(row!.status).toBe("cancelled");
    expect(state.aborted).toBe(true);
    await worker.stop();
  });

  it("a cancellation whose NOTIFY was missed is still honoured through the lease renewal", async () => {
    const { state, handler } = cancellable("test.long-quiet");
    const { job } = await withTenant(t.client, tenantA, (tx) => enqueueJob(tx, { tenantId: tenantA, jobType: "test.long-quiet", requestedBy: "test" }));
    const worker = await startWorker(rt, { concurrency: 1, handlers: [handler] });
    await waitFor(async () => state.started, (s) => s);
    await withTenant(t.client, tenantA, (tx) => tx.execute(sql`update jobs set cancel_requested = true where id = ${job.id}`));
    const [row] = await waitFor(() => t.owner.sql<{ status: string }[]>`select status from jobs where id = ${job.id}`, (r) => r[0]?.status === "cancelled");
    expect(row!.status).toBe("cancelled");
    expect(state.aborted).toBe(true);
    await worker.stop();
  });

  it("a job over its time budget is stopped and marked timed_out, not retried", async () => {
    const handler: HandlerDefinition = { jobType: "test.slow", handler: (ctx) => new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))) };
    const { job } = await withTenant(t.client, tenantA, (tx) => enqueueJob(tx, { tenantId: tenantA, jobType: "test.slow", requestedBy: "test", timeBudgetSeconds: 1 }));
    const worker = await startWorker(rt, { concurrency: 1, handlers: [handler] });
    const [row] = await waitFor(() => t.owner.sql<{ status: string; attempts: number; last_error: string }[]>`select status, attempts, last_error from jobs where id = ${job.id}`, (r) => r[0]?.status === "timed_out");
    expect(row).toMatchObject({ attempts: 1, last_error: "time budget of 1 s exceeded" });
    await worker.stop();
  });

  it("a handler error marked finalStatus timed_out ends the job timed_out at once, and onFinalFailure gets that error", async () => {
    const finals: { status: string; error: string; cause: unknown }[] = [];
    const budgetError = Object.assign(new Error("the connector ran longer than its own time budget of 1 s"), { finalStatus: "timed_out" as const, permanent: true });
    const handler: HandlerDefinition = {
      jobType: "test.own-budget",
      handler: async () => {
        throw budgetError;
      },
      onFinalFailure: async (_tx, _job, status, error, cause) => {
        finals.push({ status, error, cause });
      },
    };
    const { job } = await withTenant(t.client, tenantA, (tx) => enqueueJob(tx, { tenantId: tenantA, jobType: "test.own-budget", requestedBy: "test" }));
    const worker = await startWorker(rt, { concurrency: 1, handlers: [handler] });
    const [row] = await waitFor(() => t.owner.sql<{ status: string; attempts: number; last_error: string }[]>`select status, attempts, last_error from jobs where id = ${job.id}`, (r) => r[0]?.status === "timed_out");
    await waitFor(async () => finals.length, (n) => n === 1);
    await worker.stop();
    expect(row).toMatchObject({ attempts: 1, last_error: "the connector ran longer than its own time budget of 1 s" });
    expect(finals).toEqual([{ status: "timed_out", error: "the connector ran longer than its own time budget of 1 s", cause: budgetError }]);
  });

  it("the reaper requeues a dead worker's job and, after max attempts, times it out with the reason visible", async () => {
    const { job } = await withTenant(t.client, tenantB, (tx) => enqueueJob(tx, { tenantId: tenantB, jobType: "test.orphan", requestedBy: "test", maxAttempts: 2 }));
    const ghost = new QueueClient(t.client.sql, "ghost-worker");
    expect((await ghost.claim(1, 1, ["test.orphan"])).map((j) => j.id)).toEqual([job.id]);
    await sleep(1_200);
    const reaper = new QueueClient(t.client.sql, "reaper");
    expect((await reaper.reap(10)).map((r) => [r.id, r.status])).toEqual([[job.id, "queued"]]);
    expect((await ghost.claim(1, 1, ["test.orphan"])).length).toBe(1);
    await sleep(1_200);
    const second = await reaper.reap(10);
    expect(second[0]).toMatchObject({ id: job.id, status: "timed_out", attempts: 2 });
    const [row] = await t.owner.sql<{ last_error: string }[]>`select last_error from jobs where id = ${job.id}`;
    expect(row!.last_error).toContain("lease expired: worker ghost-worker stopped renewing it (attempt 2 of 2)");
  });

  it("on shutdown a worker finishes what it can within the grace period and releases the rest without spending an attempt", async () => {
    const handler: HandlerDefinition = {
      jobType: "test.shutdown",
      handler: async (ctx) => {
        const ms = (ctx.job.payload as { ms: number }).ms;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, ms);
          ctx.signal.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(ctx.signal.reason);
          });
        });
      },
    };
    await withTenant(t.client, tenantA, (tx) =>
      enqueueJobs(tx, [
        { tenantId: tenantA, jobType: "test.shutdown", requestedBy: "test", payload: { ms: 200 } },
        { tenantId: tenantA, jobType: "test.shutdown", requestedBy: "test", payload: { ms: 60_000 } },
      ]),
    );
    const worker = await startWorker(rt, { concurrency: 2, handlers: [handler] });
    await waitFor(async () => worker.running().length, (n) => n === 2);
    await worker.stop(1_000);
    const rows = await t.owner.sql<{ status: string; attempts: number; ms: number }[]>`select status, attempts, (payload->>'ms')::int as ms from jobs where job_type = 'test.shutdown' order by ms`;
    expect(rows).toEqual([
      { status: "succeeded", attempts: 1, ms: 200 },
      { status: "queued", attempts: 0, ms: 60_000 },
    ]);
  });

  it("writes job logs with registered secret values redacted", async () => {
    const handler: HandlerDefinition = {
      jobType: "test.log",
      handler: async (ctx) => {
        ctx.redact("sk-live-1234567890");
        ctx.log("info", "calling the API with token sk-live-1234567890 now");
      },
    };
    const { job } = await withTenant(t.client, tenantA, (tx) => enqueueJob(tx, { tenantId: tenantA, jobType: "test.log", requestedBy: "test" }));
    const worker = await startWorker(rt, { concurrency: 1, handlers: [handler] });
    await waitFor(() => statusCounts("test.log"), (c) => c.succeeded === 1);
    await worker.stop();
    const lines = await t.owner.sql<{ message: string }[]>`select message from job_logs where job_id = ${job.id} order by id`;
    expect(lines.map((l) => l.message)).toContain("calling the API with token [REDACTED] now");
    expect(JSON.stringify(lines)).not.toContain("sk-live-1234567890");
  });
});

describe("a job's log and its outcome", () => {
  it("stores the log up to the outcome before the outcome is visible, for a success and for a failure", async () => {
    // What another connection sees while the worker records the outcome: the lines that led there are already stored,
    // so whoever finds the job (or its run) finished also finds them.
    const linesOf = async (id: string) => (await t.owner.sql<{ message: string }[]>`select message from job_logs where job_id = ${id} order by id`).map((l) => l.message);
    let seenAtCommit: string[] | undefined;
    const handler: HandlerDefinition = {
      jobType: "test.log-order",
      handler: async (ctx) => {
        ctx.log("info", "collected 3 items");
        if ((ctx.job.payload as { fail?: boolean }).fail) throw Object.assign(new Error("the scope is invalid"), { permanent: true });
        return { commit: async () => void (seenAtCommit = await linesOf(ctx.job.id)) };
      },
    };
    const ok = await withTenant(t.client, tenantA, (tx) => enqueueJob(tx, { tenantId: tenantA, jobType: "test.log-order", requestedBy: "test" }));
    const bad = await withTenant(t.client, tenantA, (tx) => enqueueJob(tx, { tenantId: tenantA, jobType: "test.log-order", requestedBy: "test", payload: { fail: true } }));
    const worker = await startWorker(rt, { concurrency: 1, handlers: [handler] });
    const failed = await waitFor(() => t.owner.sql<{ status: string }[]>`select status from jobs where id = ${bad.job.id}`, (r) => r[0]?.status === "failed");
    expect(failed[0]!.status).toBe("failed");
    expect(await linesOf(bad.job.id)).toEqual([expect.stringMatching(/^attempt 1 of \d+ on /), "collected 3 items", "the scope is invalid"]);
    await waitFor(() => statusCounts("test.log-order"), (c) => c.succeeded === 1);
    await worker.stop();
    expect(seenAtCommit).toEqual([expect.stringMatching(/^attempt 1 of \d+ on /), "collected 3 items"]);
    expect(await linesOf(ok.job.id)).toEqual([...seenAtCommit!, "succeeded"]);
  });
});

describe("claim-time authorization", () => {
  it("a job whose requester lost the right to run it fails before doing any work", async () => {
    const { bootstrapTenant, mintKey } = await import("../domain/tenants/bootstrap.service.ts");
    const { sources } = await import("../../db/schema/index.ts");
    const boot = await bootstrapTenant(t.client, "claim-auth", { highRisk: false });
    const key = await mintKey(t.client, { tenantSlug: "claim-auth", role: "operator", platform: false, highRisk: false });
    const sourceId = await withTenant(t.client, boot.tenant_id, async (tx) => (await tx.insert(sources).values({ tenantId: boot.tenant_id, kind: "scan.iac", displayName: "s", createdBy: "t" }).returning())[0]!.id);
    let ran = 0;
    const handler: HandlerDefinition = { jobType: "test.authz", handler: async () => void (ran += 1) };
    const ok = await withTenant(t.client, boot.tenant_id, (tx) => enqueueJob(tx, { tenantId: boot.tenant_id, sourceId, jobType: "test.authz", requestedBy: `api_key:${key.id}` }));
    await t.owner.sql`update api_keys set revoked_at = now() where id = ${key.id}`;
    const revoked = ok.job.id;
    const gone = await withTenant(t.client, boot.tenant_id, (tx) => enqueueJob(tx, { tenantId: boot.tenant_id, sourceId, jobType: "test.authz", requestedBy: "user:nobody@example.com" }));
    const worker = await startWorker(rt, { concurrency: 2, handlers: [handler] });
    const rows = await waitFor(
      () => t.owner.sql<{ id: string; status: string; last_error: string }[]>`select id, status, last_error from jobs where job_type = 'test.authz'`,
      (r) => r.length === 2 && r.every((x) => x.status === "failed"),
    );
    await worker.stop();
    expect(ran).toBe(0);
    expect(rows.find((r) => r.id === revoked)!.last_error).toContain("was revoked");
    expect(rows.find((r) => r.id === gone.job.id)!.last_error).toContain("no longer a member");
  });
});

type PlanNode = { "Node Type": string; "Relation Name"?: string; "Index Name"?: string; Plans?: PlanNode[] };

/** A queue function's definition and its settings (proconfig, `name=value`). */
async function queueFunction(name: string) {
  const [fn] = await t.owner.sql<{ def: string; config: string[] }[]>`
    select pg_get_functiondef(p.oid) as def, p.proconfig as config from pg_proc p where p.proname = ${name}`;
  return fn!;
}

/** The plan of one statement of a function, planned as the function runs it: under its settings, in the given mode. */
async function planAsIn(fn: { config: string[] }, statement: string, paramTypes: string, args: string, mode: "force_generic_plan" | "force_custom_plan") {
  return t.owner.sql.begin(async (tx) => {
    for (const setting of fn.config) {
      const [key, value] = setting.split("=");
      await tx.unsafe(`select set_config($1, $2, true)`, [key!, value!]);
    }
    await tx.unsafe(`set local plan_cache_mode = ${mode}`);
    await tx.unsafe(`prepare plan_check(${paramTypes}) as ${statement}`);
    const [row] = await tx.unsafe<{ "QUERY PLAN": { Plan: PlanNode }[] }[]>(`explain (format json) execute plan_check(${args})`);
    await tx.unsafe("deallocate plan_check");
    return row!["QUERY PLAN"][0]!.Plan;
  });
}

describe("the hot queue table", () => {
  it("plans a claim without a nested loop over one of its own intermediate results, even as the generic plan a connection keeps", async () => {
    // A connection keeps the claim's plan (PL/pgSQL), and after five calls that is a generic plan, made without
    // knowing how many rows a claim takes. One that rescanned an intermediate result for every row compared a million
    // pairs in a 1,000-job claim (migration 0026). Plan the claim's statement the way the function runs it: its
    // settings, its parameters, a generic plan.
    const fn = await queueFunction("cairn_queue_claim");
    const def = fn.def;
    const statement = def
      .slice(def.indexOf("RETURN QUERY") + "RETURN QUERY".length, def.lastIndexOf("END"))
      .trim()
      .replace(/;$/, "")
      .replaceAll("p_worker", "$1")
      .replaceAll("p_limit", "$2")
      .replaceAll("p_lease_seconds", "$3")
      .replaceAll("p_types", "$4")
      .replaceAll("p_tenants", "$5")
      .replaceAll("v_lease", "$6");
    const plan = await planAsIn(fn, statement, "text, int, int, text[], uuid[], bigint", "'plan-check', 1000, 30, null, null, 0", "force_generic_plan");
    const rescans: string[] = [];
    const walk = (node: PlanNode) => {
      const inner = node.Plans?.[1];
      if (node["Node Type"] === "Nested Loop" && inner && ["CTE Scan", "Materialize"].includes(inner["Node Type"])) rescans.push(JSON.stringify(node).slice(0, 200));
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(plan);
    expect(rescans).toEqual([]);
    // The answer is joined to its authorization facts by hash.
    expect(JSON.stringify(plan)).toContain('"Node Type":"Hash Join"');
  });

  it("finds claimed jobs by id through the primary key wherever it takes fences, even when the statistics say nothing is queued", async () => {
    // Statistics taken while every job had finished say almost no job is `queued`, while claimed jobs that were not
    // started (ADR 012) are. A join of an unnested id array to `jobs` was then planned, knowing the array's size, as
    // a nested loop over a sequential scan of `jobs`: a two-process drain fell to a sixth of its speed. Take such
    // statistics, then plan each statement that writes unstarted jobs the way its function runs it (its settings),
    // both as the custom plans of a connection's first calls, for a 500-job batch, and as the generic plan it keeps.
    const many = Array.from({ length: 20_000 }, () => ({ tenantId: tenantB, jobType: "test.stats", requestedBy: "t" }));
    await withTenant(t.client, tenantB, (tx) => enqueueJobs(tx, many));
    await t.owner.sql`delete from job_queue where job_type = 'test.stats'`;
    await t.owner.sql`update jobs set status = 'succeeded', finished_at = now() where job_type = 'test.stats'`;
    await t.owner.sql`analyze jobs`;
    const batch = (await t.owner.sql<{ id: string }[]>`select id from jobs where job_type = 'test.stats' limit 500`).map((r) => r.id);
    const scansOfJobs = (node: PlanNode, out: string[] = []): string[] => {
      if (node["Relation Name"] === "jobs" && node["Node Type"].endsWith("Scan")) out.push(`${node["Node Type"]}${node["Index Name"] ? ` on ${node["Index Name"]}` : ""}`);
      for (const child of node.Plans ?? []) scansOfJobs(child, out);
      return out;
    };
    for (const name of ["cairn_queue_complete", "cairn_queue_start", "cairn_queue_release"]) {
      const fn = await queueFunction(name);
      const update = /UPDATE jobs j SET[^;]*?v_group\.ids[^;]*?(?=\s+RETURNING|;)/.exec(fn.def)?.[0];
      expect(update, name).toBeDefined();
      const statement = update!
        .replaceAll("v_group.ids", "$1::uuid[]")
        .replaceAll("v_group.fence", "$2::int")
        .replaceAll("p_worker", "$3::text")
        .replaceAll("p_lease_seconds", "$4::int");
      for (const mode of ["force_custom_plan", "force_generic_plan"] as const) {
        const plan = await planAsIn(fn, statement, "uuid[], int, text, int", `'{${batch.join(",")}}', 0, 'plan-check', 30`, mode);
        expect(scansOfJobs(plan), `${name}, ${mode}`).toEqual(["Index Scan on jobs_pkey"]);
      }
    }
    await t.owner.sql`delete from jobs where job_type = 'test.stats'`;
  });

  it("job ids are time-ordered (UUIDv7) however the job is enqueued, so jobs enqueued together sit together in the primary key", async () => {
    const { enqueueJobNow } = await import("../queue/enqueue.ts");
    const before = Date.now();
    await withTenant(t.client, tenantA, (tx) =>
      enqueueJobs(tx, Array.from({ length: 50 }, (_, i) => ({ tenantId: tenantA, jobType: "test.ids", requestedBy: "t", payload: { i } }))),
    );
    const { job: single } = await withTenant(t.client, tenantA, (tx) => enqueueJob(tx, { tenantId: tenantA, jobType: "test.ids", requestedBy: "t", payload: { i: 50 } }));
    const { job: now } = await enqueueJobNow(t.client, { tenantId: tenantA, jobType: "test.ids", requestedBy: "t", payload: { i: 51 } });
    const after = Date.now();
    const rows = await t.owner.sql<{ id: string; i: number }[]>`select id::text, (payload->>'i')::int as i from jobs where job_type = 'test.ids' order by (payload->>'i')::int`;
    expect(rows.map((r) => r.id)).toContain(single.id);
    expect(rows.map((r) => r.id)).toContain(now.id);
    for (const { id } of rows) expectUuidV7(id, before, after);
    // PostgreSQL 18 makes them in order: one statement's rows as inserted, then the next statement's job. (The id made
    // by the process is ordered by its millisecond only, so it is left out here.)
    const madeByDatabase = rows.filter((r) => r.id !== now.id).map((r) => r.id);
    expect(madeByDatabase).toEqual([...madeByDatabase].sort());
  });

  it("holds queued jobs only, a claim is recorded in job_leases, and the application role can touch neither", async () => {
    const { job } = await withTenant(t.client, tenantA, (tx) => enqueueJob(tx, { tenantId: tenantA, jobType: "test.hot", requestedBy: "t" }));
    expect((await t.owner.sql`select 1 from job_queue where job_id = ${job.id}`).length).toBe(1);
    for (const table of ["job_queue", "job_leases"]) {
      await expect(t.client.sql`select count(*) from ${t.client.sql(table)}`).rejects.toThrow(/permission denied/);
      await expect(t.client.sql`delete from ${t.client.sql(table)}`).rejects.toThrow(/permission denied/);
    }

    // The claim takes the queue row and is listed for the reaper; the record is not written (ADR 012).
    const queue = new QueueClient(t.client.sql, "hot-worker");
    const [claimed] = await queue.claimWithFacts(1, 30, ["test.hot"]);
    expect(claimed!).toMatchObject({ id: job.id, attempts: 1 });
    const [rec] = await t.owner.sql<{ status: string; lease_owner: string | null; attempts: number }[]>`select status, lease_owner, attempts from jobs where id = ${job.id}`;
    expect(rec).toEqual({ status: "queued", lease_owner: null, attempts: 0 });
    expect((await t.owner.sql`select 1 from job_queue where job_id = ${job.id}`).length).toBe(0);
    const leases = await t.owner.sql<{ id: string; lease_owner: string; job_ids: string[] }[]>`select id::text, lease_owner, job_ids from job_leases where ${job.id} = any(job_ids)`;
    expect(leases).toEqual([{ id: claimed!.leaseId, lease_owner: "hot-worker", job_ids: [job.id] }]);

    // Complete it, unstarted at its fence, with the next claim, and report the claim done: the record goes from
    // queued to succeeded in one write, with the attempt spent, and the lease row is gone.
    const done = { ids: [], leases: [claimed!.leaseId], unstarted: [job.id], fences: [fenceOf(claimed!)] };
    expect(await queue.claimWithFacts(1, 30, ["test.hot"], null, done)).toEqual([]);
    const [rec2] = await t.owner.sql<{ status: string; attempts: number; lease_owner: string | null; started: boolean }[]>`
      select status, attempts, lease_owner, started_at is not null and finished_at >= started_at as started from jobs where id = ${job.id}`;
    expect(rec2).toEqual({ status: "succeeded", attempts: 1, lease_owner: null, started: true });
    expect((await t.owner.sql`select 1 from job_leases where id = ${claimed!.leaseId}`).length).toBe(0);
  });

  it("the reaper drops a claim row once nothing runs under it, and keeps one whose job's lease was renewed", async () => {
    const a = await withTenant(t.client, tenantA, (tx) => enqueueJob(tx, { tenantId: tenantA, jobType: "test.lease-rows", requestedBy: "t" }));
    const b = await withTenant(t.client, tenantA, (tx) => enqueueJob(tx, { tenantId: tenantA, jobType: "test.lease-rows", requestedBy: "t" }));
    const queue = new QueueClient(t.client.sql, "lease-rows-worker");
    // Claimed and started: both records say running under this worker's lease.
    const claimed = await queue.claim(2, 1, ["test.lease-rows"]);
    expect(claimed.map((c) => c.id).sort()).toEqual([a.job.id, b.job.id].sort());
    const leaseId = claimed[0]!.leaseId;
    expect(await queue.complete({ ids: [a.job.id] })).toBe(1);
    // Completing it again, or a job another worker holds, completes nothing.
    expect(await queue.complete({ ids: [a.job.id] })).toBe(0);
    expect(await new QueueClient(t.client.sql, "another-worker").complete({ ids: [b.job.id] })).toBe(0);
    await sleep(1_200);
    // b's lease ran out too, but it is renewed now (a slow worker, not a dead one): the reaper leaves it alone.
    expect((await queue.renew([b.job.id], 30)).map((r) => r.id)).toEqual([b.job.id]);
    const reaper = new QueueClient(t.client.sql, "reaper");
    expect((await reaper.reap(100)).filter((r) => r.id === a.job.id || r.id === b.job.id)).toEqual([]);
    const [row] = await t.owner.sql<{ later: boolean }[]>`select expires_at > now() + interval '20 seconds' as later from job_leases where id = ${leaseId}`;
    expect(row).toEqual({ later: true });
    expect(await queue.complete({ ids: [b.job.id] })).toBe(1);
    await t.owner.sql`update job_leases set expires_at = now() - interval '1 second' where id = ${leaseId}`;
    await reaper.reap(100);
    expect((await t.owner.sql`select 1 from job_leases where id = ${leaseId}`).length).toBe(0);
  });

  it("a queued job cancelled on its record is never claimed, and the next claim drops its queue row", async () => {
    const { cancelJob } = await import("../domain/jobs/cancel-job.service.ts");
    const { job } = await withTenant(t.client, tenantB, (tx) => enqueueJob(tx, { tenantId: tenantB, jobType: "test.hot-cancel", requestedBy: "t" }));
    const keep = await withTenant(t.client, tenantB, (tx) => enqueueJob(tx, { tenantId: tenantB, jobType: "test.hot-cancel", requestedBy: "t", priority: -1 }));
    await withTenant(t.client, tenantB, (tx) => cancelJob(tx, job.id, "not needed"));
    const queue = new QueueClient(t.client.sql, "hot-worker-2");
    const claimed = await queue.claimWithFacts(5, 30, ["test.hot-cancel"]);
    expect(claimed.map((c) => c.id)).toEqual([keep.job.id]);
    expect((await t.owner.sql`select 1 from job_queue where job_id = ${job.id}`).length).toBe(0);
    const [rec] = await t.owner.sql<{ status: string; attempts: number }[]>`select status, attempts from jobs where id = ${job.id}`;
    expect(rec).toEqual({ status: "cancelled", attempts: 0 });
    expect(await queue.complete({ unstarted: [keep.job.id], fences: [fenceOf(claimed[0]!)] })).toBe(1);
  });
});

describe("claimed jobs that were not started (ADR 012)", () => {
  const enqueue = (jobType: string, maxAttempts?: number) =>
    withTenant(t.client, tenantA, (tx) => enqueueJob(tx, { tenantId: tenantA, jobType, requestedBy: "t", maxAttempts })).then((r) => r.job);
  const record = async (id: string) =>
    (await t.owner.sql<{ status: string; attempts: number; lease_owner: string | null; last_error: string | null; queued: boolean }[]>`
      select status, attempts, lease_owner, last_error, exists (select 1 from job_queue q where q.job_id = j.id) as queued from jobs j where id = ${id}`)[0]!;
  const expire = (leaseId: string) => t.owner.sql`update job_leases set expires_at = now() - interval '1 second' where id = ${leaseId}`;

  it("a start marks the job running under the claimer's lease once; asked again it answers started; a cancelled job does not start", async () => {
    const a = await enqueue("test.unstarted-start");
    const b = await enqueue("test.unstarted-start");
    const queue = new QueueClient(t.client.sql, "starter");
    const claimed = await queue.claimWithFacts(2, 30, ["test.unstarted-start"]);
    const ca = claimed.find((c) => c.id === a.id)!;
    const cb = claimed.find((c) => c.id === b.id)!;
    // A person cancels b while it is claimed but not started: its record says queued, so it ends at once.
    const { cancelJob } = await import("../domain/jobs/cancel-job.service.ts");
    expect(await withTenant(t.client, tenantA, (tx) => cancelJob(tx, b.id, "not needed"))).toEqual({ status: "cancelled", cancel_requested: false });
    const started = await queue.start([a.id, b.id], [fenceOf(ca), fenceOf(cb)], 30);
    expect(started.sort((x, y) => (x.id === a.id ? -1 : y.id === a.id ? 1 : 0))).toEqual([
      { id: a.id, started: true, status: "running", cancel_requested: false },
      { id: b.id, started: false, status: "cancelled", cancel_requested: false },
    ]);
    expect(await record(a.id)).toMatchObject({ status: "running", attempts: 1, lease_owner: "starter" });
    // A start whose answer was lost is asked again: the job is already this worker's.
    expect(await queue.start([a.id], [fenceOf(ca)], 30)).toEqual([{ id: a.id, started: true, status: "running", cancel_requested: false }]);
    expect((await record(a.id)).attempts).toBe(1);
    // b's completion at its fence finds it cancelled and leaves it so.
    expect(await queue.complete({ ids: [a.id], leases: [ca.leaseId], unstarted: [b.id], fences: [fenceOf(cb)] })).toBe(1);
    expect(await record(b.id)).toMatchObject({ status: "cancelled", attempts: 0 });
  });

  it("the reaper requeues a lost claim's unstarted jobs with the attempt spent, and the claimer can then neither start, complete nor release them", async () => {
    const a = await enqueue("test.unstarted-reap");
    const last = await enqueue("test.unstarted-reap", 1);
    const ghost = new QueueClient(t.client.sql, "ghost-claimer");
    const claimed = await ghost.claimWithFacts(2, 30, ["test.unstarted-reap"]);
    expect(claimed.map((c) => c.id).sort()).toEqual([a.id, last.id].sort());
    const ca = claimed.find((c) => c.id === a.id)!;
    await expire(ca.leaseId);
    const reaped = await new QueueClient(t.client.sql, "reaper").reap(100);
    expect(reaped.filter((r) => r.id === a.id || r.id === last.id).sort((x, y) => (x.id === a.id ? -1 : y.id === a.id ? 1 : 0))).toEqual([
      { id: a.id, tenant_id: tenantA, run_id: null, status: "queued", attempts: 1, max_attempts: 4, lease_owner: "ghost-claimer" },
      { id: last.id, tenant_id: tenantA, run_id: null, status: "timed_out", attempts: 1, max_attempts: 1, lease_owner: "ghost-claimer" },
    ]);
    expect(await record(a.id)).toMatchObject({ status: "queued", attempts: 1, queued: true, last_error: expect.stringMatching(/ghost-claimer stopped renewing its claim before the job started \(attempt 1 of 4\)/) });
    expect(await record(last.id)).toMatchObject({ status: "timed_out", attempts: 1, queued: false });
    expect((await t.owner.sql`select 1 from job_leases where id = ${ca.leaseId}`).length).toBe(0);

    // The lost claim's fence no longer holds: nothing it writes applies.
    expect(await ghost.start([a.id], [fenceOf(ca)], 30)).toEqual([{ id: a.id, started: false, status: "queued", cancel_requested: false }]);
    expect(await ghost.complete({ unstarted: [a.id], fences: [fenceOf(ca)] })).toBe(0);
    expect(await ghost.release([], [a.id], [fenceOf(ca)])).toEqual([]);
    expect(await record(a.id)).toMatchObject({ status: "queued", attempts: 1 });

    // Another worker claims it on its second attempt and completes it.
    const next = new QueueClient(t.client.sql, "next-claimer");
    const [again] = await next.claimWithFacts(1, 30, ["test.unstarted-reap"]);
    expect(again).toMatchObject({ id: a.id, attempts: 2 });
    expect(await next.complete({ leases: [again!.leaseId], unstarted: [a.id], fences: [fenceOf(again!)] })).toBe(1);
    expect(await record(a.id)).toMatchObject({ status: "succeeded", attempts: 2 });
  });

  it("the reaper leaves an unstarted job alone when it was given back or another live claim holds it", async () => {
    const j = await enqueue("test.unstarted-held");
    const first = new QueueClient(t.client.sql, "first-claimer");
    const [c1] = await first.claimWithFacts(1, 30, ["test.unstarted-held"]);
    // Given back without spending an attempt: it is queued again (a queue row), while the first claim row remains.
    expect(await first.release([], [j.id], [fenceOf(c1!)])).toEqual([j.id]);
    expect(await record(j.id)).toMatchObject({ status: "queued", attempts: 0, queued: true });
    await expire(c1!.leaseId);
    const reaper = new QueueClient(t.client.sql, "reaper");
    expect((await reaper.reap(100)).filter((r) => r.id === j.id)).toEqual([]);
    expect(await record(j.id)).toMatchObject({ status: "queued", attempts: 0, queued: true });

    // Claimed again by a second worker; the first claim row (expired again) must not take it from that claim.
    const [c1b] = await first.claimWithFacts(1, 30, ["test.unstarted-held"]);
    expect(await first.release([], [j.id], [fenceOf(c1b!)])).toEqual([j.id]);
    const second = new QueueClient(t.client.sql, "second-claimer");
    const [c2] = await second.claimWithFacts(1, 30, ["test.unstarted-held"]);
    expect(c2).toMatchObject({ id: j.id, attempts: 1 });
    await expire(c1b!.leaseId);
    expect((await reaper.reap(100)).filter((r) => r.id === j.id)).toEqual([]);
    expect(await record(j.id)).toMatchObject({ status: "queued", attempts: 0, queued: false });
    expect(await second.complete({ leases: [c2!.leaseId], unstarted: [j.id], fences: [fenceOf(c2!)] })).toBe(1);
    expect(await record(j.id)).toMatchObject({ status: "succeeded", attempts: 1 });
  });

  it("a job cancelled while it runs unstarted ends cancelled at once, and its handler's result is discarded", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let running!: () => void;
    const began = new Promise<void>((r) => (running = r));
    const worker = await startWorker(rt, {
      concurrency: 1,
      name: "unstarted-cancel-worker",
      startAfterMs: 600_000,
      handlers: [{ jobType: "test.unstarted-cancel", handler: async () => (running(), gate) }],
    });
    try {
      const job = await enqueue("test.unstarted-cancel");
      await began;
      expect(await record(job.id)).toMatchObject({ status: "queued", attempts: 0, queued: false });
      const { cancelJob } = await import("../domain/jobs/cancel-job.service.ts");
      expect(await withTenant(t.client, tenantA, (tx) => cancelJob(tx, job.id, "not needed"))).toEqual({ status: "cancelled", cancel_requested: false });
      release();
      // The worker lets it go (its completion finds it cancelled) and drops its claim row.
      await waitFor(async () => (await t.owner.sql`select 1 from job_leases where ${job.id} = any(job_ids)`).length, (n) => n === 0);
      expect(await record(job.id)).toMatchObject({ status: "cancelled", attempts: 0, last_error: "not needed" });
    } finally {
      release();
      await worker.stop();
    }
  });

  it("a handler of a job cancelled while unstarted is stopped through its AbortSignal once the worker goes to start it", async () => {
    let running!: () => void;
    const began = new Promise<void>((r) => (running = r));
    let aborted!: (reason: unknown) => void;
    const sawAbort = new Promise<unknown>((r) => (aborted = r));
    const worker = await startWorker(rt, {
      concurrency: 1,
      name: "unstarted-abort-worker",
      startAfterMs: 1_000,
      handlers: [
        {
          jobType: "test.unstarted-abort",
          handler: (ctx) =>
            new Promise((_, reject) => {
              ctx.signal.addEventListener("abort", () => (aborted(ctx.signal.reason), reject(ctx.signal.reason)));
              running();
            }),
        },
      ],
    });
    try {
      const job = await enqueue("test.unstarted-abort");
      await began;
      const { cancelJob } = await import("../domain/jobs/cancel-job.service.ts");
      expect(await withTenant(t.client, tenantA, (tx) => cancelJob(tx, job.id, "stop it"))).toEqual({ status: "cancelled", cancel_requested: false });
      expect(String(await sawAbort)).toMatch(/cancelled/);
      await waitFor(async () => (await t.owner.sql`select 1 from job_leases where ${job.id} = any(job_ids)`).length, (n) => n === 0);
      expect(await record(job.id)).toMatchObject({ status: "cancelled", attempts: 0, lease_owner: null, last_error: "stop it" });
    } finally {
      await worker.stop();
    }
  });

  it("a worker writes a short job's record once, and marks a longer one running while it runs", async () => {
    const short = await enqueue("test.unstarted-short");
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const worker = await startWorker(rt, {
      concurrency: 2,
      name: "marking-worker",
      handlers: [
        { jobType: "test.unstarted-short", handler: async () => {} },
        { jobType: "test.unstarted-long", handler: async () => gate },
      ],
    });
    try {
      await waitFor(() => record(short.id), (r) => r.status === "succeeded");
      // Claimed, run and completed within a moment: its attempt counted once, no lease left on it.
      expect(await record(short.id)).toMatchObject({ status: "succeeded", attempts: 1, lease_owner: null });
      const long = await enqueue("test.unstarted-long");
      const running = await waitFor(() => record(long.id), (r) => r.status === "running");
      expect(running).toMatchObject({ attempts: 1, lease_owner: "marking-worker" });
      release();
      expect(await waitFor(() => record(long.id), (r) => r.status === "succeeded")).toMatchObject({ attempts: 1, lease_owner: null });
    } finally {
      release();
      await worker.stop();
    }
  });
});

describe("enqueueJobNow", () => {
  it("enqueues in one statement under the tenant's row-level security, idempotently, and wakes an idle worker", async () => {
    const { enqueueJobNow } = await import("../queue/enqueue.ts");
    const first = await enqueueJobNow(t.client, { tenantId: tenantA, jobType: "test.now", requestedBy: "t", payload: { n: 1 }, idempotencyKey: "now-1" });
    const again = await enqueueJobNow(t.client, { tenantId: tenantA, jobType: "test.now", requestedBy: "t", payload: { n: 2 }, idempotencyKey: "now-1" });
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, job: { id: first.job.id, payload: { n: 1 } } });
    // The same key in another tenant is another job (the key is per tenant), and the scope really is the tenant's:
    // tenant B cannot see tenant A's job through its own scope.
    const other = await enqueueJobNow(t.client, { tenantId: tenantB, jobType: "test.now", requestedBy: "t", idempotencyKey: "now-1" });
    expect(other.job.id).not.toBe(first.job.id);
    expect(await withTenant(t.client, tenantB, (tx) => tx.execute(sql`select id from jobs where id = ${first.job.id}`))).toHaveLength(0);
    await expect(enqueueJobNow(t.client, { tenantId: "not-a-uuid", jobType: "test.now", requestedBy: "t" })).rejects.toThrow(/tenant uuid/);
    // The shared statement runs as the caller, so row-level security is not bypassed, and it sets each group's own
    // scope: called inside tenant A's transaction, it writes tenant B's job as B's, and A's scope is back afterwards.
    const [fn] = await t.owner.sql<{ definer: boolean }[]>`select prosecdef as definer from pg_proc where proname = 'cairn_enqueue_jobs'`;
    expect(fn!.definer).toBe(false);
    const row = { ord: 0, id: randomUUID(), job_type: "test.scope", requested_by: "t", source_id: null, run_id: null, payload: {}, scope: {}, policy_bindings: [],
      credential_ref_id: null, trace_id: "x", idempotency_key: null, priority: 0, max_attempts: 1, time_budget_seconds: 60, run_after: new Date().toISOString() };
    const inA = await withTenant(t.client, tenantA, async (tx) => {
      const written = await tx.execute(sql`select tenant_id from cairn_enqueue_jobs(${tenantGroups([[tenantB, [row]]])}::jsonb)`);
      const visible = await tx.execute(sql`select id from jobs where id = ${row.id}`);
      return { written: written.map((r) => r.tenant_id), visible: visible.length, scope: (await tx.execute(sql`select current_setting('app.tenant_id') as s`))[0]!.s };
    });
    expect(inA).toEqual({ written: [tenantB], visible: 0, scope: tenantA });
    expect(await withTenant(t.client, tenantB, (tx) => tx.execute(sql`select id from jobs where id = ${row.id}`))).toHaveLength(1);
    expect(() => tenantGroups([["not-a-uuid", [row]]])).toThrow(/tenant uuids/);

    const seen: string[] = [];
    const worker = await startWorker(rt, { concurrency: 2, handlers: [{ jobType: "test.now", handler: async (ctx) => void seen.push(ctx.job.id) }] });
    try {
      await waitFor(async () => seen.length, (n) => n === 2);
      await sleep(300); // idle now
      const late = await enqueueJobNow(t.client, { tenantId: tenantB, jobType: "test.now", requestedBy: "t" });
      await waitFor(async () => seen.includes(late.job.id), (ok) => ok, 5_000);
    } finally {
      await worker.stop();
    }
  });
});

describe("enqueueJobNow under concurrency", () => {
  it("concurrent callers share writes, each gets its own job, and one bad input fails only its caller", async () => {
    // (Writes are shared across tenants; a job for a tenant that does not exist fails on its own.)
    const { enqueueJobNow } = await import("../queue/enqueue.ts");
    const missingTenant = "00000000-0000-4000-8000-000000000000";
    const calls = Array.from({ length: 200 }, (_, i) =>
      enqueueJobNow(t.client, { tenantId: i % 2 ? tenantA : tenantB, jobType: "test.now-many", requestedBy: "t", payload: { i } }),
    );
    const bad = expect(enqueueJobNow(t.client, { tenantId: missingTenant, jobType: "test.now-many", requestedBy: "t" })).rejects.toThrow(/foreign key/);
    // A bad job in a shared write: the write is retried job by job, and only this caller hears about it.
    const badInBatch = expect(enqueueJobNow(t.client, { tenantId: tenantA, jobType: "test.now-many", requestedBy: "t", priority: 2 ** 40 })).rejects.toThrow(/out of range/);
    const results = await Promise.all(calls);
    await bad;
    await badInBatch;
    expect(new Set(results.map((r) => r.job.id)).size).toBe(200);
    expect(results.every((r, i) => r.created && (r.job.payload as { i: number }).i === i && r.job.tenantId === (i % 2 ? tenantA : tenantB))).toBe(true);
    const [n] = await t.owner.sql<{ n: number }[]>`select count(*)::int as n from jobs j join job_queue q on q.job_id = j.id where j.job_type = 'test.now-many'`;
    expect(n!.n).toBe(200);
  });

  it("one idempotency key submitted 300 times at once makes one job, and every caller gets it", async () => {
    const { enqueueJobNow } = await import("../queue/enqueue.ts");
    const results = await Promise.all(
      Array.from({ length: 300 }, () => enqueueJobNow(t.client, { tenantId: tenantA, jobType: "test.now-key", requestedBy: "t", idempotencyKey: "now-many-key" })),
    );
    expect(new Set(results.map((r) => r.job.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const [n] = await t.owner.sql<{ n: number }[]>`select count(*)::int as n from jobs where job_type = 'test.now-key'`;
    expect(n!.n).toBe(1);
  });
});
