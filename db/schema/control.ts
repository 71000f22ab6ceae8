// The control plane's tenant-bound core: credential refs, sources, schedules and their ticks, runs, jobs, job logs,
// evidence; and the platform-scoped node registry that workers report into.
import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { tenants } from "./tenancy.ts";

export const sourceKinds = [
  "scan.repo",
  "scan.image",
  "scan.iac",
  "scan.cloud",
  "scan.mcp_config",
  "connector.cloud_read_only",
  "connector.registry",
  "connector.warehouse",
  "ingest.fleet_sync",
  "ingest.trace_push",
  "ingest.result_push",
  "ingest.artifact_import",
  "runtime.proxy",
  "runtime.gateway",
  "custom",
] as const;
export type SourceKind = (typeof sourceKinds)[number];

export const overlapPolicies = ["allow", "skip", "replace"] as const;
export type OverlapPolicy = (typeof overlapPolicies)[number];
export const credentialProviders = ["env", "file", "aws_secrets_manager", "vault"] as const;
export type CredentialProvider = (typeof credentialProviders)[number];
export const runTriggers = ["schedule", "manual", "api", "push", "retry", "deploy_gate"] as const;
export type RunTrigger = (typeof runTriggers)[number];
export const runStatuses = ["queued", "running", "succeeded", "failed", "cancelled", "timed_out"] as const;
export type RunStatus = (typeof runStatuses)[number];
export const jobStatuses = ["queued", "running", "succeeded", "failed", "cancelled", "timed_out"] as const;
export type JobStatus = (typeof jobStatuses)[number];
export const stageNames = ["collect", "normalize", "evaluate", "evidence"] as const;
export type StageName = (typeof stageNames)[number];

/** A stage's state. `too_large`: the stage was stopped because its output went over its budget (the run failed). */
export const stageStatuses = ["pending", "running", "succeeded", "failed", "skipped", "cancelled", "timed_out", "too_large"] as const;
export type StageStatus = (typeof stageStatuses)[number];

export interface StageCell {
  status: StageStatus;
  items: number;
  started_at: string | null;
  ended_at: string | null;
  errors: { message: string; where?: string }[];
}
export type Stages = Record<StageName, StageCell>;

const tenantId = () => uuid("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" });
const ts = (name: string) => timestamp(name, { withTimezone: true });

export const credentialRefs = pgTable(
  "credential_refs",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    tenantId: tenantId(),
    name: text("name").notNull(),
    provider: text("provider").$type<CredentialProvider>().notNull(),
    /** The reference inside the provider (never a secret): an env-var stem or a directory name. */
    externalRef: text("external_ref").notNull(),
    description: text("description").notNull().default(""),
    createdBy: text("created_by").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
    lastValidatedAt: ts("last_validated_at"),
    /** unknown | healthy | missing | invalid | unsupported */
    health: text("health").notNull().default("unknown"),
    healthDetail: text("health_detail"),
  },
  (t) => [uniqueIndex("credential_refs_tenant_name_key").on(t.tenantId, t.name)],
);

export const sources = pgTable(
  "sources",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    tenantId: tenantId(),
    kind: text("kind").$type<SourceKind>().notNull(),
    displayName: text("display_name").notNull(),
    /** active | disabled (a kind without a connector is presented as unsupported). */
    status: text("status").$type<"active" | "disabled">().notNull().default("active"),
    owner: text("owner").notNull().default(""),
    credentialMode: text("credential_mode").$type<"none" | "credential_ref">().notNull().default("none"),
    credentialRefId: uuid("credential_ref_id").references(() => credentialRefs.id, { onDelete: "restrict" }),
    scope: jsonb("scope").$type<Record<string, unknown>>().notNull().default({}),
    labels: jsonb("labels").$type<Record<string, string>>().notNull().default({}),
    overlapPolicy: text("overlap_policy").$type<OverlapPolicy>().notNull().default("skip"),
    timeBudgetSeconds: integer("time_budget_seconds").notNull().default(900),
    lastRunAt: ts("last_run_at"),
    lastSuccessAt: ts("last_success_at"),
    lastOutcome: text("last_outcome"),
    lastRunId: uuid("last_run_id"),
    createdBy: text("created_by").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
    deletedAt: ts("deleted_at"),
  },
  (t) => [index("sources_tenant_idx").on(t.tenantId, t.createdAt, t.id)],
);

export const schedules = pgTable(
  "schedules",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    tenantId: tenantId(),
    sourceId: uuid("source_id").notNull().references(() => sources.id, { onDelete: "cascade" }),
    cron: text("cron").notNull(),
    timezone: text("timezone").notNull().default("UTC"),
    enabled: boolean("enabled").notNull().default(true),
    overlapPolicy: text("overlap_policy").$type<OverlapPolicy>().notNull().default("skip"),
    catchUp: text("catch_up").$type<"none" | "once">().notNull().default("once"),
    startingDeadlineSeconds: integer("starting_deadline_seconds").notNull().default(3600),
    nextRunAt: ts("next_run_at"),
    lastFireAt: ts("last_fire_at"),
    lastRunAt: ts("last_run_at"),
    lastRunId: uuid("last_run_id"),
    lastOutcome: text("last_outcome"),
    createdBy: text("created_by").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [index("schedules_due_idx").on(t.nextRunAt).where(sql`${t.enabled}`), index("schedules_tenant_idx").on(t.tenantId, t.createdAt, t.id)],
);

/** One row per (schedule, fire time): the unique key is what makes enqueueing exactly-once across schedulers. */
export const scheduleTicks = pgTable(
  "schedule_ticks",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    tenantId: tenantId(),
    scheduleId: uuid("schedule_id").notNull().references(() => schedules.id, { onDelete: "cascade" }),
    fireTime: ts("fire_time").notNull(),
    decidedAt: ts("decided_at").notNull().defaultNow(),
    /** enqueued | skipped */
    outcome: text("outcome").notNull(),
    /** Why a fire was skipped: overlap, missed_deadline, catch_up_collapsed, source_disabled, unsupported, … */
    reason: text("reason"),
    runId: uuid("run_id"),
    decidedBy: text("decided_by").notNull(),
  },
  (t) => [uniqueIndex("schedule_ticks_once_key").on(t.scheduleId, t.fireTime), index("schedule_ticks_tenant_idx").on(t.tenantId, t.scheduleId, t.id)],
);

export const runs = pgTable(
  "runs",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    tenantId: tenantId(),
    sourceId: uuid("source_id").notNull().references(() => sources.id, { onDelete: "cascade" }),
    trigger: text("trigger").$type<RunTrigger>().notNull(),
    status: text("status").$type<RunStatus>().notNull().default("queued"),
    stages: jsonb("stages").$type<Stages>().notNull(),
    requestedBy: text("requested_by").notNull(),
    traceId: text("trace_id").notNull(),
    scheduleId: uuid("schedule_id"),
    fireTime: ts("fire_time"),
    retryOfRunId: uuid("retry_of_run_id"),
    /** Set on a failed run once a retry of it succeeded. */
    recoveredByRunId: uuid("recovered_by_run_id"),
    credentialRefId: uuid("credential_ref_id"),
    error: text("error"),
    createdAt: ts("created_at").notNull().defaultNow(),
    startedAt: ts("started_at"),
    endedAt: ts("ended_at"),
  },
  (t) => [
    index("runs_tenant_idx").on(t.tenantId, t.createdAt, t.id),
    index("runs_source_idx").on(t.tenantId, t.sourceId, t.createdAt),
    index("runs_active_idx").on(t.sourceId).where(sql`${t.status} in ('queued','running')`),
  ],
);

export const jobs = pgTable(
  "jobs",
  {
    // Time-ordered (UUIDv7, drizzle/0027): a claim's and a completion's jobs sit side by side in the primary key (ADR 011).
    id: uuid("id").primaryKey().default(sql`cairn_uuidv7()`),
    tenantId: tenantId(),
    sourceId: uuid("source_id"),
    runId: uuid("run_id"),
    jobType: text("job_type").notNull(),
    status: text("status").$type<JobStatus>().notNull().default("queued"),
    priority: integer("priority").notNull().default(0),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull().default({}),
    scope: jsonb("scope").$type<Record<string, unknown>>().notNull().default({}),
    policyBindings: jsonb("policy_bindings").$type<unknown[]>().notNull().default([]),
    credentialRefId: uuid("credential_ref_id"),
    requestedBy: text("requested_by").notNull(),
    traceId: text("trace_id").notNull(),
    idempotencyKey: text("idempotency_key"),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull().default(4),
    runAfter: ts("run_after").notNull().defaultNow(),
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: ts("lease_expires_at"),
    timeBudgetSeconds: integer("time_budget_seconds").notNull().default(900),
    cancelRequested: boolean("cancel_requested").notNull().default(false),
    lastError: text("last_error"),
    result: jsonb("result").$type<Record<string, unknown>>(),
    createdAt: ts("created_at").notNull().defaultNow(),
    startedAt: ts("started_at"),
    finishedAt: ts("finished_at"),
  },
  (t) => [
    uniqueIndex("jobs_idempotency_key").on(t.tenantId, t.idempotencyKey),
    // No index here covers a column that claiming or completing changes (status, attempts, leases, times): those
    // updates stay HOT (no index writes). Claiming walks job_queue and reaping job_leases instead.
    index("jobs_tenant_idx").on(t.tenantId, t.createdAt, t.id),
    index("jobs_run_idx").on(t.runId),
    check("jobs_status", sql`${t.status} in ('queued','running','succeeded','failed','cancelled','timed_out')`),
  ],
);

/**
 * The hot queue: one narrow row per queued job (tenant, type, priority, readiness). A claim takes its rows (SKIP
 * LOCKED) and deletes them; the lease then lives on the job's record (`jobs.lease_owner`, `lease_expires_at`).
 * Maintained by the queue's SQL functions and the jobs insert trigger (drizzle/0010, 0022); the application role
 * cannot touch it directly. Rows whose job is no longer queued (cancelled by a person, deleted with its tenant) are
 * dropped by the claim that picks them.
 */
export const jobQueue = pgTable(
  "job_queue",
  {
    jobId: uuid("job_id").primaryKey(),
    tenantId: uuid("tenant_id").notNull(),
    jobType: text("job_type").notNull(),
    priority: integer("priority").notNull(),
    runAfter: ts("run_after").notNull(),
  },
  (t) => [index("job_queue_claim_idx").on(t.tenantId, t.priority.desc(), t.runAfter)],
);

/**
 * Where the reaper looks for expired leases: one row per claim (a worker's batch, or a node's), listing the jobs it
 * took, with an expiry at or after every listed job's own lease. The job's record holds the lease itself; a row
 * outlives its jobs until the worker reports the batch done or the reaper finds nothing left running under it.
 * Only the queue's functions touch it (drizzle/0022).
 */
export const jobLeases = pgTable(
  "job_leases",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    leaseOwner: text("lease_owner").notNull(),
    jobIds: uuid("job_ids").array().notNull(),
    expiresAt: ts("expires_at").notNull(),
  },
  (t) => [index("job_leases_expiry_idx").on(t.expiresAt), index("job_leases_owner_idx").on(t.leaseOwner)],
);

export const jobLogs = pgTable(
  "job_logs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    tenantId: tenantId(),
    jobId: uuid("job_id").notNull(),
    runId: uuid("run_id"),
    level: text("level").notNull().default("info"),
    message: text("message").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [index("job_logs_job_idx").on(t.jobId, t.id), index("job_logs_run_idx").on(t.runId, t.id)],
);

export const evidence = pgTable(
  "evidence",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    tenantId: tenantId(),
    jobId: uuid("job_id"),
    runId: uuid("run_id"),
    sourceId: uuid("source_id"),
    kind: text("kind").notNull(),
    storageUri: text("storage_uri").notNull(),
    contentType: text("content_type").notNull(),
    hash: text("hash").notNull(),
    size: bigint("size", { mode: "number" }).notNull(),
    signature: text("signature"),
    signingKeyId: text("signing_key_id"),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [index("evidence_tenant_idx").on(t.tenantId, t.createdAt, t.id), index("evidence_run_idx").on(t.runId), index("evidence_source_idx").on(t.tenantId, t.sourceId, t.createdAt)],
);

/** Every process that executes work (workers now, node agents later): platform-scoped, no tenant data. */
export const nodes = pgTable(
  "nodes",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    kind: text("kind").$type<"worker" | "agent">().notNull(),
    name: text("name").notNull(),
    hostname: text("hostname").notNull(),
    pid: integer("pid"),
    version: text("version").notNull(),
    status: text("status").notNull().default("healthy"),
    startedAt: ts("started_at").notNull().defaultNow(),
    lastHeartbeatAt: ts("last_heartbeat_at").notNull().defaultNow(),
    stoppedAt: ts("stopped_at"),
    runningJobs: jsonb("running_jobs").$type<{ job_id: string; tenant_id: string; job_type: string; started_at: string }[]>().notNull().default([]),
    capabilities: jsonb("capabilities").$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [uniqueIndex("nodes_name_key").on(t.name), index("nodes_heartbeat_idx").on(t.lastHeartbeatAt)],
);
