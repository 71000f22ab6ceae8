// The `ingest.process` job: one pushed document (or fleet sync) becomes findings. Its run (trigger `push`) moves
// through the usual stages and its receipt through received → parsed → normalized → evaluated → done | failed:
//   collect   reads the raw artifact back from the evidence store, streamed (receipt: parsed)
//   normalize maps it to assets, relations and findings (receipt: normalized)
//   evidence  stores the normalized graph as the run's inventory evidence (what rematerialize re-reads)
//   evaluate  materializeGraph under the bindings in force, in one transaction with the inventory evidence row, the
//             receipt's finding links and its counts (receipt: evaluated); the job's completion transaction then
//             marks the receipt done and the run finished. A large document takes longer to materialize than a
//             completion transaction may (the worker abandons completions stuck for seconds), so the work is done
//             before it, made idempotent by the receipt: an attempt that finds its receipt already evaluated (an
//             earlier attempt evaluated and then died) only completes.
// A document that cannot be used fails its receipt with what is wrong and where (a JSON pointer); retrying the same
// bytes cannot fix it, so that failure is final at once.
import { and, eq, inArray, param, sql } from "drizzle-orm";
import type { PgUpdateSetSource } from "drizzle-orm/pg-core";
import type { Tx } from "../../db/tenant.ts";
import { evidence, findings, ingestReceipts, runs, sources, type StageCell, type StageName, type Stages, type ReceiptFormat } from "../../db/schema/index.ts";
import { freshStages } from "../domain/runs/stages.ts";
import { evidenceServices, prepareEvidence, insertEvidence } from "../evidence/evidence.service.ts";
import { materializeGraph, type MaterializeResult } from "../findings/materialize.service.ts";
import { INVENTORY_EVIDENCE_KIND, INVENTORY_FORMAT } from "../findings/inventory.ts";
import { evaluateOutcome, recordCollectFailure } from "../worker/handlers/source-collect.ts";
import type { HandlerDefinition, JobContext, JobOutcome } from "../worker/handler.ts";
import type { ClaimedJob } from "../queue/queue.ts";
import { DocumentError } from "./json-stream.ts";
import { readDocument } from "./document-reader.ts";
import { documentFormats, type DocumentFormat, type IngestGraph } from "./graph.ts";
import { advanceReceipt, failReceipt, INGEST_JOB_TYPE, recordPushOutcome, recordReceiptError, type IngestChannel } from "./receipt.service.ts";
import { endpointInventory, fleetSyncBody, unionGraphs } from "./fleet/fleet-inventory.ts";
import { applyEndpointInventory, endpointGraphs } from "./fleet/fleet.service.ts";

const MAX_STAGE_ERRORS = 50;
const LINK_CHUNK = 5000;

function permanent(message: string): Error {
  return Object.assign(new Error(message), { permanent: true });
}

const now = () => new Date().toISOString();

async function saveStages(tx: Tx, runId: string, stages: Stages, extra: PgUpdateSetSource<typeof runs> = {}): Promise<boolean> {
  const updated = await tx
    .update(runs)
    .set({ stages, ...extra })
    .where(and(eq(runs.id, runId), inArray(runs.status, ["queued", "running"])))
    .returning({ id: runs.id });
  return updated.length > 0;
}

function payloadOf(job: ClaimedJob): { receiptId: string; channel: IngestChannel } {
  const receiptId = job.payload.receipt_id;
  const channel = job.payload.channel;
  if (typeof receiptId !== "string" || (channel !== "result_push" && channel !== "fleet_sync")) throw permanent("An ingest.process job needs a receipt_id and a channel");
  return { receiptId, channel };
}

/** Formats a result-push source accepts: scope.formats when set, else all three. */
function acceptedFormats(scope: Record<string, unknown>): DocumentFormat[] | undefined {
  const f = scope.formats;
  return Array.isArray(f) && f.length ? (f.filter((x) => (documentFormats as readonly string[]).includes(x as string)) as DocumentFormat[]) : undefined;
}

async function* readAll(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const chunk of stream) yield chunk;
}

interface Prepared {
  graph: IngestGraph;
  counts: Record<string, number>;
  warnings: { message: string; where: string }[];
  format: string;
  formatVersion: string | null;
  tools: string[];
  items: number;
  /** Fleet syncs: the endpoint graph to store, and the fingerprints that are this endpoint's. */
  fleet?: { endpointId: string; inventory: ReturnType<typeof endpointInventory>; receivedAt: Date };
}

export async function runIngestProcess(ctx: JobContext): Promise<JobOutcome> {
  const { job, signal } = ctx;
  if (!job.runId || !job.sourceId) throw permanent("An ingest.process job needs a run and a source");
  const runId = job.runId;
  const { receiptId, channel } = payloadOf(job);
  const stages = freshStages();
  const begin = (name: StageName) => {
    stages[name] = { status: "running", items: 0, started_at: now(), ended_at: null, errors: [] };
  };
  const end = (name: StageName, status: StageCell["status"], items: number, errors: StageCell["errors"] = []) => {
    stages[name] = { ...stages[name], status, items, ended_at: now(), errors: errors.length > MAX_STAGE_ERRORS ? [...errors.slice(0, MAX_STAGE_ERRORS), { message: `… and ${errors.length - MAX_STAGE_ERRORS} more` }] : errors };
  };

  const start = await ctx.inTenant(async (tx) => {
    const [receipt] = await tx.select().from(ingestReceipts).where(eq(ingestReceipts.id, receiptId));
    if (!receipt) throw permanent("The receipt of this push no longer exists");
    if (receipt.status === "done" || receipt.status === "failed") throw permanent(`The receipt is already ${receipt.status}`);
    const [src] = await tx.select().from(sources).where(eq(sources.id, job.sourceId!));
    if (!src) throw permanent("The source of this push no longer exists");
    const [raw] = receipt.evidenceId ? await tx.select().from(evidence).where(eq(evidence.id, receipt.evidenceId)) : [];
    if (!raw) throw permanent("The raw document of this push is missing from the evidence table");
    const [run] = await tx.select({ status: runs.status, stages: runs.stages }).from(runs).where(eq(runs.id, runId));
    if (!run || (run.status !== "queued" && run.status !== "running")) throw permanent(`The run is already ${run?.status ?? "gone"}`);
    if (receipt.status === "evaluated") return { receipt, source: src, raw, resume: run.stages };
    begin("collect");
    await saveStages(tx, runId, stages, { status: "running", startedAt: sql`coalesce(${runs.startedAt}, now())`, endedAt: null });
    return { receipt, source: src, raw, resume: null };
  });
  const { receipt, source, raw } = start;
  if (start.resume) {
    // An earlier attempt evaluated this push and stopped before completing: only the completion is left.
    ctx.log("info", "this push was evaluated by an earlier attempt; completing it");
    const earlier = start.resume;
    return { result: { receipt_id: receiptId, resumed: true }, commit: (tx) => finish(tx, earlier, receipt.counts.enforced_failures ? "Policy enforcement failed: open findings violate enforce bindings" : null) };
  }
  ctx.log("info", `reading pushed ${channel === "fleet_sync" ? "fleet inventory" : "document"} (${raw.size} bytes, sha256 ${raw.hash})`);
  const services = await evidenceServices(ctx.rt);

  // collect: the raw artifact, streamed back from the evidence store.
  let prepared: Prepared;
  try {
    prepared = channel === "result_push" ? await readResults() : await readFleet();
  } catch (err) {
    if (!(err instanceof DocumentError)) throw err;
    ctx.log("error", `the document cannot be used: ${err.message} (at ${err.where})`);
    await ctx.inTenant(async (tx) => {
      const at = new Date();
      end("collect", "failed", 0, [{ message: err.message, where: err.where }]);
      await recordReceiptError(tx, receiptId, { message: err.message, where: err.where, kind: err.kind });
      await failReceipt(tx, receiptId, { message: err.message, where: err.where, kind: err.kind }, at);
      await saveStages(tx, runId, stages, { status: "failed", endedAt: at, error: `Document rejected: ${err.message} (at ${err.where})` });
      await recordPushOutcome(tx, source.id, runId, "failed", at);
    });
    throw permanent(`Document rejected: ${err.message} (at ${err.where})`);
  }

  async function readResults(): Promise<Prepared> {
    const doc = await readDocument(readAll(services.store.open(raw.storageUri)), { fileBase: `source/${source.id}`, signal, accept: acceptedFormats(source.scope) });
    const items = (doc.counts.results ?? 0) + (doc.counts.components ?? 0) + (doc.counts.services ?? 0) + (doc.counts.packages ?? 0) + (doc.counts.files ?? 0) + (doc.counts.vulnerabilities ?? 0);
    return { graph: doc.graph, counts: doc.counts, warnings: doc.warnings, format: doc.format, formatVersion: doc.formatVersion, tools: doc.tools, items };
  }

  async function readFleet(): Promise<Prepared> {
    const bytes = await services.store.get(raw.storageUri);
    let body: unknown;
    try {
      body = JSON.parse(bytes.toString("utf8"));
    } catch (e) {
      throw new DocumentError("syntax", `not valid JSON: ${(e as Error).message}`, "/");
    }
    const parsed = fleetSyncBody.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new DocumentError("type", issue.message, `/${issue.path.map(String).join("/")}`);
    }
    const inventory = endpointInventory(parsed.data);
    if (!receipt.endpointId) throw permanent("The fleet sync's receipt names no endpoint");
    return {
      graph: inventory.graph,
      counts: { configs_reported: parsed.data.mcp_configs.length, configs: inventory.configs, servers: inventory.servers },
      warnings: inventory.warnings,
      format: "fleet",
      formatVersion: null,
      tools: [`agent ${parsed.data.agent_version}`],
      items: inventory.servers,
      fleet: { endpointId: receipt.endpointId, inventory, receivedAt: receipt.receivedAt },
    };
  }

  end("collect", "succeeded", prepared.items, prepared.warnings.slice(0, MAX_STAGE_ERRORS));
  ctx.log("info", `read ${prepared.format}${prepared.formatVersion ? ` ${prepared.formatVersion}` : ""}: ${Object.entries(prepared.counts).map(([k, v]) => `${v} ${k}`).join(", ")}`);

  // normalize: the graph is built; say so on the run and the receipt.
  signal.throwIfAborted();
  begin("normalize");
  const { graph } = prepared;
  end("normalize", "succeeded", graph.assets.length + graph.relations.length);
  await ctx.inTenant(async (tx) => {
    await advanceReceipt(tx, receiptId, "parsed", { format: prepared.format as ReceiptFormat, formatVersion: prepared.formatVersion, counts: prepared.counts, warnings: prepared.warnings, tools: prepared.tools });
    await advanceReceipt(tx, receiptId, "normalized", { counts: { ...prepared.counts, assets: graph.assets.length, relations: graph.relations.length, findings: graph.findings.length } });
    begin("evaluate");
    begin("evidence");
    await saveStages(tx, runId, stages);
  });
  ctx.log("info", `normalized ${graph.assets.length} asset(s), ${graph.relations.length} relation(s) and ${graph.findings.length} finding(s)`);

  // evidence: the normalized graph, signed and stored now; its row is inserted in commit. Result pushes store the
  // document's graph; fleet syncs store the source's merged picture in commit (it depends on other endpoints).
  signal.throwIfAborted();
  const inventoryBase = { tenantId: job.tenantId, jobId: job.id, runId, sourceId: source.id };
  const inventoryDoc = (g: IngestGraph) => ({
    format: INVENTORY_FORMAT,
    source: { id: source.id, kind: source.kind },
    run_id: runId,
    job_id: job.id,
    receipt_id: receiptId,
    raw_evidence_id: raw.id,
    document: { format: prepared.format, version: prepared.formatVersion, sha256: raw.hash },
    counts: prepared.counts,
    complete: true,
    graph: g,
  });
  const preparedInventory = prepared.fleet ? null : await prepareEvidence({ ...inventoryBase, kind: INVENTORY_EVIDENCE_KIND, contentType: "application/json", body: Buffer.from(JSON.stringify(inventoryDoc(graph))) }, services);

  // evaluate: one transaction, serialised per receipt (its row lock) and skipped when an attempt got there first.
  signal.throwIfAborted();
  const outcome = await ctx.inTenant(async (tx) => {
    const [current] = await tx.select({ status: ingestReceipts.status, counts: ingestReceipts.counts }).from(ingestReceipts).where(eq(ingestReceipts.id, receiptId)).for("update");
    if (current?.status === "evaluated") return { runError: current.counts.enforced_failures ? "Policy enforcement failed: open findings violate enforce bindings" : null, counts: current.counts };
    if (current?.status !== "normalized") throw permanent(`The receipt is ${current?.status ?? "gone"}, not normalized`);
    let materializeGraphInput = graph;
    let ownFingerprints: string[] | null = null;
    let inventoryRow;
    if (prepared.fleet) {
      // One sync at a time per fleet source: the merged picture is read and applied under the source's row lock.
      await tx.select({ id: sources.id }).from(sources).where(eq(sources.id, source.id)).for("update");
      await applyEndpointInventory(tx, prepared.fleet.endpointId, prepared.fleet.inventory, prepared.fleet.receivedAt);
      materializeGraphInput = unionGraphs(await endpointGraphs(tx, source.id));
      ownFingerprints = graph.findings.map((f) => f.fingerprint);
      const stored = await prepareEvidence({ ...inventoryBase, kind: INVENTORY_EVIDENCE_KIND, contentType: "application/json", body: Buffer.from(JSON.stringify(inventoryDoc(materializeGraphInput))) }, services);
      [inventoryRow] = await insertEvidence(tx, [stored]);
    } else {
      [inventoryRow] = await insertEvidence(tx, [preparedInventory!]);
    }
    end("evidence", "succeeded", 2);

    const materialized = await materializeGraph(tx, {
      tenantId: job.tenantId,
      sourceId: source.id,
      runId,
      jobId: job.id,
      evidenceIds: [raw.id, inventoryRow!.id],
      graph: materializeGraphInput,
      complete: true,
    });
    const evaluated = evaluateOutcome(materialized);
    const normalizeProblems = materialized.errors.map((e) => ({ message: e.message, ...(e.where ? { where: e.where } : {}) }));
    if (normalizeProblems.length) stages.normalize = { ...stages.normalize, errors: normalizeProblems.slice(0, MAX_STAGE_ERRORS) };
    end("evaluate", evaluated.status, evaluated.items, evaluated.errors);
    ctx.log(
      evaluated.status === "failed" ? "warn" : "info",
      `evaluated ${materialized.findingIds.length} finding(s): ${materialized.created.length} new, ${materialized.updated.length} seen again, ${materialized.reopened.length} reopened, ${materialized.resolved.length} resolved${evaluated.runError ? `; ${evaluated.runError}` : ""}`,
    );
    const linked = await linkFindings(tx, job.tenantId, receiptId, source.id, materialized, ownFingerprints);
    const counts = {
      ...prepared.counts,
      assets: materialized.assets,
      relations: materialized.relations,
      findings: linked.present,
      findings_created: materialized.created.length,
      findings_updated: materialized.updated.length,
      findings_reopened: materialized.reopened.length,
      findings_resolved: materialized.resolved.length,
      findings_dropped_by_policy: materialized.droppedByPolicy,
      enforced_failures: materialized.enforcedFailures,
    };
    await advanceReceipt(tx, receiptId, "evaluated", { counts });
    await saveStages(tx, runId, stages);
    return { runError: evaluated.runError, counts };
  });

  return {
    result: { receipt_id: receiptId, format: prepared.format, ...outcome.counts },
    commit: (tx) => finish(tx, stages, outcome.runError),
  };

  /** Completion, in the transaction that marks the job succeeded: the receipt is done and the run ends. */
  async function finish(tx: Tx, finalStages: Stages, runError: string | null) {
    const at = new Date();
    await advanceReceipt(tx, receiptId, "done", {}, at);
    const status = runError ? "failed" : "succeeded";
    await saveStages(tx, runId, finalStages, { status, endedAt: at, error: runError });
    await recordPushOutcome(tx, source.id, runId, status, at);
  }
}

/**
 * The receipt's finding links: every finding present in the document (created, updated — seen again — or reopened)
 * and every finding the push resolved. Fleet syncs link the reporting endpoint's own findings.
 */
async function linkFindings(tx: Tx, tenantId: string, receiptId: string, sourceId: string, m: MaterializeResult, ownFingerprints: string[] | null): Promise<{ present: number }> {
  const change = new Map<string, "created" | "updated" | "reopened" | "resolved">();
  for (const id of m.updated) change.set(id, "updated");
  for (const id of m.reopened) change.set(id, "reopened");
  for (const id of m.created) change.set(id, "created");
  let present = m.findingIds;
  if (ownFingerprints) {
    const own = new Set<string>();
    for (let i = 0; i < ownFingerprints.length; i += LINK_CHUNK) {
      const rows = await tx
        .select({ id: findings.id })
        .from(findings)
        .where(and(eq(findings.sourceId, sourceId), inArray(findings.fingerprint, ownFingerprints.slice(i, i + LINK_CHUNK))));
      for (const r of rows) own.add(r.id);
    }
    present = m.findingIds.filter((id) => own.has(id));
  }
  const rows: { findingId: string; change: "created" | "updated" | "reopened" | "resolved" }[] = present.map((id) => ({ findingId: id, change: change.get(id) ?? "updated" }));
  for (const id of m.resolved) rows.push({ findingId: id, change: "resolved" });
  for (let i = 0; i < rows.length; i += LINK_CHUNK) {
    const chunk = rows.slice(i, i + LINK_CHUNK);
    await tx.execute(sql`
      insert into ingest_receipt_findings (tenant_id, receipt_id, finding_id, change)
      select ${tenantId}::uuid, ${receiptId}::uuid, u.finding_id, u.change
      from unnest(${param(chunk.map((r) => r.findingId))}::uuid[], ${param(chunk.map((r) => r.change))}::text[]) as u(finding_id, change)
      on conflict (receipt_id, finding_id) do nothing`);
  }
  return { present: present.length };
}

/** A final failure outside the document (timeout, cancel, storage): the receipt fails, naming the stage. */
async function recordIngestFailure(tx: Tx, job: ClaimedJob, status: "failed" | "cancelled" | "timed_out", error: string): Promise<void> {
  const receiptId = typeof job.payload.receipt_id === "string" ? job.payload.receipt_id : null;
  if (receiptId) {
    const [run] = job.runId ? await tx.select({ stages: runs.stages }).from(runs).where(eq(runs.id, job.runId)) : [];
    const order: StageName[] = ["collect", "normalize", "evaluate", "evidence"];
    const stage = run ? (order.find((s) => run.stages[s]?.status === "running") ?? "collect") : "collect";
    await failReceipt(tx, receiptId, { message: status === "failed" ? error : `processing ${status === "timed_out" ? "timed out" : "was cancelled"}: ${error}`, where: `stage ${stage}`, kind: "processing" });
  }
  await recordCollectFailure(tx, job, status, error);
}

export const ingestProcessHandler: HandlerDefinition = {
  jobType: INGEST_JOB_TYPE,
  handler: runIngestProcess,
  onFinalFailure: recordIngestFailure,
};

