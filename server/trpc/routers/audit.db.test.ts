// The audit procedures through the doors users have: REST under /v1 (generated and the streamed export) and the
// server-side tRPC caller, with real API keys, roles and the step-up rule.
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type http from "node:http";
import express from "express";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/test-db.ts";
import { withTenant } from "../../../db/tenant.ts";
import { parseEnv } from "../../config/env.ts";
import { createLogger } from "../../logger.ts";
import type { Runtime } from "../../runtime.ts";
import { createContextFactory } from "../context.ts";
import { createCaller } from "../router.ts";
import { requestId } from "../../http/request-id.ts";
import { openApiDocument, restRouter } from "../../http/rest.ts";
import { auditExportRoute } from "../../http/audit-export-route.ts";
import { hashSecret } from "../../domain/auth/tokens.ts";
import { appendAudit } from "../../domain/audit/audit-writer.service.ts";
import { auditVerify } from "../../cli/audit-verify.ts";

let t: TestDatabase;
let rt: Runtime;
let server: http.Server;
let base: string;
let tmp: string;
let tenantId: string;
const keys: Record<"auditorStepUp" | "auditor" | "viewer", { id: string; token: string }> = {} as never;

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
const base32 = (n: number) => Array.from(randomBytes(n), (b) => BASE32[b % 32]).join("");

async function apiKey(role: string, highRisk: boolean) {
  const id = base32(12);
  const secret = base32(32);
  await t.owner.sql`insert into api_keys (id, tenant_id, name, secret_hash, role, high_risk, created_by)
    values (${id}, ${tenantId}, ${`${role} key`}, ${Buffer.from(hashSecret(secret))}, ${role}, ${highRisk}, 'test')`;
  return { id, token: `cairn_${id}_${secret}` };
}

beforeAll(async () => {
  t = await createTestDatabase();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-audit-router-"));
  rt = {
    mode: "all",
    env: parseEnv({ PORT: "3998", CAIRN_STEP_UP_WINDOW_SECONDS: "300" }),
    log: createLogger("silent"),
    db: t.client,
    owner: t.owner,
    secret: t.secret,
    databaseKind: "embedded",
    startedAt: new Date(),
    draining: false,
  };
  const [tenant] = await t.owner.sql<{ id: string }[]>`insert into tenants (slug, name) values ('audit-router', 'Audit Router') returning id`;
  tenantId = tenant!.id;
  keys.auditorStepUp = await apiKey("auditor", true);
  keys.auditor = await apiKey("auditor", false);
  keys.viewer = await apiKey("viewer", false);
  for (let i = 1; i <= 12; i++) {
    await withTenant(t.client, tenantId, (tx) =>
      appendAudit(tx, { tenantId, actor: i % 2 ? "user:ann@example.test" : "api_key:seed", actorType: i % 2 ? "user" : "api_key", targetType: "member", targetId: `m${i}`, action: i % 3 ? "member.update" : "member.create", outcome: "success", details: { i } }),
    );
  }

  const contextFor = createContextFactory(rt);
  const createContext = (req: express.Request, res: express.Response) =>
    contextFor({ requestId: res.locals.requestId as string, via: "rest", authorization: req.headers.authorization, cookie: req.headers.cookie, ip: req.ip ?? null, userAgent: req.get("user-agent") ?? null });
  const app = express();
  app.use(requestId);
  app.use("/v1", auditExportRoute({ createContext }));
  app.use("/v1", restRouter({ createContext, bodyLimitBytes: 1_000_000, publicUrl: "http://localhost:3998" }));
  server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await t.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const get = (p: string, key?: { token: string }) => fetch(`${base}${p}`, { headers: key ? { authorization: `Bearer ${key.token}` } : {} });

async function callerFor(key: { token: string }) {
  return createCaller(await createContextFactory(rt)({ requestId: randomUUID(), via: "trpc", authorization: `Bearer ${key.token}` }));
}

async function verifyFile(file: string, ...extra: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
  try {
    return { code: await auditVerify([file, ...extra]), out: out.join("") };
  } finally {
    spy.mockRestore();
  }
}

describe("GET /v1/audit", () => {
  it("pages with limit and cursor, in snake_case", async () => {
    const res = await get("/v1/audit?limit=5&actor=user:*", keys.auditor);
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: Record<string, unknown>[]; next_cursor: string };
    expect(page.items).toHaveLength(5);
    expect(Object.keys(page.items[0]!).sort()).toEqual(
      ["action", "actor", "actor_type", "details", "event_id", "hash", "ip", "outcome", "prev_hash", "request_id", "seq", "target_id", "target_type", "timestamp", "trace_id"].sort(),
    );
    expect(page.items.every((i) => String(i.actor).startsWith("user:"))).toBe(true);
    const next = (await (await get(`/v1/audit?limit=5&actor=user:*&cursor=${page.next_cursor}`, keys.auditor)).json()) as { items: { seq: number }[]; next_cursor: string | null };
    expect(next.items.map((i) => i.seq)).toEqual([1]);
    expect(next.next_cursor).toBeNull();
  });

  it("answers bad input with 400 in the contract's error shape", async () => {
    for (const query of ["limit=0", "limit=9999", "outcome=maybe", "from=yesterday", "surprise=1"]) {
      const res = await get(`/v1/audit?${query}`, keys.auditor);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("INVALID_INPUT");
    }
  });

  it("refuses roles without read:audit (403) and audits the denial", async () => {
    const res = await get("/v1/audit", keys.viewer);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("FORBIDDEN");
    const denied = (await (await get(`/v1/audit?outcome=denied&actor=api_key:${keys.viewer.id}`, keys.auditor)).json()) as { items: { action: string; details: Record<string, unknown> }[] };
    expect(denied.items[0]).toMatchObject({ action: "audit.list", details: { reason: "permission", permission: "read:audit" } });
    expect((await get("/v1/audit")).status).toBe(401);
  });
});

describe("GET /v1/audit/verify and /v1/audit/public-key", () => {
  it("reports the chain intact", async () => {
    const body = (await (await get("/v1/audit/verify", keys.auditor)).json()) as { ok: boolean; checked: number; first_broken: unknown };
    expect(body.ok).toBe(true);
    expect(body.checked).toBeGreaterThanOrEqual(12);
    expect(body.first_broken).toBeNull();
  });

  it("publishes the signing key to pin", async () => {
    const body = (await (await get("/v1/audit/public-key", keys.auditor)).json()) as Record<string, string>;
    expect(body).toMatchObject({ key_id: "audit-1", algorithm: "Ed25519" });
    expect(body.public_key).toContain("BEGIN PUBLIC KEY");
    expect(body.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });

  it("are in the OpenAPI document; the streamed export is not generated from a procedure", () => {
    const doc = openApiDocument("http://localhost:3998") as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths["/audit"] ?? {})).toEqual(["get"]);
    expect(doc.paths["/audit/verify"]?.get).toBeDefined();
    expect(doc.paths["/audit/public-key"]?.get).toBeDefined();
    expect(doc.paths["/audit/export"]).toBeUndefined();
  });
});

describe("GET /v1/audit/export", () => {
  it("needs the high-risk scope (428 STEP_UP_REQUIRED) and a signed-in caller (401)", async () => {
    const res = await get("/v1/audit/export", keys.auditor);
    expect(res.status).toBe(428);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("STEP_UP_REQUIRED");
    expect((await get("/v1/audit/export", keys.viewer)).status).toBe(403);
    expect((await get("/v1/audit/export")).status).toBe(401);
  });

  it("streams JSON Lines that verify offline against the published key, ending with its own audit event", async () => {
    const res = await get("/v1/audit/export", keys.auditorStepUp);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="cairn-audit-audit-router-\d{8}T\d{6}Z\.jsonl"$/);
    const text = await res.text();
    const file = path.join(tmp, "rest.jsonl");
    fs.writeFileSync(file, text);
    const lines = text.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-2)).toMatchObject({ action: "audit.export", actor: `api_key:${keys.auditorStepUp.id}`, details: { format: "jsonl", via: "rest" } });
    const key = (await (await get("/v1/audit/public-key", keys.auditor)).json()) as { public_key: string };
    expect((await verifyFile(file, "--public-key", key.public_key)).code).toBe(0);
  });
});

describe("tRPC audit.export", () => {
  it("returns the same verifiable file as one string for the browser's download", async () => {
    const caller = await callerFor(keys.auditorStepUp);
    const result = await caller.audit.export();
    expect(result.filename).toMatch(/\.jsonl$/);
    expect(result.count).toBe(result.head_seq);
    const file = path.join(tmp, "trpc.jsonl");
    fs.writeFileSync(file, result.jsonl);
    const verified = await verifyFile(file);
    expect(verified.code, verified.out).toBe(0);
    await expect((await callerFor(keys.auditor)).audit.export()).rejects.toMatchObject({ code: "PRECONDITION_FAILED" });
  });
});
