// npm run bench:queue — Cairn's job queue against its PostgreSQL peers, on one embedded PostgreSQL, in one run:
// Cairn (enqueueJob/enqueueJobs in withTenant as cairn_app, drained by startWorker), graphile-worker, pg-boss, and a
// bare `FOR UPDATE SKIP LOCKED` claim-100/complete-100 loop (what the pattern allows at best). Each system gets its
// own database on the same server. Scenarios are interleaved system by system over several rounds (the order rotates
// each round); the table shows the median and the min–max over rounds.
//
//   npm run bench:queue -- [--rounds 5] [--jobs 20000] [--single 5000] [--single-warmup 1000] [--drain-warmup <jobs>] [--callers 10] [--concurrency 10]
//                          [--latency 200] [--gap-ms 20] [--tenants 4] [--systems cairn,graphile-worker,pg-boss,bare]
//                          [--scenarios drain,single,pickup] [--cairn-prefetch 1000] [--cairn-lanes 1]
//                          [--json results.json]
//
// Metrics: batch enqueue (jobs in transactions of 1,000), single enqueue (one job per call, 10 concurrent callers;
// Cairn's enqueueJobNow, and for Cairn also enqueueJob in a tenant transaction of its own), drain of already-queued no-op jobs by one worker process and by two (separate child processes: this
// script with --child), and pickup latency from the enqueue's commit to the handler's start (an idle in-process
// worker; jobs enqueued one at a time, spaced apart). CPU taken by processes outside this benchmark (the bench, its
// children and PostgreSQL) is read from /proc and reported: the machine is shared.
import { execFileSync, fork, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { run as runGraphile, runMigrations as migrateGraphile, makeWorkerUtils, Logger as GraphileLogger, type WorkerUtils } from "graphile-worker";
import PgBoss from "pg-boss";
import { startThrowawayPostgres, throwawayDir } from "./throwaway-postgres.ts";
import { createDbClient, type DbClient } from "../db/client.ts";
import { runMigrations } from "../db/migrate.ts";
import { appRoleUrl, provisionAppRole } from "../db/app-role.ts";
import { withTenant } from "../db/tenant.ts";
import { enqueueJob, enqueueJobNow, enqueueJobs, type EnqueueInput } from "../server/queue/enqueue.ts";
import { startWorker } from "../server/worker/worker.ts";
import { createTenant } from "../server/domain/tenants/tenants.service.ts";
import { parseEnv } from "../server/config/env.ts";
import { createLogger } from "../server/logger.ts";
import type { Runtime } from "../server/runtime.ts";

const { values: opts } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    jobs: { type: "string", default: "20000" },
    single: { type: "string", default: "5000" },
    "single-warmup": { type: "string", default: "1000" },
    "drain-warmup": { type: "string", default: "" },
    callers: { type: "string", default: "10" },
    concurrency: { type: "string", default: "10" },
    "cairn-prefetch": { type: "string", default: "1000" },
    "cairn-lanes": { type: "string", default: "1" },
    latency: { type: "string", default: "200" },
    "gap-ms": { type: "string", default: "20" },
    tenants: { type: "string", default: "4" },
    systems: { type: "string", default: "cairn,graphile-worker,pg-boss,bare" },
    scenarios: { type: "string", default: "drain,single,pickup" },
    json: { type: "string" },
    // internal: the worker side of a drain, in a child process
    child: { type: "string" },
  },
});

const ROUNDS = Number(opts.rounds);
const JOBS = Number(opts.jobs);
const SINGLE = Number(opts.single);
const SINGLE_WARMUP = Number(opts["single-warmup"]);
// As many untimed jobs as timed by default: with fewer (4,000 until ADR 009), V8's optimizing compiler was still at
// work in the worker processes during the timed drain (a profile showed its threads at 15–20% of the samples).
const DRAIN_WARMUP = opts["drain-warmup"] === "" ? JOBS : Number(opts["drain-warmup"]);
const CALLERS = Number(opts.callers);
const CONCURRENCY = Number(opts.concurrency);
const LATENCY_JOBS = Number(opts.latency);
const GAP_MS = Number(opts["gap-ms"]);
const TENANTS = Number(opts.tenants);
const SCENARIOS = new Set(opts.scenarios.split(",").map((x) => x.trim()));
const BATCH = 1_000;
const POOL = 10; // every system's pool: Cairn's CAIRN_DB_POOL_MAX default
const SECRET = "bench-queue-installation-secret-0123456789abcdef";
const SYSTEM_NAMES = ["cairn", "graphile-worker", "pg-boss", "bare"] as const;
type SystemName = (typeof SYSTEM_NAMES)[number];

/** Each system at its best documented tuning for many short jobs (written down in docs/benchmarks.md). */
const TUNING = {
  graphile: { concurrentJobs: CONCURRENCY, maxPoolSize: CONCURRENCY + 1, localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0, preparedStatements: true, pollInterval: 2_000 },
  pgBoss: { workers: CONCURRENCY, batchSize: 100, pollingIntervalSeconds: 0.5 },
  bare: { claim: 100 },
};

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------
// The systems. Each has an enqueue side (parent) and a worker side (parent for latency, children for drains).

interface Urls {
  cairnOwner: string;
  graphile: string;
  pgBoss: string;
  bare: string;
}

interface RunningWorker {
  stop(): Promise<void>;
}

interface System {
  name: SystemName;
  /** Empty the queue (and its history), then vacuum/analyze, so every scenario starts from the same state. */
  reset(): Promise<void>;
  enqueueBatch(count: number): Promise<void>;
  enqueueOne(i: number): Promise<void>;
  /** Cairn only: one job in a tenant transaction of its own (the path every domain write takes). */
  enqueueOneInTransaction?(i: number): Promise<void>;
  /** Jobs not finished yet. */
  remaining(): Promise<number>;
  startWorker(onJob: (i: number) => void): Promise<RunningWorker>;
  close(): Promise<void>;
}

const silentGraphileLogger = new GraphileLogger(() => () => {});

function cairnRuntime(app: DbClient, owner: DbClient): Runtime {
  return {
    mode: "worker",
    env: parseEnv({ NODE_ENV: "production", LOG_LEVEL: "silent", CAIRN_SECRET: SECRET, CAIRN_WORKER_CONCURRENCY: String(CONCURRENCY) }),
    log: createLogger("silent"),
    db: app,
    owner,
    secret: SECRET,
    databaseKind: "embedded",
    startedAt: new Date(),
    draining: false,
  };
}

function cairnSystem(urls: Urls, tenants: string[]): System {
  const owner = createDbClient(urls.cairnOwner, { max: 2, applicationName: "bench-queue-cairn-owner" });
  const app = createDbClient(appRoleUrl(urls.cairnOwner, SECRET), { max: POOL, applicationName: "bench-queue-cairn" });
  const input = (i: number, tenantId: string): EnqueueInput => ({ tenantId, jobType: "bench.noop", requestedBy: "bench", payload: { i } });
  return {
    name: "cairn",
    async reset() {
      await owner.sql`truncate jobs, job_logs, job_queue`;
      await owner.sql`vacuum analyze jobs, job_logs, job_queue`;
    },
    async enqueueBatch(count) {
      for (let start = 0, b = 0; start < count; start += BATCH, b++) {
        const tenantId = tenants[b % tenants.length]!;
        const inputs = Array.from({ length: Math.min(BATCH, count - start) }, (_, k) => input(start + k, tenantId));
        await withTenant(app, tenantId, (tx) => enqueueJobs(tx, inputs));
      }
    },
    async enqueueOne(i) {
      const tenantId = tenants[i % tenants.length]!;
      await enqueueJobNow(app, input(i, tenantId));
    },
    async enqueueOneInTransaction(i) {
      const tenantId = tenants[i % tenants.length]!;
      await withTenant(app, tenantId, (tx) => enqueueJob(tx, input(i, tenantId)));
    },
    async remaining() {
      const [row] = await owner.sql<{ n: number }[]>`select count(*)::int as n from jobs where status in ('queued', 'running')`;
      return row!.n;
    },
    async startWorker(onJob) {
      const worker = await startWorker(cairnRuntime(app, owner), {
        concurrency: CONCURRENCY,
        maxPrefetch: Number(opts["cairn-prefetch"]),
        claimLanes: Number(opts["cairn-lanes"]),
        handlers: [{ jobType: "bench.noop", handler: async (ctx) => onJob((ctx.job.payload as { i: number }).i) }],
      });
      return { stop: () => worker.stop() };
    },
    async close() {
      await app.close();
      await owner.close();
    },
  };
}

function graphileSystem(urls: Urls): System {
  let utils: WorkerUtils | undefined;
  const owner = postgres(urls.graphile, { max: 1, onnotice: () => {} });
  const getUtils = async () => (utils ??= await makeWorkerUtils({ connectionString: urls.graphile, logger: silentGraphileLogger, preset: { worker: { maxPoolSize: POOL } } }));
  return {
    name: "graphile-worker",
    async reset() {
      await owner`delete from graphile_worker._private_jobs`;
      await owner`vacuum analyze graphile_worker._private_jobs`;
    },
    async enqueueBatch(count) {
      const u = await getUtils();
      for (let start = 0; start < count; start += BATCH) {
        await u.addJobs(Array.from({ length: Math.min(BATCH, count - start) }, (_, k) => ({ identifier: "noop", payload: { i: start + k } })));
      }
    },
    async enqueueOne(i) {
      await (await getUtils()).addJob("noop", { i });
    },
    async remaining() {
      const [row] = await owner<{ n: number }[]>`select count(*)::int as n from graphile_worker._private_jobs`;
      return row!.n;
    },
    async startWorker(onJob) {
      const { concurrentJobs, maxPoolSize, localQueue, completeJobBatchDelay, failJobBatchDelay, preparedStatements, pollInterval } = TUNING.graphile;
      const runner = await runGraphile({
        noHandleSignals: true,
        logger: silentGraphileLogger,
        taskList: { noop: async (payload) => onJob((payload as { i: number }).i) },
        preset: { worker: { connectionString: urls.graphile, concurrentJobs, maxPoolSize, localQueue, completeJobBatchDelay, failJobBatchDelay, preparedStatements, pollInterval } },
      });
      return { stop: () => runner.stop() };
    },
    async close() {
      await utils?.release();
      await owner.end({ timeout: 5 });
    },
  };
}

const PGBOSS_QUEUE = "noop";

function pgBossSystem(urls: Urls): System {
  let boss: PgBoss | undefined;
  const owner = postgres(urls.pgBoss, { max: 1, onnotice: () => {} });
  const getBoss = async () => {
    if (!boss) {
      boss = new PgBoss({ connectionString: urls.pgBoss, max: POOL, supervise: false, schedule: false, migrate: false });
      boss.on("error", (err) => log(`pg-boss (enqueuer): ${err.message}`));
      await boss.start();
    }
    return boss;
  };
  return {
    name: "pg-boss",
    async reset() {
      await owner`truncate pgboss.job, pgboss.archive`;
      await owner`vacuum analyze pgboss.job`;
    },
    async enqueueBatch(count) {
      const b = await getBoss();
      for (let start = 0; start < count; start += BATCH) {
        await b.insert(Array.from({ length: Math.min(BATCH, count - start) }, (_, k) => ({ name: PGBOSS_QUEUE, data: { i: start + k } })));
      }
    },
    async enqueueOne(i) {
      await (await getBoss()).send(PGBOSS_QUEUE, { i });
    },
    async remaining() {
      const [row] = await owner<{ n: number }[]>`select count(*)::int as n from pgboss.job where name = ${PGBOSS_QUEUE} and state in ('created', 'retry', 'active')`;
      return row!.n;
    },
    async startWorker(onJob) {
      // A worker process as pg-boss users run one: maintenance on (its default), migrations done by the parent.
      const worker = new PgBoss({ connectionString: urls.pgBoss, max: POOL, schedule: false, migrate: false });
      worker.on("error", (err) => log(`pg-boss (worker): ${err.message}`));
      await worker.start();
      const { workers, batchSize, pollingIntervalSeconds } = TUNING.pgBoss;
      for (let k = 0; k < workers; k++) {
        await worker.work<{ i: number }>(PGBOSS_QUEUE, { batchSize, pollingIntervalSeconds }, async (jobs) => {
          for (const job of jobs) onJob(job.data.i);
        });
      }
      return { stop: () => worker.stop({ graceful: true, wait: true, timeout: 10_000 }) };
    },
    async close() {
      await boss?.stop({ graceful: false, wait: true });
      await owner.end({ timeout: 5 });
    },
  };
}

const BARE_CHANNEL = "bare_jobs";

function bareSystem(urls: Urls): System {
  const sql = postgres(urls.bare, { max: POOL, onnotice: () => {} });
  return {
    name: "bare",
    async reset() {
      await sql`truncate bare_jobs`;
      await sql`vacuum analyze bare_jobs`;
    },
    async enqueueBatch(count) {
      for (let start = 0; start < count; start += BATCH) {
        const payloads = Array.from({ length: Math.min(BATCH, count - start) }, (_, k) => JSON.stringify({ i: start + k }));
        await sql.begin(async (tx) => {
          await tx`insert into bare_jobs (payload) select p::jsonb from unnest(${payloads}::text[]) as p`;
          await tx`select pg_notify(${BARE_CHANNEL}, '')`;
        });
      }
    },
    async enqueueOne(i) {
      await sql`with ins as (insert into bare_jobs (payload) values (${sql.json({ i })}) returning id) select pg_notify(${BARE_CHANNEL}, '') from ins`;
    },
    async remaining() {
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from bare_jobs where status <> 'done'`;
      return row!.n;
    },
    async startWorker(onJob) {
      // One loop per process: claim up to 100 ready jobs, run them at most `concurrency` at a time, complete them
      // all in one statement, repeat; when the queue is empty, wait for a NOTIFY (or poll every 2 s).
      const workerId = `bare-${process.pid}`;
      let stopping = false;
      let wake: (() => void) | undefined;
      const listener = await sql.listen(BARE_CHANNEL, () => {
        const w = wake;
        wake = undefined;
        w?.();
      });
      const loop = (async () => {
        while (!stopping) {
          const claimed = await sql<{ id: string; payload: { i: number } }[]>`
            update bare_jobs j set status = 'running', locked_by = ${workerId}, locked_at = now(), attempts = j.attempts + 1
            from (select id from bare_jobs where status = 'queued' and run_at <= now() order by id limit ${TUNING.bare.claim} for update skip locked) c
            where j.id = c.id returning j.id, j.payload`;
          if (!claimed.length) {
            await Promise.race([new Promise<void>((r) => (wake = r)), sleep(2_000)]);
            continue;
          }
          let next = 0;
          await Promise.all(
            Array.from({ length: Math.min(CONCURRENCY, claimed.length) }, async () => {
              while (next < claimed.length) {
                const job = claimed[next++]!;
                await Promise.resolve(onJob(job.payload.i));
              }
            }),
          );
          await sql`update bare_jobs set status = 'done', locked_by = null, finished_at = now() where id = any(${claimed.map((j) => j.id)}::bigint[])`;
        }
      })();
      return {
        async stop() {
          stopping = true;
          wake?.();
          await loop;
          await listener.unlisten();
        },
      };
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}

function makeSystem(name: SystemName, urls: Urls, tenants: string[]): System {
  switch (name) {
    case "cairn":
      return cairnSystem(urls, tenants);
    case "graphile-worker":
      return graphileSystem(urls);
    case "pg-boss":
      return pgBossSystem(urls);
    case "bare":
      return bareSystem(urls);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Child role: the worker side of a drain. Told its system and URLs through the environment (never argv: the URLs
// carry passwords), reports progress over IPC.

interface ChildProgress {
  type: "progress";
  handled: number;
  first: number | null;
}

async function childMain(name: SystemName) {
  const urls = JSON.parse(process.env.BENCH_QUEUE_URLS ?? "{}") as Urls;
  const system = makeSystem(name, urls, []);
  let handled = 0;
  let first: number | null = null;
  let reported = -1;
  const report = () => {
    if (handled !== reported) {
      reported = handled;
      process.send!({ type: "progress", handled, first } satisfies ChildProgress);
    }
  };
  let worker: RunningWorker | undefined;
  const timer = setInterval(report, 10);
  // The parent is gone (interrupted): nothing will ask this child to stop, so it ends here.
  process.once("disconnect", () => process.exit(1));
  process.on("message", async (msg: { cmd: string }) => {
    if (msg.cmd === "warm") {
      // An untimed drain first, then a worker of its own for the timed one: the process is warm, the worker new.
      worker = await system.startWorker(() => {});
      process.send!({ type: "warming" });
    } else if (msg.cmd === "warm-stop") {
      await worker?.stop();
      worker = undefined;
      process.send!({ type: "warmed" });
    } else if (msg.cmd === "go") {
      worker = await system.startWorker(() => {
        if (first === null) first = Date.now();
        handled++;
      });
    } else if (msg.cmd === "stop") {
      await worker?.stop();
      report();
      clearInterval(timer);
      await system.close();
      process.send!({ type: "stopped" }, () => process.exit(0));
    }
  });
  process.send!({ type: "ready" });
}

// ---------------------------------------------------------------------------------------------------------------
// CPU accounting from /proc: the machine-wide busy time, and the share of it taken by this benchmark's process tree
// (this process, its children, the PostgreSQL server and its backends — reaped processes count through cutime).

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface CpuSnapshot {
  at: number;
  busy: number;
  ours: number;
  /** The part of `ours` taken by PostgreSQL (the server and its backends); the rest is Node (script and workers). */
  postgres: number;
}

function cpuSnapshot(): CpuSnapshot {
  const at = performance.now();
  let busy = 0;
  try {
    const fields = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
    busy = fields[0]! + fields[1]! + fields[2]! + fields[5]! + fields[6]! + fields[7]!;
  } catch {
    return { at, busy: NaN, ours: NaN, postgres: NaN };
  }
  const procs = new Map<number, { ppid: number; ticks: number; postgres: boolean }>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // after the command: state ppid … utime(11) stime(12) cutime(13) cstime(14)
      const postgres = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).startsWith("postgres");
      procs.set(Number(entry), { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]), postgres });
    } catch {
      /* exited meanwhile */
    }
  }
  const children = new Map<number, number[]>();
  for (const [pid, p] of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
  let ours = 0;
  let postgres = 0;
  const stack = [process.pid];
  while (stack.length) {
    const pid = stack.pop()!;
    const p = procs.get(pid);
    ours += p?.ticks ?? 0;
    if (p?.postgres) postgres += p.ticks;
    stack.push(...(children.get(pid) ?? []));
  }
  return { at, busy, ours, postgres };
}

/** CPU time per job (µs) this benchmark's Node processes and PostgreSQL spent between two snapshots. */
function cpuPerJob(a: CpuSnapshot, b: CpuSnapshot, jobs: number): { node: number; postgres: number } {
  const us = (ticks: number) => ((ticks / CLK_TCK) * 1e6) / jobs;
  return { node: us(b.ours - a.ours - (b.postgres - a.postgres)), postgres: us(b.postgres - a.postgres) };
}

/** Average cores used by everything else on the machine between two snapshots. */
function otherCores(a: CpuSnapshot, b: CpuSnapshot): number {
  const seconds = (b.at - a.at) / 1000;
  return Math.max(0, (b.busy - a.busy - (b.ours - a.ours)) / CLK_TCK / seconds);
}

// ---------------------------------------------------------------------------------------------------------------
// Scenarios (parent).

const here = fileURLToPath(import.meta.url);

function spawnChild(name: SystemName, urls: Urls): Promise<{ child: ChildProcess; progress: ChildProgress }> {
  const child = fork(here, ["--child", name, "--concurrency", String(CONCURRENCY), "--cairn-prefetch", String(opts["cairn-prefetch"]), "--cairn-lanes", String(opts["cairn-lanes"])], {
    execArgv: process.execArgv,
    env: { ...process.env, BENCH_QUEUE_URLS: JSON.stringify(urls) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const progress: ChildProgress = { type: "progress", handled: 0, first: null };
  return new Promise((resolve, reject) => {
    child.on("message", (msg: { type: string; handled?: number; first?: number | null }) => {
      if (msg.type === "ready") resolve({ child, progress });
      else if (msg.type === "progress") Object.assign(progress, { handled: msg.handled, first: msg.first });
    });
    child.once("exit", (code) => reject(new Error(`${name} child exited early (code ${code})`)));
  });
}

async function stopChild(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.send({ cmd: "stop" });
  const timeout = sleep(20_000).then(() => "timeout" as const);
  if ((await Promise.race([exited, timeout])) === "timeout") {
    child.kill("SIGKILL");
    await exited;
  }
}

interface Sample {
  value: number;
  other: number;
  /** CPU per job (µs) of this benchmark's Node processes and of PostgreSQL, where measured. */
  cpu?: { node: number; postgres: number };
}

/** Wait until the database shows every job of the system finished. */
async function untilFinished(system: System, deadline: number, failure: string) {
  while ((await system.remaining()) > 0) {
    if (Date.now() > deadline) throw new Error(`${system.name}: ${failure}`);
    await sleep(5);
  }
}

/** Send every child a command and wait for each one's answer of the given type. */
function tell(children: { child: ChildProcess }[], cmd: string, answer: string) {
  return Promise.all(
    children.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          const on = (msg: { type: string }) => {
            if (msg.type !== answer) return;
            child.off("message", on);
            resolve();
          };
          child.on("message", on);
          child.send({ cmd });
        }),
    ),
  );
}

/**
 * Batch enqueue of JOBS, then a drain by `procs` worker processes; returns both rates (jobs/s). Before that, the
 * same processes drain DRAIN_WARMUP jobs untimed with workers they then stop, so the timed drain measures the queue,
 * not the processes' start-up (connections, prepared statements, compiling hot code).
 */
async function enqueueAndDrain(system: System, urls: Urls, procs: number): Promise<{ enqueue: Sample; drain: Sample; duplicates: number }> {
  const children = await Promise.all(Array.from({ length: procs }, () => spawnChild(system.name, urls)));
  try {
    if (DRAIN_WARMUP > 0) {
      await system.reset();
      await system.enqueueBatch(DRAIN_WARMUP);
      await tell(children, "warm", "warming");
      await untilFinished(system, Date.now() + 300_000, "warm-up drain timed out");
      await tell(children, "warm-stop", "warmed");
    }
    await system.reset();
    const e0 = cpuSnapshot();
    const t0 = performance.now();
    await system.enqueueBatch(JOBS);
    const t1 = performance.now();
    const e1 = cpuSnapshot();
    const enqueue = { value: JOBS / ((t1 - t0) / 1000), other: otherCores(e0, e1) };

    const d0 = cpuSnapshot();
    for (const c of children) c.child.send({ cmd: "go" });
    const deadline = Date.now() + 300_000;
    const handled = () => children.reduce((n, c) => n + c.progress.handled, 0);
    while (handled() < JOBS) {
      if (Date.now() > deadline) throw new Error(`${system.name}: drain timed out at ${handled()} of ${JOBS}`);
      await sleep(2);
    }
    await untilFinished(system, deadline, "completions did not land");
    const end = Date.now();
    const d1 = cpuSnapshot();
    const start = Math.min(...children.map((c) => c.progress.first ?? end));
    await sleep(50); // a last progress message
    const duplicates = handled() - JOBS;
    return { enqueue, drain: { value: JOBS / ((end - start) / 1000), other: otherCores(d0, d1), cpu: cpuPerJob(d0, d1, JOBS) }, duplicates };
  } finally {
    await Promise.all(children.map((c) => stopChild(c.child)));
  }
}

async function singleEnqueue(system: System, inTransaction = false): Promise<Sample> {
  await system.reset();
  let next = 0;
  const one = inTransaction ? system.enqueueOneInTransaction!.bind(system) : system.enqueueOne.bind(system);
  // Untimed warm-up, the same for every system: pool connections opened, statements prepared, hot code compiled.
  const calls = (until: number) =>
    Promise.all(
      Array.from({ length: CALLERS }, async () => {
        while (next < until) await one(next++);
      }),
    );
  await calls(SINGLE_WARMUP);
  next = 0;
  const s0 = cpuSnapshot();
  const t0 = performance.now();
  await calls(SINGLE);
  const t1 = performance.now();
  const s1 = cpuSnapshot();
  return { value: SINGLE / ((t1 - t0) / 1000), other: otherCores(s0, s1), cpu: cpuPerJob(s0, s1, SINGLE) };
}

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function pickupLatency(system: System): Promise<{ p50: Sample; p95: Sample; lost: number }> {
  await system.reset();
  const committed = new Array<number>(LATENCY_JOBS).fill(NaN);
  const started = new Array<number>(LATENCY_JOBS).fill(NaN);
  const worker = await system.startWorker((i) => {
    if (Number.isNaN(started[i]!)) started[i] = performance.now();
  });
  try {
    await sleep(500); // idle: waiting for work
    const l0 = cpuSnapshot();
    for (let i = 0; i < LATENCY_JOBS; i++) {
      await system.enqueueOne(i);
      committed[i] = performance.now();
      await sleep(GAP_MS);
    }
    const deadline = Date.now() + 10_000;
    while (started.some((s) => Number.isNaN(s)) && Date.now() < deadline) await sleep(10);
    const l1 = cpuSnapshot();
    const lat = started.map((s, i) => s - committed[i]!).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
    const other = otherCores(l0, l1);
    return { p50: { value: percentile(lat, 0.5), other }, p95: { value: percentile(lat, 0.95), other }, lost: LATENCY_JOBS - lat.length };
  } finally {
    await worker.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------------

const METRICS = [
  { key: "enqueueBatch", label: `batch enqueue, ${BATCH.toLocaleString("en-US")} per transaction (jobs/s)`, higher: true },
  { key: "enqueueSingle", label: `single enqueue, ${CALLERS} concurrent callers (jobs/s)`, higher: true },
  { key: "enqueueSingleTx", label: `single enqueue in a tenant transaction, ${CALLERS} callers (jobs/s; Cairn only)`, higher: true },
  { key: "drain1", label: `drain, 1 process × ${CONCURRENCY} (jobs/s)`, higher: true },
  { key: "drain2", label: `drain, 2 processes × ${CONCURRENCY} (jobs/s)`, higher: true },
  { key: "pickupP50", label: "pickup latency p50 (ms)", higher: false },
  { key: "pickupP95", label: "pickup latency p95 (ms)", higher: false },
] as const;
type MetricKey = (typeof METRICS)[number]["key"];

function cpuText(s: Sample) {
  return s.cpu ? `${Math.round(s.cpu.node)} µs, PostgreSQL ${Math.round(s.cpu.postgres)} µs` : "n/a";
}

function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function fmt(x: number, higher: boolean) {
  if (!Number.isFinite(x)) return "—";
  if (higher) return Math.round(x).toLocaleString("en-US");
  return x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : Math.round(x).toLocaleString("en-US");
}

async function parentMain() {
  const systems = opts.systems.split(",").map((s) => s.trim()) as SystemName[];
  for (const s of systems) if (!SYSTEM_NAMES.includes(s)) throw new Error(`unknown system ${s} (known: ${SYSTEM_NAMES.join(", ")})`);
  const startedAt = new Date();
  const overall0 = cpuSnapshot();

  const database = await startThrowawayPostgres(throwawayDir("bench-queue"));
  const { pg } = database;
  const live: System[] = [];
  try {
    const admin = postgres(pg.urlFor("postgres"), { max: 1, onnotice: () => {} });
    for (const db of ["bench_graphile", "bench_pgboss", "bench_bare"]) await admin.unsafe(`create database ${db}`);
    const [{ v: version } = { v: "?" }] = await admin<{ v: string }[]>`select current_setting('server_version') as v`;
    await admin.end();
    const urls: Urls = { cairnOwner: pg.url, graphile: pg.urlFor("bench_graphile"), pgBoss: pg.urlFor("bench_pgboss"), bare: pg.urlFor("bench_bare") };

    // Schemas.
    const owner = createDbClient(pg.url, { max: 2, applicationName: "bench-queue-setup" });
    await runMigrations(owner);
    await provisionAppRole(owner, SECRET);
    await owner.close();
    const app = createDbClient(appRoleUrl(pg.url, SECRET), { max: 2, applicationName: "bench-queue-setup" });
    const system = { actor: "system:bench", actorType: "system" as const, requestId: null, ip: null };
    const tenants: string[] = [];
    for (let k = 0; k < TENANTS; k++) tenants.push((await createTenant(app, { slug: `bench-${k}`, name: `Bench ${k}` }, system)).id);
    await app.close();
    await migrateGraphile({ connectionString: urls.graphile, logger: silentGraphileLogger });
    const boss = new PgBoss({ connectionString: urls.pgBoss, max: 2, supervise: false, schedule: false });
    await boss.start();
    await boss.createQueue(PGBOSS_QUEUE);
    await boss.stop({ graceful: false, wait: true });
    const bareSetup = postgres(urls.bare, { max: 1, onnotice: () => {} });
    await bareSetup`create table bare_jobs (id bigserial primary key, payload jsonb not null, status text not null default 'queued',
      run_at timestamptz not null default now(), attempts int not null default 0, locked_by text, locked_at timestamptz, finished_at timestamptz)`;
    await bareSetup`create index bare_jobs_ready on bare_jobs (id) where status = 'queued'`;
    await bareSetup.end();

    const bySystem = new Map<SystemName, System>();
    for (const name of systems) {
      const s = makeSystem(name, urls, tenants);
      bySystem.set(name, s);
      live.push(s);
    }
    const results = new Map<SystemName, Record<MetricKey, Sample[]>>();
    for (const name of systems) results.set(name, { enqueueBatch: [], enqueueSingle: [], enqueueSingleTx: [], drain1: [], drain2: [], pickupP50: [], pickupP95: [] });
    const notes: string[] = [];
    const record = (name: SystemName, key: MetricKey, s: Sample) => results.get(name)![key].push(s);

    // Warm-up: one small pass per system (JIT, prepared statements, schema caches), not recorded.
    for (const name of systems) {
      const s = bySystem.get(name)!;
      await s.reset();
      await s.enqueueBatch(2_000);
      const w = await s.startWorker(() => {});
      while ((await s.remaining()) > 0) await sleep(20);
      await w.stop();
      for (let i = 0; i < 100; i++) await s.enqueueOne(i);
    }

    for (let round = 0; round < ROUNDS; round++) {
      const order = systems.map((_, k) => systems[(k + round) % systems.length]!);
      log(`round ${round + 1} of ${ROUNDS} (order: ${order.join(", ")})`);
      for (const procs of SCENARIOS.has("drain") ? [1, 2] : []) {
        for (const name of order) {
          const r = await enqueueAndDrain(bySystem.get(name)!, urls, procs);
          record(name, "enqueueBatch", r.enqueue);
          record(name, procs === 1 ? "drain1" : "drain2", r.drain);
          if (r.duplicates) notes.push(`${name}: ${r.duplicates} handler runs beyond ${JOBS} in a ${procs}-process drain (round ${round + 1})`);
          log(`  ${name.padEnd(16)} batch enqueue ${fmt(r.enqueue.value, true)} jobs/s; drain ${procs}×${CONCURRENCY} ${fmt(r.drain.value, true)} jobs/s (CPU per job: Node ${cpuText(r.drain)}; other CPU ${r.drain.other.toFixed(2)} cores)`);
        }
      }
      for (const name of SCENARIOS.has("single") ? order : []) {
        const r = await singleEnqueue(bySystem.get(name)!);
        record(name, "enqueueSingle", r);
        log(`  ${name.padEnd(16)} single enqueue ${fmt(r.value, true)} jobs/s (CPU per job: Node ${cpuText(r)}; other CPU ${r.other.toFixed(2)} cores)`);
        const system = bySystem.get(name)!;
        if (system.enqueueOneInTransaction) {
          const tx = await singleEnqueue(system, true);
          record(name, "enqueueSingleTx", tx);
          log(`  ${name.padEnd(16)} single enqueue in a tenant transaction ${fmt(tx.value, true)} jobs/s (other CPU ${tx.other.toFixed(2)} cores)`);
        }
      }
      for (const name of SCENARIOS.has("pickup") ? order : []) {
        const r = await pickupLatency(bySystem.get(name)!);
        record(name, "pickupP50", r.p50);
        record(name, "pickupP95", r.p95);
        if (r.lost) notes.push(`${name}: ${r.lost} of ${LATENCY_JOBS} latency jobs not picked up within 10 s (round ${round + 1})`);
        log(`  ${name.padEnd(16)} pickup p50 ${fmt(r.p50.value, false)} ms, p95 ${fmt(r.p95.value, false)} ms (other CPU ${r.p50.other.toFixed(2)} cores)`);
      }
    }
    const overall1 = cpuSnapshot();

    // The table.
    const peers = systems.filter((s) => s === "graphile-worker" || s === "pg-boss");
    const cell = (name: SystemName, key: MetricKey, higher: boolean) => {
      const xs = results.get(name)![key].map((s) => s.value);
      if (!xs.length) return "—";
      return `${fmt(median(xs), higher)} (${fmt(Math.min(...xs), higher)}–${fmt(Math.max(...xs), higher)})`;
    };
    const med = (name: SystemName, key: MetricKey) => median(results.get(name)![key].map((s) => s.value));
    const lines: string[] = [];
    lines.push(`| metric | ${systems.join(" | ")} | Cairn ÷ best peer | Cairn ÷ bare loop |`);
    lines.push(`|---|${systems.map(() => "---:").join("|")}|---:|---:|`);
    for (const m of METRICS) {
      const row = [m.label, ...systems.map((s) => cell(s, m.key, m.higher))];
      let vsPeer = "—";
      let vsBare = "—";
      if (systems.includes("cairn")) {
        const c = med("cairn", m.key);
        if (peers.length && peers.some((p) => results.get(p)![m.key].length)) {
          const best = m.higher ? Math.max(...peers.map((p) => med(p, m.key))) : Math.min(...peers.map((p) => med(p, m.key)));
          vsPeer = `${(c / best).toFixed(2)}×`;
        }
        if (systems.includes("bare") && results.get("bare")![m.key].length) vsBare = `${(c / med("bare", m.key)).toFixed(2)}×`;
      }
      lines.push(`| ${row.join(" | ")} | ${vsPeer} | ${vsBare} |`);
    }
    const allOther = [...results.values()].flatMap((r) => Object.values(r).flat().map((s) => s.other));
    const summary = [
      `Measured ${startedAt.toISOString().slice(0, 10)}: ${ROUNDS} rounds, median (min–max); PostgreSQL ${version}, Node ${process.version}, ${os.cpus().length} cores.`,
      `${JOBS.toLocaleString("en-US")} jobs per drain (after ${DRAIN_WARMUP.toLocaleString("en-US")} untimed in the same processes), ${SINGLE.toLocaleString("en-US")} single enqueues (after ${SINGLE_WARMUP.toLocaleString("en-US")} untimed), ${LATENCY_JOBS} pickups ${GAP_MS} ms apart; Cairn jobs spread over ${TENANTS} tenant(s).`,
      `CPU used by other processes on the machine: ${otherCores(overall0, overall1).toFixed(2)} cores on average over the run (per timed window: ${Math.min(...allOther).toFixed(2)}–${Math.max(...allOther).toFixed(2)}).`,
      `Ratios: throughput rows are Cairn ÷ the faster peer (≥ 1 is better); latency rows are Cairn ÷ the quicker peer (≤ 1 is better).`,
    ];
    process.stdout.write(`\n${summary.join("\n")}\n\n${lines.join("\n")}\n`);
    if (notes.length) process.stdout.write(`\nNotes:\n${notes.map((n) => `- ${n}`).join("\n")}\n`);
    if (opts.json) {
      const raw = Object.fromEntries([...results].map(([k, v]) => [k, v]));
      fs.writeFileSync(opts.json, JSON.stringify({ startedAt, rounds: ROUNDS, jobs: JOBS, tuning: TUNING, version, results: raw, notes }, null, 2));
    }
  } finally {
    for (const s of live) await s.close().catch(() => {});
    await database.stop();
  }
}

if (opts.child) {
  await childMain(opts.child as SystemName);
} else {
  await parentMain();
  process.exit(0);
}
