// The worker: drains the job table with bounded concurrency. Claims with SKIP LOCKED (fairly across tenants), wakes
// on LISTEN/NOTIFY with polling as a fallback, renews leases on the database clock, honours cancellation within a
// second, retries only transient failures (1 s / 2 s / 4 s), reaps expired leases, registers itself as a node, and
// on SIGTERM stops claiming, lets in-flight jobs finish within a grace period and releases the rest.
import os from "node:os";
import { randomBytes } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import type { Runtime } from "../runtime.ts";
import { withTenant } from "../../db/tenant.ts";
import { jobs, nodes, runs } from "../../db/schema/index.ts";
import { QueueClient, type ReapedJob } from "../queue/queue.ts";
import { CANCEL_CHANNEL, EVENTS_CHANNEL, JOBS_CHANNEL, type JobRow } from "../queue/enqueue.ts";
import { isTransient, RETRY_DELAYS_SECONDS, type HandlerDefinition, type JobContext } from "./handler.ts";
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
}

type StopReason = "cancelled" | "timed_out" | "lease_lost" | "shutdown";

interface Active {
  job: JobRow;
  controller: AbortController;
  log: JobLog;
  reason?: StopReason;
}

export interface Worker {
  id: string;
  nodeId: string;
  stop(graceMs?: number): Promise<void>;
  /** Jobs this worker is running right now. */
  running(): JobRow[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startWorker(rt: Runtime, opts: WorkerOptions): Promise<Worker> {
  const workerId = opts.name ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const leaseSeconds = opts.leaseSeconds ?? 30;
  const pollMs = opts.pollMs ?? 2_000;
  const handlers = new Map(opts.handlers.map((h) => [h.jobType, h]));
  const types = opts.jobTypes ?? [...handlers.keys()];
  const queue = new QueueClient(rt.db.sql, workerId);
  const log = rt.log.child({ component: "worker", worker: workerId });
  const active = new Map<string, Active>();
  let stopping = false;
  let wake: (() => void) | undefined;
  const wakeUp = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  // Register as a node so the process shows under Nodes with its heartbeat and current jobs.
  const [node] = await rt.db.db
    .insert(nodes)
    .values({ kind: "worker", name: workerId, hostname: os.hostname(), pid: process.pid, version, capabilities: { job_types: types, concurrency: opts.concurrency } })
    .onConflictDoUpdate({ target: nodes.name, set: { lastHeartbeatAt: new Date(), stoppedAt: null, status: "healthy" } })
    .returning();
  const heartbeat = async (status = "healthy") => {
    const runningJobs = [...active.values()].map((a) => ({ job_id: a.job.id, tenant_id: a.job.tenantId, job_type: a.job.jobType, started_at: (a.job.startedAt ?? new Date()).toISOString() }));
    await rt.db.db
      .update(nodes)
      .set({ lastHeartbeatAt: new Date(), runningJobs, status, ...(status === "stopped" ? { stoppedAt: new Date() } : {}) })
      .where(eq(nodes.id, node!.id));
  };

  const listeners = await Promise.all([
    rt.db.sql.listen(JOBS_CHANNEL, () => wakeUp()),
    rt.db.sql.listen(CANCEL_CHANNEL, (id) => {
      const a = active.get(id);
      if (a && !a.reason) {
        a.reason = "cancelled";
        a.controller.abort(new Error("cancelled"));
      }
    }),
  ]);

  // Batched completion for jobs without side effects to commit.
  let toComplete: string[] = [];
  let completeTimer: NodeJS.Timeout | undefined;
  let completing: Promise<unknown> = Promise.resolve();
  const flushCompletions = () => {
    clearTimeout(completeTimer);
    completeTimer = undefined;
    const ids = toComplete;
    toComplete = [];
    if (!ids.length) return completing;
    completing = completing.then(() => queue.complete(ids)).catch((err) => log.error({ err }, "batch completion failed; leases will expire and the reaper requeues"));
    return completing;
  };

  async function finalFailure(def: HandlerDefinition | undefined, job: JobRow, status: "failed" | "cancelled" | "timed_out", error: string) {
    try {
      await withTenant(rt.db, job.tenantId, async (tx) => {
        if (def?.onFinalFailure) await def.onFinalFailure(tx, job, status, error);
        else if (job.runId) {
          await tx.update(runs).set({ status, error, endedAt: new Date() }).where(and(eq(runs.id, job.runId), sql`${runs.status} in ('queued','running')`));
        }
        await tx.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${JSON.stringify({ tenant_id: job.tenantId, job_id: job.id, run_id: job.runId, kind: "status" })})`);
      });
    } catch (err) {
      log.error({ err, job: job.id }, "recording a final failure failed");
    }
  }

  async function runJob(job: JobRow) {
    const def = handlers.get(job.jobType);
    const controller = new AbortController();
    const jobLog = new JobLog(rt.db, job);
    const entry: Active = { job, controller, log: jobLog };
    active.set(job.id, entry);
    const budget = setTimeout(() => {
      if (!entry.reason) entry.reason = "timed_out";
      controller.abort(new Error(`time budget of ${job.timeBudgetSeconds} s exceeded`));
    }, job.timeBudgetSeconds * 1000);
    try {
      if (!def) throw Object.assign(new Error(`no handler for job type ${job.jobType}`), { permanent: true });
      // Authorization is re-checked at claim time, not only when the job was submitted.
      const facts = await queue.jobContext(job.id);
      if (!facts?.tenant_exists) throw new Error("the job's tenant no longer exists");
      if (job.sourceId && (facts.source_deleted !== false || facts.source_status !== "active")) throw new Error("the source was deleted or disabled after this job was queued");
      if (!facts.credential_ref_exists) throw new Error("the credential reference this job uses was deleted");
      jobLog.write("info", `attempt ${job.attempts} of ${job.maxAttempts} on ${workerId}`);
      const ctx: JobContext = {
        rt,
        job,
        signal: controller.signal,
        log: (level, message) => jobLog.write(level, message),
        redact: (...values) => jobLog.redact(...values),
        inTenant: (fn) => withTenant(rt.db, job.tenantId, fn),
      };
      const outcome = await def.handler(ctx);
      if (controller.signal.aborted) throw controller.signal.reason ?? new Error("aborted");
      if (outcome?.commit || outcome?.result) {
        // Side effects and completion in one transaction, only while this worker still owns the lease.
        await withTenant(rt.db, job.tenantId, async (tx) => {
          await outcome.commit?.(tx);
          const done = await tx
            .update(jobs)
            .set({ status: "succeeded", finishedAt: new Date(), leaseOwner: null, leaseExpiresAt: null, result: outcome.result ?? null })
            .where(and(eq(jobs.id, job.id), eq(jobs.leaseOwner, workerId), eq(jobs.status, "running")))
            .returning({ id: jobs.id });
          if (!done.length) throw Object.assign(new Error("lease lost before completion"), { leaseLost: true });
          await tx.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${JSON.stringify({ tenant_id: job.tenantId, job_id: job.id, run_id: job.runId, kind: "status" })})`);
        });
      } else {
        toComplete.push(job.id);
        if (toComplete.length >= 100) void flushCompletions();
        else completeTimer ??= setTimeout(() => void flushCompletions(), opts.completeBatchMs ?? 2);
      }
      jobLog.write("info", "succeeded");
    } catch (err) {
      const e = err as Error & { leaseLost?: boolean; permanent?: boolean };
      const reason = entry.reason;
      if (reason === "shutdown") {
        jobLog.write("warn", "worker shutting down: lease released, the job will run again");
        await queue.release([job.id]).catch(() => {});
      } else if (reason === "lease_lost" || e.leaseLost) {
        jobLog.write("warn", "lease lost: another worker owns this job now; this attempt's results were discarded");
      } else {
        const status = reason === "cancelled" ? "cancelled" : reason === "timed_out" ? "timed_out" : "failed";
        const message = reason === "timed_out" ? `time budget of ${job.timeBudgetSeconds} s exceeded` : reason === "cancelled" ? "cancelled" : e.message || String(err);
        const retry = status === "failed" && !e.permanent && isTransient(err) ? (RETRY_DELAYS_SECONDS[job.attempts - 1] ?? null) : null;
        jobLog.write(status === "failed" ? "error" : "warn", retry !== null ? `${message} (transient: retrying in ${retry} s)` : message);
        const row = await queue.fail(job.id, message, retry, status).catch((failErr) => {
          log.error({ err: failErr, job: job.id }, "could not record a job failure");
          return null;
        });
        if (row && row.status !== "queued") await finalFailure(def, job, status, message);
      }
    } finally {
      clearTimeout(budget);
      await jobLog.flush();
      active.delete(job.id);
      wakeUp();
    }
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
    const ids = [...active.keys()];
    if (!ids.length) return;
    try {
      const owned = await queue.renew(ids, leaseSeconds);
      const ownedIds = new Set(owned.map((o) => o.id));
      for (const o of owned) {
        const a = active.get(o.id);
        if (o.cancel_requested && a && !a.reason) {
          a.reason = "cancelled";
          a.controller.abort(new Error("cancelled"));
        }
      }
      for (const id of ids) {
        const a = active.get(id);
        if (a && !ownedIds.has(id) && !a.reason) {
          a.reason = "lease_lost";
          a.controller.abort(new Error("lease lost"));
        }
      }
    } catch (err) {
      log.warn({ err }, "lease renewal failed; retrying");
    }
    // Every second: cheap for a handful of ids, and it doubles as the fallback path for cancellation (a NOTIFY
    // missed during a reconnect is still honoured within a second).
  }, Math.min(1_000, (leaseSeconds * 1000) / 3));
  const reapTimer = setInterval(() => void reapOnce(), opts.reapIntervalMs ?? 5_000);
  const heartbeatTimer = setInterval(() => void heartbeat().catch(() => {}), 5_000);

  const loop = (async () => {
    let backoff = 250;
    while (!stopping) {
      const free = opts.concurrency - active.size;
      if (free <= 0) {
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      let claimed: JobRow[] = [];
      try {
        claimed = await queue.claim(free, leaseSeconds, types);
        backoff = 250;
      } catch (err) {
        log.warn({ err: (err as Error).message }, "claim failed (database unavailable?); retrying");
        await sleep(backoff);
        backoff = Math.min(5_000, backoff * 2);
        continue;
      }
      if (stopping) {
        await queue.release(claimed.map((j) => j.id)).catch(() => {});
        break;
      }
      for (const job of claimed) void runJob(job);
      if (claimed.length === 0) {
        await Promise.race([new Promise<void>((r) => (wake = r)), sleep(pollMs)]);
      }
    }
  })();

  log.info({ concurrency: opts.concurrency, types }, "worker started");
  return {
    id: workerId,
    nodeId: node!.id,
    running: () => [...active.values()].map((a) => a.job),
    async stop(graceMs = 8_000) {
      stopping = true;
      wakeUp();
      await loop;
      const deadline = Date.now() + graceMs;
      while (active.size && Date.now() < deadline) await sleep(25);
      for (const a of active.values()) {
        if (!a.reason) {
          a.reason = "shutdown";
          a.controller.abort(new Error("worker shutting down"));
        }
      }
      while (active.size) await sleep(10);
      await flushCompletions();
      clearInterval(renewTimer);
      clearInterval(reapTimer);
      clearInterval(heartbeatTimer);
      await Promise.all(listeners.map((l) => l.unlisten().catch(() => {})));
      await heartbeat("stopped").catch(() => {});
      log.info("worker stopped");
    },
  };
}
