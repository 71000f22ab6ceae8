// The agent's first workload: scan-worker. It claims `source.collect` jobs over the API — the control plane hands out
// only what this node's role assignments allow — runs each job's connector right here (the same connector code the
// control plane's workers run, from server/connectors), streams log lines back while renewing the lease, and reports
// the connector's output; the control plane finishes the pipeline. Cancellation, time budgets and lost leases stop a
// job; an unreachable control plane is waited out until the job's lease would have expired anyway.
import type { Logger } from "../logger.ts";
import { connectorFor } from "../connectors/registry.ts";
import type { PathPolicy } from "../connectors/path-policy.ts";
import { isTransient } from "../worker/handler.ts";
import { RUN_JOB_TYPE } from "../domain/runs/create-run.service.ts";
import type { DesiredWorkload } from "../domain/fabric/agent-protocol.ts";
import type { ClaimedJob, NodeApi, ReportedOutput } from "./agent-api.ts";
import { Refused, Unreachable } from "./control-plane-client.ts";

/** Refusals after which this node may not go on at all (the agent exits). */
export const FATAL_REASONS = new Set(["node_revoked", "membership_inactive", "certificate_expired", "identity_rotated", "unknown_identity"]);

export interface ScanWorkerOptions {
  api: () => NodeApi;
  log: Logger;
  concurrency: number;
  paths: PathPolicy;
  pollMs?: number;
  /** The control plane refused this node for good (revoked, expired): the agent must stop. */
  onFatal(err: Refused): void;
}

interface Running {
  job: ClaimedJob;
  controller: AbortController;
  stop?: "cancelled" | "timed_out" | "lease_lost" | "shutdown";
  startedAt: string;
  leaseDeadline: number;
  done: Promise<void>;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });

class Permanent extends Error {}

export class ScanWorker {
  readonly type = "scan-worker";
  private jobTypes: string[] = [RUN_JOB_TYPE];
  private readonly running = new Map<string, Running>();
  private loop: Promise<void> | null = null;
  private wake = new AbortController();
  private stopping = false;
  private stopped: Promise<void> | null = null;
  /** Unexpected failures of the claim loop since the last successful claim. */
  private crashes = 0;
  private reachable = true;
  readonly stats = { claimed: 0, succeeded: 0, failed: 0, last_error: null as string | null, last_claim_at: null as string | null };

  constructor(private readonly opts: ScanWorkerOptions) {}

  /** The job types the snapshot allows (the control plane enforces the same on every claim). */
  configure(workload: DesiredWorkload) {
    const types = [...new Set(workload.assignments.flatMap((a) => a.job_types))].filter((t) => t === RUN_JOB_TYPE);
    this.jobTypes = types.length ? types : [RUN_JOB_TYPE];
  }

  get active() {
    return this.loop !== null && !this.stopping;
  }

  state(): "running" | "idle" | "stopped" | "degraded" | "failed" {
    if (!this.loop) return "stopped";
    if (this.crashes && !this.running.size) return "failed";
    if (!this.reachable) return "degraded";
    return this.running.size ? "running" : "idle";
  }

  runningJobs() {
    return [...this.running.values()].map((r) => ({ job_id: r.job.job_id, tenant_id: r.job.tenant_id, job_type: r.job.job_type, started_at: r.startedAt }));
  }

  start() {
    // Assigned again while still winding down: start once the stop has finished.
    if (this.stopped) {
      void this.stopped.then(() => this.start());
      return;
    }
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.supervise();
  }

  /** Restarts the claim loop after an unexpected failure (with backoff) until the workload is stopped. */
  private async supervise() {
    let backoff = 1_000;
    while (!this.stopping) {
      try {
        await this.claimLoop();
        return;
      } catch (err) {
        this.crashes++;
        this.stats.last_error = (err as Error).message;
        this.opts.log.error({ err, restart_in_ms: backoff }, "scan-worker failed; restarting");
        await this.waitForWake(backoff);
        backoff = Math.min(60_000, backoff * 2);
      }
    }
  }

  /** Stops claiming; running jobs get `graceMs` to finish, then are stopped and handed back to the queue. */
  stop(graceMs = 10_000): Promise<void> {
    if (!this.loop) return Promise.resolve();
    this.stopped ??= this.windDown(graceMs).finally(() => (this.stopped = null));
    return this.stopped;
  }

  private async windDown(graceMs: number) {
    this.stopping = true;
    this.wake.abort();
    await this.loop;
    const deadline = Date.now() + graceMs;
    while (this.running.size && Date.now() < deadline) await sleep(50);
    const left = [...this.running.values()];
    for (const r of left) {
      r.stop = "shutdown";
      r.controller.abort(new Error("agent shutting down"));
    }
    await Promise.all(left.map((r) => r.done));
    if (left.length) await this.opts.api().release(left.map((r) => r.job.job_id)).catch(() => {});
    this.loop = null;
  }

  private async claimLoop() {
    const pollMs = this.opts.pollMs ?? 2_000;
    let backoff = 1_000;
    while (!this.stopping) {
      const free = this.opts.concurrency - this.running.size;
      if (free <= 0) {
        await this.waitForWake(pollMs);
        continue;
      }
      try {
        const { jobs } = await this.opts.api().claim(free, this.jobTypes);
        this.reachable = true;
        this.crashes = 0;
        backoff = 1_000;
        for (const job of jobs) this.begin(job);
        if (!jobs.length) await this.waitForWake(pollMs);
      } catch (err) {
        if (err instanceof Unreachable) {
          this.reachable = false;
          await this.waitForWake(backoff);
          backoff = Math.min(30_000, backoff * 2);
        } else if (err instanceof Refused && err.reason && FATAL_REASONS.has(err.reason)) {
          this.stopping = true;
          this.opts.onFatal(err);
        } else if (err instanceof Refused) {
          // No role or a paused workload: the next snapshot stops this workload; until then, ask rarely.
          this.stats.last_error = err.message;
          await this.waitForWake(pollMs * 5);
        } else {
          throw err;
        }
      }
    }
  }

  private waitForWake(ms: number) {
    if (this.wake.signal.aborted) this.wake = new AbortController();
    return sleep(ms, this.wake.signal);
  }

  private begin(job: ClaimedJob) {
    this.stats.claimed++;
    this.stats.last_claim_at = new Date().toISOString();
    const entry: Running = { job, controller: new AbortController(), startedAt: new Date().toISOString(), leaseDeadline: Date.now() + job.lease_seconds * 1000, done: Promise.resolve() };
    this.running.set(job.job_id, entry);
    entry.done = this.run(entry).finally(() => {
      this.running.delete(job.job_id);
      if (this.wake) this.wake.abort();
    });
  }

  private async run(entry: Running) {
    const { job, controller } = entry;
    const log = this.opts.log.child({ job: job.job_id, tenant: job.tenant_id });
    const lines: { level: "debug" | "info" | "warn" | "error"; message: string }[] = [];
    const write = (level: "debug" | "info" | "warn" | "error", message: string) => lines.push({ level, message });
    let flushing: Promise<void> = Promise.resolve();
    const flush = () =>
      (flushing = flushing.then(async () => {
        const batch = lines.splice(0);
        try {
          const answer = await this.opts.api().events(job, batch);
          entry.leaseDeadline = Date.now() + answer.lease_seconds * 1000;
          if (answer.cancel_requested && !entry.stop) {
            entry.stop = "cancelled";
            controller.abort(new Error("cancelled"));
          }
        } catch (err) {
          if (err instanceof Unreachable) {
            lines.unshift(...batch); // sent with the next flush
          } else if (err instanceof Refused && err.reason === "lease_lost") {
            entry.stop = "lease_lost";
            controller.abort(new Error("lease lost"));
          } else if (err instanceof Refused && err.reason && FATAL_REASONS.has(err.reason)) {
            entry.stop = "lease_lost";
            controller.abort(new Error(err.message));
            this.opts.onFatal(err);
          }
        }
      }));
    const pump = setInterval(() => void flush(), 1_000);
    const budget = setTimeout(() => {
      if (entry.stop) return;
      entry.stop = "timed_out";
      controller.abort(new Error(`time budget of ${job.time_budget_seconds} s exceeded`));
    }, job.time_budget_seconds * 1000);
    try {
      if (job.job_type !== RUN_JOB_TYPE || !job.source_kind) throw new Permanent(`this agent runs ${RUN_JOB_TYPE} jobs of sources only, not ${job.job_type}`);
      const connector = connectorFor(job.source_kind);
      if (!connector) throw new Permanent(`no connector for ${job.source_kind} in this agent's build`);
      const problem = connector.validateScope(job.scope);
      if (problem) throw new Permanent(`Invalid scope: ${problem}`);
      write("info", `collecting on the node (${job.source_kind})`);
      const output = await connector.collect({ scope: job.scope, credentials: {}, signal: controller.signal, paths: this.opts.paths, log: (level, message) => write(level, message) });
      controller.signal.throwIfAborted();
      clearInterval(pump);
      await flush();
      const report: ReportedOutput = {
        items: output.items,
        summary: output.summary,
        graph: output.graph,
        artifacts: output.artifacts.map((a) => ({ kind: a.kind, content_type: a.contentType, body_base64: a.body.toString("base64") })),
        warnings: output.warnings,
      };
      const answer = await this.untilLeaseEnds(entry, () => this.opts.api().complete(job, report));
      if (answer?.status === "succeeded") this.stats.succeeded++;
      else this.stats.failed++;
      log.info({ status: answer?.status ?? "unreported" }, "job reported");
    } catch (err) {
      clearInterval(pump);
      await flush().catch(() => {});
      if (entry.stop === "lease_lost" || entry.stop === "shutdown") {
        log.warn({ reason: entry.stop }, "job stopped; its results are dropped");
        return;
      }
      if (err instanceof Refused && err.reason === "lease_lost") {
        log.warn("lease lost before completion; results dropped");
        return;
      }
      const status = entry.stop === "cancelled" ? "cancelled" : entry.stop === "timed_out" ? "timed_out" : "failed";
      const message = status === "timed_out" ? `time budget of ${job.time_budget_seconds} s exceeded` : status === "cancelled" ? "cancelled" : (err as Error).message || String(err);
      this.stats.failed++;
      this.stats.last_error = message;
      await this.untilLeaseEnds(entry, () => this.opts.api().fail(job, { error: message, transient: !(err instanceof Permanent) && isTransient(err), status })).catch(() => {});
    } finally {
      clearInterval(pump);
      clearTimeout(budget);
    }
  }

  /** Retries a report while the control plane is unreachable, for as long as the job's lease can still be valid. */
  private async untilLeaseEnds<T>(entry: Running, fn: () => Promise<T>): Promise<T | null> {
    let delay = 1_000;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof Unreachable) || Date.now() > entry.leaseDeadline) throw err;
        this.reachable = false;
        await sleep(delay);
        delay = Math.min(10_000, delay * 2);
      }
    }
  }
}
