// The queue's operations across tenants (claim, start, renew, complete, fail, release, reap), as calls to the SQL
// functions of the migrations (latest versions in drizzle/0023_queue_pop_claim_functions.sql and
// drizzle/0029_queue_claims_leave_the_record.sql) — all cross-tenant queue SQL lives there.
//
// A claim leaves each job's record `queued` (ADR 012): the job is held by its claim's row in job_leases until it
// is started (marked `running` under the claimer's lease) or completed. Writes to a claimed job that was not started
// carry its fence, the record's attempt count at claim time (`fenceOf`).
import type { Sql } from "postgres";
import type { JobRow } from "./enqueue.ts";

type RawJob = Record<string, unknown>;

/** Advisory lock keys of the wake-up protocol (drizzle/0006_queue_tuning.sql): enqueues hold GATE, idle workers IDLE. */
export const WAKE_GATE_KEY = 7_204_118_320;
export const WAKE_IDLE_KEY = 7_204_118_321;

/**
 * What a claim carries of a job: what running it needs, not its history or outcome (a claimed job is running, under
 * the claimer's lease). Named as the claim function's columns (drizzle/0024), so claimed rows are used as they arrive.
 */
export type ClaimedJob = Pick<
  JobRow,
  | "id"
  | "tenantId"
  | "sourceId"
  | "runId"
  | "jobType"
  | "priority"
  | "payload"
  | "scope"
  | "policyBindings"
  | "credentialRefId"
  | "requestedBy"
  | "traceId"
  | "attempts"
  | "maxAttempts"
  | "timeBudgetSeconds"
  | "cancelRequested"
>;

/** What the worker re-checks at claim time before running a job. */
export interface JobFacts {
  tenant_exists: boolean;
  source_status: string | null;
  source_deleted: boolean | null;
  credential_ref_exists: boolean;
}

const asDate = (v: unknown): Date | null => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(v as string));

/**
 * A row from the queue functions (snake_case, timestamps possibly as text) in the shape Drizzle gives elsewhere.
 * Written out field by field: it runs for every claimed job, and `satisfies` fails the build if a column is missed.
 */
export function toJobRow(r: RawJob): JobRow {
  const row = {
    id: r.id as string,
    tenantId: r.tenant_id as string,
    sourceId: r.source_id as string | null,
    runId: r.run_id as string | null,
    jobType: r.job_type as string,
    status: r.status as JobRow["status"],
    priority: r.priority as number,
    payload: r.payload as Record<string, unknown>,
    scope: r.scope as Record<string, unknown>,
    policyBindings: r.policy_bindings as unknown[],
    credentialRefId: r.credential_ref_id as string | null,
    requestedBy: r.requested_by as string,
    traceId: r.trace_id as string,
    idempotencyKey: r.idempotency_key as string | null,
    attempts: r.attempts as number,
    maxAttempts: r.max_attempts as number,
    runAfter: asDate(r.run_after)!,
    leaseOwner: r.lease_owner as string | null,
    leaseExpiresAt: asDate(r.lease_expires_at),
    timeBudgetSeconds: r.time_budget_seconds as number,
    cancelRequested: r.cancel_requested as boolean,
    lastError: r.last_error as string | null,
    result: r.result as Record<string, unknown> | null,
    createdAt: asDate(r.created_at)!,
    startedAt: asDate(r.started_at),
    finishedAt: asDate(r.finished_at),
  } satisfies Record<keyof JobRow, unknown>;
  return row;
}

/** A claimed job with its authorization facts and the id of its claim's row in job_leases (a bigint, as text). */
export type ClaimedRow = ClaimedJob & JobFacts & { leaseId: string };

/**
 * The fence of a claimed job that was not started: its record's attempt count when it was claimed (a claim answers
 * the attempt the job is on, one more). The reaper's requeue of a lost claim's job spends that attempt.
 */
export const fenceOf = (job: Pick<ClaimedJob, "attempts">) => job.attempts - 1;

export interface StartedJob {
  id: string;
  /** False: the job is no longer this claim's (cancelled, or requeued after the claim's row expired). */
  started: boolean;
  status: string;
  cancel_requested: boolean;
}

/** Jobs a worker finished without side effects to commit: started ones, and unstarted ones with their fences. */
export interface Completions {
  ids: string[];
  leases: string[];
  unstarted: string[];
  fences: number[];
}

export interface ReapedJob {
  id: string;
  tenant_id: string;
  run_id: string | null;
  status: "queued" | "timed_out";
  attempts: number;
  max_attempts: number;
  lease_owner: string | null;
}

export class QueueClient {
  constructor(
    private readonly sql: Sql,
    readonly workerId: string,
  ) {}

  /** Claim and start at once (a node's claim: it reports back over separate requests). Answers the started jobs. */
  async claim(limit: number, leaseSeconds: number, types: string[] | null = null, tenants: string[] | null = null): Promise<ClaimedRow[]> {
    const claimed = await this.claimWithFacts(limit, leaseSeconds, types, tenants);
    if (!claimed.length) return claimed;
    const started = new Set((await this.start(claimed.map((c) => c.id), claimed.map(fenceOf), leaseSeconds)).filter((s) => s.started).map((s) => s.id));
    return claimed.filter((c) => started.has(c.id));
  }

  /**
   * Claim, with the facts each claimed job's authorization re-check needs (read once per distinct
   * tenant/source/credential reference among the claimed jobs) and the id of the claim's lease row. The claimed jobs'
   * records stay `queued` until `start` or a completion. Jobs in `done` (finished by this worker, without side
   * effects to commit) are completed first and the claim rows in `done.leases` dropped, in the same call.
   */
  async claimWithFacts(
    limit: number,
    leaseSeconds: number,
    types: string[] | null = null,
    tenants: string[] | null = null,
    done: Completions = { ids: [], leases: [], unstarted: [], fences: [] },
  ): Promise<ClaimedRow[]> {
    // One object per claimed job, used as it arrives: the job, its facts and its claim's id side by side.
    return this.sql<ClaimedRow[]>`
      select * from cairn_queue_claim(${this.workerId}, ${limit}, ${leaseSeconds}, ${types}::text[], ${tenants}::uuid[],
        ${done.ids}::uuid[], ${done.leases}::bigint[], ${done.unstarted}::uuid[], ${done.fences}::int[])`;
  }

  /** Mark claimed jobs `running` under this worker's lease (spending their attempt), each at its fence. */
  async start(ids: string[], fences: number[], leaseSeconds: number): Promise<StartedJob[]> {
    if (!ids.length) return [];
    return this.sql<StartedJob[]>`select * from cairn_queue_start(${this.workerId}, ${ids}::uuid[], ${fences}::int[], ${leaseSeconds})`;
  }

  async renew(ids: string[], leaseSeconds: number): Promise<{ id: string; cancel_requested: boolean }[]> {
    if (!ids.length) return [];
    return this.sql`select * from cairn_queue_renew(${this.workerId}, ${ids}::uuid[], ${leaseSeconds})`;
  }

  /**
   * Complete jobs finished without side effects (started ones, and unstarted ones at their fences), and drop claim
   * rows whose jobs have all left this worker. Answers how many of the jobs were completed (a job no longer this
   * worker's is left as it is).
   */
  async complete(done: Partial<Completions>): Promise<number> {
    const { ids = [], leases = [], unstarted = [], fences = [] } = done;
    if (!ids.length && !leases.length && !unstarted.length) return 0;
    const [row] = await this.sql<{ n: number }[]>`
      select cairn_queue_complete(${this.workerId}, ${ids}::uuid[], ${leases}::bigint[], ${unstarted}::uuid[], ${fences}::int[]) as n`;
    return row!.n;
  }

  async fail(id: string, error: string, retrySeconds: number | null, finalStatus: "failed" | "cancelled" | "timed_out") {
    const rows = await this.sql<{ id: string; tenant_id: string; run_id: string | null; status: string; attempts: number }[]>`
      select * from cairn_queue_fail(${this.workerId}, ${id}, ${error}, ${retrySeconds}, ${finalStatus})`;
    return rows[0] ?? null;
  }

  /** Give jobs back without spending an attempt: started ones by id, unstarted ones at their fences. */
  async release(ids: string[], unstarted: string[] = [], fences: number[] = []): Promise<string[]> {
    if (!ids.length && !unstarted.length) return [];
    const rows = await this.sql<{ cairn_queue_release: string }[]>`
      select cairn_queue_release from cairn_queue_release(${this.workerId}, ${ids}::uuid[], ${unstarted}::uuid[], ${fences}::int[])`;
    return rows.map((r) => r.cairn_queue_release);
  }

  async reap(limit: number): Promise<ReapedJob[]> {
    return this.sql<ReapedJob[]>`select * from cairn_queue_reap(${limit})`;
  }
}
