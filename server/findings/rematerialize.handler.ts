// The `rematerialize` job of a deploy-gate run: re-read the source's stored inventory documents (the newest complete
// one and any incremental ones after it), check each blob still hashes to its evidence row, and materialize the
// merged graph as a re-evaluation under today's rules and bindings. Writes happen in commit (exactly once).
import { and, eq, inArray } from "drizzle-orm";
import type { Tx } from "../../db/tenant.ts";
import { runs, type StageName, type Stages } from "../../db/schema/index.ts";
import { evidenceServices } from "../evidence/evidence.service.ts";
import { sha256Hex } from "../evidence/evidence-store.ts";
import { freshStages } from "../domain/runs/stages.ts";
import type { HandlerDefinition, JobContext, JobOutcome } from "../worker/handler.ts";
import type { ClaimedJob } from "../queue/queue.ts";
import { INVENTORY_FORMAT, isInventoryDocument, type InventoryDocument } from "./inventory.ts";
import { materializeGraph } from "./materialize.service.ts";
import { evaluateOutcome } from "./evaluate-outcome.ts";
import { REMATERIALIZE_JOB_TYPE, storedInventories } from "./rematerialize.service.ts";

function permanent(message: string): Error {
  return Object.assign(new Error(message), { permanent: true });
}

const now = () => new Date().toISOString();

async function saveStages(tx: Tx, runId: string, stages: Stages, extra: Partial<typeof runs.$inferInsert> = {}) {
  await tx
    .update(runs)
    .set({ stages, ...extra })
    .where(and(eq(runs.id, runId), inArray(runs.status, ["queued", "running"])));
}

/** Oldest first: assets by id and findings by fingerprint take their newest version; relations are all kept. */
export function mergeInventories(docs: InventoryDocument[]): InventoryDocument["graph"] {
  const assets = new Map<string, unknown>();
  const findings = new Map<string, unknown>();
  const relations: unknown[] = [];
  let anonymous = 0;
  for (const d of docs) {
    for (const a of d.graph.assets) assets.set(typeof (a as { id?: unknown })?.id === "string" ? (a as { id: string }).id : `\u0000${anonymous++}`, a);
    relations.push(...d.graph.relations);
    for (const f of d.graph.findings) {
      const fp = (f as { fingerprint?: unknown })?.fingerprint;
      findings.set(typeof fp === "string" ? fp : `\u0000${anonymous++}`, f);
    }
  }
  return { assets: [...assets.values()], relations, findings: [...findings.values()] };
}

export async function runRematerialize(ctx: JobContext): Promise<JobOutcome> {
  const { job, signal } = ctx;
  if (!job.runId || !job.sourceId) throw permanent("A rematerialize job needs a run and a source");
  const runId = job.runId;
  const sourceId = job.sourceId;
  const stages = await ctx.inTenant(async (tx) => {
    const [run] = await tx.select().from(runs).where(eq(runs.id, runId));
    if (!run || run.sourceId !== sourceId) throw permanent("The run this job belongs to no longer exists");
    if (run.status !== "queued" && run.status !== "running") throw permanent(`The run is already ${run.status}`);
    const s: Stages = { ...freshStages(), ...run.stages };
    s.normalize = { status: "running", items: 0, started_at: now(), ended_at: null, errors: [] };
    await saveStages(tx, runId, s, { status: "running", startedAt: new Date(), endedAt: null });
    return s;
  });

  // Read what the source last collected: newest first, back to the newest complete picture.
  const rows = await ctx.inTenant((tx) => storedInventories(tx, sourceId));
  if (!rows.length) throw permanent("This source has no stored inventory evidence to re-evaluate");
  const services = await evidenceServices(ctx.rt);
  const docs: { id: string; doc: InventoryDocument }[] = [];
  for (const row of rows) {
    signal.throwIfAborted();
    const bytes = await services.store.get(row.storageUri);
    if (bytes.length !== row.size || sha256Hex(bytes) !== row.hash) throw permanent(`Stored evidence ${row.id} no longer matches its recorded hash: it was not re-evaluated`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString("utf8"));
    } catch {
      throw permanent(`Stored evidence ${row.id} is not a JSON inventory document`);
    }
    if (!isInventoryDocument(parsed)) throw permanent(`Stored evidence ${row.id} is not a ${INVENTORY_FORMAT} document with a graph`);
    docs.push({ id: row.id, doc: parsed });
    if (parsed.complete !== false) break;
  }
  docs.reverse();
  const complete = docs[0]!.doc.complete !== false;
  const graph = mergeInventories(docs.map((d) => d.doc));
  stages.normalize = { ...stages.normalize, status: "succeeded", items: graph.assets.length + graph.relations.length, ended_at: now() };
  stages.evaluate = { status: "running", items: 0, started_at: now(), ended_at: null, errors: [] };
  await ctx.inTenant((tx) => saveStages(tx, runId, stages));
  ctx.log("info", `re-reading ${docs.length} stored inventory document(s) (hashes checked): ${graph.assets.length} asset(s), ${graph.findings.length} finding(s)`);
  signal.throwIfAborted();

  return {
    result: { evidence_read: docs.length, findings: graph.findings.length, assets: graph.assets.length },
    commit: async (tx) => {
      const result = await materializeGraph(tx, { tenantId: job.tenantId, sourceId, runId, jobId: job.id, evidenceIds: docs.map((d) => d.id), graph, complete, reevaluation: true });
      const cell = evaluateOutcome(result);
      stages.evaluate = { ...stages.evaluate, status: cell.status, items: cell.items, errors: cell.errors, ended_at: now() };
      ctx.log(
        cell.status === "failed" ? "warn" : "info",
        `re-evaluated ${result.findingIds.length} finding(s): ${result.created.length} new, ${result.reopened.length} reopened, ${result.resolved.length} resolved${result.droppedByPolicy ? `, ${result.droppedByPolicy} dropped by policy` : ""}${cell.runError ? `; ${cell.runError}` : ""}`,
      );
      await saveStages(tx, runId, stages, { status: cell.runError ? "failed" : "succeeded", endedAt: new Date(), error: cell.runError });
    },
  };
}

/** A failed, cancelled or timed-out rematerialize: on the stage that was running and on the run. */
async function recordFailure(tx: Tx, job: ClaimedJob, status: "failed" | "cancelled" | "timed_out", error: string): Promise<void> {
  if (!job.runId) return;
  const [run] = await tx.select().from(runs).where(eq(runs.id, job.runId));
  if (!run) return;
  const stages: Stages = { ...freshStages(), ...run.stages };
  const order: StageName[] = ["normalize", "evaluate"];
  const at = new Date().toISOString();
  const failedAt = order.find((s) => stages[s].status === "running") ?? order.find((s) => stages[s].status === "pending") ?? "normalize";
  stages[failedAt] = { ...stages[failedAt], status, started_at: stages[failedAt].started_at ?? at, ended_at: at, errors: [...stages[failedAt].errors, { message: error }].slice(0, 50) };
  await saveStages(tx, run.id, stages, { status, error, endedAt: new Date() });
}

export const rematerializeHandler: HandlerDefinition = {
  jobType: REMATERIALIZE_JOB_TYPE,
  handler: runRematerialize,
  onFinalFailure: (tx, job, status, error) => recordFailure(tx, job, status, error),
};
