// Jobs run by node agents (the scan-worker workload). A node claims over the API — only the organizations and job
// types its active role assignments allow — with the same queue operations, the same claim-time re-checks and the
// same leases as the control plane's workers (lease owner `node:<id>`). The node runs the connector inside its own
// network and reports the connector's output; the control plane then finishes the job with the very same pipeline
// handler, the node's output standing in for the connector (server/connectors/registry.ts), and commits it under
// the node's lease exactly as a worker would.
import { and, eq, sql } from "drizzle-orm";
import { withPlatform, withTenant } from "../../../db/tenant.ts";
import { jobs, nodeRoleAssignments, nodeServiceInstances, runs, sources } from "../../../db/schema/index.ts";
import type { Runtime } from "../../runtime.ts";
import { AppError } from "../../errors.ts";
import { QueueClient, type ClaimedJob as QueuedJobClaim, type ClaimedRow } from "../../queue/queue.ts";
import { EVENTS_CHANNEL, type JobRow } from "../../queue/enqueue.ts";
import { builtInHandlers } from "../../worker/handlers.ts";
import { isTransient, RETRY_DELAYS_SECONDS, type HandlerDefinition, type JobContext } from "../../worker/handler.ts";
import { JobLog } from "../../worker/job-log.ts";
import { requesterRefusal } from "../../worker/requester-check.ts";
import { connectorFor, withConnectorSubstitutes } from "../../connectors/registry.ts";
import type { Connector, ConnectorOutput } from "../../connectors/contract.ts";
import type { AgentPrincipal } from "./agent-auth.service.ts";
import { AGENT_LEASE_SECONDS } from "./workload-catalog.ts";

export const leaseOwnerFor = (nodeId: string) => `node:${nodeId}`;

let handlerMap: Map<string, HandlerDefinition> | undefined;
const handlerFor = (jobType: string) => (handlerMap ??= new Map(builtInHandlers().map((h) => [h.jobType, h]))).get(jobType);

export interface ClaimedJob {
  job_id: string;
  tenant_id: string;
  job_type: string;
  source_id: string | null;
  run_id: string | null;
  source_kind: string | null;
  scope: Record<string, unknown>;
  attempt: number;
  max_attempts: number;
  time_budget_seconds: number;
  lease_seconds: number;
  trace_id: string;
}

/** What this node may claim now: per active, unpaused assignment the job types and organization (null: all). */
async function claimableScopes(rt: Runtime, principal: AgentPrincipal) {
  return withPlatform(rt.db, async (tx) => {
    const rows = await tx
      .select({ role: nodeRoleAssignments.role, tenantId: nodeRoleAssignments.tenantId, jobTypes: nodeRoleAssignments.jobTypes, desired: nodeServiceInstances.desiredState })
      .from(nodeRoleAssignments)
      .leftJoin(
        nodeServiceInstances,
        and(eq(nodeServiceInstances.nodeId, nodeRoleAssignments.nodeId), eq(nodeServiceInstances.clusterId, nodeRoleAssignments.clusterId), eq(nodeServiceInstances.serviceType, nodeRoleAssignments.role)),
      )
      .where(and(eq(nodeRoleAssignments.nodeId, principal.node.id), eq(nodeRoleAssignments.clusterId, principal.cluster.id), eq(nodeRoleAssignments.status, "active")));
    return { assigned: rows.length, running: rows.filter((r) => r.desired === "running") };
  });
}

/**
 * Claim groups: one claim for the job types allowed across every organization, and one per distinct set of types
 * allowed for a list of organizations.
 */
function claimGroups(scopes: { tenantId: string | null; jobTypes: string[] }[], only: string[] | undefined) {
  const filter = (types: string[]) => (only?.length ? types.filter((t) => only.includes(t)) : types);
  const everywhere = new Set(scopes.filter((s) => !s.tenantId).flatMap((s) => filter(s.jobTypes)));
  const perTenant = new Map<string, Set<string>>();
  for (const s of scopes.filter((x) => x.tenantId)) {
    const types = filter(s.jobTypes).filter((t) => !everywhere.has(t));
    if (!types.length) continue;
    const set = perTenant.get(s.tenantId!) ?? new Set<string>();
    for (const t of types) set.add(t);
    perTenant.set(s.tenantId!, set);
  }
  const groups: { types: string[]; tenants: string[] | null }[] = [];
  if (everywhere.size) groups.push({ types: [...everywhere].sort(), tenants: null });
  const byTypes = new Map<string, string[]>();
  for (const [tenant, types] of perTenant) {
    const key = [...types].sort().join(",");
    byTypes.set(key, [...(byTypes.get(key) ?? []), tenant]);
  }
  for (const [key, tenants] of byTypes) groups.push({ types: key.split(","), tenants: tenants.sort() });
  return groups;
}

/** The final state of a job that will not run again: the handler's own bookkeeping, or the run marked. */
async function finalFailure(rt: Runtime, job: QueuedJobClaim, status: "failed" | "cancelled" | "timed_out", error: string) {
  const def = handlerFor(job.jobType);
  await withTenant(rt.db, job.tenantId, async (tx) => {
    if (def?.onFinalFailure) await def.onFinalFailure(tx, job, status, error);
    else if (job.runId) await tx.update(runs).set({ status, error, endedAt: new Date() }).where(and(eq(runs.id, job.runId), sql`${runs.status} in ('queued','running')`));
    await tx.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${JSON.stringify({ tenant_id: job.tenantId, job_id: job.id, run_id: job.runId, kind: "status" })})`);
  });
}

let lastReap = 0;
/**
 * Expired leases go back to the queue (or time out) here too, so a node that died mid-job is recovered even when the
 * control plane runs without its own workers. At most every few seconds per process, driven by node claims.
 */
async function reapIfDue(rt: Runtime): Promise<void> {
  if (Date.now() - lastReap < 5_000) return;
  lastReap = Date.now();
  const queue = new QueueClient(rt.db.sql, "fabric-reaper");
  try {
    for (const r of await queue.reap(100)) {
      const log = new JobLog(rt.db, { id: r.id, tenantId: r.tenant_id, runId: r.run_id });
      log.write("warn", `reaper: lease held by ${r.lease_owner ?? "?"} expired; ${r.status === "queued" ? `requeued (attempt ${r.attempts} of ${r.max_attempts} used)` : `timed out after ${r.attempts} attempts`}`);
      await log.flush();
      if (r.status === "timed_out") {
        const [full] = await withTenant(rt.db, r.tenant_id, (tx) => tx.select().from(jobs).where(eq(jobs.id, r.id)));
        if (full) await finalFailure(rt, full, "timed_out", full.lastError ?? "lease expired");
      }
    }
  } catch (err) {
    rt.log.warn({ err }, "fabric reaper could not run");
  }
}

/** Why a claimed job must not run on this node (the worker's claim-time checks on the facts its claim carries), or null. */
async function refusal(rt: Runtime, job: ClaimedRow): Promise<{ message: string; permanent: boolean } | null> {
  const facts = job;
  if (!facts.tenant_exists) return { message: "the job's tenant no longer exists", permanent: true };
  if (job.sourceId && (facts.source_deleted !== false || facts.source_status !== "active")) return { message: "the source was deleted or disabled after this job was queued", permanent: true };
  if (!facts.credential_ref_exists) return { message: "the credential reference this job uses was deleted", permanent: true };
  if (job.credentialRefId) {
    return {
      message: `this job uses credential ref ${job.credentialRefId}, and credential values are never delivered to nodes: run sources with credentials on the control plane's workers`,
      permanent: true,
    };
  }
  if (!handlerFor(job.jobType)) return { message: `no handler for job type ${job.jobType}`, permanent: true };
  if (job.sourceId) {
    const refused = await requesterRefusal(rt.db, job.tenantId, job.requestedBy, "run:source");
    if (refused) return { message: refused, permanent: true };
  }
  return null;
}

export async function claimJobs(rt: Runtime, principal: AgentPrincipal, input: { limit: number; job_types?: string[] }): Promise<{ jobs: ClaimedJob[] }> {
  const scopes = await claimableScopes(rt, principal);
  if (!scopes.assigned) throw new AppError("FORBIDDEN", "This node holds no role that lets it claim jobs: a platform owner assigns roles (capabilities alone grant nothing)", { reason: "no_role" });
  if (!scopes.running.length) throw new AppError("CONFLICT", "This node's workloads are paused or stopped: it claims nothing until a platform owner resumes them", { reason: "workload_stopped" });
  await reapIfDue(rt);
  const owner = leaseOwnerFor(principal.node.id);
  const queue = new QueueClient(rt.db.sql, owner);
  const out: ClaimedJob[] = [];
  for (const group of claimGroups(scopes.running, input.job_types)) {
    const want = input.limit - out.length;
    if (want <= 0) break;
    for (const job of await queue.claim(want, AGENT_LEASE_SECONDS, group.types, group.tenants)) {
      const log = new JobLog(rt.db, job);
      log.write("info", `attempt ${job.attempts} of ${job.maxAttempts} on node ${principal.node.name} (${principal.node.id}) in cluster ${principal.cluster.slug}`);
      const refused = await refusal(rt, job);
      if (refused) {
        log.write("error", refused.message);
        await log.flush();
        const row = await queue.fail(job.id, refused.message, null, "failed");
        if (row && row.status !== "queued") await finalFailure(rt, job, "failed", refused.message);
        continue;
      }
      await log.flush();
      const kind = await withTenant(rt.db, job.tenantId, async (tx) => {
        if (job.runId) {
          // The run is under way from the moment a node holds its job (the pipeline's stage cells follow on completion).
          await tx.update(runs).set({ status: "running", startedAt: sql`coalesce(${runs.startedAt}, now())` }).where(and(eq(runs.id, job.runId), eq(runs.status, "queued")));
          await tx.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${JSON.stringify({ tenant_id: job.tenantId, job_id: job.id, run_id: job.runId, kind: "status" })})`);
        }
        if (!job.sourceId) return null;
        const [src] = await tx.select({ kind: sources.kind }).from(sources).where(eq(sources.id, job.sourceId));
        return src?.kind ?? null;
      });
      out.push({
        job_id: job.id,
        tenant_id: job.tenantId,
        job_type: job.jobType,
        source_id: job.sourceId,
        run_id: job.runId,
        source_kind: kind,
        scope: job.scope,
        attempt: job.attempts,
        max_attempts: job.maxAttempts,
        time_budget_seconds: job.timeBudgetSeconds,
        lease_seconds: AGENT_LEASE_SECONDS,
        trace_id: job.traceId,
      });
    }
  }
  return { jobs: out };
}

/** The job, only while this node holds its lease. */
async function leasedJob(rt: Runtime, principal: AgentPrincipal, tenantId: string, jobId: string): Promise<JobRow> {
  const [job] = await withTenant(rt.db, tenantId, (tx) => tx.select().from(jobs).where(eq(jobs.id, jobId)));
  if (!job) throw new AppError("NOT_FOUND", "No such job", { job_id: jobId });
  if (job.leaseOwner !== leaseOwnerFor(principal.node.id) || job.status !== "running") {
    throw new AppError("CONFLICT", `This node no longer holds the lease on job ${jobId} (it is ${job.status}): drop its results`, { reason: "lease_lost", status: job.status });
  }
  return job;
}

export interface JobEventsInput {
  tenant_id: string;
  logs: { level: "debug" | "info" | "warn" | "error"; message: string }[];
}

/** Log lines from the node, and a lease renewal; answers whether the job was cancelled meanwhile. */
export async function jobEvents(rt: Runtime, principal: AgentPrincipal, jobId: string, input: JobEventsInput) {
  const job = await leasedJob(rt, principal, input.tenant_id, jobId);
  const queue = new QueueClient(rt.db.sql, leaseOwnerFor(principal.node.id));
  const [renewed] = await queue.renew([job.id], AGENT_LEASE_SECONDS);
  if (!renewed) throw new AppError("CONFLICT", `This node no longer holds the lease on job ${jobId}: drop its results`, { reason: "lease_lost" });
  if (input.logs.length) {
    const log = new JobLog(rt.db, job);
    for (const line of input.logs) log.write(line.level, line.message);
    await log.flush();
  }
  return { cancel_requested: renewed.cancel_requested, lease_seconds: AGENT_LEASE_SECONDS };
}

export interface ReportedArtifact {
  kind: string;
  content_type: string;
  body_base64: string;
}

export interface JobCompleteInput {
  tenant_id: string;
  output: Omit<ConnectorOutput, "artifacts"> & { artifacts: ReportedArtifact[] };
}

/** A connector that does not run: it hands back what the node's run of the real connector produced. */
function replayConnector(real: Connector, output: ConnectorOutput): Connector {
  return { kind: real.kind, validateScope: (scope) => real.validateScope(scope), collect: async () => output };
}

export async function completeJob(rt: Runtime, principal: AgentPrincipal, jobId: string, input: JobCompleteInput): Promise<{ job_id: string; status: string; error?: string }> {
  const job = await leasedJob(rt, principal, input.tenant_id, jobId);
  const owner = leaseOwnerFor(principal.node.id);
  const def = handlerFor(job.jobType);
  const log = new JobLog(rt.db, job);
  const output: ConnectorOutput = { ...input.output, artifacts: input.output.artifacts.map((a) => ({ kind: a.kind, contentType: a.content_type, body: Buffer.from(a.body_base64, "base64") })) };
  const controller = new AbortController();
  const budget = setTimeout(() => controller.abort(new Error(`time budget of ${job.timeBudgetSeconds} s exceeded`)), job.timeBudgetSeconds * 1000);
  try {
    if (!def) throw Object.assign(new Error(`no handler for job type ${job.jobType}`), { permanent: true });
    const [src] = job.sourceId ? await withTenant(rt.db, job.tenantId, (tx) => tx.select({ kind: sources.kind }).from(sources).where(eq(sources.id, job.sourceId!))) : [];
    const real = src ? connectorFor(src.kind) : undefined;
    const replacements = new Map<string, Connector>(src && real ? [[src.kind, replayConnector(real, output)]] : []);
    log.write("info", `node ${principal.node.name} reported its collection (${output.items} item(s), ${output.artifacts.length} artifact(s)); the control plane finishes the pipeline`);
    const ctx: JobContext = {
      rt,
      job,
      signal: controller.signal,
      log: (level, message) => log.write(level, message),
      redact: (...values) => log.redact(...values),
      inTenant: (fn) => withTenant(rt.db, job.tenantId, fn),
    };
    const outcome = await withConnectorSubstitutes(replacements, () => def.handler(ctx));
    controller.signal.throwIfAborted();
    // Completion exactly as the worker does it: the job's record locked while the lease is ours, then the handler's
    // side effects and the record's update in the same transaction.
    await withTenant(rt.db, job.tenantId, async (tx) => {
      const [held] = await tx.execute<{ ok: boolean }>(sql`select cairn_queue_finish(${owner}, ${job.id}) as ok`);
      if (!held?.ok) throw Object.assign(new Error("lease lost before completion"), { leaseLost: true });
      await outcome?.commit?.(tx);
      const done = await tx
        .update(jobs)
        .set({ status: "succeeded", finishedAt: new Date(), leaseOwner: null, leaseExpiresAt: null, result: outcome?.result ?? null })
        .where(and(eq(jobs.id, job.id), eq(jobs.leaseOwner, owner), eq(jobs.status, "running")))
        .returning({ id: jobs.id });
      if (!done.length) throw Object.assign(new Error("lease lost before completion"), { leaseLost: true });
      // Collection began when the node took the job, not when its report arrived.
      if (job.runId && job.startedAt) {
        await tx.execute(sql`
          update runs set stages = jsonb_set(stages, '{collect,started_at}', to_jsonb(${job.startedAt.toISOString()}::text))
          where id = ${job.runId} and stages #>> '{collect,started_at}' is not null and (stages #>> '{collect,started_at}')::timestamptz > ${job.startedAt.toISOString()}::timestamptz`);
      }
      await tx.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${JSON.stringify({ tenant_id: job.tenantId, job_id: job.id, run_id: job.runId, kind: "status" })})`);
    });
    log.write("info", "succeeded");
    return { job_id: job.id, status: "succeeded" };
  } catch (err) {
    const e = err as Error & { leaseLost?: boolean; permanent?: boolean };
    if (e.leaseLost) throw new AppError("CONFLICT", "This node lost the lease before the job could complete: its results were discarded", { reason: "lease_lost" });
    const message = e.message || String(err);
    return failLeased(rt, principal, job, { error: message, transient: !e.permanent && isTransient(err), status: controller.signal.aborted ? "timed_out" : "failed" }, log);
  } finally {
    clearTimeout(budget);
    await log.flush();
  }
}

export interface JobFailInput {
  tenant_id: string;
  error: string;
  transient: boolean;
  status: "failed" | "cancelled" | "timed_out";
}

async function failLeased(rt: Runtime, principal: AgentPrincipal, job: JobRow, input: Omit<JobFailInput, "tenant_id">, log: JobLog) {
  const queue = new QueueClient(rt.db.sql, leaseOwnerFor(principal.node.id));
  const retry = input.status === "failed" && input.transient ? (RETRY_DELAYS_SECONDS[job.attempts - 1] ?? null) : null;
  log.write(input.status === "failed" ? "error" : "warn", retry !== null ? `${input.error} (transient: retrying in ${retry} s)` : input.error);
  const row = await queue.fail(job.id, input.error, retry, input.status);
  if (!row) throw new AppError("CONFLICT", `This node no longer holds the lease on job ${job.id}`, { reason: "lease_lost" });
  if (row.status !== "queued") await finalFailure(rt, job, input.status, input.error);
  return { job_id: job.id, status: row.status === "queued" ? "retrying" : row.status, error: input.error };
}

export async function failJob(rt: Runtime, principal: AgentPrincipal, jobId: string, input: JobFailInput) {
  const job = await leasedJob(rt, principal, input.tenant_id, jobId);
  const log = new JobLog(rt.db, job);
  try {
    return await failLeased(rt, principal, job, input, log);
  } finally {
    await log.flush();
  }
}

/** Gives held jobs back without spending an attempt (the agent is shutting down). */
export async function releaseJobs(rt: Runtime, principal: AgentPrincipal, jobIds: string[]) {
  const queue = new QueueClient(rt.db.sql, leaseOwnerFor(principal.node.id));
  return { released: await queue.release(jobIds) };
}
