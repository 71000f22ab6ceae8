// One job at a time, when there is no domain write to share a transaction with (pg-boss's `send`, graphile-worker's
// `addJob`). Concurrent callers share statements and commits (ADR 009): while one write is in flight, the jobs that
// arrive meanwhile wait for it and then go together in one statement, whichever tenants they belong to. That
// statement writes each tenant's jobs under the tenant's own scope (tenantGroups and cairn_enqueue_jobs): row-level
// security checks every row against its tenant exactly as in a tenant transaction. Every caller still gets its job
// only after the commit that made it durable; a lone caller pays one statement and one round trip. If a shared write
// fails (one caller's bad input), each of its jobs is retried on its own, so only the bad one fails.
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { v7 as uuidv7 } from "uuid";
import type { DbClient } from "../../db/client.ts";
import { isUuid, tenantGroups, withTenant } from "../../db/tenant.ts";
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

  constructor(private readonly client: DbClient) {}

  enqueue(input: EnqueueInput): Promise<{ job: JobRow; created: boolean }> {
    return new Promise((resolve, reject) => {
      // Time-ordered like the database's own job ids (drizzle/0027, ADR 011).
      this.waiting.push({ input, id: uuidv7(), resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain() {
    this.writing = true;
    try {
      while (this.waiting.length) {
        // Let callers whose previous job just landed submit their next one first (their continuations are queued
        // behind this one), so they go in this write rather than wait a whole write for the next.
        await new Promise<void>((resolve) => setImmediate(resolve));
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

  /** One statement: each tenant's jobs written under that tenant's own row-level security (tenantGroups). */
  private insert(batch: Pending[]): Promise<Record<string, unknown>[]> {
    const now = new Date().toISOString();
    const byTenant = new Map<string, object[]>();
    for (const { input: x, id } of batch) {
      let rows = byTenant.get(x.tenantId);
      if (!rows) byTenant.set(x.tenantId, (rows = []));
      rows.push({
        ord: rows.length,
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
      });
    }
    // One text parameter whatever the batch size: the groups as JSON, turned into rows by PostgreSQL.
    return this.client.sql<Record<string, unknown>[]>`select * from cairn_enqueue_jobs(${tenantGroups(byTenant)}::jsonb)`;
  }
}

const enqueuers = new WeakMap<DbClient, Enqueuer>();

/**
 * Enqueues one job in its own durable write (shared with concurrent callers of the same client). Same answers as
 * enqueueJob: the job, and whether it was created now (false: its idempotency key matched an earlier submission).
 */
export function enqueueJobNow(client: DbClient, input: EnqueueInput): Promise<{ job: JobRow; created: boolean }> {
  if (!isUuid(input.tenantId)) return Promise.reject(new Error("enqueueJobNow needs a tenant uuid"));
  let e = enqueuers.get(client);
  if (!e) enqueuers.set(client, (e = new Enqueuer(client)));
  return e.enqueue(input);
}
