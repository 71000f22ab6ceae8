// Writes to the source registry: create, update, delete (soft), run now and test. Each one validates first (scope per
// kind, credential ref in this tenant), writes, and audits in the same transaction.
import { and, eq, inArray } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { runs, schedules, sources, type OverlapPolicy, type RunTrigger, type SourceKind } from "../../../db/schema/index.ts";
import { connectorFor } from "../../connectors/registry.ts";
import { AppError } from "../../errors.ts";
import { cancelRunInTx, createRun } from "../runs/create-run.service.ts";
import { credentialRefForSource, recordProbe, type AuditIn } from "../credentials/credential-refs.service.ts";
import { probeCredentialRef, type BrokerOptions } from "../credentials/credential-broker.ts";
import { findSource, presentSource, presentedStatus, type SourceView } from "./source.presenter.ts";
import { scopeProblem } from "./source-scope.ts";

export interface SourceFields {
  display_name: string;
  status?: "active" | "disabled";
  owner?: string;
  credential_mode?: "none" | "credential_ref";
  credential_ref_id?: string | null;
  scope?: Record<string, unknown>;
  labels?: Record<string, string>;
  overlap_policy?: OverlapPolicy;
  time_budget_seconds?: number;
}

export type CreateSourceInput = SourceFields & { kind: SourceKind };
export type UpdateSourceInput = Partial<SourceFields>;

function invalid(field: string, message: string): AppError {
  return new AppError("INVALID_INPUT", `${field}: ${message}`, { field });
}

/** The credential link a source ends up with: a ref implies credential_ref mode; that mode needs a ref. */
async function credentialLink(tx: Tx, mode: "none" | "credential_ref" | undefined, refId: string | null | undefined): Promise<{ credentialMode: "none" | "credential_ref"; credentialRefId: string | null }> {
  const resolvedMode = mode ?? (refId ? "credential_ref" : "none");
  if (resolvedMode === "none") {
    if (refId) throw invalid("credential_ref_id", 'must be empty when credential_mode is "none"');
    return { credentialMode: "none", credentialRefId: null };
  }
  if (!refId) throw invalid("credential_ref_id", 'required when credential_mode is "credential_ref"');
  await credentialRefForSource(tx, refId);
  return { credentialMode: "credential_ref", credentialRefId: refId };
}

function checkScope(kind: SourceKind, scope: unknown) {
  const problem = scopeProblem(kind, scope);
  if (problem) throw new AppError("INVALID_INPUT", problem, { field: "scope" });
}

export async function createSource(tx: Tx, tenantId: string, input: CreateSourceInput, createdBy: string, auditIn: AuditIn): Promise<SourceView> {
  const scope = input.scope ?? {};
  checkScope(input.kind, scope);
  const link = await credentialLink(tx, input.credential_mode, input.credential_ref_id);
  const [row] = await tx
    .insert(sources)
    .values({
      tenantId,
      kind: input.kind,
      displayName: input.display_name,
      status: input.status ?? "active",
      owner: input.owner ?? "",
      ...link,
      scope,
      labels: input.labels ?? {},
      overlapPolicy: input.overlap_policy ?? "skip",
      timeBudgetSeconds: input.time_budget_seconds ?? 900,
      createdBy,
    })
    .returning();
  const view = presentSource(row!);
  await auditIn(tx, { targetType: "source", targetId: row!.id, action: "source.create", outcome: "success", details: { kind: view.kind, display_name: view.display_name, status: view.status, credential_ref_id: view.credential_ref_id } });
  return view;
}

export async function updateSource(tx: Tx, id: string, input: UpdateSourceInput, auditIn: AuditIn): Promise<SourceView> {
  const current = await findSource(tx, id, { lock: true });
  const changes: Partial<typeof sources.$inferInsert> = {};
  if (input.scope !== undefined) {
    checkScope(current.kind, input.scope);
    changes.scope = input.scope;
  }
  if (input.credential_mode !== undefined || input.credential_ref_id !== undefined) {
    // Switching to "none" drops the ref; giving a ref alone switches to credential_ref.
    const mode = input.credential_mode ?? (input.credential_ref_id ? "credential_ref" : input.credential_ref_id === null ? "none" : current.credentialMode);
    const refId = input.credential_ref_id !== undefined ? input.credential_ref_id : mode === "none" ? null : current.credentialRefId;
    Object.assign(changes, await credentialLink(tx, mode, refId));
  }
  if (input.display_name !== undefined) changes.displayName = input.display_name;
  if (input.status !== undefined) changes.status = input.status;
  if (input.owner !== undefined) changes.owner = input.owner;
  if (input.labels !== undefined) changes.labels = input.labels;
  if (input.overlap_policy !== undefined) changes.overlapPolicy = input.overlap_policy;
  if (input.time_budget_seconds !== undefined) changes.timeBudgetSeconds = input.time_budget_seconds;
  const [row] = await tx
    .update(sources)
    .set({ ...changes, updatedAt: new Date() })
    .where(eq(sources.id, current.id))
    .returning();
  const changed = Object.keys(input).filter((k) => k !== "id");
  await auditIn(tx, { targetType: "source", targetId: id, action: "source.update", outcome: "success", details: { fields: changed } });
  return presentSource(row!);
}

export interface DeleteSourceResult {
  source_id: string;
  schedules_disabled: number;
  runs_cancelled: string[];
}

/** Soft delete: the row stays for provenance (runs, evidence, findings point at it); its schedules stop firing and its active runs end. */
export async function deleteSource(tx: Tx, id: string, auditIn: AuditIn): Promise<DeleteSourceResult> {
  const current = await findSource(tx, id, { lock: true });
  const now = new Date();
  await tx.update(sources).set({ deletedAt: now, updatedAt: now }).where(eq(sources.id, current.id));
  const disabled = await tx
    .update(schedules)
    .set({ enabled: false, nextRunAt: null, updatedAt: now })
    .where(and(eq(schedules.sourceId, current.id), eq(schedules.enabled, true)))
    .returning({ id: schedules.id });
  const active = await tx.select({ id: runs.id }).from(runs).where(and(eq(runs.sourceId, current.id), inArray(runs.status, ["queued", "running"])));
  for (const r of active) await cancelRunInTx(tx, r.id, "its source was deleted");
  const result = { source_id: current.id, schedules_disabled: disabled.length, runs_cancelled: active.map((r) => r.id) };
  await auditIn(tx, { targetType: "source", targetId: id, action: "source.delete", outcome: "success", details: { kind: current.kind, display_name: current.displayName, ...result } });
  return result;
}

export interface RunSourceInput {
  trigger: Extract<RunTrigger, "api" | "manual">;
  requestedBy: string;
  idempotencyKey: string | null;
}

export interface RunSourceResult {
  run_id: string;
  job_id: string;
  status: string;
  duplicate: boolean;
  replaced_run_ids: string[];
}

/**
 * Run now, through createRun (the one way a run starts). The Idempotency-Key is namespaced by source, so reusing a
 * key on another source starts that source's run instead of answering with this one's.
 */
export async function runSource(tx: Tx, tenantId: string, id: string, input: RunSourceInput, auditIn: AuditIn): Promise<RunSourceResult> {
  const source = await findSource(tx, id);
  const result = await createRun(tx, {
    tenantId,
    sourceId: source.id,
    trigger: input.trigger,
    requestedBy: input.requestedBy,
    idempotencyKey: input.idempotencyKey ? `source.run:${source.id}:${input.idempotencyKey}` : null,
  });
  if (result.status === "skipped") {
    throw new AppError("CONFLICT", `${source.displayName} already has an active run (${result.activeRunId}) and its overlap policy is skip`, { active_run_id: result.activeRunId, overlap_policy: source.overlapPolicy });
  }
  if (result.status === "duplicate") {
    return { run_id: result.run.id, job_id: result.job.id, status: result.run.status, duplicate: true, replaced_run_ids: [] };
  }
  await auditIn(tx, {
    targetType: "source",
    targetId: source.id,
    action: "source.run",
    outcome: "success",
    traceId: result.run.traceId,
    details: { run_id: result.run.id, job_id: result.job.id, trigger: input.trigger, replaced_run_ids: result.replaced },
  });
  return { run_id: result.run.id, job_id: result.job.id, status: result.run.status, duplicate: false, replaced_run_ids: result.replaced };
}

export interface SourceCheck {
  check: "connector" | "status" | "scope" | "credential";
  status: "pass" | "fail" | "warn" | "skip";
  message: string;
}

export interface SourceTestResult {
  source_id: string;
  ok: boolean;
  checks: SourceCheck[];
}

/**
 * A cheap, synchronous readiness check that never runs the connector: is there a connector for the kind, is the
 * source enabled, is the scope valid, are the credential ref's values present (names only; health is recorded).
 */
export async function testSource(tx: Tx, tenantId: string, id: string, opts: BrokerOptions, auditIn: AuditIn): Promise<SourceTestResult> {
  const source = await findSource(tx, id);
  const checks: SourceCheck[] = [];
  const connector = connectorFor(source.kind);
  checks.push(connector ? { check: "connector", status: "pass", message: `${source.kind} has a connector in this build` } : { check: "connector", status: "fail", message: `${source.kind} has no connector in this build: the source cannot run` });
  const status = presentedStatus(source);
  checks.push(status === "disabled" ? { check: "status", status: "warn", message: "the source is disabled: enable it to run it" } : { check: "status", status: status === "active" ? "pass" : "fail", message: `the source is ${status}` });
  const problem = scopeProblem(source.kind, source.scope);
  checks.push(problem ? { check: "scope", status: "fail", message: problem } : { check: "scope", status: "pass", message: connector ? "the connector accepts the scope" : "the scope is well-formed" });
  if (source.credentialMode === "credential_ref" && source.credentialRefId) {
    const ref = await credentialRefForSource(tx, source.credentialRefId);
    const probe = await probeCredentialRef(tx, tenantId, ref, opts);
    await recordProbe(tx, ref.id, probe);
    checks.push({ check: "credential", status: probe.health === "healthy" ? "pass" : "fail", message: `${ref.name} (${ref.provider}): ${probe.detail}` });
  } else {
    checks.push({ check: "credential", status: "skip", message: "the source uses no credential ref" });
  }
  const ok = checks.every((c) => c.status === "pass" || c.status === "skip");
  await auditIn(tx, { targetType: "source", targetId: source.id, action: "source.test", outcome: ok ? "success" : "failure", details: { checks: checks.map((c) => ({ check: c.check, status: c.status })) } });
  return { source_id: source.id, ok, checks };
}
