// Deploy gate: after a policy or rule change, re-evaluate what the chosen tenants' sources last collected. For each
// active source with stored inventory evidence, a run with trigger deploy_gate and one `rematerialize` job; the job
// re-reads the stored inventory documents (hash re-checked), and materializes them again as a re-evaluation, so an
// unchanged graph under unchanged policies changes nothing but last_seen_at. Nothing is collected again.
import { randomUUID } from "node:crypto";
import { and, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import type { DbClient } from "../../db/client.ts";
import { withTenant, type Tx } from "../../db/tenant.ts";
import { evidence, runs, sources, tenants, type Stages } from "../../db/schema/index.ts";
import { appendAudit, type AuditInput } from "../domain/audit/audit-writer.service.ts";
import { freshStages } from "../domain/runs/stages.ts";
import { enqueueJob } from "../queue/enqueue.ts";
import { AppError } from "../errors.ts";
import { INVENTORY_EVIDENCE_KIND } from "./inventory.ts";

export const REMATERIALIZE_JOB_TYPE = "rematerialize";

export interface RematerializeInput {
  tenant_ids: string[];
  /** Only these sources (of the chosen tenants); all eligible sources when absent. */
  source_ids?: string[];
}

export interface RematerializeItem {
  tenant_id: string;
  source_id: string;
  source_name: string;
  outcome: "queued" | "already_queued" | "skipped";
  run_id: string | null;
  job_id: string | null;
  reason: string | null;
}

type AuditBase = Pick<AuditInput, "actor" | "actorType" | "requestId" | "ip">;

/** Stages of a deploy-gate run before its job starts: nothing is collected, no new evidence is written. */
function deployGateStages(): Stages {
  const stages = freshStages();
  stages.collect = { ...stages.collect, status: "skipped" };
  stages.evidence = { ...stages.evidence, status: "skipped" };
  return stages;
}

async function tenantSources(tx: Tx, sourceIds: string[] | undefined) {
  const where = [isNull(sources.deletedAt)];
  if (sourceIds?.length) where.push(inArray(sources.id, sourceIds));
  const rows = await tx.select({ id: sources.id, name: sources.displayName, status: sources.status, kind: sources.kind }).from(sources).where(and(...where)).orderBy(sources.createdAt, sources.id);
  const withEvidence = rows.length
    ? await tx
        .selectDistinct({ sourceId: evidence.sourceId })
        .from(evidence)
        .where(
          and(
            eq(evidence.kind, INVENTORY_EVIDENCE_KIND),
            inArray(
              evidence.sourceId,
              rows.map((r) => r.id),
            ),
          ),
        )
    : [];
  const has = new Set(withEvidence.map((r) => r.sourceId));
  return rows.map((r) => ({ ...r, hasEvidence: has.has(r.id) }));
}

/** Queues the deploy-gate runs; one tenant transaction per tenant, audited in that tenant's chain. */
export async function rematerialize(db: DbClient, input: RematerializeInput, who: AuditBase, idempotencyKey: string | null): Promise<RematerializeItem[]> {
  const tenantIds = [...new Set(input.tenant_ids)];
  const known = await db.db.select({ id: tenants.id }).from(tenants).where(inArray(tenants.id, tenantIds));
  const missing = tenantIds.filter((id) => !known.some((k) => k.id === id));
  if (missing.length) throw new AppError("NOT_FOUND", `No such tenant: ${missing.join(", ")}`, { tenant_ids: missing });
  const requestedBy = `platform:${who.actor}`;
  const items: RematerializeItem[] = [];
  for (const tenantId of tenantIds) {
    const tenantItems = await withTenant(db, tenantId, async (tx) => {
      const out: RematerializeItem[] = [];
      const candidates = await tenantSources(tx, input.source_ids);
      for (const s of candidates) {
        const base = { tenant_id: tenantId, source_id: s.id, source_name: s.name };
        if (s.status !== "active") {
          out.push({ ...base, outcome: "skipped", run_id: null, job_id: null, reason: "the source is disabled" });
          continue;
        }
        if (!s.hasEvidence) {
          out.push({ ...base, outcome: "skipped", run_id: null, job_id: null, reason: "no stored inventory evidence yet (the source has not completed a run)" });
          continue;
        }
        // Serialised per source (the row lock), so two gates at once queue one re-evaluation.
        await tx.select({ id: sources.id }).from(sources).where(eq(sources.id, s.id)).for("update");
        const [active] = await tx
          .select({ id: runs.id })
          .from(runs)
          .where(and(eq(runs.sourceId, s.id), eq(runs.trigger, "deploy_gate"), inArray(runs.status, ["queued", "running"])));
        if (active) {
          const [job] = await tx.execute<{ id: string }>(sql`select id from jobs where run_id = ${active.id}::uuid order by created_at limit 1`);
          out.push({ ...base, outcome: "already_queued", run_id: active.id, job_id: job?.id ?? null, reason: "a deploy-gate run of this source is already waiting or running" });
          continue;
        }
        const key = idempotencyKey ? `rematerialize:${idempotencyKey}:${s.id}` : null;
        if (key) {
          const [prior] = await tx.execute<{ id: string; run_id: string | null }>(sql`select id, run_id from jobs where tenant_id = ${tenantId}::uuid and idempotency_key = ${key}`);
          if (prior?.run_id) {
            out.push({ ...base, outcome: "already_queued", run_id: prior.run_id, job_id: prior.id, reason: "the same Idempotency-Key was used before" });
            continue;
          }
        }
        const traceId = randomUUID().replace(/-/g, "");
        const [run] = await tx.insert(runs).values({ tenantId, sourceId: s.id, trigger: "deploy_gate", status: "queued", stages: deployGateStages(), requestedBy, traceId }).returning({ id: runs.id });
        const { job } = await enqueueJob(tx, { tenantId, jobType: REMATERIALIZE_JOB_TYPE, requestedBy, sourceId: s.id, runId: run!.id, traceId, idempotencyKey: key, priority: 5, timeBudgetSeconds: 900 });
        out.push({ ...base, outcome: "queued", run_id: run!.id, job_id: job.id, reason: null });
      }
      await appendAudit(tx, {
        ...who,
        tenantId,
        targetType: "tenant",
        targetId: tenantId,
        action: "findings.rematerialize",
        outcome: "success",
        details: { queued: out.filter((i) => i.outcome === "queued").map((i) => ({ source_id: i.source_id, run_id: i.run_id })), skipped: out.filter((i) => i.outcome !== "queued").length },
      });
      return out;
    });
    items.push(...tenantItems);
  }
  return items;
}

/** The latest inventory documents of a source, newest first: back to (and including) the latest complete one. */
export async function storedInventories(tx: Tx, sourceId: string, max = 50) {
  return tx
    .select()
    .from(evidence)
    .where(and(eq(evidence.sourceId, sourceId), eq(evidence.kind, INVENTORY_EVIDENCE_KIND)))
    .orderBy(desc(evidence.createdAt), desc(evidence.id))
    .limit(max);
}
