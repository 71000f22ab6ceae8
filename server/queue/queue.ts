// The queue's operations across tenants (claim, renew, complete, fail, release, reap), as calls to the SQL functions
// in drizzle/0004_queue.sql, 0006_queue_tuning.sql and 0010_queue_hot_table_functions.sql — all cross-tenant
// queue SQL lives there.
import type { Sql } from "postgres";
import type { JobRow } from "./enqueue.ts";

type RawJob = Record<string, unknown>;

/** Advisory lock keys of the wake-up protocol (drizzle/0006_queue_tuning.sql): enqueues hold GATE, idle workers IDLE. */
export const WAKE_GATE_KEY = 7_204_118_320;
export const WAKE_IDLE_KEY = 7_204_118_321;

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

  async claim(limit: number, leaseSeconds: number, types: string[] | null = null, tenants: string[] | null = null): Promise<JobRow[]> {
    const rows = await this.sql<RawJob[]>`select * from cairn_queue_claim(${this.workerId}, ${limit}, ${leaseSeconds}, ${types}::text[], ${tenants}::uuid[])`;
    return rows.map(toJobRow);
  }

  /**
   * Claim, and in the same statement read the facts each claimed job's authorization re-check needs (once per
   * distinct tenant/source/credential reference among the claimed jobs). Jobs in `done` (finished by this worker,
   * without side effects to commit) are completed first, in the same call.
   */
  async claimWithFacts(limit: number, leaseSeconds: number, types: string[] | null = null, tenants: string[] | null = null, done: string[] = []): Promise<{ job: JobRow; facts: JobFacts }[]> {
    const claim = done.length
      ? this.sql`cairn_queue_complete_and_claim(${this.workerId}, ${done}::uuid[], ${limit}, ${leaseSeconds}, ${types}::text[], ${tenants}::uuid[])`
      : this.sql`cairn_queue_claim(${this.workerId}, ${limit}, ${leaseSeconds}, ${types}::text[], ${tenants}::uuid[])`;
    const rows = await this.sql<RawJob[]>`
      with c as materialized (select * from ${claim} with ordinality),
      k as (select distinct tenant_id, source_id, credential_ref_id from c),
      f as (select k.*, x.* from k left join lateral cairn_queue_job_facts(k.tenant_id, k.source_id, k.credential_ref_id) x on true)
      select c.*, f.tenant_exists as fact_tenant_exists, f.source_status as fact_source_status, f.source_deleted as fact_source_deleted,
             f.credential_ref_exists as fact_credential_ref_exists
      from c left join f on f.tenant_id = c.tenant_id and f.source_id is not distinct from c.source_id
        and f.credential_ref_id is not distinct from c.credential_ref_id
      order by c.ordinality`;
    return rows.map((raw) => ({
      job: toJobRow(raw),
      facts: {
        tenant_exists: raw.fact_tenant_exists === true,
        source_status: (raw.fact_source_status as string | null) ?? null,
        source_deleted: (raw.fact_source_deleted as boolean | null) ?? null,
        credential_ref_exists: raw.fact_credential_ref_exists === true,
      },
    }));
  }

  async renew(ids: string[], leaseSeconds: number): Promise<{ id: string; cancel_requested: boolean }[]> {
    if (!ids.length) return [];
    return this.sql`select * from cairn_queue_renew(${this.workerId}, ${ids}::uuid[], ${leaseSeconds})`;
  }

  async complete(ids: string[]): Promise<string[]> {
    if (!ids.length) return [];
    const rows = await this.sql<{ cairn_queue_complete: string }[]>`select cairn_queue_complete from cairn_queue_complete(${this.workerId}, ${ids}::uuid[])`;
    return rows.map((r) => r.cairn_queue_complete);
  }

  async fail(id: string, error: string, retrySeconds: number | null, finalStatus: "failed" | "cancelled" | "timed_out") {
    const rows = await this.sql<{ id: string; tenant_id: string; run_id: string | null; status: string; attempts: number }[]>`
      select * from cairn_queue_fail(${this.workerId}, ${id}, ${error}, ${retrySeconds}, ${finalStatus})`;
    return rows[0] ?? null;
  }

  async release(ids: string[]): Promise<string[]> {
    if (!ids.length) return [];
    const rows = await this.sql<{ cairn_queue_release: string }[]>`select cairn_queue_release from cairn_queue_release(${this.workerId}, ${ids}::uuid[])`;
    return rows.map((r) => r.cairn_queue_release);
  }

  async reap(limit: number): Promise<ReapedJob[]> {
    return this.sql<ReapedJob[]>`select * from cairn_queue_reap(${limit})`;
  }

  async jobContext(id: string): Promise<{ tenant_exists: boolean; source_status: string | null; source_deleted: boolean | null; credential_ref_exists: boolean } | null> {
    const rows = await this.sql<{ tenant_exists: boolean; source_status: string | null; source_deleted: boolean | null; credential_ref_exists: boolean }[]>`select * from cairn_queue_job_context(${id})`;
    return rows[0] ?? null;
  }
}
