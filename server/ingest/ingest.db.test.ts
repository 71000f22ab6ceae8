// Push ingest end to end over HTTP, with a real worker draining the queue: documents produced by real tools become
// receipts that reach done with counts that match the documents, findings that a re-push updates instead of
// duplicating and a smaller document resolves, raw artifacts that download and verify, and provenance from each
// finding to the evidence, job, run (trigger push) and source. Then refusals (key, size, type, auth, tenant), hostile
// documents that fail their receipt with a JSON pointer while another tenant's push goes through, and fleet syncs.
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/test-db.ts";
import { callerAs, testRuntime } from "../../test/runtime.ts";
import { startTestServer } from "../../test/web.ts";
import { withTenant, type Tx } from "../../db/tenant.ts";
import { auditEvents, evidence, findingEvidence, findings, jobs, runs } from "../../db/schema/index.ts";
import "../connectors/index.ts";
import { bootstrapTenant, mintKey } from "../domain/tenants/bootstrap.service.ts";
import { FilesystemEvidenceStore } from "../evidence/evidence-store.ts";
import { verifyEvidence } from "../evidence/evidence.service.ts";
import { startWorker, type Worker } from "../worker/worker.ts";
import { ingestProcessHandler } from "./process-push.ts";
import type { Runtime } from "../runtime.ts";

// Response bodies are read loosely: each test asserts the fields it cares about.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonBody = Record<string, any>;

const FIXTURES = path.join(import.meta.dirname, "fixtures");
const MCP_FIXTURES = path.resolve(import.meta.dirname, "../connectors/mcp-config/fixtures");
const LIMIT = 8 * 1024 * 1024;

let t: TestDatabase;
let rt: Runtime;
let dataDir: string;
let server: { base: string; close(): Promise<void> };
let worker: Worker;
let a: Awaited<ReturnType<typeof bootstrapTenant>>;
let b: Awaited<ReturnType<typeof bootstrapTenant>>;
let viewerKey: string;

beforeAll(async () => {
  t = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-ingest-"));
  rt = testRuntime(t, { CAIRN_DATA_DIR: dataDir, CAIRN_INGEST_MAX_BYTES: String(LIMIT), CAIRN_FLEET_SYNC_MAX_BYTES: String(512 * 1024) });
  a = await bootstrapTenant(t.client, "ingest-a", { highRisk: false });
  b = await bootstrapTenant(t.client, "ingest-b", { highRisk: false });
  viewerKey = (await mintKey(t.client, { tenantSlug: "ingest-a", role: "viewer", platform: false, highRisk: false })).api_key;
  server = await startTestServer(rt);
  worker = await startWorker(rt, { concurrency: 2, handlers: [ingestProcessHandler], pollMs: 100 });
});
afterAll(async () => {
  await worker?.stop();
  await server?.close();
  await t.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const inTenant = <T>(tenant: string, fn: (tx: Tx) => Promise<T>) => withTenant(t.client, tenant, fn);

async function newSource(apiKey: string, kind: "ingest.result_push" | "ingest.fleet_sync", name: string, scope: Record<string, unknown> = {}) {
  const caller = await callerAs(rt, { apiKey });
  return (await caller.sources.create({ kind, display_name: name, scope })).source_id;
}

interface PushOptions {
  key?: string | null;
  apiKey?: string;
  contentType?: string;
  route?: "results/push" | "fleet/sync";
  headerSource?: boolean;
}

async function push(sourceId: string, body: string | Buffer, opts: PushOptions = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${opts.apiKey ?? a.api_key}`, "content-type": opts.contentType ?? "application/json" };
  if (opts.key !== null) headers["idempotency-key"] = opts.key ?? `k-${Math.random().toString(36).slice(2)}`;
  if (opts.headerSource) headers["x-cairn-source-id"] = sourceId;
  const url = `${server.base}/v1/${opts.route ?? "results/push"}${opts.headerSource ? "" : `?source_id=${sourceId}`}`;
  const res = await fetch(url, { method: "POST", headers, body: typeof body === "string" ? body : new Uint8Array(body) });
  return { status: res.status, body: (await res.json()) as JsonBody };
}

async function get(p: string, apiKey = a.api_key) {
  const res = await fetch(`${server.base}${p}`, { headers: { authorization: `Bearer ${apiKey}` } });
  return { status: res.status, body: (await res.json()) as JsonBody };
}

/** Polls a receipt until it is done or failed (the worker drains the queue in the background). */
async function settled(receiptId: string, apiKey = a.api_key): Promise<JsonBody> {
  for (let i = 0; i < 600; i++) {
    const r = await get(`/v1/results/receipts/${receiptId}`, apiKey);
    if (r.body.status === "done" || r.body.status === "failed") return r.body;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`receipt ${receiptId} did not settle`);
}

async function allReceiptFindings(receiptId: string, change?: string) {
  const items: JsonBody[] = [];
  let cursor: string | null = null;
  do {
    const r = await get(`/v1/results/receipts/${receiptId}/findings?limit=50${change ? `&change=${change}` : ""}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(r.status).toBe(200);
    items.push(...r.body.items);
    cursor = r.body.next_cursor;
  } while (cursor);
  return items;
}

const eslintSarif = fs.readFileSync(path.join(FIXTURES, "generated/eslint.sarif.json"), "utf8");
const eslintResults = (JSON.parse(eslintSarif) as { runs: { results: { ruleId: string; message: { text: string }; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[] }).runs[0]!.results;
const distinct = (results: typeof eslintResults) =>
  new Set(results.map((r) => [r.ruleId, r.locations[0]!.physicalLocation.artifactLocation.uri, r.locations[0]!.physicalLocation.region.startLine, r.message.text].join("|"))).size;

describe("POST /v1/results/push", () => {
  let source: string;
  let first: JsonBody;

  it("accepts ESLint's SARIF at once (202, a receipt with the sha256) and processes it to done", async () => {
    source = await newSource(a.api_key, "ingest.result_push", "web app lint");
    const pushed = await push(source, eslintSarif, { key: "build-101" });
    expect(pushed.status).toBe(202);
    expect(pushed.body).toMatchObject({ status: "received", duplicate: false, source_id: source, sha256: createHash("sha256").update(eslintSarif).digest("hex"), size: Buffer.byteLength(eslintSarif) });
    first = await settled(pushed.body.receipt_id);
    expect(first.status).toBe("done");
    expect(first.timeline.map((s: { status: string }) => s.status)).toEqual(["received", "parsed", "normalized", "evaluated", "done"]);
    expect(first).toMatchObject({ format: "sarif", format_version: "2.1.0", tools: ["ESLint"], error: null });
    expect(first.counts).toMatchObject({ runs: 1, results: eslintResults.length, findings: distinct(eslintResults), findings_created: distinct(eslintResults), findings_updated: 0, findings_resolved: 0 });

    const links = await allReceiptFindings(first.receipt_id);
    expect(links).toHaveLength(distinct(eslintResults));
    expect(links.every((l) => l.change === "created" && l.url === `/findings/${l.finding_id}` && l.status === "open")).toBe(true);
    const r0 = eslintResults[0]!.locations[0]!.physicalLocation;
    expect(links).toContainEqual(expect.objectContaining({ rule: eslintResults[0]!.ruleId, location: `${r0.artifactLocation.uri}:${r0.region.startLine}` }));
  });

  it("records provenance: finding → raw and inventory evidence → job (ingest.process) → run (trigger push) → source", async () => {
    const [link] = await allReceiptFindings(first.receipt_id);
    await inTenant(a.tenant_id, async (tx) => {
      const [f] = await tx.select().from(findings).where(eq(findings.id, link!.finding_id));
      expect(f).toMatchObject({ sourceId: source, firstRunId: first.run_id, lastJobId: first.job_id });
      const evidenceIds = (await tx.select().from(findingEvidence).where(eq(findingEvidence.findingId, f!.id))).map((e) => e.evidenceId);
      expect(evidenceIds).toContain(first.evidence_id);
      const rows = await tx.select().from(evidence).where(inArray(evidence.id, evidenceIds));
      expect(rows.map((r) => r.kind).sort()).toEqual(["ingest.raw_document", "inventory"]);
      expect(rows.every((r) => r.runId === first.run_id && r.jobId === first.job_id && r.sourceId === source)).toBe(true);
      const [job] = await tx.select().from(jobs).where(eq(jobs.id, first.job_id));
      expect(job).toMatchObject({ jobType: "ingest.process", status: "succeeded", runId: first.run_id, sourceId: source });
      const [run] = await tx.select().from(runs).where(eq(runs.id, first.run_id));
      expect(run).toMatchObject({ trigger: "push", status: "succeeded", sourceId: source });
      expect(Object.values(run!.stages).map((s) => s.status)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"]);
      const [audit] = await tx.select().from(auditEvents).where(and(eq(auditEvents.action, "results.push"), eq(auditEvents.targetId, first.receipt_id)));
      expect(audit).toBeTruthy();
    });
  });

  it("serves the raw document back byte for byte, and its evidence verifies", async () => {
    const res = await fetch(`${server.base}${first.links.raw}`, { headers: { authorization: `Bearer ${a.api_key}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-content-sha256")).toBe(first.sha256);
    expect(await res.text()).toBe(eslintSarif);
    await inTenant(a.tenant_id, async (tx) => {
      const [row] = await tx.select().from(evidence).where(eq(evidence.id, first.evidence_id));
      const check = await verifyEvidence(t.client, new FilesystemEvidenceStore(path.join(dataDir, "evidence")), row!);
      expect(check).toMatchObject({ ok: true, hashMatches: true, signatureValid: true });
    });
  });

  it("the same Idempotency-Key returns the first receipt; with another document it is a 409", async () => {
    const again = await push(source, eslintSarif, { key: "build-101" });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ receipt_id: first.receipt_id, duplicate: true, status: "done", run_id: first.run_id });
    const other = await push(source, eslintSarif.replace("ESLint", "ESLint "), { key: "build-101" });
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: "CONFLICT", details: { receipt_id: first.receipt_id } });
    const runsOfSource = await inTenant(a.tenant_id, (tx) => tx.select().from(runs).where(eq(runs.sourceId, source)));
    expect(runsOfSource).toHaveLength(1);
  });

  it("concurrent pushes with one key make one receipt and one run", async () => {
    const racing = await newSource(a.api_key, "ingest.result_push", "racing CI retries");
    const answers = await Promise.all(Array.from({ length: 6 }, () => push(racing, eslintSarif, { key: "retry-storm" })));
    expect(answers.map((r) => r.status)).toEqual([202, 202, 202, 202, 202, 202]);
    expect(new Set(answers.map((r) => r.body.receipt_id)).size).toBe(1);
    expect(answers.filter((r) => r.body.duplicate === false)).toHaveLength(1);
    expect(await inTenant(a.tenant_id, (tx) => tx.select().from(runs).where(eq(runs.sourceId, racing)))).toHaveLength(1);
    expect((await settled(answers[0]!.body.receipt_id)).status).toBe("done");
  });

  it("a re-push under a new key updates the findings instead of duplicating them; a smaller document resolves the rest", async () => {
    const again = await settled((await push(source, eslintSarif, { key: "build-102", headerSource: true })).body.receipt_id);
    expect(again.counts).toMatchObject({ findings: distinct(eslintResults), findings_created: 0, findings_updated: distinct(eslintResults), findings_resolved: 0 });

    const doc = JSON.parse(eslintSarif) as { runs: { results: typeof eslintResults }[] };
    const kept = doc.runs[0]!.results.filter((r) => !r.locations[0]!.physicalLocation.artifactLocation.uri.includes("/cookie/"));
    doc.runs[0]!.results = kept;
    const smaller = await settled((await push(source, JSON.stringify(doc), { key: "build-103" })).body.receipt_id);
    const resolved = distinct(eslintResults) - distinct(kept);
    expect(resolved).toBeGreaterThan(0);
    expect(smaller.counts).toMatchObject({ findings: distinct(kept), findings_created: 0, findings_resolved: resolved });
    expect(await allReceiptFindings(smaller.receipt_id, "resolved")).toHaveLength(resolved);
    const open = await inTenant(a.tenant_id, (tx) => tx.select().from(findings).where(and(eq(findings.sourceId, source), eq(findings.status, "open"))));
    expect(open).toHaveLength(distinct(kept));

    const health = await get(`/v1/sources/${source}/ingest-health`);
    expect(health.body).toMatchObject({ health: "ok", last_receipt: { receipt_id: smaller.receipt_id }, last_24h: { received: 3, done: 3, failed: 0 }, last_failure: null });
    const listed = await get(`/v1/results/receipts?source_id=${source}&limit=2`);
    expect(listed.body.items.map((r: { receipt_id: string }) => r.receipt_id)).toEqual([smaller.receipt_id, again.receipt_id]);
    expect(listed.body.next_cursor).toBeTruthy();
  });

  it("processes every third-party document and the npm sbom outputs, with counts matching the documents", async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, "third-party", "MANIFEST.json"), "utf8")) as { file: string; kind: string; facts: JsonBody }[];
    const files = [...manifest.map((m) => ({ file: path.join("third-party", m.file), m })), { file: "generated/npm-sbom.cdx.json", m: null }, { file: "generated/npm-sbom.spdx.json", m: null }];
    for (const { file, m } of files) {
      const src = await newSource(a.api_key, "ingest.result_push", file);
      const body = fs.readFileSync(path.join(FIXTURES, file));
      const receipt = await settled((await push(src, body)).body.receipt_id);
      expect(receipt.status, file).toBe("done");
      expect(receipt.sha256).toBe(createHash("sha256").update(body).digest("hex"));
      const raw = JSON.parse(body.toString("utf8")) as JsonBody;
      if (m?.kind === "sarif") expect(receipt.counts.results).toBe(m.facts.results_per_run.reduce((x: number, y: number) => x + y, 0));
      if (m?.kind === "cyclonedx") expect(receipt.counts).toMatchObject({ components: m.facts.components_total, services: m.facts.services_total, vulnerabilities: m.facts.vulnerabilities });
      if (m?.kind === "spdx") expect(receipt.counts).toMatchObject({ packages: m.facts.packages, relationships: m.facts.relationships, files: m.facts.files });
      if (!m && raw.bomFormat) expect(receipt.counts.components).toBe(raw.components.length);
      if (!m && raw.spdxVersion) expect(receipt.counts.packages).toBe(raw.packages.length);
      const open = await inTenant(a.tenant_id, (tx) => tx.select({ id: findings.id }).from(findings).where(eq(findings.sourceId, src)));
      expect(open).toHaveLength(receipt.counts.findings);
      expect(receipt.counts.findings_created).toBe(receipt.counts.findings);
    }
  });
});

describe("refusals at the door", () => {
  let source: string;
  beforeAll(async () => {
    source = await newSource(a.api_key, "ingest.result_push", "refusals");
  });

  it("needs an Idempotency-Key, a source, JSON, and a caller allowed to push there", async () => {
    expect((await push(source, eslintSarif, { key: null })).body.error).toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining("Idempotency-Key header: required") });
    const noSource = await fetch(`${server.base}/v1/results/push`, { method: "POST", headers: { authorization: `Bearer ${a.api_key}`, "idempotency-key": "x" }, body: "{}" });
    expect(noSource.status).toBe(400);
    expect((await push(source, "<xml/>")).status).toBe(415);
    expect((await push(source, "{}", { contentType: "application/xml" })).status).toBe(415);
    expect((await push(source, "   ")).status).toBe(400);
    expect((await push(source, eslintSarif, { apiKey: viewerKey })).status).toBe(403);
    expect((await push(source, eslintSarif, { apiKey: "cairn_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" })).status).toBe(401);
    // Another tenant's source reads as missing.
    expect((await push(source, eslintSarif, { apiKey: b.api_key })).status).toBe(404);
    const fleetSource = await newSource(a.api_key, "ingest.fleet_sync", "not for results");
    expect((await push(fleetSource, eslintSarif)).body.error).toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining("ingest.result_push") });
    const disabled = await newSource(a.api_key, "ingest.result_push", "off");
    await (await callerAs(rt, { apiKey: a.api_key })).sources.update({ id: disabled, status: "disabled" });
    expect((await push(disabled, eslintSarif)).status).toBe(409);
    const noRows = await inTenant(a.tenant_id, (tx) => tx.select().from(runs).where(eq(runs.sourceId, source)));
    expect(noRows).toEqual([]);
  });

  it("refuses a declared 1 GB body with 413 before reading it", async () => {
    const res = await rawRequest(source, { "content-length": String(1024 ** 3) }, 0);
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: "PAYLOAD_TOO_LARGE", details: { limit_bytes: LIMIT } });
    expect(res.sent).toBe(0);
  });

  it("cuts a streamed (chunked) 1 GB body off with 413 once it passes the limit, without buffering it", async () => {
    const res = await rawRequest(source, { "transfer-encoding": "chunked" }, 1024 ** 3);
    expect(res.status).toBe(413);
    expect(res.sent).toBeLessThan(1024 ** 3 / 8);
    expect(fs.readdirSync(path.join(dataDir, "ingest-spool"))).toEqual([]);
  });
});

/** A push over a bare socket that sends up to `total` bytes of one repeated chunk and stops once a response arrives. */
function rawRequest(sourceId: string, headers: Record<string, string>, total: number): Promise<{ status: number; body: JsonBody; sent: number }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${server.base}/v1/results/push?source_id=${sourceId}`);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    let answered = false;
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: "POST", headers: { authorization: `Bearer ${a.api_key}`, "idempotency-key": `big-${Math.random()}`, "content-type": "application/json", ...headers } }, (res) => {
      answered = true;
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text) as JsonBody, sent }));
    });
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    const pump = () => {
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!req.write(sent === chunk.length ? Buffer.concat([Buffer.from("{"), chunk.subarray(1)]) : chunk)) {
          req.once("drain", pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    if (total === 0) req.flushHeaders();
    else pump();
  });
}

describe("hostile documents fail their receipt with what and where; other tenants are unaffected", () => {
  it("truncated, deeply nested, wrong-typed and format-less documents", async () => {
    const source = await newSource(a.api_key, "ingest.result_push", "hostile");
    const cdx = fs.readFileSync(path.join(FIXTURES, "generated/npm-sbom.cdx.json"), "utf8");
    const cases: [string, string, RegExp, RegExp][] = [
      ["truncated", cdx.slice(0, Math.floor(cdx.length / 2)), /ends early|not valid JSON/, /^\/(components|dependencies)\/\d+/],
      ["deep", `{"bomFormat":"CycloneDX","specVersion":"1.5","components":[${"[".repeat(100_000)}${"]".repeat(100_000)}]}`, /deeper than 64 levels/, /^\/components(\/0)+$/],
      ["wrong type", `{"version":"2.1.0","runs":{"results":[]}}`, /runs must be an array/, /^\/runs$/],
      ["no format", `{"hello":"world"}`, /not a SARIF 2\.1\.0, CycloneDX or SPDX 2\.3 document/, /^\/$/],
    ];
    // Meanwhile another tenant pushes a good document.
    const bSource = await newSource(b.api_key, "ingest.result_push", "tenant b lint");
    const bPush = await push(bSource, eslintSarif, { apiKey: b.api_key });
    for (const [name, body, message, where] of cases) {
      const pushed = await push(source, body);
      expect(pushed.status, name).toBe(202);
      const receipt = await settled(pushed.body.receipt_id);
      expect(receipt.status, name).toBe("failed");
      expect(receipt.error.message, name).toMatch(message);
      expect(receipt.error.where, name).toMatch(where);
      expect(receipt.timeline.map((s: { status: string }) => s.status)).toEqual(["received", "failed"]);
      const [run] = await inTenant(a.tenant_id, (tx) => tx.select().from(runs).where(eq(runs.id, receipt.run_id)));
      expect(run!.status).toBe("failed");
      expect(run!.stages.collect.errors[0]).toMatchObject({ where: receipt.error.where });
      // The raw bytes are still kept as evidence, exactly as received.
      const raw = await fetch(`${server.base}${receipt.links.raw}`, { headers: { authorization: `Bearer ${a.api_key}` } });
      expect(createHash("sha256").update(Buffer.from(await raw.arrayBuffer())).digest("hex")).toBe(receipt.sha256);
    }
    const health = await get(`/v1/sources/${source}/ingest-health`);
    expect(health.body).toMatchObject({ health: "failing", last_24h: { failed: 4 }, last_failure: { error: { message: expect.stringMatching(/not a SARIF/) } } });

    const bReceipt = await settled(bPush.body.receipt_id, b.api_key);
    expect(bReceipt.status).toBe("done");
    expect(bReceipt.counts.findings).toBe(distinct(eslintResults));
    // And neither tenant sees the other's receipts.
    expect((await get(`/v1/results/receipts/${bReceipt.receipt_id}`)).status).toBe(404);
    expect((await get(`/v1/results/receipts?limit=200`, b.api_key)).body.items.map((r: { receipt_id: string }) => r.receipt_id)).toEqual([bReceipt.receipt_id]);
  });
});

describe("POST /v1/fleet/sync", () => {
  const config = (file: string) => JSON.parse(fs.readFileSync(path.join(MCP_FIXTURES, file), "utf8")) as Record<string, unknown>;

  it("records endpoints with last seen, turns their MCP configs into findings, and resolves what an endpoint no longer has", async () => {
    const source = await newSource(a.api_key, "ingest.fleet_sync", "laptops");
    const sync = (body: Record<string, unknown>, key?: string) => push(source, JSON.stringify(body), { route: "fleet/sync", key });
    const laptop1 = {
      endpoint_id: "mac-0001",
      hostname: "Dev-Laptop-1",
      os: { name: "macOS", version: "14.5", arch: "arm64" },
      agent_version: "1.4.0",
      mcp_configs: [
        { path: "/Users/dev/.cursor/mcp.json", content: config("cursor/0xlawrence__ainews_app.json") },
        { path: "/Users/dev/Library/Application Support/Claude/claude_desktop_config.json", text: fs.readFileSync(path.join(MCP_FIXTURES, "claude-desktop/Ap6pack__mcp-security-suite.json"), "utf8") },
      ],
    };
    const laptop2 = { hostname: "build-box", os: { name: "Ubuntu", version: "24.04" }, agent_version: "1.4.0", mcp_configs: [{ path: "/home/ci/.cursor/mcp.json", content: config("cursor/0xjcf__MCP_CodeAnalysis.json") }] };

    const r1 = await settled((await sync(laptop1)).body.receipt_id);
    expect(r1).toMatchObject({ status: "done", format: "fleet", channel: "fleet_sync" });
    expect(r1.counts.servers).toBeGreaterThan(0);
    expect(r1.counts.findings).toBeGreaterThan(0);
    const r2 = await settled((await sync(laptop2)).body.receipt_id);
    expect(r2.status).toBe("done");

    const endpoints = await get(`/v1/fleet/endpoints?source_id=${source}`);
    expect(endpoints.body.items.map((e: { hostname: string }) => e.hostname)).toEqual(["build-box", "Dev-Laptop-1"]);
    const mac = endpoints.body.items[1];
    expect(mac).toMatchObject({ endpoint_key: "mac-0001", os: { name: "macOS", version: "14.5", arch: "arm64" }, agent_version: "1.4.0", configs: 2, stale: false, last_seen_ip: expect.any(String) });
    const detail = await get(`/v1/fleet/endpoints/${mac.endpoint_id}`);
    expect(detail.body.mcp_servers.length).toBe(r1.counts.servers);
    expect(detail.body.detected.map((d: { rule: string }) => d.rule)).toContain("mcp.inline_secret");
    expect(detail.body.recent_receipts[0].receipt_id).toBe(r1.receipt_id);

    const openBefore = await inTenant(a.tenant_id, (tx) => tx.select().from(findings).where(and(eq(findings.sourceId, source), eq(findings.status, "open"))));
    expect(openBefore).toHaveLength(r1.counts.findings + r2.counts.findings);

    // The laptop's configs are gone: its findings resolve; the build box's stay open.
    const r3 = await settled((await sync({ ...laptop1, agent_version: "1.5.0", mcp_configs: [] })).body.receipt_id);
    expect(r3.counts).toMatchObject({ findings: 0, findings_resolved: r1.counts.findings });
    const openAfter = await inTenant(a.tenant_id, (tx) => tx.select().from(findings).where(and(eq(findings.sourceId, source), eq(findings.status, "open"))));
    expect(openAfter).toHaveLength(r2.counts.findings);
    expect((await get(`/v1/fleet/endpoints/${mac.endpoint_id}`)).body.agent_version).toBe("1.5.0");
  });

  it("refuses a bad inventory with 400 naming the field, and an oversize one with 413", async () => {
    const source = await newSource(a.api_key, "ingest.fleet_sync", "bad syncs");
    const bad = await push(source, JSON.stringify({ hostname: "x", os: { name: "Linux" }, agent_version: "1", mcp_configs: [{ path: "/a.json" }] }), { route: "fleet/sync" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("mcp_configs.0: give exactly one of content");
    const missing = await push(source, JSON.stringify({ os: { name: "Linux" }, agent_version: "1" }), { route: "fleet/sync" });
    expect(missing.body.error.message).toContain("hostname");
    const big = await push(source, JSON.stringify({ hostname: "x", os: { name: "Linux" }, agent_version: "1", mcp_configs: [{ path: "/a.json", text: "x".repeat(600 * 1024) }] }), { route: "fleet/sync" });
    expect(big.status).toBe(413);
  });
});
