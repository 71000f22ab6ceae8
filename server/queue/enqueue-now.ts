// One job at a time, when there is no domain write to share a transaction with (pg-boss's `send`, graphile-worker's
// `addJob`). Callers that enqueue for the same tenant concurrently share statements and commits: while one write
// for a tenant is in flight, that tenant's jobs that arrive meanwhile wait for it and then go together in one
// multi-row statement (its own transaction, under the tenant's row-level security). Tenants write independently.
// Every caller still gets its job only after the commit that made it durable; a lone caller pays one statement and
// one round trip. If a shared write fails (one caller's bad input), each of its jobs is retried on its own, so only
// the bad one fails.
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { DbClient } from "../../db/client.ts";
import { isUuid, tenantScope, withTenant } from "../../db/tenant.ts";
import { jobs } from "../../db/schema/index.ts";
import { toJobRow } from "./queue.ts";
import type { EnqueueInput, JobRow } from "./enqueue.ts";

interface Pending {
  input: EnqueueInput;
  id: string;
  resolve(v: { job: JobRow; created: boolean }): void;
  reject(err: unknown): void;
}

/** Most jobs one shared write carries. */
const MAX_BATCH = 500;

class Enqueuer {
  private waiting: Pending[] = [];
  private writing = false;

  constructor(
    private readonly client: DbClient,
    private readonly tenantId: string,
  ) {}

  enqueue(input: EnqueueInput): Promise<{ job: JobRow; created: boolean }> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ input, id: randomUUID(), resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain() {
    this.writing = true;
    try {
      while (this.waiting.length) {
        const batch = this.waiting.splice(0, MAX_BATCH);
        try {
          await this.write(batch);
        } catch {
          // One caller's bad input must not fail the others: each on its own, each with its own answer.
          for (const p of batch) await this.write([p]).catch((err: unknown) => p.reject(err));
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async write(batch: Pending[]) {
    const rows = await this.insert(batch);
    const inserted = new Map(rows.map((r) => [r.id as string, r]));
    for (const p of batch) {
      const row = inserted.get(p.id);
      if (row) p.resolve({ job: toJobRow(row), created: true });
    }
    // The rest were duplicates of an idempotency key (an earlier submission, or an earlier job in this batch).
    for (const p of batch) {
      if (inserted.has(p.id)) continue;
      const key = p.input.idempotencyKey!;
      const [existing] = await withTenant(this.client, p.input.tenantId, (tx) => tx.select().from(jobs).where(sql`${jobs.tenantId} = ${p.input.tenantId} and ${jobs.idempotencyKey} = ${key}`));
      if (existing) p.resolve({ job: existing, created: false });
      else p.reject(new Error("the job was neither inserted nor found by its idempotency key"));
    }
  }

  /** One statement for the tenant's jobs, under its row-level security (tenantScope). */
  private insert(group: Pending[]): Promise<Record<string, unknown>[]> {
    const tenantId = this.tenantId;
    const now = new Date().toISOString();
    // One text parameter whatever the batch size: the jobs as a JSON array, turned into rows by PostgreSQL.
    const input = JSON.stringify(
      group.map(({ input: x, id }, ord) => ({
        ord,
        id,
        job_type: x.jobType,
        requested_by: x.requestedBy,
        source_id: x.sourceId ?? null,
        run_id: x.runId ?? null,
        payload: x.payload ?? {},
        scope: x.scope ?? {},
        policy_bindings: x.policyBindings ?? [],
        credential_ref_id: x.credentialRefId ?? null,
        trace_id: x.traceId ?? randomUUID().replace(/-/g, ""),
        idempotency_key: x.idempotencyKey ?? null,
        priority: x.priority ?? 0,
        max_attempts: x.maxAttempts ?? 4,
        time_budget_seconds: x.timeBudgetSeconds ?? 900,
        run_after: x.runAfter ? x.runAfter.toISOString() : now,
      })),
    );
    return this.client.sql<Record<string, unknown>[]>`
      with scope as materialized (${tenantScope(this.client, tenantId)})
      insert into jobs (id, tenant_id, job_type, requested_by, source_id, run_id, payload, scope, policy_bindings, credential_ref_id,
                        trace_id, idempotency_key, priority, max_attempts, time_budget_seconds, run_after)
      select u.id, ${tenantId}::uuid, u.job_type, u.requested_by, u.source_id, u.run_id, u.payload, u.scope, u.policy_bindings,
             u.credential_ref_id, u.trace_id, u.idempotency_key, u.priority, u.max_attempts, u.time_budget_seconds, u.run_after
      from scope, jsonb_to_recordset(${input}::jsonb) as u(ord int, id uuid, job_type text, requested_by text, source_id uuid,
        run_id uuid, payload jsonb, scope jsonb, policy_bindings jsonb, credential_ref_id uuid, trace_id text, idempotency_key text,
        priority int, max_attempts int, time_budget_seconds int, run_after timestamptz)
      order by u.ord
      on conflict (tenant_id, idempotency_key) do nothing
      returning *`;
  }
}

const enqueuers = new WeakMap<DbClient, Map<string, Enqueuer>>();

/**
 * Enqueues one job in its own durable write (shared with concurrent callers of the same client). Same answers as
 * enqueueJob: the job, and whether it was created now (false: its idempotency key matched an earlier submission).
 */
export function enqueueJobNow(client: DbClient, input: EnqueueInput): Promise<{ job: JobRow; created: boolean }> {
  if (!isUuid(input.tenantId)) return Promise.reject(new Error("enqueueJobNow needs a tenant uuid"));
  let byTenant = enqueuers.get(client);
  if (!byTenant) enqueuers.set(client, (byTenant = new Map()));
  let e = byTenant.get(input.tenantId);
  if (!e) byTenant.set(input.tenantId, (e = new Enqueuer(client, input.tenantId)));
  return e.enqueue(input);
}
