// The ingest.process handler driven directly (no worker): the receipt and the run move stage by stage; an attempt
// that finds its push already evaluated (an earlier attempt evaluated and then died before completing) only
// completes, without materializing twice; and a final failure outside the document fails the receipt naming the stage.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/test-db.ts";
import { testRuntime } from "../../test/runtime.ts";
import { withTenant, type Tx } from "../../db/tenant.ts";
import { findings, ingestReceiptFindings, ingestReceipts, jobs, runs, sources } from "../../db/schema/index.ts";
import { createTenant } from "../domain/tenants/tenants.service.ts";
import { evidenceServices, prepareEvidence } from "../evidence/evidence.service.ts";
import type { JobContext, JobOutcome } from "../worker/handler.ts";
import type { Runtime } from "../runtime.ts";
import { acceptPush, RAW_EVIDENCE_KIND } from "./receipt.service.ts";
import { ingestProcessHandler } from "./process-push.ts";

const FIXTURES = path.join(import.meta.dirname, "fixtures");
let t: TestDatabase;
let rt: Runtime;
let dataDir: string;
let tenant: string;
const system = { actor: "system:test", actorType: "system" as const, requestId: null, ip: null };

beforeAll(async () => {
  t = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-process-push-"));
  rt = testRuntime(t, { CAIRN_DATA_DIR: dataDir });
  tenant = (await createTenant(t.client, { slug: "process-push", name: "Process push" }, system)).id;
});
afterAll(async () => {
  await t.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const inTenant = <T>(fn: (tx: Tx) => Promise<T>) => withTenant(t.client, tenant, fn);

async function pushed(file: string) {
  const body = fs.readFileSync(path.join(FIXTURES, file));
  const raw = await prepareEvidence({ tenantId: tenant, jobId: null, runId: null, sourceId: null, kind: RAW_EVIDENCE_KIND.result_push, contentType: "application/json", body }, await evidenceServices(rt));
  return inTenant(async (tx) => {
    const [source] = await tx.insert(sources).values({ tenantId: tenant, kind: "ingest.result_push", displayName: file, createdBy: "user:test" }).returning();
    const { receipt } = await acceptPush(tx, { tenantId: tenant, sourceId: source!.id, channel: "result_push", idempotencyKey: "k1", raw, contentType: "application/json", requestedBy: "user:test", audit: system });
    const [job] = await tx.select().from(jobs).where(eq(jobs.id, receipt.jobId!));
    return { receipt, job: { ...job!, status: "running" as const, attempts: 1 } };
  });
}

function context(job: JobContext["job"]): { ctx: JobContext; logs: string[] } {
  const logs: string[] = [];
  return { logs, ctx: { rt, job, signal: new AbortController().signal, log: (level, m) => logs.push(`${level}: ${m}`), redact: () => {}, inTenant } };
}

const receiptOf = (id: string) => inTenant(async (tx) => (await tx.select().from(ingestReceipts).where(eq(ingestReceipts.id, id)))[0]!);

describe("ingest.process", () => {
  it("evaluates in its own transaction and completes in the job's; a later attempt that finds it evaluated only completes", async () => {
    const { receipt, job } = await pushed("generated/eslint.sarif.json");
    const first = (await ingestProcessHandler.handler(context(job).ctx)) as JobOutcome;
    // Evaluated (findings and links written), not done until the completion transaction.
    const evaluated = await receiptOf(receipt.id);
    expect(evaluated.status).toBe("evaluated");
    const created = evaluated.counts.findings_created!;
    expect(created).toBeGreaterThan(0);
    const [run] = await inTenant((tx) => tx.select().from(runs).where(eq(runs.id, receipt.runId!)));
    expect(run!.status).toBe("running");
    expect(run!.stages.evaluate.status).toBe("succeeded");

    // The worker died before committing; the job runs again.
    const second = context(job);
    const again = (await ingestProcessHandler.handler(second.ctx)) as JobOutcome;
    expect(second.logs).toContain("info: this push was evaluated by an earlier attempt; completing it");
    await inTenant((tx) => again.commit!(tx));
    const done = await receiptOf(receipt.id);
    expect(done.status).toBe("done");
    expect(done.timeline.map((s) => s.status)).toEqual(["received", "parsed", "normalized", "evaluated", "done"]);
    expect(done.counts.findings_created).toBe(created);
    const rows = await inTenant((tx) => tx.select().from(findings).where(eq(findings.sourceId, receipt.sourceId)));
    expect(rows).toHaveLength(created);
    const links = await inTenant((tx) => tx.select().from(ingestReceiptFindings).where(eq(ingestReceiptFindings.receiptId, receipt.id)));
    expect(links).toHaveLength(created);
    const [finished] = await inTenant((tx) => tx.select().from(runs).where(eq(runs.id, receipt.runId!)));
    expect(finished).toMatchObject({ status: "succeeded" });
    expect(Object.values(finished!.stages).map((s) => s.status)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"]);
    // The first attempt's completion, arriving late, changes nothing.
    await inTenant((tx) => first.commit!(tx));
    expect((await receiptOf(receipt.id)).timeline).toHaveLength(5);
  });

  it("a final failure outside the document (a time budget) fails the receipt and names the stage", async () => {
    const { receipt, job } = await pushed("third-party/cyclonedx/CycloneDX__bom-examples__VEX-Use-Cases-Case-1-vex.cdx.json");
    await inTenant((tx) => ingestProcessHandler.onFinalFailure!(tx, job, "timed_out", "time budget of 900 s exceeded"));
    const failed = await receiptOf(receipt.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toEqual({ message: "processing timed out: time budget of 900 s exceeded", where: "stage collect", kind: "processing" });
    const [run] = await inTenant((tx) => tx.select().from(runs).where(eq(runs.id, receipt.runId!)));
    expect(run).toMatchObject({ status: "timed_out", error: "time budget of 900 s exceeded" });
  });
});
