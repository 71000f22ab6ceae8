// materializeGraph over a real database: findings by fingerprint (no duplicates on a re-run, resolve on removal,
// reopen on return), assets and relations by stable key, evidence links, the binding modes and their precedence,
// exceptions that expire and reopen, re-evaluation that changes nothing but last_seen_at, and tenant isolation.
import { randomUUID } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/test-db.ts";
import { withTenant, type Tx } from "../../db/tenant.ts";
import { assetRelations, assets, evidence, findingEvidence, findingExceptions, findings, policies, policyBindings, sources, type PolicyRule } from "../../db/schema/index.ts";
import { createTenant } from "../domain/tenants/tenants.service.ts";
import { materializeGraph, type MaterializeInput } from "./materialize.service.ts";
import { decideException, expireDueExceptions, requestException } from "./exceptions.service.ts";

let t: TestDatabase;
let tenantA: string;
let tenantB: string;
const system = { actor: "system:test", actorType: "system" as const, requestId: null, ip: null };
const noAudit = async () => undefined;

beforeAll(async () => {
  t = await createTestDatabase();
  tenantA = (await createTenant(t.client, { slug: "mat-a", name: "A" }, system)).id;
  tenantB = (await createTenant(t.client, { slug: "mat-b", name: "B" }, system)).id;
});
afterAll(async () => {
  await t.drop();
});

const inTenant = <T>(tenant: string, fn: (tx: Tx) => Promise<T>) => withTenant(t.client, tenant, fn);

async function newSource(tenant: string, name = "MCP configs") {
  return inTenant(tenant, async (tx) => {
    const [s] = await tx.insert(sources).values({ tenantId: tenant, kind: "scan.mcp_config", displayName: name, scope: { paths: ["/x"] }, createdBy: "user:test" }).returning();
    return s!.id;
  });
}

async function newEvidence(tx: Tx, tenant: string, sourceId: string, runId: string) {
  const [e] = await tx
    .insert(evidence)
    .values({ tenantId: tenant, sourceId, runId, jobId: null, kind: "inventory", storageUri: `fs://${tenant}/${randomUUID()}`, contentType: "application/json", hash: "0".repeat(64), size: 2 })
    .returning();
  return e!.id;
}

const server = (name: string) => ({ id: `mcp_server:/cfg.json#/mcpServers/${name}`, type: "mcp_server", name, properties: { transport: "stdio" } });
const pkg = { id: "pkg:npm/demo-server", type: "package", name: "demo-server", properties: { pinned: false } };
const finding = (fp: string, rule = "mcp.inline_secret", severity = "high", assetName = "a") => ({
  fingerprint: fp,
  rule,
  severity,
  title: `${rule} at ${fp}`,
  asset: server(assetName).id,
  where: `/cfg.json#/mcpServers/${assetName}`,
  details: { key: "API_TOKEN" },
});
const graphOf = (fs: ReturnType<typeof finding>[]) => ({
  assets: [server("a"), server("b"), pkg],
  relations: [{ type: "runs", from: server("a").id, to: pkg.id }],
  findings: fs,
});

/** One run of a source: an evidence row and materializeGraph in one transaction, as the pipeline does. */
async function materialize(tenant: string, sourceId: string, graph: MaterializeInput["graph"], opts: Partial<MaterializeInput> = {}) {
  return inTenant(tenant, async (tx) => {
    const runId = opts.runId ?? randomUUID();
    const evidenceId = await newEvidence(tx, tenant, sourceId, runId);
    const result = await materializeGraph(tx, { tenantId: tenant, sourceId, runId, jobId: null, evidenceIds: [evidenceId], graph, complete: true, ...opts });
    return { ...result, runId, evidenceId };
  });
}

const sourceFindings = (tenant: string, sourceId: string) => inTenant(tenant, (tx) => tx.select().from(findings).where(eq(findings.sourceId, sourceId)).orderBy(findings.fingerprint));

async function bind(tenant: string, rules: PolicyRule[], target: { type: "tenant" | "source"; id: string }, mode: "audit" | "enforce" | "disabled") {
  return inTenant(tenant, async (tx) => {
    const [p] = await tx.insert(policies).values({ tenantId: tenant, name: `p-${randomUUID().slice(0, 8)}`, rules, createdBy: "user:test" }).returning();
    const [b] = await tx.insert(policyBindings).values({ tenantId: tenant, policyId: p!.id, targetType: target.type, targetId: target.id, mode, createdBy: "user:test" }).returning();
    return { policyId: p!.id, bindingId: b!.id };
  });
}

async function unbindAll(tenant: string) {
  await inTenant(tenant, async (tx) => {
    await tx.delete(policyBindings).where(eq(policyBindings.tenantId, tenant));
  });
}

describe("materializeGraph", () => {
  it("creates findings once and updates them on a re-run instead of duplicating", async () => {
    const src = await newSource(tenantA);
    const first = await materialize(tenantA, src, graphOf([finding("f1"), finding("f2", "mcp.unpinned_package", "medium")]));
    expect(first.created).toHaveLength(2);
    expect(first).toMatchObject({ assets: 3, relations: 1, updated: [], resolved: [], reopened: [], enforcedFailures: 0, errors: [] });

    const second = await materialize(tenantA, src, graphOf([finding("f1"), finding("f2", "mcp.unpinned_package", "medium")]));
    expect(second.created).toEqual([]);
    expect(second.updated.sort()).toEqual(first.created.sort());
    expect(second.findingIds.sort()).toEqual(first.created.sort());

    const rows = await sourceFindings(tenantA, src);
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r.status)).toEqual(["open", "open"]);
    expect(rows[0]).toMatchObject({ rule: "mcp.inline_secret", severity: "high", firstRunId: first.runId, lastRunId: second.runId, lastEvidenceId: second.evidenceId, location: "/cfg.json#/mcpServers/a" });
    expect(rows[0]!.lastSeenAt.getTime()).toBeGreaterThan(rows[0]!.firstSeenAt.getTime());

    // Assets and relations are upserted by their stable keys, not duplicated.
    const [counts] = await inTenant(tenantA, (tx) =>
      tx.execute<{ assets: number; relations: number }>(sql`select (select count(*)::int from assets) as assets, (select count(*)::int from asset_relations) as relations`),
    );
    expect(counts).toEqual({ assets: 3, relations: 1 });
    const [asset] = await inTenant(tenantA, (tx) => tx.select().from(assets).where(eq(assets.key, pkg.id)));
    expect(asset).toMatchObject({ type: "package", name: "demo-server", attributes: { pinned: false } });
    expect(rows[0]!.assetId).not.toBeNull();

    // Each run's evidence is linked to each finding it contained.
    const links = await inTenant(tenantA, (tx) => tx.select().from(findingEvidence).where(eq(findingEvidence.findingId, rows[0]!.id)));
    expect(links.map((l) => l.evidenceId).sort()).toEqual([first.evidenceId, second.evidenceId].sort());
    expect(links.find((l) => l.evidenceId === second.evidenceId)!.runId).toBe(second.runId);
  });

  it("resolves a finding whose cause is gone, and reopens it when it comes back", async () => {
    const src = await newSource(tenantA);
    const first = await materialize(tenantA, src, graphOf([finding("r1"), finding("r2")]));
    // A partial picture (an incremental push) resolves nothing.
    const partial = await materialize(tenantA, src, graphOf([finding("r1")]), { complete: false });
    expect(partial.resolved).toEqual([]);

    const gone = await materialize(tenantA, src, graphOf([finding("r1")]));
    const r2 = (await sourceFindings(tenantA, src)).find((f) => f.fingerprint === "r2")!;
    expect(gone.resolved).toEqual([r2.id]);
    expect(r2).toMatchObject({ status: "resolved", resolution: "not_seen", resolvedRunId: gone.runId });
    expect(r2.resolvedAt).not.toBeNull();

    // Running again without it changes nothing more.
    const still = await materialize(tenantA, src, graphOf([finding("r1")]));
    expect(still.resolved).toEqual([]);

    const back = await materialize(tenantA, src, graphOf([finding("r1"), finding("r2")]));
    expect(back.reopened).toEqual([r2.id]);
    expect(back.created).toEqual([]);
    const again = (await sourceFindings(tenantA, src)).find((f) => f.fingerprint === "r2")!;
    expect(again).toMatchObject({ id: first.created.find((id) => id === r2.id), status: "open", resolution: null, resolvedAt: null, reopenedCount: 1 });
  });

  it("applies bindings: audit records, enforce fails the evaluation, disabled drops and resolves; source bindings win over tenant ones", async () => {
    const src = await newSource(tenantA);
    const graph = graphOf([finding("b1", "mcp.inline_secret", "high"), finding("b2", "mcp.unpinned_package", "medium"), finding("b3", "mcp.plain_http_remote", "high", "b")]);

    // No binding: recorded as given.
    const plain = await materialize(tenantA, src, graph);
    expect(plain).toMatchObject({ bindingsApplied: [], enforcedFailures: 0, droppedByPolicy: 0 });

    // Tenant-wide: enforce every mcp rule, with inline secrets raised to critical.
    const tenantWide = await bind(tenantA, [{ rule: "mcp.*", enabled: true }, { rule: "mcp.inline_secret", enabled: true, severity: "critical" }], { type: "tenant", id: tenantA }, "enforce");
    const enforced = await materialize(tenantA, src, graph);
    expect(enforced.enforcedFailures).toBe(3);
    expect(enforced.bindingsApplied).toEqual([tenantWide.bindingId]);
    expect(enforced.enforced.map((e) => e.rule).sort()).toEqual(["mcp.inline_secret", "mcp.plain_http_remote", "mcp.unpinned_package"]);
    let rows = await sourceFindings(tenantA, src);
    expect(rows.find((f) => f.fingerprint === "b1")).toMatchObject({ severity: "critical", enforcement: "enforce", appliedBindingIds: [tenantWide.bindingId] });

    // This source: only audit unpinned packages, and plain-http remotes are disabled here.
    const audit = await bind(tenantA, [{ rule: "mcp.unpinned_package", enabled: true }], { type: "source", id: src }, "audit");
    const off = await bind(tenantA, [{ rule: "mcp.plain_http_remote", enabled: true }], { type: "source", id: src }, "disabled");
    const mixed = await materialize(tenantA, src, graph);
    expect(mixed.enforcedFailures).toBe(1); // only the inline secret (tenant enforce still decides it)
    expect(mixed.droppedByPolicy).toBe(1);
    rows = await sourceFindings(tenantA, src);
    expect(rows.find((f) => f.fingerprint === "b2")).toMatchObject({ status: "open", enforcement: "audit", severity: "medium", appliedBindingIds: [audit.bindingId] });
    expect(rows.find((f) => f.fingerprint === "b3")).toMatchObject({ status: "resolved", resolution: "disabled_by_policy" });
    expect(mixed.resolved).toEqual([rows.find((f) => f.fingerprint === "b3")!.id]);
    expect(mixed.bindingsApplied.sort()).toEqual([tenantWide.bindingId, audit.bindingId, off.bindingId].sort());

    // A policy entry with enabled: false turns its rule off just like a disabled binding.
    const entryOff = await bind(tenantA, [{ rule: "mcp.inline_secret", enabled: false }], { type: "source", id: src }, "audit");
    const afterOff = await materialize(tenantA, src, graph);
    expect(afterOff.enforcedFailures).toBe(0);
    expect(afterOff.bindingsApplied).toContain(entryOff.bindingId);
    rows = await sourceFindings(tenantA, src);
    expect(rows.find((f) => f.fingerprint === "b1")).toMatchObject({ status: "resolved", resolution: "disabled_by_policy" });

    // Bindings removed: everything comes back as plain findings.
    await unbindAll(tenantA);
    const back = await materialize(tenantA, src, graph);
    expect(back.reopened).toHaveLength(2);
    rows = await sourceFindings(tenantA, src);
    expect(rows.every((f) => f.status === "open" && f.enforcement === "default")).toBe(true);
    expect(rows.find((f) => f.fingerprint === "b1")!.severity).toBe("high");
  });

  it("suppresses under an approved exception, keeps it suppressed across runs and enforcement, and reopens it when the exception expires", async () => {
    const src = await newSource(tenantA);
    const graph = graphOf([finding("e1"), finding("e2")]);
    await materialize(tenantA, src, graph);
    const e1 = (await sourceFindings(tenantA, src)).find((f) => f.fingerprint === "e1")!;

    const requested = await inTenant(tenantA, (tx) => requestException(tx, tenantA, e1.id, { reason: "test key, rotated weekly", expires_at: new Date(Date.now() + 3_600_000).toISOString() }, "user:op@example.com", noAudit));
    expect(requested.status).toBe("requested");
    expect((await sourceFindings(tenantA, src)).find((f) => f.id === e1.id)!.status).toBe("open");
    const approved = await inTenant(tenantA, (tx) => decideException(tx, tenantA, requested.exception_id, "approve", "user:admin@example.com", "ok for now", noAudit));
    expect(approved).toMatchObject({ status: "approved", decided_by: "user:admin@example.com" });
    expect((await sourceFindings(tenantA, src)).find((f) => f.id === e1.id)!.status).toBe("suppressed");

    // A re-run under an enforce binding: the suppressed finding stays suppressed and does not fail enforcement.
    await bind(tenantA, [{ rule: "*", enabled: true }], { type: "source", id: src }, "enforce");
    const run = await materialize(tenantA, src, graph);
    expect(run.enforcedFailures).toBe(1);
    expect((await sourceFindings(tenantA, src)).find((f) => f.id === e1.id)!.status).toBe("suppressed");
    await unbindAll(tenantA);

    // The exception runs out: the next look at the tenant's findings reopens it, audited as the system.
    await t.owner.db.update(findingExceptions).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(findingExceptions.id, requested.exception_id));
    const swept = await inTenant(tenantA, (tx) => expireDueExceptions(tx, tenantA));
    expect(swept).toEqual({ expired: [requested.exception_id], reopened: [e1.id] });
    expect((await sourceFindings(tenantA, src)).find((f) => f.id === e1.id)!.status).toBe("open");
    const [ex] = await inTenant(tenantA, (tx) => tx.select().from(findingExceptions).where(eq(findingExceptions.id, requested.exception_id)));
    expect(ex).toMatchObject({ status: "expired" });
    expect(ex!.expiredAt).not.toBeNull();
    const audits = await inTenant(tenantA, (tx) => tx.execute<{ action: string; actor: string }>(sql`select action, actor from audit_events where target_id = ${requested.exception_id}`));
    expect(audits).toEqual([{ action: "finding_exception.expire", actor: "system:exception-expiry" }]);

    // Materializing also expires first: a second exception run out before a run is gone by the time it is judged.
    const second = await inTenant(tenantA, (tx) => requestException(tx, tenantA, e1.id, { reason: "again", expires_at: new Date(Date.now() + 3_600_000).toISOString() }, "user:op@example.com", noAudit));
    await inTenant(tenantA, (tx) => decideException(tx, tenantA, second.exception_id, "approve", "user:admin@example.com", undefined, noAudit));
    await t.owner.db.update(findingExceptions).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(findingExceptions.id, second.exception_id));
    await materialize(tenantA, src, graph);
    expect((await sourceFindings(tenantA, src)).find((f) => f.id === e1.id)!.status).toBe("open");
  });

  it("re-evaluating an unchanged graph changes nothing but last_seen_at", async () => {
    const src = await newSource(tenantA);
    const graph = graphOf([finding("g1"), finding("g2", "mcp.shell_wrapped_command", "medium", "b")]);
    const collected = await materialize(tenantA, src, graph);
    const before = await sourceFindings(tenantA, src);
    const reeval = await inTenant(tenantA, (tx) =>
      materializeGraph(tx, { tenantId: tenantA, sourceId: src, runId: randomUUID(), jobId: null, evidenceIds: [collected.evidenceId], graph, complete: true, reevaluation: true }),
    );
    expect(reeval).toMatchObject({ created: [], resolved: [], reopened: [] });
    const after = await sourceFindings(tenantA, src);
    const strip = (r: (typeof before)[number]) => ({ ...r, lastSeenAt: null });
    expect(after.map(strip)).toEqual(before.map(strip));
    for (const [i, r] of after.entries()) expect(r.lastSeenAt.getTime()).toBeGreaterThan(before[i]!.lastSeenAt.getTime());
    // No new evidence links: the stored evidence was already linked.
    const [links] = await inTenant(tenantA, (tx) => tx.execute<{ n: number }>(sql`select count(*)::int as n from finding_evidence where evidence_id = ${collected.evidenceId}`));
    expect(links!.n).toBe(2);
  });

  it("drops malformed entries with pointers and keeps the rest", async () => {
    const src = await newSource(tenantA);
    const result = await materialize(tenantA, src, {
      assets: [server("a"), { id: 7 }, server("a")],
      relations: [{ type: "runs", from: server("a").id, to: "nowhere" }],
      findings: [{ rule: "mcp.inline_secret", severity: "urgent", title: "x\u0000y", asset: server("a").id, details: { ["k\u0000"]: "a\uD800b" } }, { fingerprint: "no-rule" }, finding("ok")],
    });
    expect(result.created).toHaveLength(2);
    expect(result.errors.map((e) => e.where)).toEqual(["/assets/1", "/assets/2", "/relations/0", "/findings/0/severity", "/findings/1"]);
    const rows = await sourceFindings(tenantA, src);
    const derived = rows.find((r) => r.fingerprint !== "ok")!;
    expect(derived).toMatchObject({ severity: "high", title: "xy", details: { k: "a\uFFFDb" } });
  });

  it("keeps tenants apart: another tenant sees none of it and cannot materialize into a foreign source", async () => {
    const src = await newSource(tenantA);
    await materialize(tenantA, src, graphOf([finding("iso")]));
    const seenByB = await inTenant(tenantB, (tx) => tx.select().from(findings));
    expect(seenByB).toEqual([]);
    const assetsByB = await inTenant(tenantB, (tx) => tx.select().from(assets));
    expect(assetsByB).toEqual([]);
    await expect(
      inTenant(tenantB, (tx) => materializeGraph(tx, { tenantId: tenantB, sourceId: src, runId: randomUUID(), jobId: null, evidenceIds: [], graph: graphOf([finding("iso")]), complete: true })),
    ).rejects.toThrow(/is not a source of tenant/);
    // Row-level security refuses a write for another tenant even when a query asks for it.
    const refused = await inTenant(tenantB, (tx) => tx.insert(findings).values({ tenantId: tenantA, sourceId: src, fingerprint: "x", rule: "r", severity: "low", title: "t" })).catch(
      (err: Error) => (err.cause as Error | undefined)?.message ?? err.message,
    );
    expect(refused).toMatch(/row-level security/);
    const srcB = await newSource(tenantB);
    const inB = await materialize(tenantB, srcB, graphOf([finding("iso")]));
    expect(inB.created).toHaveLength(1);
    const rowsA = await inTenant(tenantA, (tx) => tx.select().from(findings).where(and(eq(findings.fingerprint, "iso"))));
    expect(rowsA).toHaveLength(1);
    expect(rowsA[0]!.tenantId).toBe(tenantA);
    // The same asset key in two tenants is two rows, each visible only to its tenant.
    const relB = await inTenant(tenantB, (tx) => tx.select().from(assetRelations));
    expect(relB.every((r) => r.tenantId === tenantB)).toBe(true);
  });
});
