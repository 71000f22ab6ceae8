// The findings, exceptions, policies and deploy-gate API over REST on the real app: a scan.mcp_config source run
// through the real pipeline produces the findings; lists filter and page; provenance walks back to the source and
// the requester; roles and step-up are enforced; rematerialize re-evaluates stored evidence idempotently.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/test-db.ts";
import { testRuntime } from "../../../test/runtime.ts";
import { startTestServer } from "../../../test/web.ts";
import { withTenant } from "../../../db/tenant.ts";
import { findingExceptions, findings, jobs, runs } from "../../../db/schema/index.ts";
import "../../connectors/index.ts";
import { bootstrapTenant, mintKey } from "../../domain/tenants/bootstrap.service.ts";
import { builtInHandlers } from "../../worker/handlers.ts";
import type { Runtime } from "../../runtime.ts";

let t: TestDatabase;
let rt: Runtime;
let web: { base: string; close(): Promise<void> };
let scanDir: string;
let dataDir: string;
let tenantId: string;
let otherTenantId: string;
let sourceId: string;
let foreignSourceId: string;
const keys = {} as Record<"admin" | "adminHighRisk" | "operator" | "viewer" | "auditor" | "other" | "platform" | "platformHighRisk", string>;

const SECRET = "ghp_" + "Zq8Wm3Lr5Tn7Vb2Xc4Hd6Jf9Kg1Pa0Se3Uy5";

interface Body {
  [field: string]: unknown;
  error: { code: string; message: string };
  items: Record<string, unknown>[];
  next_cursor: string | null;
}

async function rest(method: string, route: string, key: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${web.base}/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Body };
}

/** Runs a queued job through its handler and commits it, as a worker would. */
async function drive(tenant: string, jobId: string) {
  const [job] = await withTenant(t.client, tenant, (tx) => tx.select().from(jobs).where(eq(jobs.id, jobId)));
  const def = builtInHandlers().find((h) => h.jobType === job!.jobType)!;
  const running = { ...job!, status: "running" as const, attempts: 1 };
  const outcome = await def.handler({
    rt,
    job: running,
    signal: new AbortController().signal,
    log: () => {},
    redact: () => {},
    inTenant: (fn) => withTenant(t.client, tenant, fn),
  });
  await withTenant(t.client, tenant, async (tx) => {
    await outcome?.commit?.(tx);
    await tx.update(jobs).set({ status: "succeeded", finishedAt: new Date() }).where(eq(jobs.id, jobId));
  });
}

async function runSource(id: string, key = keys.operator) {
  const res = await rest("POST", `/sources/${id}/run`, key);
  expect(res.status).toBe(202);
  await drive(tenantId, res.body.job_id as string);
  return res.body.run_id as string;
}

function writeConfig(servers: Record<string, unknown>) {
  fs.writeFileSync(path.join(scanDir, ".mcp.json"), JSON.stringify({ mcpServers: servers }));
}

const baseServers = {
  tracker: { command: "node", args: ["tracker.js"], env: { TRACKER_API_TOKEN: SECRET } },
  fetcher: { command: "npx", args: ["@acme/fetch-mcp"] },
};

beforeAll(async () => {
  t = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-findings-api-"));
  scanDir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-findings-scan-"));
  rt = testRuntime(t, { CAIRN_DATA_DIR: dataDir });
  web = await startTestServer(rt);
  const boot = await bootstrapTenant(t.client, "findings-api", { highRisk: false });
  tenantId = boot.tenant_id;
  keys.admin = boot.api_key;
  keys.adminHighRisk = (await mintKey(t.client, { tenantSlug: "findings-api", role: "admin", platform: false, highRisk: true })).api_key;
  for (const role of ["operator", "viewer", "auditor"] as const) keys[role] = (await mintKey(t.client, { tenantSlug: "findings-api", role, platform: false, highRisk: false })).api_key;
  const other = await bootstrapTenant(t.client, "findings-other", { highRisk: false });
  otherTenantId = other.tenant_id;
  keys.other = other.api_key;
  keys.platform = (await mintKey(t.client, { platform: true, highRisk: false })).api_key;
  keys.platformHighRisk = (await mintKey(t.client, { platform: true, highRisk: true })).api_key;

  writeConfig(baseServers);
  const created = await rest("POST", "/sources", keys.operator, { kind: "scan.mcp_config", display_name: "Team laptop configs", scope: { paths: [scanDir] } });
  expect(created.status).toBe(201);
  sourceId = created.body.source_id as string;
  const foreign = await rest("POST", "/sources", keys.other, { kind: "scan.mcp_config", display_name: "Other tenant", scope: { paths: [scanDir] } });
  foreignSourceId = foreign.body.source_id as string;
  await runSource(sourceId);
});

afterAll(async () => {
  await web?.close();
  await t?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(scanDir, { recursive: true, force: true });
});

const findingByRule = async (rule: string) => (await rest("GET", `/findings?rule=${rule}`, keys.viewer)).body.items[0]!;

describe("findings", () => {
  it("lists the run's findings with filters and keyset pages; a forged cursor is a 400", async () => {
    const all = await rest("GET", "/findings", keys.viewer);
    expect(all.status).toBe(200);
    expect(all.body.items.map((f) => f.rule).sort()).toEqual(["mcp.inline_secret", "mcp.unpinned_package"]);
    expect(all.body.items.every((f) => f.status === "open" && f.source_id === sourceId && f.source_name === "Team laptop configs")).toBe(true);
    const secret = all.body.items.find((f) => f.rule === "mcp.inline_secret")!;
    expect(secret).toMatchObject({ severity: "high", rule_title: "Secret written inline in an MCP config", where: `${scanDir}/.mcp.json#/mcpServers/tracker`, enforcement: "default", exception: null });
    expect((secret.asset as Record<string, unknown>).type).toBe("mcp_server");
    expect(JSON.stringify(all.body)).not.toContain(SECRET);

    expect((await rest("GET", "/findings?severity=medium", keys.viewer)).body.items.map((f) => f.rule)).toEqual(["mcp.unpinned_package"]);
    expect((await rest("GET", "/findings?status=resolved", keys.viewer)).body.items).toEqual([]);
    expect((await rest("GET", `/findings?source_id=${sourceId}&rule=mcp.inline_secret`, keys.viewer)).body.items).toHaveLength(1);

    const first = await rest("GET", "/findings?limit=1", keys.viewer);
    expect(first.body.items).toHaveLength(1);
    const second = await rest("GET", `/findings?limit=1&cursor=${first.body.next_cursor}`, keys.viewer);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items[0]!.finding_id).not.toBe(first.body.items[0]!.finding_id);
    expect(second.body.next_cursor).toBeNull();
    const forged = await rest("GET", `/findings?cursor=${Buffer.from(JSON.stringify(["2024-01-01T00:00:00Z", "x"])).toString("base64url")}`, keys.viewer);
    expect(forged.status).toBe(400);
    expect((await rest("GET", "/findings?severity=urgent", keys.viewer)).status).toBe(400);
  });

  it("runs twice without duplicating, and a removed cause resolves its finding", async () => {
    const before = await findingByRule("mcp.unpinned_package");
    await runSource(sourceId);
    const listed = await rest("GET", "/findings", keys.viewer);
    expect(listed.body.items).toHaveLength(2);
    writeConfig({ tracker: baseServers.tracker, fetcher: { command: "npx", args: ["@acme/fetch-mcp@1.4.2"] } });
    const fixRun = await runSource(sourceId);
    const after = (await rest("GET", `/findings/${before.finding_id}`, keys.viewer)).body;
    expect(after).toMatchObject({ status: "resolved", resolution: "not_seen", resolved_run_id: fixRun });
    writeConfig(baseServers);
    await runSource(sourceId);
    expect((await rest("GET", `/findings/${before.finding_id}`, keys.viewer)).body).toMatchObject({ status: "open", reopened_count: 1 });
  });

  it("shows one finding with its evidence links; another tenant's finding is a 404", async () => {
    const f = await findingByRule("mcp.inline_secret");
    const one = await rest("GET", `/findings/${f.finding_id}`, keys.auditor);
    expect(one.status).toBe(200);
    expect(one.body.rule_description).toMatch(/literal credential/);
    const evidence = one.body.evidence as Record<string, unknown>[];
    expect(evidence.length).toBeGreaterThanOrEqual(2);
    expect(evidence.map((e) => e.kind)).toContain("inventory");
    expect(one.body.evidence_total).toBe(evidence.length);
    expect((await rest("GET", `/findings/${f.finding_id}`, keys.other)).status).toBe(404);
    expect((await rest("GET", `/findings/${f.finding_id}/provenance`, keys.other)).status).toBe(404);
  });

  it("draws provenance from the finding back to the source and who asked for the run", async () => {
    const f = await findingByRule("mcp.inline_secret");
    const res = await rest("GET", `/findings/${f.finding_id}/provenance`, keys.viewer);
    expect(res.status).toBe(200);
    const nodes = res.body.nodes as { id: string; type: string; href: string | null; label: string }[];
    const edges = res.body.edges as { from: string; to: string; label: string }[];
    const types = new Set(nodes.map((n) => n.type));
    for (const type of ["finding", "asset", "evidence", "job", "run", "source", "requester"]) expect(types, type).toContain(type);
    // Walk the chain: finding → evidence → job → run → source.
    const step = (from: string, label: string) => edges.find((e) => e.from === from && e.label === label)?.to;
    const ev = step(`finding:${f.finding_id}`, "seen in")!;
    const job = step(ev, "produced by")!;
    const run = step(job, "part of")!;
    const src = step(run, "run of")!;
    expect(src).toBe(`source:${sourceId}`);
    expect(nodes.find((n) => n.id === src)!.href).toBe(`/sources/${sourceId}`);
    expect(nodes.find((n) => n.id === ev)!.href).toBe(`/evidence/${ev.slice("evidence:".length)}`);
    expect(nodes.find((n) => n.id === run)!.href).toBe(`/runs/${run.slice(4)}`);
    const requester = nodes.find((n) => n.id === step(run, "requested by"))!;
    expect(requester.type).toBe("requester");
    expect(requester.label).toMatch(/^API key /);
    expect(res.body.evidence_total).toBeGreaterThanOrEqual(res.body.evidence_shown as number);
  });
});

describe("a source's findings summary", () => {
  it("counts open findings by severity, plus suppressed and resolved; another tenant's source is a 404", async () => {
    const res = await rest("GET", `/sources/${sourceId}/findings-summary`, keys.auditor);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ source_id: sourceId, open: 2, open_by_severity: { critical: 0, high: 1, medium: 1, low: 0, info: 0 }, suppressed: 0, resolved: 0 });
    // The same counts as the list with the source filter.
    const listed = await rest("GET", `/findings?source_id=${sourceId}&status=open`, keys.viewer);
    expect(listed.body.items).toHaveLength(2);
    expect((await rest("GET", `/sources/${foreignSourceId}/findings-summary`, keys.viewer)).status).toBe(404);
    expect((await rest("GET", "/sources/not-a-uuid/findings-summary", keys.viewer)).status).toBe(400);
  });
});

describe("exceptions", () => {
  it("are requested by operators, decided by admins, suppress and reopen findings, and are audited", async () => {
    const f = await findingByRule("mcp.inline_secret");
    const expires = new Date(Date.now() + 7 * 86_400_000).toISOString();
    expect((await rest("POST", `/findings/${f.finding_id}/exceptions`, keys.viewer, { reason: "test key", expires_at: expires })).status).toBe(403);
    expect((await rest("POST", `/findings/${f.finding_id}/exceptions`, keys.operator, { reason: "", expires_at: expires })).status).toBe(400);
    const past = await rest("POST", `/findings/${f.finding_id}/exceptions`, keys.operator, { reason: "x", expires_at: "2020-01-01T00:00:00Z" });
    expect(past.status).toBe(400);
    expect(past.body.error.message).toBe("expires_at: must be in the future");

    const requested = await rest("POST", `/findings/${f.finding_id}/exceptions`, keys.operator, { reason: "rotated every week; vault migration in progress", expires_at: expires });
    expect(requested.status).toBe(201);
    expect(requested.body).toMatchObject({ status: "requested", finding_id: f.finding_id, reason: "rotated every week; vault migration in progress" });
    expect((await rest("POST", `/findings/${f.finding_id}/exceptions`, keys.operator, { reason: "again", expires_at: expires })).status).toBe(409);
    const id = requested.body.exception_id as string;
    expect((await rest("POST", `/exceptions/${id}/approve`, keys.operator, {})).status).toBe(403);
    const approved = await rest("POST", `/exceptions/${id}/approve`, keys.admin, { note: "until the vault lands" });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: "approved", decision_note: "until the vault lands" });
    expect((await rest("GET", `/findings/${f.finding_id}`, keys.viewer)).body).toMatchObject({ status: "suppressed", exception: { exception_id: id, status: "approved" } });
    expect((await rest("GET", "/findings?status=suppressed", keys.viewer)).body.items.map((x) => x.finding_id)).toEqual([f.finding_id]);
    // A run keeps it suppressed.
    await runSource(sourceId);
    expect((await rest("GET", `/findings/${f.finding_id}`, keys.viewer)).body.status).toBe("suppressed");

    // Expired: the next read reopens it and says so.
    await t.owner.db.update(findingExceptions).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(findingExceptions.id, id));
    const reopened = await rest("GET", `/findings/${f.finding_id}`, keys.viewer);
    expect(reopened.body).toMatchObject({ status: "open", exception: null });
    expect((reopened.body.exceptions as Record<string, unknown>[])[0]).toMatchObject({ exception_id: id, status: "expired" });
    expect((await rest("GET", `/exceptions?status=expired`, keys.viewer)).body.items.map((e) => e.exception_id)).toEqual([id]);

    // Revoke: a second exception, approved then revoked, reopens at once.
    const second = await rest("POST", `/findings/${f.finding_id}/exceptions`, keys.operator, { reason: "short", expires_at: expires });
    await rest("POST", `/exceptions/${second.body.exception_id}/approve`, keys.admin, {});
    const revoked = await rest("POST", `/exceptions/${second.body.exception_id}/revoke`, keys.admin, {});
    expect(revoked.body.status).toBe("revoked");
    expect((await rest("GET", `/findings/${f.finding_id}`, keys.viewer)).body.status).toBe("open");
    expect((await rest("POST", `/exceptions/${second.body.exception_id}/approve`, keys.admin, {})).status).toBe(409);
    expect((await rest("POST", `/exceptions/${id}/approve`, keys.other, {})).status).toBe(404);

    const actions = await withTenant(t.client, tenantId, (tx) => tx.execute<{ action: string }>(sql`select action from audit_events where target_type = 'finding_exception' order by seq`));
    expect(actions.map((a) => a.action)).toEqual([
      "finding_exception.request",
      "finding_exception.approve",
      "finding_exception.expire",
      "finding_exception.request",
      "finding_exception.approve",
      "finding_exception.revoke",
    ]);
  });
});

describe("policies and bindings", () => {
  let policyId: string;

  it("are created by admins only, with rules checked and names unique", async () => {
    const body = { name: "MCP hygiene", description: "No inline secrets, pinned packages", rules: [{ rule: "mcp.*" }, { rule: "mcp.inline_secret", severity: "critical" }] };
    expect((await rest("POST", "/policies", keys.operator, body)).status).toBe(403);
    const created = await rest("POST", "/policies", keys.admin, body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "MCP hygiene", bindings: 0, rules: [{ rule: "mcp.*", enabled: true, severity: null, catalogued: null }, { rule: "mcp.inline_secret", enabled: true, severity: "critical", catalogued: true }] });
    policyId = created.body.policy_id as string;
    expect((await rest("POST", "/policies", keys.admin, body)).status).toBe(409);
    const bad = await rest("POST", "/policies", keys.admin, { name: "bad", rules: [{ rule: "mcp.*.x y" }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^rules\.0\.rule: /);
    expect((await rest("POST", "/policies", keys.admin, { name: "empty", rules: [] })).status).toBe(400);
    const catalogue = await rest("GET", "/policies/rules", keys.viewer);
    expect((catalogue.body.items as { id: string }[]).map((r) => r.id)).toContain("mcp.shell_wrapped_command");
    expect((await rest("GET", "/policies", keys.auditor)).body.items.map((p) => p.name)).toEqual(["MCP hygiene"]);
  });

  it("bind in audit mode freely; enforce and disabled need a step-up; the next run applies them", async () => {
    const audit = await rest("POST", "/policy-bindings", keys.admin, { policy_id: policyId, target_type: "tenant", mode: "audit" });
    expect(audit.status).toBe(201);
    expect(audit.body).toMatchObject({ target_type: "tenant", target_id: tenantId, target_name: "whole tenant", mode: "audit", created: true });
    const refused = await rest("POST", "/policy-bindings", keys.admin, { policy_id: policyId, target_type: "tenant", mode: "enforce" });
    expect(refused.status).toBe(428);
    expect(refused.body.error.code).toBe("STEP_UP_REQUIRED");
    const enforce = await rest("POST", "/policy-bindings", keys.adminHighRisk, { policy_id: policyId, target_type: "tenant", mode: "enforce" });
    expect(enforce.status).toBe(201);
    expect(enforce.body).toMatchObject({ binding_id: audit.body.binding_id, mode: "enforce", created: false });
    expect((await rest("POST", "/policy-bindings", keys.admin, { policy_id: policyId, target_type: "source", target_id: foreignSourceId, mode: "audit" })).status).toBe(404);
    expect((await rest("POST", "/policy-bindings", keys.operator, { policy_id: policyId, target_type: "tenant", mode: "audit" })).status).toBe(403);

    const runId = await runSource(sourceId);
    const [run] = await withTenant(t.client, tenantId, (tx) => tx.select().from(runs).where(eq(runs.id, runId)));
    expect(run).toMatchObject({ status: "failed", error: "Policy enforcement failed: 2 open finding(s) violate enforce bindings" });
    expect(run!.stages.evaluate.status).toBe("failed");
    const secret = await findingByRule("mcp.inline_secret");
    expect(secret).toMatchObject({ severity: "critical", enforcement: "enforce", policy_binding_ids: [audit.body.binding_id] });
    const prov = await rest("GET", `/findings/${secret.finding_id}/provenance`, keys.viewer);
    expect((prov.body.nodes as { type: string; href: string }[]).filter((n) => n.type === "policy" || n.type === "policy_binding").map((n) => [n.type, n.href])).toEqual([
      ["policy_binding", `/policies/${policyId}`],
      ["policy", `/policies/${policyId}`],
    ]);

    expect((await rest("DELETE", `/policies/${policyId}`, keys.admin)).status).toBe(409);
    const list = await rest("GET", `/policy-bindings?policy_id=${policyId}`, keys.viewer);
    expect(list.body.items.map((b) => b.mode)).toEqual(["enforce"]);
    // Changing the rules of a policy bound in enforce mode is a step-up too.
    expect((await rest("PUT", `/policies/${policyId}`, keys.admin, { rules: [{ rule: "mcp.unpinned_package" }] })).status).toBe(428);
    expect((await rest("PUT", `/policies/${policyId}`, keys.admin, { description: "wording only" })).status).toBe(200);
    expect((await rest("DELETE", `/policy-bindings/${audit.body.binding_id}`, keys.admin)).status).toBe(428);
    expect((await rest("DELETE", `/policy-bindings/${audit.body.binding_id}`, keys.adminHighRisk)).status).toBe(200);
    const audited = await withTenant(t.client, tenantId, (tx) => tx.execute<{ action: string; outcome: string }>(sql`select action, outcome from audit_events where target_type in ('policy', 'policy_binding') order by seq`));
    expect(audited.map((a) => a.action)).toEqual(["policy.create", "policy_binding.create", "policy_binding.update", "policy.update", "policy_binding.delete"]);
  });
});

describe("rematerialize (deploy gate)", () => {
  it("is for platform owners with step-up; re-evaluates stored evidence; twice changes nothing but last_seen_at; a policy change takes effect", async () => {
    const body = { tenant_ids: [tenantId] };
    expect((await rest("POST", "/admin/rematerialize", keys.adminHighRisk, body)).status).toBe(403);
    expect((await rest("POST", "/admin/rematerialize", keys.platform, body)).status).toBe(428);
    expect((await rest("POST", "/admin/rematerialize", keys.platformHighRisk, { tenant_ids: ["00000000-0000-4000-8000-000000000000"] })).status).toBe(404);

    const snapshot = async () =>
      (await withTenant(t.client, tenantId, (tx) => tx.select().from(findings).orderBy(findings.fingerprint))).map((f) => ({ ...f, lastSeenAt: null, seen: f.lastSeenAt.getTime() }));
    const gate = async (headers: Record<string, string> = {}) => {
      const res = await rest("POST", "/admin/rematerialize", keys.platformHighRisk, body, headers);
      expect(res.status).toBe(202);
      for (const item of res.body.items) if (item.outcome === "queued") await drive(tenantId, item.job_id as string);
      return res.body;
    };

    const first = await gate();
    expect(first.items).toEqual([{ tenant_id: tenantId, source_id: sourceId, source_name: "Team laptop configs", outcome: "queued", run_id: expect.any(String), job_id: expect.any(String), reason: null }]);
    const [run] = await withTenant(t.client, tenantId, (tx) => tx.select().from(runs).where(eq(runs.id, first.items[0]!.run_id as string)));
    expect(run).toMatchObject({ trigger: "deploy_gate", status: "succeeded", requestedBy: expect.stringMatching(/^platform:api_key:/) });
    expect(run!.stages).toMatchObject({ collect: { status: "skipped" }, normalize: { status: "succeeded" }, evaluate: { status: "succeeded" }, evidence: { status: "skipped" } });

    const before = await snapshot();
    await gate();
    const after = await snapshot();
    expect(after.map(({ seen: _seen, ...rest }) => rest)).toEqual(before.map(({ seen: _seen, ...rest }) => rest));
    for (const [i, f] of after.entries()) expect(f.seen).toBeGreaterThan(before[i]!.seen);

    // The same Idempotency-Key returns the first run instead of queueing another.
    const keyed = await gate({ "idempotency-key": "deploy-42" });
    const repeat = await rest("POST", "/admin/rematerialize", keys.platformHighRisk, body, { "idempotency-key": "deploy-42" });
    expect(repeat.body.items[0]).toMatchObject({ outcome: "already_queued", run_id: keyed.items[0]!.run_id });

    // A rule switched off by policy: the gate resolves its findings without collecting anything.
    const policy = await rest("POST", "/policies", keys.admin, { name: "no unpinned checks", rules: [{ rule: "mcp.unpinned_package", enabled: false }] });
    await rest("POST", "/policy-bindings", keys.adminHighRisk, { policy_id: policy.body.policy_id, target_type: "source", target_id: sourceId, mode: "audit" });
    await gate();
    expect((await findingByRule("mcp.unpinned_package")).status).toBe("resolved");
    expect((await findingByRule("mcp.unpinned_package")).resolution).toBe("disabled_by_policy");
    const platformAudit = await withTenant(t.client, tenantId, (tx) => tx.execute<{ n: number }>(sql`select count(*)::int as n from audit_events where action = 'findings.rematerialize'`));
    expect(platformAudit[0]!.n).toBeGreaterThanOrEqual(4);
    void otherTenantId;
  });
});
