// The deploy gate on its own: which sources it queues and why others are skipped, the job re-reading stored
// inventory documents (incremental ones merged onto the newest complete one), refusing a blob that no longer
// matches its hash, and the periodic sweep that expires exceptions across tenants.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/test-db.ts";
import { testRuntime } from "../../test/runtime.ts";
import { withTenant, type Tx } from "../../db/tenant.ts";
import { findingExceptions, findings, jobs, runs, sources } from "../../db/schema/index.ts";
import { createTenant } from "../domain/tenants/tenants.service.ts";
import { evidenceServices, insertEvidence, prepareEvidence } from "../evidence/evidence.service.ts";
import type { Runtime } from "../runtime.ts";
import { INVENTORY_EVIDENCE_KIND, INVENTORY_FORMAT } from "./inventory.ts";
import { materializeGraph } from "./materialize.service.ts";
import { rematerialize } from "./rematerialize.service.ts";
import { rematerializeHandler } from "./rematerialize.handler.ts";
import { decideException, requestException } from "./exceptions.service.ts";
import { sweepExpiredExceptions } from "./exception-sweep.ts";

let t: TestDatabase;
let rt: Runtime;
let dataDir: string;
let tenant: string;
let tenantB: string;
const system = { actor: "system:test", actorType: "system" as const, requestId: null, ip: null };
const who = { actor: "user:owner@example.com", actorType: "user" as const, requestId: null, ip: null };
const noAudit = async () => undefined;

beforeAll(async () => {
  t = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-remat-"));
  rt = testRuntime(t, { CAIRN_DATA_DIR: dataDir });
  tenant = (await createTenant(t.client, { slug: "remat-a", name: "A" }, system)).id;
  tenantB = (await createTenant(t.client, { slug: "remat-b", name: "B" }, system)).id;
});
afterAll(async () => {
  await t.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const inTenant = <T>(id: string, fn: (tx: Tx) => Promise<T>) => withTenant(t.client, id, fn);

async function newSource(id: string, status: "active" | "disabled" = "active") {
  const [s] = await inTenant(id, (tx) => tx.insert(sources).values({ tenantId: id, kind: "ingest.result_push", displayName: `src-${status}`, status, createdBy: "user:test" }).returning());
  return s!.id;
}

const asset = { id: "pkg:npm/left-pad@1.0.0", type: "package", name: "left-pad" };
const finding = (fp: string) => ({ fingerprint: fp, rule: "vuln.CVE-2025-0001", severity: "high", title: `vuln ${fp}`, asset: asset.id });

/** A stored inventory document (signed blob + row) and the findings it produced, as a collect or a push would. */
async function storeInventory(id: string, sourceId: string, graph: { assets: unknown[]; relations: unknown[]; findings: unknown[] }, complete: boolean) {
  const services = await evidenceServices(rt);
  const runId = randomUUID();
  const doc = { format: INVENTORY_FORMAT, source: { id: sourceId, kind: "ingest.result_push" }, run_id: runId, job_id: null, complete, graph };
  const prepared = await prepareEvidence({ tenantId: id, jobId: null, runId, sourceId, kind: INVENTORY_EVIDENCE_KIND, contentType: "application/json", body: Buffer.from(JSON.stringify(doc)) }, services);
  return inTenant(id, async (tx) => {
    const [row] = await insertEvidence(tx, [prepared]);
    await materializeGraph(tx, { tenantId: id, sourceId, runId, jobId: null, evidenceIds: [row!.id], graph, complete });
    return row!;
  });
}

async function driveJob(id: string, jobId: string) {
  const [job] = await inTenant(id, (tx) => tx.select().from(jobs).where(eq(jobs.id, jobId)));
  const running = { ...job!, status: "running" as const, attempts: 1 };
  const ctx = { rt, job: running, signal: new AbortController().signal, log: () => {}, redact: () => {}, inTenant: <T>(fn: (tx: Tx) => Promise<T>) => inTenant(id, fn) };
  try {
    const outcome = await rematerializeHandler.handler(ctx);
    await inTenant(id, (tx) => outcome!.commit!(tx));
  } catch (err) {
    await inTenant(id, (tx) => rematerializeHandler.onFinalFailure!(tx, running, "failed", (err as Error).message));
  }
  const [run] = await inTenant(id, (tx) => tx.select().from(runs).where(eq(runs.id, job!.runId!)));
  return run!;
}

describe("rematerialize", () => {
  it("queues active sources with stored evidence and says why the others are skipped", async () => {
    const ready = await newSource(tenant);
    await storeInventory(tenant, ready, { assets: [asset], relations: [], findings: [finding("a1")] }, true);
    const disabled = await newSource(tenant, "disabled");
    await storeInventory(tenant, disabled, { assets: [asset], relations: [], findings: [finding("d1")] }, true);
    const never = await newSource(tenant);

    const items = await rematerialize(t.client, { tenant_ids: [tenant], source_ids: [ready, disabled, never] }, who, null);
    expect(items.map((i) => [i.source_id, i.outcome, i.reason])).toEqual([
      [ready, "queued", null],
      [disabled, "skipped", "the source is disabled"],
      [never, "skipped", "no stored inventory evidence yet (the source has not completed a run)"],
    ]);
    const again = await rematerialize(t.client, { tenant_ids: [tenant], source_ids: [ready] }, who, null);
    expect(again[0]).toMatchObject({ outcome: "already_queued", run_id: items[0]!.run_id });
    const run = await driveJob(tenant, items[0]!.job_id!);
    expect(run).toMatchObject({ trigger: "deploy_gate", status: "succeeded", requestedBy: "platform:user:owner@example.com" });
    // Once it has run, the next gate queues a new one.
    expect((await rematerialize(t.client, { tenant_ids: [tenant], source_ids: [ready] }, who, null))[0]!.outcome).toBe("queued");
  });

  it("merges incremental documents onto the newest complete picture", async () => {
    const src = await newSource(tenant);
    await storeInventory(tenant, src, { assets: [asset], relations: [], findings: [finding("old")] }, true);
    await storeInventory(tenant, src, { assets: [asset], relations: [], findings: [finding("base")] }, true);
    await storeInventory(tenant, src, { assets: [asset], relations: [], findings: [finding("increment")] }, false);
    const [item] = await rematerialize(t.client, { tenant_ids: [tenant], source_ids: [src] }, who, null);
    const run = await driveJob(tenant, item!.job_id!);
    expect(run.status).toBe("succeeded");
    const rows = await inTenant(tenant, (tx) => tx.select({ fp: findings.fingerprint, status: findings.status }).from(findings).where(eq(findings.sourceId, src)).orderBy(findings.fingerprint));
    // "old" was resolved by the second complete picture and stays resolved; the base and the increment are open.
    expect(rows).toEqual([
      { fp: "base", status: "open" },
      { fp: "increment", status: "open" },
      { fp: "old", status: "resolved" },
    ]);
  });

  it("refuses evidence whose blob no longer matches its hash, and fails the run saying so", async () => {
    const src = await newSource(tenant);
    const row = await storeInventory(tenant, src, { assets: [asset], relations: [], findings: [finding("t1")] }, true);
    const [item] = await rematerialize(t.client, { tenant_ids: [tenant], source_ids: [src] }, who, null);
    const m = /^fs:\/\/([0-9a-f-]{36})\/([0-9a-f]{2})\/([0-9a-f]{64})$/.exec(row.storageUri)!;
    const file = path.join(dataDir, "evidence", m[1]!, m[2]!, m[3]!);
    fs.chmodSync(file, 0o644);
    fs.writeFileSync(file, JSON.stringify({ format: INVENTORY_FORMAT, graph: { assets: [], relations: [], findings: [] } }));
    const run = await driveJob(tenant, item!.job_id!);
    expect(run.status).toBe("failed");
    expect(run.error).toBe(`Stored evidence ${row.id} no longer matches its recorded hash: it was not re-evaluated`);
    expect(run.stages.normalize).toMatchObject({ status: "failed", errors: [{ message: run.error }] });
    // Nothing was resolved on the strength of the tampered copy.
    const [f] = await inTenant(tenant, (tx) => tx.select().from(findings).where(eq(findings.sourceId, src)));
    expect(f!.status).toBe("open");
  });

  it("answers 404-style for a tenant that does not exist", async () => {
    await expect(rematerialize(t.client, { tenant_ids: [randomUUID()] }, who, null)).rejects.toThrow(/No such tenant/);
  });
});

describe("exception sweep", () => {
  it("expires run-out exceptions in every tenant and reopens their findings, leaving current ones alone", async () => {
    const approve = async (id: string, findingId: string) => {
      const e = await inTenant(id, (tx) => requestException(tx, id, findingId, { reason: "r", expires_at: new Date(Date.now() + 3_600_000).toISOString() }, "user:op", noAudit));
      await inTenant(id, (tx) => decideException(tx, id, e.exception_id, "approve", "user:admin", undefined, noAudit));
      return e.exception_id;
    };
    // Run out without anyone reading the tenant's findings (a read would expire it on the spot).
    const runOut = (id: string) => t.owner.db.update(findingExceptions).set({ expiresAt: new Date(Date.now() - 60_000) }).where(eq(findingExceptions.id, id));
    const srcA = await newSource(tenant);
    await storeInventory(tenant, srcA, { assets: [asset], relations: [], findings: [finding("s1"), finding("s2")] }, true);
    const srcB = await newSource(tenantB);
    await storeInventory(tenantB, srcB, { assets: [asset], relations: [], findings: [finding("s3")] }, true);
    const ids = async (id: string, src: string) => Object.fromEntries((await inTenant(id, (tx) => tx.select().from(findings).where(eq(findings.sourceId, src)))).map((f) => [f.fingerprint, f.id]));
    const a = await ids(tenant, srcA);
    const b = await ids(tenantB, srcB);
    const expiredA = await approve(tenant, a.s1!);
    const current = await approve(tenant, a.s2!);
    const expiredB = await approve(tenantB, b.s3!);
    await runOut(expiredA);
    await runOut(expiredB);

    const swept = await sweepExpiredExceptions(rt);
    expect(swept).toMatchObject({ expired: 2, reopened: 2 });
    expect(swept.tenants).toBeGreaterThanOrEqual(2);
    const status = async (id: string, findingId: string) => (await inTenant(id, (tx) => tx.select({ s: findings.status }).from(findings).where(eq(findings.id, findingId))))[0]!.s;
    expect(await status(tenant, a.s1!)).toBe("open");
    expect(await status(tenant, a.s2!)).toBe("suppressed");
    expect(await status(tenantB, b.s3!)).toBe("open");
    const states = await t.owner.db.select({ id: findingExceptions.id, status: findingExceptions.status }).from(findingExceptions);
    expect(Object.fromEntries(states.map((s) => [s.id, s.status]))).toMatchObject({ [expiredA]: "expired", [current]: "approved", [expiredB]: "expired" });
    // A second sweep finds nothing to do.
    expect(await sweepExpiredExceptions(rt)).toEqual({ tenants: 0, expired: 0, reopened: 0 });
    const [audits] = await inTenant(tenantB, (tx) => tx.execute<{ n: number }>(sql`select count(*)::int as n from audit_events where action = 'finding_exception.expire'`));
    expect(audits!.n).toBe(1);
  });
});
