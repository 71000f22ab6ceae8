// The `source.collect` job: one pipeline run of a source. Collect (the connector), normalize (validate and count the
// graph), evaluate (skipped until policy bindings exist), evidence (the connector's artifacts plus the inventory
// document, stored and signed). Stage cells are written as each stage starts and ends so the run row shows live
// progress; the evidence rows, the final run status and the source's last outcome are written in `commit`, in the
// transaction that completes the job, so they happen exactly once.
import { markRecovered } from "../../domain/runs/lineage.ts";
import { and, eq, inArray, isNull, or, sql } from "drizzle-orm";
import type { PgUpdateSetSource } from "drizzle-orm/pg-core";
import type { Tx } from "../../../db/tenant.ts";
import { runs, sources, type StageCell, type StageName, type Stages } from "../../../db/schema/index.ts";
import { connectorFor } from "../../connectors/registry.ts";
import type { ConnectorOutput } from "../../connectors/contract.ts";
import { resolveCredentialsForJob } from "../../domain/credentials/credential-broker.ts";
import { freshStages } from "../../domain/runs/stages.ts";
import { RUN_JOB_TYPE } from "../../domain/runs/create-run.service.ts";
import { evidenceServices, prepareEvidence, insertEvidence, type PreparedEvidence } from "../../evidence/evidence.service.ts";
import type { JobRow } from "../../queue/enqueue.ts";
import type { HandlerDefinition, JobContext, JobOutcome } from "../handler.ts";

export const INVENTORY_EVIDENCE_KIND = "inventory";
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

// ------------------------------------------------------------------------------------------------------ normalize

interface NormalizedGraph {
  assets: Record<string, unknown>[];
  relations: Record<string, unknown>[];
  findings: Record<string, unknown>[];
  errors: StageCell["errors"];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Normalization, for now: every asset needs an id and a type (ids unique), every relation must join two known
 * assets, every finding needs a rule and, when it names an asset, a known one. Entries that fail are dropped and
 * listed as stage errors.
 */
export function normalizeGraph(graph: ConnectorOutput["graph"]): NormalizedGraph {
  const errors: StageCell["errors"] = [];
  const ids = new Set<string>();
  const assets: Record<string, unknown>[] = [];
  for (const [i, a] of (graph.assets ?? []).entries()) {
    if (!isRecord(a) || typeof a.id !== "string" || !a.id || typeof a.type !== "string" || !a.type) {
      errors.push({ message: "asset without a string id and type was dropped", where: `/assets/${i}` });
    } else if (ids.has(a.id)) {
      errors.push({ message: `duplicate asset id ${a.id} was dropped`, where: `/assets/${i}` });
    } else {
      ids.add(a.id);
      assets.push(a);
    }
  }
  const relations: Record<string, unknown>[] = [];
  for (const [i, r] of (graph.relations ?? []).entries()) {
    if (!isRecord(r) || typeof r.type !== "string" || typeof r.from !== "string" || typeof r.to !== "string") {
      errors.push({ message: "relation without a string type, from and to was dropped", where: `/relations/${i}` });
    } else if (!ids.has(r.from) || !ids.has(r.to)) {
      errors.push({ message: `relation ${r.type} refers to an unknown asset and was dropped`, where: `/relations/${i}` });
    } else {
      relations.push(r);
    }
  }
  const findings: Record<string, unknown>[] = [];
  for (const [i, f] of (graph.findings ?? []).entries()) {
    if (!isRecord(f) || typeof f.rule !== "string") {
      errors.push({ message: "finding without a rule was dropped", where: `/findings/${i}` });
    } else if (f.asset !== undefined && (typeof f.asset !== "string" || !ids.has(f.asset))) {
      errors.push({ message: `finding ${f.rule} refers to an unknown asset and was dropped`, where: `/findings/${i}` });
    } else {
      findings.push(f);
    }
  }
  return { assets, relations, findings, errors };
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
    ctx.log("info", `normalized ${graph.assets.length} asset(s) and ${graph.relations.length} relation(s)${graph.errors.length ? `; ${graph.errors.length} entr(ies) dropped` : ""}`);

    // evaluate: no policy engine yet. Said plainly rather than reported as a pass.
    signal.throwIfAborted();
    begin("evaluate");
    end("evaluate", "skipped", 0);
    ctx.log("info", `evaluate skipped: policy evaluation arrives with policy bindings; the connector's ${graph.findings.length} finding(s) are kept in the inventory evidence`);

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
      format: "cairn.inventory/v1",
      source: { id: source.id, kind: source.kind },
      run_id: runId,
      job_id: job.id,
      attempt: job.attempts,
      collected_at: stages.collect.ended_at,
      items: output.items,
      summary: output.summary,
      warnings: output.warnings,
      graph: { assets: graph.assets, relations: graph.relations, findings: graph.findings },
    };
    signal.throwIfAborted();
    prepared.push(await prepareEvidence({ ...base, kind: INVENTORY_EVIDENCE_KIND, contentType: "application/json", body: Buffer.from(JSON.stringify(inventory)) }, services));
    end("evidence", "succeeded", prepared.length);
    ctx.log("info", `stored ${prepared.length} evidence object(s), signed with key ${services.key.id}`);

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
        await insertEvidence(tx, prepared);
        const finished = new Date();
        await saveStages(tx, runId, stages, { status: "succeeded", endedAt: finished, error: null });
        await recordSourceOutcome(tx, source.id, runId, "succeeded", finished);
        // A successful retry recovers every failed run up its lineage.
        await markRecovered(tx, runId);
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

/** The final state of a failed, cancelled or timed-out job: on the stage that was running, on the run, on the source. */
export async function recordCollectFailure(tx: Tx, job: Pick<JobRow, "runId">, status: "failed" | "cancelled" | "timed_out", error: string): Promise<void> {
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
    stages[failedAt] = { ...cell, status, started_at: cell.started_at ?? at.toISOString(), ended_at: at.toISOString(), errors: capped([...cell.errors, { message: error }]) };
  }
  const updated = await saveStages(tx, run.id, stages, { status, error, endedAt: at });
  if (updated) await recordSourceOutcome(tx, run.sourceId, run.id, status, at);
}

export const sourceCollectHandler: HandlerDefinition = {
  jobType: RUN_JOB_TYPE,
  handler: runSourceCollect,
  onFinalFailure: (tx, job, status, error) => recordCollectFailure(tx, job, status, error),
};
