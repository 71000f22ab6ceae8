// Retrying a run: a new run with trigger `retry` that links to the original (lineage), and bulk retry/cancel.
import { eq } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { runs, type RunStatus } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { cancelRunInTx, createRun } from "./create-run.service.ts";
import { runsMatching, type RunFilter } from "./runs.presenter.ts";

const RETRYABLE: RunStatus[] = ["failed", "timed_out", "cancelled"];

export async function retryRun(tx: Tx, runId: string, requestedBy: string, idempotencyKey?: string | null) {
  const [original] = await tx.select().from(runs).where(eq(runs.id, runId)).for("update");
  if (!original) throw new AppError("NOT_FOUND", "No such run");
  if (!RETRYABLE.includes(original.status)) throw new AppError("CONFLICT", `Only failed, timed-out or cancelled runs can be retried (this one is ${original.status})`);
  const result = await createRun(tx, { tenantId: original.tenantId, sourceId: original.sourceId, trigger: "retry", requestedBy, retryOfRunId: original.id, idempotencyKey, overlapPolicy: "skip" });
  if (result.status === "skipped") throw new AppError("CONFLICT", "The source already has a run in progress; retry when it ends", { active_run_id: result.activeRunId });
  return result;
}

export interface BulkResult {
  action: "retry" | "cancel";
  processed: number;
  succeeded: number;
  failed: number;
  items: { run_id: string; outcome: "ok" | "error"; new_run_id?: string; error?: string }[];
  /** Continue from here for the next batch (progress through a large filter); null when done. */
  next_cursor: string | null;
}

export async function bulkRuns(tx: Tx, action: "retry" | "cancel", filter: Omit<RunFilter, "cursor" | "limit">, cursor: string | null, batch: number, requestedBy: string): Promise<BulkResult> {
  const statuses: RunStatus[] = action === "retry" ? RETRYABLE : ["queued", "running"];
  const candidates = await runsMatching(tx, filter, statuses, cursor, batch + 1, action === "retry");
  const chunk = candidates.slice(0, batch);
  const items: BulkResult["items"] = [];
  for (const run of chunk) {
    try {
      // A savepoint per run: one refusal does not undo the others.
      const out = await tx.transaction(async (sp) => {
        if (action === "cancel") {
          await cancelRunInTx(sp, run.id, `cancelled in bulk by ${requestedBy}`);
          return undefined;
        }
        if (run.recoveredByRunId) throw new AppError("CONFLICT", "already recovered");
        return (await retryRun(sp, run.id, requestedBy)).run.id;
      });
      items.push({ run_id: run.id, outcome: "ok", ...(out ? { new_run_id: out } : {}) });
    } catch (err) {
      items.push({ run_id: run.id, outcome: "error", error: (err as Error).message });
    }
  }
  const ok = items.filter((i) => i.outcome === "ok").length;
  return { action, processed: items.length, succeeded: ok, failed: items.length - ok, items, next_cursor: candidates.length > batch ? chunk[chunk.length - 1]!.id : null };
}
