// The worker: drains the job table with bounded concurrency. Claims with SKIP LOCKED (fairly across tenants), wakes
// on LISTEN/NOTIFY with polling as a fallback, renews leases on the database clock, honours cancellation within a
// second, retries only transient failures (1 s / 2 s / 4 s), reaps expired leases, registers itself as a node, and
// on SIGTERM stops claiming, lets in-flight jobs finish within a grace period and releases the rest.
//
// Throughput for short jobs: a claim also returns each job's authorization facts (no query per job) and leaves the
// jobs' records `queued` (ADR 012): a job is marked `running` only when it belongs to a run, runs longer than
// START_AFTER_MS, fails or commits an outcome, so a short job's record is written once, when it completes;
// completions without side effects are batched; when jobs are short, a few more than the free slots are claimed into a small
// local buffer, bounded so the buffer holds only ~PREFETCH_BUDGET_MS of work (priority and fair share stay within
// that); jobs whose handler logs nothing write no log lines on success.
import { requesterRefusal } from "./requester-check.ts";
import os from "node:os";
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { and, eq, sql } from "drizzle-orm";
import type { Runtime } from "../runtime.ts";
import { withTenant, type Tx } from "../../db/tenant.ts";
import { jobs, nodes, runs } from "../../db/schema/index.ts";
import {
  fenceOf,
  QueueClient,
  WAKE_GATE_KEY,
  WAKE_IDLE_KEY,
  type ClaimedJob,
  type ClaimedRow,
  type Completions,
  type JobFacts,
  type ReapedJob,
  type StartedJob,
} from "../queue/queue.ts";
import { CANCEL_CHANNEL, EVENTS_CHANNEL, JOBS_CHANNEL, type JobRow } from "../queue/enqueue.ts";
import { isTransient, RETRY_DELAYS_SECONDS, type HandlerDefinition, type HandlerErrorFlags, type JobContext } from "./handler.ts";
import { JobLog } from "./job-log.ts";
import { version } from "../version.ts";

export interface WorkerOptions {
  concurrency: number;
  leaseSeconds?: number;
  pollMs?: number;
  handlers: HandlerDefinition[];
  /** Only these job types (default: every registered handler's type). */
  jobTypes?: string[];
  name?: string;
  /** Completions without side effects are batched: flush after this many ms. */
  completeBatchMs?: number;
  /** How often this worker looks for expired leases (default 5 s). */
  reapIntervalMs?: number;
  /** Most jobs claimed ahead of free slots (only when jobs are short; see PREFETCH_BUDGET_MS). 0 turns it off. */
  maxPrefetch?: number;
  /**
   * Claims in flight at once while prefetching (default 1: one after another). A second lane overlaps round trips,
   * but its claim skips past the rows the first one holds: measured, it cost PostgreSQL about a quarter more CPU
   * per job and drained no faster (docs/benchmarks.md).
   */
  claimLanes?: number;
  /** A claimed job not started otherwise is marked running once it has run this long (default START_AFTER_MS). */
  startAfterMs?: number;
}

/** The local buffer holds at most about this much work (estimated from recent run times), so it delays little. */
const PREFETCH_BUDGET_MS = 20;
/**
 * A database call caught in the driver's write-after-close race (server/driver-guard.ts) never settles. An attempt
 * still unfinished this long after its time budget (or after its handler returned) is abandoned: the slot is freed
 * and its lease no longer renewed, so the reaper hands the job to a worker again. Its side effects cannot apply
 * twice: completion requires the lease.
 */
const ABANDON_AFTER_MS = 15_000;

/** How often running attempts are checked against their time budgets (a budget is honoured within this). */
const BUDGET_SWEEP_MS = 100;

/**
 * A claimed job's record says `running` once the job has run this long (checked every BUDGET_SWEEP_MS), or earlier
 * when it belongs to a run, fails or commits an outcome. A shorter job goes from `queued` to `succeeded`.
 */
const START_AFTER_MS = 100;

/** Most finished jobs waiting for one completion call. */
const COMPLETE_BATCH_MAX = 500;

type StopReason = "cancelled" | "timed_out" | "lease_lost" | "shutdown";

interface Active {
  /** The claimed row: the job, its authorization facts and its claim's id (its row in job_leases). */
  job: ClaimedRow;
  /** When this attempt started (epoch ms; 0 while the job waits in the local buffer). */
  startedAt: number;
  /** Created when the handler first asks for its signal (most short jobs never do). */
  controller?: AbortController;
  reason?: StopReason;
  /** Why the attempt was stopped (the signal's reason once a controller exists). */
  stopError?: Error;
  /** Past this time an unfinished attempt is abandoned (see the watchdog); 0 until the job starts. */
  deadline: number;
  /** When the running attempt exceeds its time budget (0 when not running). */
  budgetEndsAt: number;
  /** When the lease was last taken or extended (the local clock, at the request). */
  leasedAt: number;
  abandoned?: boolean;
  /** True once the job's record says `running` under this worker's lease (cairn_queue_start). */
  started: boolean;
  /** The start in flight: true if the job started, false if it is no longer this worker's. */
  starting?: Promise<boolean>;
  /**
   * True while the last start call failed without an answer: whether the record says `running` is unknown, so the
   * claim's row must stay (the reaper settles the job from either state once it expires).
   */
  startUnknown?: boolean;
}

export interface Worker {
  id: string;
  nodeId: string;
  stop(graceMs?: number): Promise<void>;
  /** Jobs this worker is running right now. */
  running(): ClaimedJob[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startWorker(rt: Runtime, opts: WorkerOptions): Promise<Worker> {
  const workerId = opts.name ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const leaseSeconds = opts.leaseSeconds ?? 30;
  const pollMs = opts.pollMs ?? 2_000;
  const maxPrefetch = Math.max(0, opts.maxPrefetch ?? 1_000);
  const startAfterMs = opts.startAfterMs ?? START_AFTER_MS;
  const handlers = new Map(opts.handlers.map((h) => [h.jobType, h]));
  const types = opts.jobTypes ?? [...handlers.keys()];
  const queue = new QueueClient(rt.db.sql, workerId);
  const log = rt.log.child({ component: "worker", worker: workerId });
  /** Every job this worker holds a lease on: running, or waiting in the local buffer. */
  const held = new Map<string, Active>();
  const buffer: Active[] = [];
  let runningCount = 0;
  let stopping = false;

  // Wake-ups (a NOTIFY, a finished job, stop) that arrive while the loop is busy are remembered, not lost.
  let signalled = false;
  let wake: (() => void) | undefined;
  const wakeUp = () => {
    signalled = true;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const waitForWake = (ms: number) =>
    new Promise<void>((resolve) => {
      if (signalled) {
        signalled = false;
        return resolve();
      }
      const timer = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        signalled = false;
        resolve();
      };
    });

  // Recent run time of a job (moving average), for the prefetch bound; unknown until jobs have run.
  let avgRunMs: number | undefined;
  const prefetch = () => (avgRunMs === undefined || maxPrefetch === 0 ? 0 : Math.min(maxPrefetch, Math.floor((opts.concurrency * PREFETCH_BUDGET_MS) / Math.max(avgRunMs, 0.01))));

  // Register as a node so the process shows under Nodes with its heartbeat and current jobs.
  const [node] = await rt.db.db
    .insert(nodes)
    .values({ kind: "worker", name: workerId, hostname: os.hostname(), pid: process.pid, version, capabilities: { job_types: types, concurrency: opts.concurrency } })
    .onConflictDoUpdate({ target: nodes.name, set: { lastHeartbeatAt: new Date(), stoppedAt: null, status: "healthy" } })
    .returning();
  const runningJobs = () => [...held.values()].filter((a) => a.startedAt > 0);
  const heartbeat = async (status = "healthy") => {
    const current = runningJobs().map((a) => ({ job_id: a.job.id, tenant_id: a.job.tenantId, job_type: a.job.jobType, started_at: new Date(a.startedAt).toISOString() }));
    await rt.db.db
      .update(nodes)
      .set({ lastHeartbeatAt: new Date(), runningJobs: current, status, ...(status === "stopped" ? { stoppedAt: new Date() } : {}) })
      .where(eq(nodes.id, node!.id));
  };

  const abortJob = (a: Active, reason: StopReason, error: Error) => {
    if (a.reason) return;
    a.reason = reason;
    a.stopError = error;
    a.controller?.abort(error);
  };
  const signalOf = (a: Active) => {
    if (!a.controller) {
      a.controller = new AbortController();
      if (a.reason) a.controller.abort(a.stopError);
    }
    return a.controller.signal;
  };

  const listeners = await Promise.all([
    rt.db.sql.listen(JOBS_CHANNEL, () => wakeUp()),
    rt.db.sql.listen(CANCEL_CHANNEL, (id) => {
      const a = held.get(id);
      if (a) abortJob(a, "cancelled", new Error("cancelled"));
    }),
  ]);

  // Idle marking (drizzle/0006_queue_tuning.sql): enqueues NOTIFY only while some worker holds the IDLE lock, so a
  // worker with free slots holds it (a session lock) before it waits for a NOTIFY. It lives on a one-connection
  // client of its own, not a reserved pool connection: if that connection drops, the lock goes with it, and the
  // worker learns so (onclose) and marks itself again before it next waits.
  let idleHeld = false;
  /** True while marked idle with the gate seen clear: from then on every enqueue NOTIFYs, so waiting is safe. */
  let armed = false;
  const o = rt.db.sql.options;
  // The pool's own parsed connection settings (ParsedOptions types some fields, e.g. pass, more narrowly than Options).
  const idleSql = postgres({
    host: o.host,
    port: o.port,
    path: o.path,
    database: o.database,
    user: o.user,
    pass: o.pass,
    ssl: o.ssl,
    target_session_attrs: o.target_session_attrs,
    connect_timeout: o.connect_timeout,
    connection: { application_name: `${o.connection.application_name ?? "cairn"}-idle` },
    max: 1,
    idle_timeout: 0,
    max_lifetime: null,
    fetch_types: false,
    onnotice: () => {},
    onclose: () => {
      idleHeld = false;
      armed = false;
      wakeUp();
    },
  } as unknown as postgres.Options<Record<string, never>>);
  /** True once this worker is marked idle and every enqueue that could have missed the mark has committed. */
  async function markIdle(): Promise<boolean> {
    try {
      if (!idleHeld) {
        const [r] = await idleSql<{ ok: boolean }[]>`select pg_try_advisory_lock_shared(${WAKE_IDLE_KEY}::bigint) as ok`;
        idleHeld = r!.ok;
        if (!idleHeld) return false;
      }
      const [g] = await idleSql<{ clear: boolean }[]>`select case when pg_try_advisory_lock(${WAKE_GATE_KEY}::bigint) then pg_advisory_unlock(${WAKE_GATE_KEY}::bigint) else false end as clear`;
      return g!.clear;
    } catch (err) {
      log.warn({ err: (err as Error).message }, "could not mark the worker idle; polling instead");
      await unmarkIdle();
      return false;
    }
  }
  async function unmarkIdle() {
    if (!idleHeld) return;
    idleHeld = false;
    await idleSql`select pg_advisory_unlock_all()`.catch(() => {});
  }

  // Batched completion for jobs without side effects to commit. Completions ride along with the next claim (one
  // round trip, one transaction); when no claim is in flight they are flushed on their own after completeBatchMs.
  // A claim whose jobs have all left this worker (completed, failed, given back) has its lease row dropped with them.
  let toComplete: string[] = [];
  /** Finished jobs that were never started, with their fences. */
  let toCompleteUnstarted: string[] = [];
  let unstartedFences: number[] = [];
  let leasesDone: string[] = [];
  /** Jobs of each claim still held by this worker. */
  const leaseJobs = new Map<string, number>();
  const leaveLease = (a: Active) => {
    const leaseId = a.job.leaseId;
    const left = (leaseJobs.get(leaseId) ?? 1) - 1;
    if (left > 0) {
      leaseJobs.set(leaseId, left);
      return;
    }
    leaseJobs.delete(leaseId);
    leasesDone.push(leaseId);
    completeSoon();
  };
  /** Give jobs back without spending an attempt; false when that could not be written (the reaper will do it). */
  const giveBack = (entries: Pick<Active, "job" | "started">[]) => {
    const started = entries.filter((a) => a.started);
    const unstarted = entries.filter((a) => !a.started);
    return queue
      .release(
        started.map((a) => a.job.id),
        unstarted.map((a) => a.job.id),
        unstarted.map((a) => fenceOf(a.job)),
      )
      .then(
        () => true,
        () => false,
      );
  };
  let completeTimer: NodeJS.Timeout | undefined;
  let completing: Promise<unknown> = Promise.resolve();
  const takeCompletions = (): Completions => {
    clearTimeout(completeTimer);
    completeTimer = undefined;
    const taken = { ids: toComplete, leases: leasesDone, unstarted: toCompleteUnstarted, fences: unstartedFences };
    toComplete = [];
    leasesDone = [];
    toCompleteUnstarted = [];
    unstartedFences = [];
    return taken;
  };
  const putBack = (done: Completions) => {
    toComplete.push(...done.ids);
    leasesDone.push(...done.leases);
    toCompleteUnstarted.push(...done.unstarted);
    unstartedFences.push(...done.fences);
  };
  const pendingCompletions = () => toComplete.length + toCompleteUnstarted.length;
  let claiming = 0;
  const flushCompletions = () => {
    const done = takeCompletions();
    if (!done.ids.length && !done.leases.length && !done.unstarted.length) return completing;
    completing = completing.then(() => queue.complete(done)).catch((err) => log.error({ err }, "batch completion failed; leases will expire and the reaper requeues"));
    return completing;
  };
  /** Completions wait for the next claim while one is in flight (it is about to return and claim again). */
  const completeSoon = () => {
    if (pendingCompletions() >= COMPLETE_BATCH_MAX) void flushCompletions();
    else completeTimer ??= setTimeout(onCompleteTimer, opts.completeBatchMs ?? 2);
  };
  const onCompleteTimer = () => {
    completeTimer = undefined;
    if (claiming > 0) completeTimer = setTimeout(onCompleteTimer, opts.completeBatchMs ?? 2);
    else void flushCompletions();
  };
  const claimNext = async (want: number) => {
    claiming++;
    const done = takeCompletions();
    try {
      return await queue.claimWithFacts(want, leaseSeconds, types, null, done);
    } catch (err) {
      // Nothing was committed: complete them with a later call.
      putBack(done);
      throw err;
    } finally {
      claiming--;
      if (pendingCompletions() || leasesDone.length) completeSoon();
    }
  };

  // Starting claimed jobs: the record says `running` under this worker's lease from then on. Starts asked for in the
  // same turn of the event loop (the jobs of a claim that belong to runs, the sweep's long-running jobs) share one call.
  let startBatch: { entries: Active[]; answer: Promise<Map<string, StartedJob>> } | undefined;
  const ensureStarted = (a: Active): Promise<boolean> => {
    if (a.started) return Promise.resolve(true);
    if (a.starting) return a.starting;
    if (!startBatch) {
      const entries: Active[] = [];
      const answer = Promise.resolve().then(async () => {
        startBatch = undefined;
        const rows = await queue.start(
          entries.map((e) => e.job.id),
          entries.map((e) => fenceOf(e.job)),
          leaseSeconds,
        );
        return new Map(rows.map((r) => [r.id, r]));
      });
      startBatch = { entries, answer };
    }
    startBatch.entries.push(a);
    const starting = startBatch.answer.then(
      (rows) => {
        a.startUnknown = false;
        const r = rows.get(a.job.id);
        if (r?.started) {
          a.started = true;
          a.leasedAt = Date.now();
          if (r.cancel_requested) abortJob(a, "cancelled", new Error("cancelled"));
          return true;
        }
        if (r?.status === "cancelled") abortJob(a, "cancelled", new Error("cancelled"));
        else abortJob(a, "lease_lost", new Error("lease lost"));
        return false;
      },
      (err: unknown) => {
        a.startUnknown = true;
        a.starting = undefined;
        throw err;
      },
    );
    a.starting = starting;
    return starting;
  };

  async function finalFailure(def: HandlerDefinition | undefined, job: ClaimedJob, status: "failed" | "cancelled" | "timed_out", error: string, cause?: unknown) {
    try {
      await withTenant(rt.db, job.tenantId, async (tx) => {
        if (def?.onFinalFailure) await def.onFinalFailure(tx, job, status, error, cause);
        else if (job.runId) {
          await tx.update(runs).set({ status, error, endedAt: new Date() }).where(and(eq(runs.id, job.runId), sql`${runs.status} in ('queued','running')`));
        }
        await tx.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${JSON.stringify({ tenant_id: job.tenantId, job_id: job.id, run_id: job.runId, kind: "status" })})`);
      });
    } catch (err) {
      log.error({ err, job: job.id }, "recording a final failure failed");
    }
  }

  /**
   * What a handler is given (JobContext), one per attempt. A class, not an object of closures: a short job creates
   * one object, and its log object and abort controller only if it uses them.
   */
  class Attempt implements JobContext {
    readonly rt = rt;
    readonly job: ClaimedJob;
    /** True once a line was written: the attempt line went first, and success is logged too. */
    logged = false;
    private jobLog: JobLog | undefined;
    constructor(private readonly entry: Active) {
      this.job = entry.job;
    }
    get signal() {
      return signalOf(this.entry);
    }
    logFile(): JobLog {
      return (this.jobLog ??= new JobLog(rt.db, this.job));
    }
    /** The attempt line is written only with the first line that follows it: a job that succeeds without logging leaves no lines. */
    log(level: "debug" | "info" | "warn" | "error", message: string) {
      const out = this.logFile();
      if (!this.logged) {
        this.logged = true;
        out.write("info", `attempt ${this.job.attempts} of ${this.job.maxAttempts} on ${workerId}`);
      }
      out.write(level, message);
    }
    redact(...values: string[]) {
      this.logFile().redact(...values);
    }
    inTenant<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
      return withTenant(rt.db, this.job.tenantId, fn);
    }
    flush(): Promise<void> {
      return this.jobLog ? this.jobLog.flush() : Promise.resolve();
    }
  }

  async function runJob(entry: Active) {
    // The claimed row carries the authorization facts beside the job.
    const { job } = entry;
    const facts: JobFacts = job;
    const def = handlers.get(job.jobType);
    entry.startedAt = Date.now();
    entry.deadline = Date.now() + job.timeBudgetSeconds * 1000 + ABANDON_AFTER_MS;
    runningCount++;
    const t0 = performance.now();
    const ctx = new Attempt(entry);
    /**
     * True once this attempt's outcome is recorded (or the job is no longer ours): only then may its claim's lease
     * row go. An outcome that could not be written (the database was away) leaves the row, so the reaper finds the
     * job when its lease runs out.
     */
    let settled = false;
    // The time budget is enforced by the sweep below (every BUDGET_SWEEP_MS), not by a timer per job.
    entry.budgetEndsAt = Date.now() + job.timeBudgetSeconds * 1000;
    try {
      if (entry.reason) throw entry.stopError ?? new Error("aborted");
      if (!def) throw Object.assign(new Error(`no handler for job type ${job.jobType}`), { permanent: true });
      // Authorization is re-checked at claim time (the facts came with the claim), not only when the job was submitted.
      if (!facts.tenant_exists) throw new Error("the job's tenant no longer exists");
      if (job.sourceId && (facts.source_deleted !== false || facts.source_status !== "active")) throw new Error("the source was deleted or disabled after this job was queued");
      if (!facts.credential_ref_exists) throw new Error("the credential reference this job uses was deleted");
      // A job of a run is marked running before its handler changes the run (the record tells the same story).
      if (job.runId && !(await ensureStarted(entry))) throw entry.stopError ?? new Error("lease lost");
      // ...and so is the requester's own right to run it (a removed member or a revoked key stops the job).
      if (job.sourceId) {
        const refused = await requesterRefusal(rt.db, job.tenantId, job.requestedBy, "run:source");
        if (refused) throw Object.assign(new Error(refused), { permanent: true });
      }
      const outcome = await def.handler(ctx);
      if (entry.reason) throw entry.stopError ?? new Error("aborted");
      // The log up to the outcome is stored before the outcome is visible: whoever sees the job or its run finished
      // finds the lines that led there (only the closing "succeeded" line follows).
      if (ctx.logged) await ctx.flush();
      entry.deadline = Date.now() + ABANDON_AFTER_MS; // completing: a few round trips at most
      if (outcome?.commit || outcome?.result) {
        if (!(await ensureStarted(entry))) throw entry.stopError ?? new Error("lease lost");
        // Side effects and completion in one transaction, only while this worker still owns the lease.
        await withTenant(rt.db, job.tenantId, async (tx) => {
          // The record is locked first, and only while the lease is ours (cairn_queue_finish).
          const [held] = await tx.execute<{ ok: boolean }>(sql`select cairn_queue_finish(${workerId}, ${job.id}) as ok`);
          if (!held?.ok) throw Object.assign(new Error("lease lost before completion"), { leaseLost: true });
          await outcome.commit?.(tx);
          const done = await tx
            .update(jobs)
            .set({ status: "succeeded", finishedAt: new Date(), leaseOwner: null, leaseExpiresAt: null, result: outcome.result ?? null })
            .where(and(eq(jobs.id, job.id), eq(jobs.leaseOwner, workerId), eq(jobs.status, "running")))
            .returning({ id: jobs.id });
          if (!done.length) throw Object.assign(new Error("lease lost before completion"), { leaseLost: true });
          await tx.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${JSON.stringify({ tenant_id: job.tenantId, job_id: job.id, run_id: job.runId, kind: "status" })})`);
        });
        settled = true;
      } else {
        // Completed in the same call that drops the claim's lease row (or in neither, if that call fails). A start
        // still in flight decides how: as a started job, not at all (the job is no longer ours), or not yet (unknown).
        const ours = entry.starting ? await entry.starting.catch(() => null) : true;
        if (ours && entry.started) toComplete.push(job.id);
        else if (ours) {
          toCompleteUnstarted.push(job.id);
          unstartedFences.push(fenceOf(job));
        }
        if (ours) completeSoon();
        else if (ours === false) {
          ctx.log("warn", `${entry.reason === "cancelled" ? "cancelled" : "lease lost: another worker owns this job now"}; this attempt's result was discarded`);
        }
        settled = ours !== null;
        if (!ours) return;
      }
      if (ctx.logged) ctx.logFile().write("info", "succeeded");
    } catch (err) {
      const e = err as Error & { leaseLost?: boolean } & HandlerErrorFlags;
      const reason = entry.reason;
      if (reason === "shutdown") {
        ctx.log("warn", "worker shutting down: lease released, the job will run again");
        if (entry.starting) await entry.starting.catch(() => null);
        settled = await giveBack([entry]);
      } else if (reason === "lease_lost" || e.leaseLost) {
        ctx.log("warn", "lease lost: another worker owns this job now; this attempt's results were discarded");
        settled = true;
      } else {
        const status = reason === "cancelled" ? "cancelled" : reason === "timed_out" || e.finalStatus === "timed_out" ? "timed_out" : "failed";
        const message = reason === "timed_out" ? `time budget of ${job.timeBudgetSeconds} s exceeded` : reason === "cancelled" ? "cancelled" : e.message || String(err);
        const retry = status === "failed" && !e.permanent && isTransient(err) ? (RETRY_DELAYS_SECONDS[job.attempts - 1] ?? null) : null;
        ctx.log(status === "failed" ? "error" : "warn", retry !== null ? `${message} (transient: retrying in ${retry} s)` : message);
        await ctx.flush();
        // A failure is recorded on a started job: one not started yet is started first (its attempt is spent).
        const ours = await ensureStarted(entry).catch((startErr) => {
          log.error({ err: startErr, job: job.id }, "could not record a job failure");
          return null;
        });
        // false: cancelled or requeued meanwhile, nothing left to record.
        if (ours === false) settled = true;
        const row = !ours
          ? null
          : await queue.fail(job.id, message, retry, status).then(
              (r) => {
                settled = true;
                return r;
              },
              (failErr) => {
                log.error({ err: failErr, job: job.id }, "could not record a job failure");
                return null;
              },
            );
        if (row && row.status !== "queued") await finalFailure(def, job, status, message, reason ? undefined : err);
      }
    } finally {
      entry.budgetEndsAt = 0;
      const ms = performance.now() - t0;
      avgRunMs = avgRunMs === undefined ? ms : avgRunMs * 0.9 + ms * 0.1;
      await ctx.flush();
      if (!entry.abandoned) {
        held.delete(job.id);
        runningCount--;
        if (settled && !entry.startUnknown) leaveLease(entry);
      }
      // The freed slot takes the next buffered job at once, even while the loop waits for a claim to return.
      startBuffered();
      // The claim loop is woken only when it would claim now. Waking it after every job (to find, nearly always,
      // that the buffer still holds enough) cost a promise and a timer per job.
      if (claimWanted() > 0) wakeUp();
    }
  }

  function startBuffered() {
    if (stopping) return;
    while (runningCount < opts.concurrency && buffer.length) void runJob(buffer.shift()!);
    if (wakeLane1 && moreQueued && buffer.length <= prefetch() / 2) wakeLane1();
  }

  async function reapOnce() {
    let reaped: ReapedJob[];
    try {
      reaped = await queue.reap(100);
    } catch (err) {
      log.warn({ err }, "reaper could not run");
      return;
    }
    for (const r of reaped) {
      const job = { id: r.id, tenantId: r.tenant_id, runId: r.run_id } as JobRow;
      const jobLog = new JobLog(rt.db, job);
      const what = r.status === "queued" ? `requeued (attempt ${r.attempts} of ${r.max_attempts} used)` : `timed out after ${r.attempts} attempts`;
      jobLog.write("warn", `reaper: lease held by ${r.lease_owner ?? "?"} expired; ${what}`);
      await jobLog.flush();
      if (r.status === "timed_out") {
        const [full] = await withTenant(rt.db, r.tenant_id, (tx) => tx.select().from(jobs).where(eq(jobs.id, r.id)));
        if (full) await finalFailure(handlers.get(full.jobType), full, "timed_out", full.lastError ?? "lease expired");
      }
    }
    if (reaped.length) wakeUp();
  }

  const renewTimer = setInterval(async () => {
    const now = Date.now();
    for (const a of held.values()) {
      if (a.startedAt > 0 && !a.abandoned && a.deadline && now > a.deadline) {
        a.abandoned = true;
        held.delete(a.job.id);
        runningCount--;
        log.warn({ job: a.job.id }, "attempt stuck on the database; abandoned (its lease will expire and the job run again)");
        abortJob(a, "lease_lost", new Error("attempt abandoned"));
        wakeUp();
      }
    }
    // Running jobs every second (it doubles as the fallback path for cancellation: a NOTIFY missed during a
    // reconnect is still honoured within a second); jobs waiting in the local buffer only once a third of their
    // lease is used (they rarely wait that long).
    const renewAfter = (leaseSeconds * 1000) / 3;
    const ids: string[] = [];
    /** Only a job started before the renewal is sent can be found lost by it (an unstarted one is held by its claim row). */
    const startedIds = new Set<string>();
    for (const a of held.values()) {
      if (a.startedAt > 0 || now - a.leasedAt >= renewAfter) ids.push(a.job.id);
      if (a.started) startedIds.add(a.job.id);
    }
    if (!ids.length) return;
    try {
      const owned = await queue.renew(ids, leaseSeconds);
      const ownedIds = new Set(owned.map((o) => o.id));
      const renewedAt = Date.now();
      for (const o of owned) {
        const a = held.get(o.id);
        if (!a) continue;
        a.leasedAt = renewedAt;
        if (o.cancel_requested) abortJob(a, "cancelled", new Error("cancelled"));
      }
      for (const id of ids) {
        const a = held.get(id);
        if (a && startedIds.has(id) && !ownedIds.has(id)) abortJob(a, "lease_lost", new Error("lease lost"));
      }
    } catch (err) {
      log.warn({ err }, "lease renewal failed; retrying");
    }
  }, Math.min(1_000, (leaseSeconds * 1000) / 3));
  const reapTimer = setInterval(() => void reapOnce(), opts.reapIntervalMs ?? 5_000);
  const budgetTimer = setInterval(() => {
    const now = Date.now();
    for (const a of held.values()) {
      if (a.budgetEndsAt && now >= a.budgetEndsAt) abortJob(a, "timed_out", new Error(`time budget of ${a.job.timeBudgetSeconds} s exceeded`));
      // A job still running after START_AFTER_MS is marked running (a failed start is tried again on the next sweep).
      else if (a.budgetEndsAt && !a.started && !a.starting && !a.reason && now - a.startedAt >= startAfterMs) void ensureStarted(a).catch(() => {});
    }
  }, BUDGET_SWEEP_MS);
  const heartbeatTimer = setInterval(() => void heartbeat().catch((err) => log.warn({ err: (err as Error).message }, "heartbeat failed")), 5_000);

  // Claim lanes. Lane 0 claims whenever a slot is free or the local buffer runs low, and it alone marks the worker
  // idle when the queue is empty. With claimLanes 2, while jobs are short (prefetching) and the last claim came back
  // full, lane 1 claims too, so one claim's round trip overlaps another's.
  let claimingWant = 0;
  let moreQueued = false;
  /**
   * How many jobs to claim now (0: none). A claim is wanted when a slot is free and nothing is buffered, or
   * (prefetching) when the buffer runs low; it asks for the free slots plus the prefetch, less what is held or
   * already being claimed.
   */
  function claimWanted(): number {
    const ahead = prefetch();
    const want = opts.concurrency + ahead - held.size - claimingWant;
    const needed = runningCount < opts.concurrency ? buffer.length === 0 && claimingWant === 0 : ahead > 0 && buffer.length <= ahead / 2;
    return needed && want > 0 ? want : 0;
  }
  let wakeLane1: (() => void) | undefined;
  /** Lane 1 sleeps until the buffer runs low (startBuffered) or a full claim says more is queued. */
  const laneWait = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, pollMs);
      function done() {
        clearTimeout(timer);
        wakeLane1 = undefined;
        resolve();
      }
      wakeLane1 = done;
    });
  const lane = async (index: number) => {
    let backoff = 250;
    let idleBackoff = 2;
    while (!stopping) {
      startBuffered();
      if (index > 0 && !(moreQueued && prefetch() > 0)) {
        await laneWait();
        continue;
      }
      const want = claimWanted();
      if (want === 0) {
        if (index > 0) await laneWait();
        else await waitForWake(pollMs);
        continue;
      }
      let claimed: ClaimedRow[] = [];
      claimingWant += want;
      const claimedAt = Date.now();
      try {
        claimed = await claimNext(want);
        backoff = 250;
      } catch (err) {
        log.warn({ err: (err as Error).message }, "claim failed (database unavailable?); retrying");
        armed = false;
        moreQueued = false;
        await sleep(backoff);
        backoff = Math.min(5_000, backoff * 2);
        continue;
      } finally {
        claimingWant -= want;
      }
      if (stopping) {
        // The claim's row goes only if the jobs went back (else the reaper finds them when their leases run out).
        if (claimed.length && (await giveBack(claimed.map((job) => ({ job, started: false }))))) leasesDone.push(claimed[0]!.leaseId);
        break;
      }
      if (claimed.length) leaseJobs.set(claimed[0]!.leaseId, claimed.length);
      for (const job of claimed) {
        const entry: Active = { job, startedAt: 0, deadline: 0, budgetEndsAt: 0, leasedAt: claimedAt, started: false };
        held.set(job.id, entry);
        buffer.push(entry);
      }
      startBuffered();
      moreQueued = claimed.length === want;
      if (moreQueued) {
        // More may be queued: stay busy, and let enqueues skip their NOTIFY.
        armed = false;
        if (idleHeld) void unmarkIdle();
        wakeLane1?.();
      }
      if (claimed.length > 0 || index > 0) continue;
      if (!armed) {
        if (await markIdle()) {
          armed = true;
          idleBackoff = 2;
          continue; // one last claim: every enqueue that could have missed the mark has committed by now
        }
        // An enqueue that has not committed yet may not have seen the mark: look again shortly.
        await waitForWake(Math.min(idleBackoff, pollMs));
        idleBackoff = Math.min(50, idleBackoff * 2);
        continue;
      }
      await waitForWake(pollMs);
    }
  };
  const loop = Promise.all(Array.from({ length: Math.max(1, opts.claimLanes ?? 1) }, (_, i) => lane(i)));

  log.info({ concurrency: opts.concurrency, types }, "worker started");
  return {
    id: workerId,
    nodeId: node!.id,
    running: () => runningJobs().map((a) => a.job),
    async stop(graceMs = 8_000) {
      stopping = true;
      wakeUp();
      wakeLane1?.();
      await loop;
      // Jobs still waiting in the local buffer never started: give them back at once, without spending an attempt.
      const waiting = buffer.splice(0);
      for (const a of waiting) held.delete(a.job.id);
      if (waiting.length && (await giveBack(waiting))) for (const a of waiting) leaveLease(a);
      const deadline = Date.now() + graceMs;
      while (runningCount && Date.now() < deadline) await sleep(25);
      for (const a of held.values()) {
        abortJob(a, "shutdown", new Error("worker shutting down"));
        if (a.startedAt > 0) a.deadline = Math.min(a.deadline, Date.now() + 3_000); // a stuck attempt must not hold shutdown
      }
      while (runningCount) await sleep(10);
      await flushCompletions();
      clearInterval(renewTimer);
      clearInterval(reapTimer);
      clearInterval(budgetTimer);
      clearInterval(heartbeatTimer);
      await unmarkIdle();
      await idleSql.end({ timeout: 5 }).catch(() => {});
      await Promise.all(listeners.map((l) => l.unlisten().catch(() => {})));
      await heartbeat("stopped").catch(() => {});
      log.info("worker stopped");
    },
  };
}
