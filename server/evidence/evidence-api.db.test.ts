// Evidence over REST on the real app: a scan.mcp_config source run through the real pipeline stores signed
// evidence; the list filters and pages; one object shows the key that signed it; the content downloads byte for
// byte as an attachment that a browser will not render; verify re-hashes and checks the signature (and says what is
// wrong once the blob is changed), and every verification is audited. Other tenants see none of it.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createHash, createPublicKey, verify } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/test-db.ts";
import { testRuntime } from "../../test/runtime.ts";
import { startTestServer } from "../../test/web.ts";
import { withTenant } from "../../db/tenant.ts";
import { jobs } from "../../db/schema/index.ts";
import "../connectors/index.ts";
import { bootstrapTenant, mintKey } from "../domain/tenants/bootstrap.service.ts";
import { sourceCollectHandler } from "../worker/handlers/source-collect.ts";
import type { Runtime } from "../runtime.ts";
import { downloadContentType, downloadFilename } from "../http/evidence-routes.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../connectors/mcp-config/fixtures/cursor");

let t: TestDatabase;
let rt: Runtime;
let web: { base: string; close(): Promise<void> };
let dataDir: string;
let tenantId: string;
let sourceId: string;
let runId: string;
const keys = {} as Record<"admin" | "viewer" | "auditor" | "other", string>;

interface Body {
  [field: string]: unknown;
  error: { code: string; message: string };
  items: Record<string, unknown>[];
  next_cursor: string | null;
}

async function rest(method: string, route: string, key: string, body?: unknown) {
  const res = await fetch(`${web.base}/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Body };
}

beforeAll(async () => {
  t = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-evidence-api-"));
  rt = testRuntime(t, { CAIRN_DATA_DIR: dataDir });
  web = await startTestServer(rt);
  const boot = await bootstrapTenant(t.client, "evidence-api", { highRisk: false });
  tenantId = boot.tenant_id;
  keys.admin = boot.api_key;
  for (const role of ["viewer", "auditor"] as const) keys[role] = (await mintKey(t.client, { tenantSlug: "evidence-api", role, platform: false, highRisk: false })).api_key;
  keys.other = (await bootstrapTenant(t.client, "evidence-other", { highRisk: false })).api_key;

  const created = await rest("POST", "/sources", keys.admin, { kind: "scan.mcp_config", display_name: "Cursor configs", scope: { paths: [FIXTURES] } });
  sourceId = created.body.source_id as string;
  const started = await rest("POST", `/sources/${sourceId}/run`, keys.admin);
  runId = started.body.run_id as string;
  // The job, as a worker would run and commit it.
  const [job] = await withTenant(t.client, tenantId, (tx) => tx.select().from(jobs).where(eq(jobs.id, started.body.job_id as string)));
  const outcome = await sourceCollectHandler.handler({
    rt,
    job: { ...job!, attempts: 1 },
    signal: new AbortController().signal,
    log: () => {},
    redact: () => {},
    inTenant: (fn) => withTenant(t.client, tenantId, fn),
  });
  await withTenant(t.client, tenantId, (tx) => outcome!.commit!(tx));
});

afterAll(async () => {
  await web?.close();
  await t?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const inventoryOf = async () => (await rest("GET", `/evidence?run_id=${runId}&kind=inventory`, keys.viewer)).body.items[0]!;
const blobFile = (hash: string) => path.join(dataDir, "evidence", tenantId, hash.slice(0, 2), hash);

describe("evidence list and detail", () => {
  it("lists the tenant's evidence newest first, filtered by source, run and kind, in keyset pages", async () => {
    const all = await rest("GET", "/evidence", keys.viewer);
    expect(all.status).toBe(200);
    expect(all.body.items.map((e) => e.kind).sort()).toEqual(["inventory", "mcp_config.redacted"]);
    for (const e of all.body.items) {
      expect(e).toMatchObject({ tenant_id: tenantId, source_id: sourceId, source_name: "Cursor configs", run_id: runId, signed: true, signing_key_id: `evidence:${tenantId}-1` });
      expect(e.links).toEqual({ self: `/v1/evidence/${e.evidence_id}`, content: `/v1/evidence/${e.evidence_id}/content`, verify: `/v1/evidence/${e.evidence_id}/verify` });
    }
    expect((await rest("GET", `/evidence?source_id=${sourceId}`, keys.viewer)).body.items).toHaveLength(2);
    expect((await rest("GET", "/evidence?kind=inventory", keys.viewer)).body.items).toHaveLength(1);
    expect((await rest("GET", `/evidence?run_id=${crypto.randomUUID()}`, keys.viewer)).body.items).toEqual([]);

    const first = await rest("GET", "/evidence?limit=1", keys.viewer);
    const second = await rest("GET", `/evidence?limit=1&cursor=${first.body.next_cursor}`, keys.viewer);
    expect(second.body.items[0]!.evidence_id).not.toBe(first.body.items[0]!.evidence_id);
    expect(second.body.next_cursor).toBeNull();
    expect((await rest("GET", "/evidence?cursor=bm90LWEtY3Vyc29y", keys.viewer)).status).toBe(400);
    expect((await rest("GET", "/evidence?source_id=nope", keys.viewer)).status).toBe(400);

    // Another tenant sees none of it.
    expect((await rest("GET", "/evidence", keys.other)).body.items).toEqual([]);
  });

  it("shows one object with the public key that signed it and the findings seen in it; another tenant's id is a 404", async () => {
    const inv = await inventoryOf();
    const one = await rest("GET", `/evidence/${inv.evidence_id}`, keys.auditor);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ evidence_id: inv.evidence_id, kind: "inventory", content_type: "application/json", hash: inv.hash, size: inv.size, source_name: "Cursor configs" });
    expect(one.body.findings_linked).toBeGreaterThan(0);
    const key = one.body.signing_key as { key_id: string; algorithm: string; fingerprint: string; public_key_pem: string };
    expect(key).toMatchObject({ key_id: `evidence:${tenantId}-1`, algorithm: "Ed25519" });
    const publicKey = createPublicKey(key.public_key_pem);
    expect(key.fingerprint).toBe(`sha256:${createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex")}`);
    // The signature checks out offline with nothing but the shown key.
    expect(verify(null, Buffer.from(one.body.hash as string, "ascii"), publicKey, Buffer.from(one.body.signature as string, "base64"))).toBe(true);

    expect((await rest("GET", `/evidence/${inv.evidence_id}`, keys.other)).status).toBe(404);
    expect((await rest("GET", `/evidence/${crypto.randomUUID()}`, keys.viewer)).status).toBe(404);
  });
});

describe("evidence content", () => {
  it("downloads the exact bytes as an attachment, with their SHA-256, for anyone who reads evidence in the tenant", async () => {
    const inv = await inventoryOf();
    const res = await fetch(`${web.base}/v1/evidence/${inv.evidence_id}/content`, { headers: { authorization: `Bearer ${keys.viewer}` } });
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(inv.hash);
    expect(bytes.length).toBe(inv.size);
    expect(JSON.parse(bytes.toString("utf8"))).toMatchObject({ format: "cairn.inventory/v1", run_id: runId });
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("x-content-sha256")).toBe(inv.hash);
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="evidence-${inv.evidence_id}.json"`);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");

    const foreign = await fetch(`${web.base}/v1/evidence/${inv.evidence_id}/content`, { headers: { authorization: `Bearer ${keys.other}` } });
    expect(foreign.status).toBe(404);
    expect(((await foreign.json()) as Body).error.code).toBe("NOT_FOUND");
    const anonymous = await fetch(`${web.base}/v1/evidence/${inv.evidence_id}/content`);
    expect(anonymous.status).toBe(401);
    expect((await fetch(`${web.base}/v1/evidence/${inv.evidence_id}/content?x=1`, { headers: { authorization: `Bearer ${keys.viewer}` } })).status).toBe(400);
  });

  it("never lets a browser render evidence as a page: only inert types keep their Content-Type", () => {
    expect(downloadContentType("application/json")).toBe("application/json");
    expect(downloadContentType("application/vnd.cyclonedx+json; charset=utf-8")).toBe("application/vnd.cyclonedx+json");
    expect(downloadContentType("text/plain")).toBe("text/plain");
    for (const active of ["text/html", "image/svg+xml", "application/xhtml+xml", "text/javascript", "application/pdf"]) expect(downloadContentType(active)).toBe("application/octet-stream");
    expect(downloadFilename("abc", "application/sarif+json")).toBe("evidence-abc.json");
    expect(downloadFilename("abc", "text/html")).toBe("evidence-abc.bin");
  });
});

describe("verify", () => {
  it("re-hashes the blob and checks the signature; a changed blob fails with the reason, a missing one cannot be downloaded; each verification is audited", async () => {
    const items = (await rest("GET", `/evidence?run_id=${runId}`, keys.viewer)).body.items;
    const target = items.find((e) => e.kind === "mcp_config.redacted")!;
    const good = await rest("POST", `/evidence/${target.evidence_id}/verify`, keys.auditor);
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ evidence_id: target.evidence_id, ok: true, hash_matches: true, signature_valid: true, recorded_hash: target.hash, actual_hash: target.hash, problems: [] });

    const file = blobFile(target.hash as string);
    fs.chmodSync(file, 0o640);
    fs.writeFileSync(file, "rewritten after the fact");
    const bad = await rest("POST", `/evidence/${target.evidence_id}/verify`, keys.viewer);
    expect(bad.status).toBe(200);
    expect(bad.body).toMatchObject({ ok: false, hash_matches: false, signature_valid: true, actual_hash: createHash("sha256").update("rewritten after the fact").digest("hex") });
    expect(bad.body.problems).toEqual(["the stored blob no longer matches the recorded hash"]);

    fs.rmSync(file);
    const gone = await rest("POST", `/evidence/${target.evidence_id}/verify`, keys.viewer);
    expect(gone.body).toMatchObject({ ok: false, actual_hash: null });
    expect((gone.body.problems as string[]).join(" ")).toMatch(/missing from the store/);
    const download = await fetch(`${web.base}/v1/evidence/${target.evidence_id}/content`, { headers: { authorization: `Bearer ${keys.viewer}` } });
    expect(download.status).toBe(404);
    expect(((await download.json()) as Body).error.message).toMatch(/missing from the store/);

    const audit = await t.owner.sql<{ action: string; outcome: string; actor: string; details: { hash_matches: boolean } }[]>`
      select action, outcome, actor, details from audit_events where target_id = ${target.evidence_id as string} order by seq`;
    expect(audit.map((a) => [a.action, a.outcome, a.details.hash_matches])).toEqual([
      ["evidence.verify", "success", true],
      ["evidence.verify", "failure", false],
      ["evidence.verify", "failure", false],
    ]);
    expect(audit[0]!.actor).toMatch(/^api_key:/);

    expect((await rest("POST", `/evidence/${target.evidence_id}/verify`, keys.other)).status).toBe(404);
  });
});
