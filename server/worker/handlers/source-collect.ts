// The `source.collect` job: one pipeline run of a source. Collect (the connector), normalize (check the graph),
// evaluate (the policy bindings in force decide each finding; findings are created, updated, resolved or reopened by
// fingerprint), evidence (the connector's artifacts plus the inventory document, stored and signed). Stage cells are
// written as each stage starts and ends so the run row shows live progress. Everything that writes domain rows — the
// evidence rows, then the assets, relations, findings and their evidence links, the final run status and the
// source's last outcome — happens in `commit`, in the transaction that completes the job, so it happens exactly once.
import { markRecovered } from "../../domain/runs/lineage.ts";
import { and, eq, inArray, isNull, or, sql } from "drizzle-orm";
import type { PgUpdateSetSource } from "drizzle-orm/pg-core";
import type { Tx } from "../../../db/tenant.ts";
import { runs, sources, type StageCell, type StageName, type Stages } from "../../../db/schema/index.ts";
import { connectorFor } from "../../connectors/registry.ts";
import { ConnectorBudgetError, ConnectorOutputError } from "../../connectors/driver.ts";
import { resolveCredentialsForJob } from "../../domain/credentials/credential-broker.ts";
import { freshStages } from "../../domain/runs/stages.ts";
import { RUN_JOB_TYPE } from "../../domain/runs/create-run.service.ts";
import { evidenceServices, prepareEvidence, insertEvidence, type PreparedEvidence } from "../../evidence/evidence.service.ts";
import { normalizeGraph } from "../../findings/graph.ts";
import { INVENTORY_EVIDENCE_KIND, INVENTORY_FORMAT } from "../../findings/inventory.ts";
import { materializeGraph } from "../../findings/materialize.service.ts";
import { evaluateOutcome } from "../../findings/evaluate-outcome.ts";
import type { JobRow } from "../../queue/enqueue.ts";
import type { HandlerDefinition, JobContext, JobOutcome } from "../handler.ts";

export { INVENTORY_EVIDENCE_KIND, evaluateOutcome };
const MAX_STAGE_ERRORS = 50;

/** A failure retrying cannot fix (the worker treats errors marked permanent as final at once). */
function permanent(message: string): Error {
  return Object.assign(new Error(message), { permanent: true });
}

const now = () => new Date().toISOString();

function capped(errors: StageCell["errors"]): StageCell["errors"] {
  if (errors.length <= MAX_STAGE_ERRORS) return errors;
  return [...errors.slice(0, MAX_STAGE_ERRORS), { message: `… and ${errors.length - MAX_STAGE_ERRORS} more (see the job log)` }];
}

/** Writes the run's stage cells (and optional run fields) while the run is still active. */
async function saveStages(tx: Tx, runId: string, stages: Stages, extra: PgUpdateSetSource<typeof runs> = {}): Promise<boolean> {
  const updated = await tx
    .update(runs)
    .set({ stages, ...extra })
    .where(and(eq(runs.id, runId), inArray(runs.status, ["queued", "running"])))
    .returning({ id: runs.id });
  return updated.length > 0;
}

// ------------------------------------------------------------------------------------------------------ handler

/** Replaces resolved credential values in an error message before it can reach the run row or the job. */
function scrubError(err: unknown, secrets: string[]): unknown {
  if (!(err instanceof Error) || !secrets.length) return err;
  let message = err.message;
  for (const s of secrets) if (s.length >= 4) message = message.split(s).join("[REDACTED]");
  if (message !== err.message) err.message = message;
  return err;
}

export async function runSourceCollect(ctx: JobContext): Promise<JobOutcome> {
  const { job, signal } = ctx;
  if (!job.runId || !job.sourceId) throw permanent("A source.collect job needs a run and a source");
  const runId = job.runId;
  const stages = freshStages();
  const begin = (name: StageName) => {
    stages[name] = { status: "running", items: 0, started_at: now(), ended_at: null, errors: [] };
  };
  const end = (name: StageName, status: StageCell["status"], items: number, errors: StageCell["errors"] = []) => {
    stages[name] = { ...stages[name], status, items, ended_at: now(), errors: capped(errors) };
  };

  // Start: the source must still exist and be active, and the run must still be waiting for this job.
  const source = await ctx.inTenant(async (tx) => {
    const [src] = await tx.select().from(sources).where(eq(sources.id, job.sourceId!));
    if (!src || src.deletedAt) throw permanent("The source was deleted after this run was queued");
    if (src.status !== "active") throw permanent("The source is disabled: enable it to run it");
    const [run] = await tx.select({ status: runs.status, sourceId: runs.sourceId }).from(runs).where(eq(runs.id, runId));
    if (!run || run.sourceId !== src.id) throw permanent("The run this job belongs to no longer exists");
    if (run.status !== "queued" && run.status !== "running") throw permanent(`The run is already ${run.status}`);
    begin("collect");
    // A retried attempt starts the stages over: cells from an earlier attempt describe work that is being redone.
    await saveStages(tx, runId, stages, { status: "running", startedAt: sql`coalesce(${runs.startedAt}, now())`, endedAt: null });
    return src;
  });
  ctx.log("info", `collecting ${source.kind} source "${source.displayName}"`);

  const connector = connectorFor(source.kind);
  if (!connector) throw permanent(`Sources of kind ${source.kind} cannot run: no connector for this kind exists in this build`);
  const scope = job.scope;
  const scopeProblem = connector.validateScope(scope);
  if (scopeProblem) throw permanent(`Invalid scope: ${scopeProblem}`);

  // Credentials: resolved by the broker for this job only, redacted from every later log line and error.
  const credentials = await ctx.inTenant((tx) => resolveCredentialsForJob(tx, job, { credentialsDir: ctx.rt.env.credentialsDir }));
  const secrets = Object.values(credentials);
  ctx.redact(...secrets);

  try {
    // collect
    signal.throwIfAborted();
    const paths = { allowed: ctx.rt.env.scanRoots, denied: [ctx.rt.env.dataDir, ctx.rt.env.credentialsDir] };
    const output = await connector.collect({ scope, credentials, signal, paths, log: (level, message) => ctx.log(level, message) });
    end("collect", "succeeded", output.items, output.warnings.map((w) => ({ message: w.message, ...(w.where ? { where: w.where } : {}) })));
    if (output.warnings.length) ctx.log("warn", `collect finished with ${output.warnings.length} warning(s)`);

    // normalize
    signal.throwIfAborted();
    begin("normalize");
    await ctx.inTenant((tx) => saveStages(tx, runId, stages));
    const graph = normalizeGraph(output.graph);
    end("normalize", "succeeded", graph.assets.length + graph.relations.length, graph.errors);
    ctx.log("info", `normalized ${graph.assets.length} asset(s), ${graph.relations.length} relation(s) and ${graph.findings.length} finding(s)${graph.errors.length ? `; ${graph.errors.length} problem(s) with entries` : ""}`);

    // evaluate: starts now and ends in commit, where the bindings in force decide the findings and they are written.
    signal.throwIfAborted();
    begin("evaluate");

    // evidence: blobs are stored and signed now; their rows are inserted in commit.
    signal.throwIfAborted();
    begin("evidence");
    await ctx.inTenant((tx) => saveStages(tx, runId, stages));
    const services = await evidenceServices(ctx.rt);
    const base = { tenantId: job.tenantId, jobId: job.id, runId, sourceId: source.id };
    const prepared: PreparedEvidence[] = [];
    for (const artifact of output.artifacts) {
      signal.throwIfAborted();
      prepared.push(await prepareEvidence({ ...base, kind: artifact.kind, contentType: artifact.contentType, body: artifact.body }, services));
    }
    const inventory = {
      format: INVENTORY_FORMAT,
      source: { id: source.id, kind: source.kind },
      run_id: runId,
      job_id: job.id,
      attempt: job.attempts,
      collected_at: stages.collect.ended_at,
      items: output.items,
      summary: output.summary,
      warnings: output.warnings,
      // The connector's whole current picture: findings of this source missing from it are resolved.
      complete: true,
      graph: { assets: output.graph.assets ?? [], relations: output.graph.relations ?? [], findings: output.graph.findings ?? [] },
    };
    signal.throwIfAborted();
    prepared.push(await prepareEvidence({ ...base, kind: INVENTORY_EVIDENCE_KIND, contentType: "application/json", body: Buffer.from(JSON.stringify(inventory)) }, services));
    end("evidence", "succeeded", prepared.length);
    ctx.log("info", `stored ${prepared.length} evidence object(s), signed with the tenant's key ${prepared[0]?.signingKeyId ?? "?"}`);

    const result = {
      items: output.items,
      assets: graph.assets.length,
      relations: graph.relations.length,
      findings: graph.findings.length,
      warnings: output.warnings.length,
      evidence: prepared.length,
      summary: output.summary,
    };
    return {
      result,
      commit: async (tx) => {
        // Evidence rows first: the findings are linked to them (the inventory document, the graph's own record, last).
        const rows = await insertEvidence(tx, prepared);
        const materialized = await materializeGraph(tx, {
          tenantId: job.tenantId,
          sourceId: source.id,
          runId,
          jobId: job.id,
          evidenceIds: rows.map((r) => r.id),
          graph: inventory.graph,
          complete: true,
        });
        const evaluated = evaluateOutcome(materialized);
        stages.evaluate = { ...stages.evaluate, status: evaluated.status, items: evaluated.items, ended_at: now(), errors: capped(evaluated.errors) };
        ctx.log(
          evaluated.status === "failed" ? "warn" : "info",
          `evaluated ${materialized.findingIds.length} finding(s): ${materialized.created.length} new, ${materialized.updated.length} seen again, ${materialized.reopened.length} reopened, ${materialized.resolved.length} resolved` +
            `${materialized.droppedByPolicy ? `, ${materialized.droppedByPolicy} dropped by policy` : ""}${materialized.bindingsApplied.length ? ` (${materialized.bindingsApplied.length} binding(s) applied)` : ""}` +
            `${evaluated.runError ? `; ${evaluated.runError}` : ""}`,
        );
        const finished = new Date();
        const status = evaluated.runError ? "failed" : "succeeded";
        await saveStages(tx, runId, stages, { status, endedAt: finished, error: evaluated.runError });
        await recordSourceOutcome(tx, source.id, runId, status, finished);
        // A successful retry recovers every failed run up its lineage.
        if (status === "succeeded") await markRecovered(tx, runId);
      },
    };
  } catch (err) {
    throw scrubError(err, secrets);
  }
}

/**
 * The source's last run fields. last_outcome follows the source's latest run only: an older run that finishes after
 * a newer one started does not overwrite it (createRun points last_run_id at the newest run).
 */
async function recordSourceOutcome(tx: Tx, sourceId: string, runId: string, outcome: "succeeded" | "failed" | "cancelled" | "timed_out", at: Date) {
  await tx
    .update(sources)
    .set({ lastRunAt: sql`greatest(${sources.lastRunAt}, (select ${runs.startedAt} from ${runs} where ${runs.id} = ${runId}))`, lastOutcome: outcome })
    .where(and(eq(sources.id, sourceId), or(eq(sources.lastRunId, runId), isNull(sources.lastRunId))));
  if (outcome === "succeeded") {
    // A success counts even when a newer run has started since.
    await tx
      .update(sources)
      .set({ lastSuccessAt: sql`greatest(${sources.lastSuccessAt}, ${at.toISOString()}::timestamptz)` })
      .where(eq(sources.id, sourceId));
  }
}

/**
 * What the error that ended the job says about the stage it stopped: a connector over its output budget makes the
 * cell `too_large` (the run is failed), over its time budget `timed_out`; a connector's unusable output points at
 * where in it (`output.json:3:14`, `output.json#/graph/assets`).
 */
function stageOutcome(status: "failed" | "cancelled" | "timed_out", error: string, cause: unknown): { cell: StageCell["status"]; error: StageCell["errors"][number] } {
  if (cause instanceof ConnectorOutputError) return { cell: status, error: { message: cause.problem, where: cause.where } };
  if (cause instanceof ConnectorBudgetError && status === "failed" && cause.status === "too_large") return { cell: "too_large", error: { message: error } };
  return { cell: status, error: { message: error } };
}

/** The final state of a failed, cancelled or timed-out job: on the stage that was running, on the run, on the source. */
export async function recordCollectFailure(tx: Tx, job: Pick<JobRow, "runId">, status: "failed" | "cancelled" | "timed_out", error: string, cause?: unknown): Promise<void> {
  if (!job.runId) return;
  const [run] = await tx.select().from(runs).where(eq(runs.id, job.runId));
  if (!run) return;
  const stages: Stages = { ...freshStages(), ...run.stages };
  const order: StageName[] = ["collect", "normalize", "evaluate", "evidence"];
  // The stage that was running; when none had started (the job failed before collect), collect is where it stopped.
  const failedAt = order.find((s) => stages[s].status === "running") ?? order.find((s) => stages[s].status === "pending") ?? null;
  const at = new Date();
  if (failedAt) {
    const cell = stages[failedAt];
    const outcome = stageOutcome(status, error, cause);
    stages[failedAt] = { ...cell, status: outcome.cell, started_at: cell.started_at ?? at.toISOString(), ended_at: at.toISOString(), errors: capped([...cell.errors, outcome.error]) };
  }
  const updated = await saveStages(tx, run.id, stages, { status, error, endedAt: at });
  if (updated) await recordSourceOutcome(tx, run.sourceId, run.id, status, at);
}

export const sourceCollectHandler: HandlerDefinition = {
  jobType: RUN_JOB_TYPE,
  handler: runSourceCollect,
  onFinalFailure: (tx, job, status, error, cause) => recordCollectFailure(tx, job, status, error, cause),
};
