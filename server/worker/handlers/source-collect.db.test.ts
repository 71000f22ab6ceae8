// The source.collect handler driven directly (no worker) over a real database: stage cells progress as the run
// goes, evidence rows appear only in the completion transaction and verify, the run and the source get their final
// state there, credentials reach the connector and the redactor, and failures land on the stage that was running.
//
// A scope path that does not exist is a warning on the collect stage when other paths were scanned, and a failed
// collect stage ("None of the scope paths could be scanned") when nothing could be scanned at all: a run that
// looked at nothing must not read as a clean success.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/test-db.ts";
import { testRuntime } from "../../../test/runtime.ts";
import { withTenant, type Tx } from "../../../db/tenant.ts";
import { credentialRefs, evidence, findingEvidence, findings, policies, policyBindings, runs, sources, type Stages } from "../../../db/schema/index.ts";
import "../../connectors/index.ts";
import { createTenant } from "../../domain/tenants/tenants.service.ts";
import { createRun } from "../../domain/runs/create-run.service.ts";
import { FilesystemEvidenceStore } from "../../evidence/evidence-store.ts";
import { verifyEvidence } from "../../evidence/evidence.service.ts";
import type { JobRow } from "../../queue/enqueue.ts";
import type { Runtime } from "../../runtime.ts";
import type { JobContext, JobOutcome } from "../handler.ts";
import { INVENTORY_EVIDENCE_KIND, sourceCollectHandler } from "./source-collect.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../../connectors/mcp-config/fixtures");
const FAKE_SECRET = "sbp_4385c3dabf1abf1dfe43e7b4cdf1ca6ae2930c89";

let t: TestDatabase;
let rt: Runtime;
let dataDir: string;
let tenant: string;
const system = { actor: "system:test", actorType: "system" as const, requestId: null, ip: null };

beforeAll(async () => {
  t = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-collect-"));
  rt = testRuntime(t, { CAIRN_DATA_DIR: dataDir });
  tenant = (await createTenant(t.client, { slug: "collect-t", name: "Collect" }, system)).id;
});
afterAll(async () => {
  await t.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const inTenant = <T>(fn: (tx: Tx) => Promise<T>) => withTenant(t.client, tenant, fn);

async function newSourceAndRun(scope: Record<string, unknown>, extra: Partial<typeof sources.$inferInsert> = {}) {
  return inTenant(async (tx) => {
    const [source] = await tx
      .insert(sources)
      .values({ tenantId: tenant, kind: "scan.mcp_config", displayName: "Laptop MCP configs", scope, createdBy: "user:test", ...extra })
      .returning();
    const created = await createRun(tx, { tenantId: tenant, sourceId: source!.id, trigger: "manual", requestedBy: "user:test" });
    if (created.status !== "created") throw new Error("run not created");
    return { source: source!, run: created.run, job: { ...created.job, status: "running" as const, attempts: 1 } };
  });
}

interface Harness {
  ctx: JobContext;
  logs: string[];
  redacted: string[];
  /** The run's stage cells after every tenant transaction the handler ran. */
  snapshots: Stages[];
  controller: AbortController;
}

function harness(job: JobRow, hooks: { afterTx?: (n: number, h: Harness) => void } = {}): Harness {
  const h: Harness = { logs: [], redacted: [], snapshots: [], controller: new AbortController(), ctx: undefined as unknown as JobContext };
  let n = 0;
  h.ctx = {
    rt,
    job,
    signal: h.controller.signal,
    log: (level, message) => h.logs.push(`${level}: ${message}`),
    redact: (...values) => h.redacted.push(...values),
    inTenant: async (fn) => {
      const out = await inTenant(fn);
      const [run] = await inTenant((tx) => tx.select({ stages: runs.stages }).from(runs).where(eq(runs.id, job.runId!)));
      h.snapshots.push(run!.stages);
      hooks.afterTx?.(++n, h);
      return out;
    },
  };
  return h;
}

const readRun = (id: string) => inTenant(async (tx) => (await tx.select().from(runs).where(eq(runs.id, id)))[0]!);
const readSource = (id: string) => inTenant(async (tx) => (await tx.select().from(sources).where(eq(sources.id, id)))[0]!);
const readEvidence = (runId: string) => inTenant((tx) => tx.select().from(evidence).where(eq(evidence.runId, runId)));

/** What the worker does after the handler throws for good. */
async function failFinally(job: JobRow, status: "failed" | "cancelled" | "timed_out", err: unknown) {
  await inTenant((tx) => sourceCollectHandler.onFinalFailure!(tx, job, status, (err as Error).message));
}

describe("source.collect", () => {
  it("walks collect → normalize → evaluate → evidence, and commits evidence, run and source together", async () => {
    const { source, run, job } = await newSourceAndRun({ paths: [FIXTURES] });
    const h = harness(job);
    const outcome = (await sourceCollectHandler.handler(h.ctx)) as JobOutcome;

    // Progress was visible while it ran.
    const statuses = h.snapshots.map((s) => [s.collect.status, s.normalize.status, s.evaluate.status, s.evidence.status].join(" "));
    expect(statuses).toEqual(["running pending pending pending", "running pending pending pending", "succeeded running pending pending", "succeeded succeeded running running"]);

    // Nothing final is written before commit.
    expect((await readRun(run.id)).status).toBe("running");
    expect(await readEvidence(run.id)).toEqual([]);
    expect(outcome.result).toMatchObject({ items: 82, findings: 31, evidence: 2, warnings: 0 });

    await inTenant((tx) => outcome.commit!(tx));
    const done = await readRun(run.id);
    expect(done.status).toBe("succeeded");
    expect(done.endedAt).not.toBeNull();
    expect(done.startedAt).not.toBeNull();
    expect(done.stages.collect).toMatchObject({ status: "succeeded", items: 82, errors: [] });
    expect(done.stages.normalize.status).toBe("succeeded");
    expect(done.stages.normalize.items).toBeGreaterThan(82);
    expect(done.stages.evaluate).toMatchObject({ status: "succeeded", items: 31, errors: [] });
    expect(done.stages.evidence).toMatchObject({ status: "succeeded", items: 2 });
    for (const cell of Object.values(done.stages)) {
      expect(cell.started_at).not.toBeNull();
      expect(Date.parse(cell.ended_at!)).toBeGreaterThanOrEqual(Date.parse(cell.started_at!));
    }
    expect(h.logs).toContain("info: evaluated 31 finding(s): 31 new, 0 seen again, 0 reopened, 0 resolved");

    const src = await readSource(source.id);
    expect(src.lastOutcome).toBe("succeeded");
    expect(src.lastSuccessAt).not.toBeNull();
    expect(src.lastRunAt!.getTime()).toBeGreaterThanOrEqual(done.createdAt.getTime());

    // Evidence: the redacted configs and the inventory document, both verifying, neither carrying a secret value.
    const rows = await readEvidence(run.id);
    expect(rows.map((r) => r.kind).sort()).toEqual([INVENTORY_EVIDENCE_KIND, "mcp_config.redacted"]);
    const store = new FilesystemEvidenceStore(path.join(dataDir, "evidence"));
    for (const row of rows) {
      expect(row).toMatchObject({ tenantId: tenant, jobId: job.id, runId: run.id, sourceId: source.id, contentType: "application/json" });
      expect((await verifyEvidence(t.client, store, row)).ok).toBe(true);
      expect((await store.get(row.storageUri)).toString("utf8")).not.toContain(FAKE_SECRET);
    }
    const inventory = JSON.parse((await store.get(rows.find((r) => r.kind === INVENTORY_EVIDENCE_KIND)!.storageUri)).toString("utf8"));
    expect(inventory).toMatchObject({ format: "cairn.inventory/v1", source: { id: source.id, kind: "scan.mcp_config" }, run_id: run.id, job_id: job.id, items: 82 });
    expect(inventory.graph.findings).toHaveLength(31);
  });

  it("puts a missing path among good ones on the collect stage as a warning", async () => {
    const missing = path.join(os.tmpdir(), `cairn-no-such-dir-${process.pid}`);
    const { run, job } = await newSourceAndRun({ paths: [path.join(FIXTURES, "windsurf"), missing] });
    const outcome = (await sourceCollectHandler.handler(harness(job).ctx)) as JobOutcome;
    await inTenant((tx) => outcome.commit!(tx));
    const done = await readRun(run.id);
    expect(done.status).toBe("succeeded");
    expect(done.stages.collect).toMatchObject({ status: "succeeded", items: 23, errors: [{ message: "path does not exist", where: missing }] });
  });

  it("fails the collect stage with a clear error when no scope path exists, and records it on the source", async () => {
    const missing = path.join(os.tmpdir(), `cairn-gone-${process.pid}`);
    const { source, run, job } = await newSourceAndRun({ paths: [missing] });
    const err = await sourceCollectHandler.handler(harness(job).ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(`None of the scope paths could be scanned (${missing}: path does not exist)`);
    expect((err as { permanent?: boolean }).permanent).toBe(true);
    await failFinally(job, "failed", err);

    const done = await readRun(run.id);
    expect(done.status).toBe("failed");
    expect(done.error).toMatch(/None of the scope paths could be scanned/);
    expect(done.stages.collect).toMatchObject({ status: "failed", errors: [{ message: (err as Error).message }] });
    expect(done.stages.collect.ended_at).not.toBeNull();
    expect(done.stages.normalize.status).toBe("pending");
    expect(await readEvidence(run.id)).toEqual([]);
    expect((await readSource(source.id)).lastOutcome).toBe("failed");
  });

  it("refuses to run a source that was disabled after the run was queued", async () => {
    const { source, run, job } = await newSourceAndRun({ paths: [FIXTURES] });
    await inTenant((tx) => tx.update(sources).set({ status: "disabled" }).where(eq(sources.id, source.id)));
    const err = await sourceCollectHandler.handler(harness(job).ctx).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/disabled/);
    await failFinally(job, "failed", err);
    const done = await readRun(run.id);
    expect(done.status).toBe("failed");
    expect(done.stages.collect).toMatchObject({ status: "failed", errors: [{ message: expect.stringMatching(/disabled/) }] });
  });

  it("stops when cancelled and marks the stage that was running as cancelled", async () => {
    const { source, run, job } = await newSourceAndRun({ paths: [FIXTURES] });
    // Cancel right after the run is marked running: the connector sees the aborted signal.
    const h = harness(job, { afterTx: (n, self) => n === 1 && self.controller.abort(new Error("cancelled")) });
    await expect(sourceCollectHandler.handler(h.ctx)).rejects.toThrow("cancelled");
    await failFinally(job, "cancelled", new Error("cancelled"));
    const done = await readRun(run.id);
    expect(done.status).toBe("cancelled");
    expect(done.stages.collect).toMatchObject({ status: "cancelled", errors: [{ message: "cancelled" }] });
    expect((await readSource(source.id)).lastOutcome).toBe("cancelled");
    expect(await readEvidence(run.id)).toEqual([]);
  });

  it("resolves the source's credential ref through the broker and registers its values for redaction", async () => {
    const secret = "file-provided-token-0123456789";
    const refDir = path.join(rt.env.credentialsDir, tenant, "mcp-scan");
    fs.mkdirSync(refDir, { recursive: true });
    fs.writeFileSync(path.join(refDir, "API_TOKEN"), `${secret}\n`);
    const [ref] = await inTenant((tx) => tx.insert(credentialRefs).values({ tenantId: tenant, name: "mcp scan", provider: "file", externalRef: "mcp-scan", createdBy: "user:test" }).returning());
    const { run, job } = await newSourceAndRun({ paths: [path.join(FIXTURES, "cursor")] }, { credentialMode: "credential_ref", credentialRefId: ref!.id });
    expect(job.credentialRefId).toBe(ref!.id);
    const h = harness(job);
    const outcome = (await sourceCollectHandler.handler(h.ctx)) as JobOutcome;
    expect(h.redacted).toEqual([secret]);
    await inTenant((tx) => outcome.commit!(tx));
    expect((await readRun(run.id)).status).toBe("succeeded");
  });

  it("turns the connector's findings into findings: a re-run updates them, a removed cause resolves them, an enforce binding fails the evaluate stage", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-collect-findings-"));
    const file = path.join(dir, ".mcp.json");
    const writeConfig = (token: string) =>
      fs.writeFileSync(file, JSON.stringify({ mcpServers: { tracker: { command: "node", args: ["server.js"], env: { API_TOKEN: token, LOG_LEVEL: "debug" } } } }));
    const collectOnce = async (sourceId?: string) => {
      const { source, run, job } = sourceId
        ? await inTenant(async (tx) => {
            const created = await createRun(tx, { tenantId: tenant, sourceId, trigger: "manual", requestedBy: "user:test" });
            if (created.status !== "created") throw new Error("run not created");
            const [src] = await tx.select().from(sources).where(eq(sources.id, sourceId));
            return { source: src!, run: created.run, job: { ...created.job, status: "running" as const, attempts: 1 } };
          })
        : await newSourceAndRun({ paths: [dir] });
      const h = harness(job);
      const outcome = (await sourceCollectHandler.handler(h.ctx)) as JobOutcome;
      await inTenant((tx) => outcome.commit!(tx));
      return { source, run: await readRun(run.id), logs: h.logs };
    };
    const sourceFindings = (sourceId: string) => inTenant((tx) => tx.select().from(findings).where(eq(findings.sourceId, sourceId)));
    try {
      writeConfig(FAKE_SECRET);
      const first = await collectOnce();
      const [found] = await sourceFindings(first.source.id);
      expect(found).toMatchObject({ rule: "mcp.inline_secret", status: "open", severity: "high", lastRunId: first.run.id, location: `${file}#/mcpServers/tracker` });
      expect(first.run.stages.evaluate).toMatchObject({ status: "succeeded", items: 1 });

      // Twice: the same finding, seen again.
      const second = await collectOnce(first.source.id);
      const again = await sourceFindings(first.source.id);
      expect(again).toHaveLength(1);
      expect(again[0]).toMatchObject({ id: found!.id, status: "open", lastRunId: second.run.id, firstRunId: first.run.id });
      expect(second.logs).toContain("info: evaluated 1 finding(s): 0 new, 1 seen again, 0 reopened, 0 resolved");
      // Linked to the inventory evidence of both runs.
      const links = await inTenant((tx) => tx.select({ runId: evidence.runId, kind: evidence.kind }).from(findingEvidence).innerJoin(evidence, eq(evidence.id, findingEvidence.evidenceId)).where(eq(findingEvidence.findingId, found!.id)));
      expect(links.filter((l) => l.kind === INVENTORY_EVIDENCE_KIND).map((l) => l.runId).sort()).toEqual([first.run.id, second.run.id].sort());

      // The secret is replaced by a reference: the finding is resolved by that run.
      writeConfig("${API_TOKEN}");
      const fixed = await collectOnce(first.source.id);
      expect((await sourceFindings(first.source.id))[0]).toMatchObject({ status: "resolved", resolution: "not_seen", resolvedRunId: fixed.run.id });
      expect(fixed.run.stages.evaluate).toMatchObject({ status: "succeeded", items: 1 });

      // It comes back while the tenant enforces mcp rules: reopened, the evaluate stage and the run fail.
      const [policy] = await inTenant((tx) => tx.insert(policies).values({ tenantId: tenant, name: "no inline secrets", rules: [{ rule: "mcp.*", enabled: true }], createdBy: "user:test" }).returning());
      await inTenant((tx) => tx.insert(policyBindings).values({ tenantId: tenant, policyId: policy!.id, targetType: "source", targetId: first.source.id, mode: "enforce", createdBy: "user:test" }));
      writeConfig(FAKE_SECRET);
      const enforced = await collectOnce(first.source.id);
      expect(enforced.run.status).toBe("failed");
      expect(enforced.run.error).toBe("Policy enforcement failed: 1 open finding(s) violate enforce bindings");
      expect(enforced.run.stages.evaluate).toMatchObject({ status: "failed", items: 1, errors: [{ message: 'enforce: 1 open finding(s) of rule mcp.inline_secret under policy "no inline secrets"' }] });
      expect(enforced.run.stages.evidence.status).toBe("succeeded");
      expect((await sourceFindings(first.source.id))[0]).toMatchObject({ status: "open", enforcement: "enforce", reopenedCount: 1 });
      expect((await readSource(first.source.id)).lastOutcome).toBe("failed");
      expect((await readEvidence(enforced.run.id)).length).toBe(2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
