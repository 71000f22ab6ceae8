// The audit log against a real PostgreSQL: chains stay gap-free under concurrency, row-level security and the
// append-only trigger hold, verify finds tampering at the right seq, exports verify offline (and edits, removals,
// reorders and re-signing do not), and the list pages by keyset with every filter.
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/test-db.ts";
import { createDbClient } from "../../../db/client.ts";
import { withPlatform, withTenant } from "../../../db/tenant.ts";
import { AppError } from "../../errors.ts";
import { appendAudit, type AuditInput } from "./audit-writer.service.ts";
import { auditHash } from "./canonical.ts";
import { platformChain, readChainBatch, tenantChain } from "./chain-reader.ts";
import { verifyChain, verifyPlatformChain, verifyTenantChain } from "./audit-verify.presenter.ts";
import { listAuditEvents, type AuditListFilters, type AuditListItem } from "./audit-list.presenter.ts";
import { auditExportLines, beginAuditExport, signedHead, type ExportPlan } from "./audit-export.service.ts";
import { publicKeyFingerprint, rawPublicKey, signingKey, type SigningKey } from "./signing-key.service.ts";
import { auditVerify } from "../../cli/audit-verify.ts";

const repoRoot = path.resolve(import.meta.dirname, "..", "..", "..");
let t: TestDatabase;
let tmp: string;

beforeAll(async () => {
  t = await createTestDatabase();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-audit-test-"));
});
afterAll(async () => {
  await t.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

let slugCounter = 0;
async function newTenant(): Promise<string> {
  slugCounter += 1;
  const [row] = await t.owner.sql<{ id: string }[]>`insert into tenants (slug, name) values (${`audit-t${slugCounter}-${process.pid}`}, 'Audit test') returning id`;
  return row!.id;
}

type Event = Omit<AuditInput, "tenantId">;
const event = (n: number, over: Partial<Event> = {}): Event => ({
  actor: "user:alice@example.test",
  actorType: "user",
  targetType: "member",
  targetId: `m-${n}`,
  action: "member.update",
  outcome: "success",
  requestId: `req-${n}`,
  ip: "192.0.2.7",
  details: { n, nested: { b: [1, "two", null], a: true } },
  ...over,
});

function append(tenantId: string | null, e: Event) {
  return tenantId ? withTenant(t.client, tenantId, (tx) => appendAudit(tx, { ...e, tenantId })) : withPlatform(t.client, (tx) => appendAudit(tx, { ...e, tenantId: null }));
}

async function appendMany(tenantId: string | null, count: number, make: (i: number) => Event = (i) => event(i)) {
  for (let i = 1; i <= count; i++) await append(tenantId, make(i));
}

/** Runs `statement` as the owner with the append-only trigger switched off: what an attacker with the database would do. */
async function tamper(statement: string, params: (string | number)[]) {
  await t.owner.sql.begin(async (tx) => {
    await tx.unsafe("alter table audit_events disable trigger audit_events_append_only");
    await tx.unsafe(statement, params);
    await tx.unsafe("alter table audit_events enable trigger audit_events_append_only");
  });
}

async function seqs(chain: string): Promise<number[]> {
  const rows = await t.owner.sql<{ seq: string }[]>`select seq::text from audit_events where chain = ${chain} order by audit_events.seq`;
  return rows.map((r) => Number(r.seq));
}

/** The PostgreSQL message behind a failed query (Drizzle wraps it as the cause). */
async function dbError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
  }
  throw new Error("expected the query to fail");
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("hash chains", () => {
  it("stay gap-free and verify when two tenants and the platform append concurrently", async () => {
    const [a, b] = [await newTenant(), await newTenant()];
    const perChain = 40;
    await Promise.all(
      range(perChain).flatMap((i) => [append(a, event(i)), append(b, event(i, { actor: "api_key:k1", actorType: "api_key" })), append(null, event(i, { targetType: "node" }))]),
    );
    expect(await seqs(a)).toEqual(range(perChain));
    expect(await seqs(b)).toEqual(range(perChain));
    expect(await seqs("platform")).toEqual(range(perChain));
    for (const result of [await verifyTenantChain(t.client, a), await verifyTenantChain(t.client, b), await verifyPlatformChain(t.client)]) {
      expect(result).toMatchObject({ ok: true, checked: perChain, head_seq: perChain, first_broken: null });
    }
  });

  it("verifies across batch boundaries and reports an empty chain as intact", async () => {
    const a = await newTenant();
    expect(await verifyTenantChain(t.client, a)).toMatchObject({ ok: true, checked: 0, head_seq: 0 });
    await appendMany(a, 23);
    expect(await verifyChain(tenantChain(t.client, a), 5)).toMatchObject({ ok: true, checked: 23, head_seq: 23 });
  });
});

describe("isolation and append-only", () => {
  it("a tenant's transaction cannot see or write another tenant's events", async () => {
    const [a, b] = [await newTenant(), await newTenant()];
    await appendMany(a, 3);
    await appendMany(b, 4);
    const seen = await withTenant(t.client, a, async (tx) => {
      const all = await tx.execute<{ tenant_id: string }>(sql`select tenant_id from audit_events`);
      const theirs = await tx.execute<{ n: number }>(sql`select count(*)::int as n from audit_events where tenant_id = ${b}`);
      const listed = await listAuditEvents(tx, b, {});
      return { tenants: new Set(all.map((r) => r.tenant_id)), theirs: theirs[0]!.n, listed: listed.items.length };
    });
    expect(seen).toEqual({ tenants: new Set([a]), theirs: 0, listed: 0 });
    // Verify run in A's scope against B's chain sees nothing at all.
    expect(await verifyChain({ chain: b, tenantId: b, run: (fn) => withTenant(t.client, a, fn) })).toMatchObject({ checked: 0, head_seq: 0 });
    expect(await dbError(withTenant(t.client, a, (tx) => appendAudit(tx, { ...event(1), tenantId: b })))).toMatch(/row-level security/);
  });

  it("the app role may not UPDATE or DELETE events, and the trigger refuses even the owner", async () => {
    const a = await newTenant();
    await appendMany(a, 2);
    expect(await dbError(withTenant(t.client, a, (tx) => tx.execute(sql`update audit_events set actor = 'someone-else' where tenant_id = ${a}`)))).toMatch(/permission denied/);
    expect(await dbError(withTenant(t.client, a, (tx) => tx.execute(sql`delete from audit_events where tenant_id = ${a}`)))).toMatch(/permission denied/);
    await expect(t.owner.sql`update audit_events set actor = 'someone-else' where chain = ${a}`).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(t.owner.sql`delete from audit_events where chain = ${a}`).rejects.toThrow(/append-only: DELETE refused/);
    await expect(t.owner.sql`truncate audit_events`).rejects.toThrow(/append-only: TRUNCATE refused/);
    expect(await verifyTenantChain(t.client, a)).toMatchObject({ ok: true, checked: 2 });
  });
});

describe("verify finds tampering done with the trigger switched off", () => {
  it("an edited event: hash_mismatch at its seq", async () => {
    const a = await newTenant();
    await appendMany(a, 20);
    await tamper(`update audit_events set details = '{"n": 7, "quietly": "changed"}' where chain = $1 and seq = 7`, [a]);
    const r = await verifyChain(tenantChain(t.client, a), 4);
    expect(r).toMatchObject({ ok: false, checked: 6, first_broken: { seq: 7, reason: "hash_mismatch" } });
    expect(r.first_broken!.event_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("an edited event whose hash was recomputed: prev_hash_mismatch at the next seq", async () => {
    const a = await newTenant();
    await appendMany(a, 10);
    const [row] = await withTenant(t.client, a, (tx) => tx.execute<{ hash: string }>(sql`select hash from audit_events where chain = ${a} and seq = 5`));
    const records = await withTenant(t.client, a, (tx) => readChainBatch(tx, a, 4, 5, 1));
    const forged = { ...records[0]!, details: { forged: true } };
    await tamper(`update audit_events set details = '{"forged": true}', hash = $2 where chain = $1 and seq = 5`, [a, auditHash(forged)]);
    expect(auditHash(forged)).not.toBe(row!.hash);
    expect(await verifyTenantChain(t.client, a)).toMatchObject({ ok: false, checked: 5, first_broken: { seq: 6, reason: "prev_hash_mismatch", found: row!.hash } });
  });

  it("a deleted event: missing_seq", async () => {
    const a = await newTenant();
    await appendMany(a, 15);
    await tamper(`delete from audit_events where chain = $1 and seq = 12`, [a]);
    expect(await verifyTenantChain(t.client, a)).toMatchObject({ ok: false, checked: 11, first_broken: { seq: 12, event_id: null, reason: "missing_seq", expected: "12", found: "13" } });
  });

  it("deleted newest events: missing_seq at the end of the chain", async () => {
    const a = await newTenant();
    await appendMany(a, 8);
    await tamper(`delete from audit_events where chain = $1 and seq > 6`, [a]);
    expect(await verifyTenantChain(t.client, a)).toMatchObject({ ok: false, checked: 6, first_broken: { seq: 7, reason: "missing_seq", found: "end of chain" } });
  });

  it("a rewritten head: head_mismatch", async () => {
    const a = await newTenant();
    await appendMany(a, 4);
    await t.owner.sql`update audit_chain_heads set hash = ${"f".repeat(64)} where chain = ${a}`;
    expect(await verifyTenantChain(t.client, a)).toMatchObject({ ok: false, checked: 4, first_broken: { seq: 4, reason: "head_mismatch", expected: "f".repeat(64) } });
  });
});

describe("signing key", () => {
  it("is created once even when several processes ask at the same time, and its private half is encrypted", async () => {
    const pools = [0, 1, 2].map((i) => createDbClient(t.url, { max: 1, applicationName: `cairn-test-key-${i}` }));
    try {
      const keys = await Promise.all(pools.map((p) => signingKey(p, t.secret, "audit")));
      expect(new Set(keys.map((k) => k.publicKeyPem)).size).toBe(1);
      expect(keys[0]!.id).toBe("audit-1");
      expect(keys[0]!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
      expect(Buffer.from(keys[0]!.publicKeyRaw, "base64")).toHaveLength(32);
      const rows = await t.owner.sql<{ private_key_enc: string }[]>`select private_key_enc from signing_keys where purpose = 'audit'`;
      expect(rows).toHaveLength(1);
      expect(rows[0]!.private_key_enc).toMatch(/^v1\./);
      expect(rows[0]!.private_key_enc).not.toContain("PRIVATE KEY");
      // Another pool with the wrong installation secret cannot use it, and says why.
      await expect(signingKey(createDbClient(t.url, { max: 1, applicationName: "cairn-test-key-wrong" }), "not-the-installation-secret-0123456789")).rejects.toThrow(/installation secret/);
    } finally {
      await Promise.all(pools.map((p) => p.close()));
    }
  });
});

// ---------- Export and the offline verifier ----------

async function runVerify(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (err.push(String(chunk)), true));
  try {
    return { code: await auditVerify(args), out: out.join(""), err: err.join("") };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

async function verifyJson(file: string, ...extra: string[]) {
  const r = await runVerify([file, "--json", ...extra]);
  return { code: r.code, result: JSON.parse(r.out) as { ok: boolean; events: number; first_broken: { line: number; seq: number | null; reason: string } | null; pinned: boolean } };
}

async function exportToFile(tenantId: string, name: string, batchSize?: number): Promise<{ file: string; plan: ExportPlan; key: SigningKey }> {
  const key = await signingKey(t.client, t.secret, "audit");
  const plan = await withTenant(t.client, tenantId, (tx) =>
    beginAuditExport(tx, tenantId, (tx2, e) => appendAudit(tx2, { ...e, tenantId, actor: "user:auditor@example.test", actorType: "user" }), { via: "test" }),
  );
  let text = "";
  for await (const chunk of auditExportLines(tenantChain(t.client, tenantId), plan, key, batchSize)) text += chunk;
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return { file, plan, key };
}

function rewrite(file: string, name: string, edit: (lines: string[]) => string[]): string {
  const lines = fs.readFileSync(file, "utf8").trimEnd().split("\n");
  const out = path.join(tmp, name);
  fs.writeFileSync(out, `${edit(lines).join("\n")}\n`);
  return out;
}

describe("export and `cairn audit verify`", () => {
  let tenant: string;
  let exported: { file: string; plan: ExportPlan; key: SigningKey };

  beforeAll(async () => {
    tenant = await newTenant();
    await appendMany(tenant, 30, (i) => event(i, { details: { i, text: "ünïcødé ✓ \"quoted\" \\ slash", deep: { z: 1, a: [{ y: 2, b: 3 }] } } }));
    exported = await exportToFile(tenant, "good.jsonl", 7);
  });

  it("writes every event with seq, prev_hash and hash, ending with the audit.export event and a signed head", () => {
    const lines = fs.readFileSync(exported.file, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(32);
    const last = lines[30]!;
    expect(last).toMatchObject({ seq: 31, action: "audit.export", actor: "user:auditor@example.test", target_type: "audit_chain", target_id: tenant });
    expect(Object.keys(lines[0]!)).toEqual(["event_id", "tenant_id", "chain", "seq", "prev_hash", "hash", "actor", "actor_type", "target_type", "target_id", "action", "outcome", "request_id", "trace_id", "ip", "timestamp", "details"]);
    expect(lines[31]).toMatchObject({ type: "head", chain: tenant, seq: 31, hash: last.hash, count: 31, key_id: "audit-1", public_key: exported.key.publicKeyPem });
    expect(exported.plan).toMatchObject({ seq: 31, hash: last.hash });
  });

  it("passes the offline verifier, with and without the pinned key", async () => {
    const plain = await runVerify([exported.file]);
    expect(plain.code).toBe(0);
    expect(plain.out).toContain("OK: 31 events intact");
    expect(plain.out).toContain(exported.key.fingerprint);
    const pemFile = path.join(tmp, "audit-key.pem");
    fs.writeFileSync(pemFile, exported.key.publicKeyPem);
    for (const pin of [exported.key.publicKeyPem, pemFile, exported.key.publicKeyRaw]) {
      expect(await verifyJson(exported.file, "--public-key", pin)).toMatchObject({ code: 0, result: { ok: true, events: 31, pinned: true } });
    }
  });

  it("fails on an edited line, at that line", async () => {
    const file = rewrite(exported.file, "edited.jsonl", (lines) => {
      const o = JSON.parse(lines[2]!) as Record<string, unknown>;
      lines[2] = JSON.stringify({ ...o, outcome: "denied" });
      return lines;
    });
    const r = await runVerify([file]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^TAMPERED: line 3 \(seq 3\): hash_mismatch/);
  });

  it("fails on an edited line whose hash was recomputed, at the next line", async () => {
    const file = rewrite(exported.file, "rehashed.jsonl", (lines) => {
      const o = JSON.parse(lines[9]!) as Parameters<typeof auditHash>[0] & { hash: string };
      const forged = { ...o, details: { nothing: "to see" } };
      lines[9] = JSON.stringify({ ...forged, hash: auditHash(forged) });
      return lines;
    });
    expect(await verifyJson(file)).toMatchObject({ code: 1, result: { ok: false, events: 10, first_broken: { line: 11, seq: 11, reason: "prev_hash_mismatch" } } });
  });

  it("fails on a removed line, a removed last event and a removed head", async () => {
    const middle = rewrite(exported.file, "removed.jsonl", (lines) => lines.filter((_, i) => i !== 4));
    expect(await verifyJson(middle)).toMatchObject({ code: 1, result: { first_broken: { line: 5, seq: 6, reason: "missing_seq" } } });
    const first = rewrite(exported.file, "removed-first.jsonl", (lines) => lines.slice(1));
    expect(await verifyJson(first)).toMatchObject({ code: 1, result: { first_broken: { line: 1, reason: "missing_seq" } } });
    const lastEvent = rewrite(exported.file, "removed-last.jsonl", (lines) => [...lines.slice(0, 30), lines[31]!]);
    expect(await verifyJson(lastEvent)).toMatchObject({ code: 1, result: { first_broken: { line: 31, reason: "head_mismatch" } } });
    const noHead = rewrite(exported.file, "no-head.jsonl", (lines) => lines.slice(0, 31));
    expect(await verifyJson(noHead)).toMatchObject({ code: 1, result: { events: 31, first_broken: { line: 32, reason: "head_missing" } } });
  });

  it("fails on two reordered lines", async () => {
    const adjacent = rewrite(exported.file, "swapped.jsonl", (lines) => {
      [lines[3], lines[4]] = [lines[4]!, lines[3]!];
      return lines;
    });
    expect(await verifyJson(adjacent)).toMatchObject({ code: 1, result: { events: 3, first_broken: { line: 4, seq: 5, reason: "missing_seq" } } });
    const apart = rewrite(exported.file, "swapped-apart.jsonl", (lines) => {
      [lines[1], lines[20]] = [lines[20]!, lines[1]!];
      return lines;
    });
    expect(await verifyJson(apart)).toMatchObject({ code: 1, result: { first_broken: { line: 2, reason: "missing_seq" } } });
  });

  it("fails on an edited head, and on a line after the head", async () => {
    const head = rewrite(exported.file, "head-edited.jsonl", (lines) => {
      const h = JSON.parse(lines[31]!) as Record<string, unknown>;
      lines[31] = JSON.stringify({ ...h, exported_at: "2020-01-01T00:00:00.000Z" });
      return lines;
    });
    expect(await verifyJson(head)).toMatchObject({ code: 1, result: { first_broken: { line: 32, reason: "signature_invalid" } } });
    const trailing = rewrite(exported.file, "trailing.jsonl", (lines) => [...lines, lines[0]!]);
    expect(await verifyJson(trailing)).toMatchObject({ code: 1, result: { first_broken: { line: 33, reason: "line_after_head" } } });
  });

  it("rejects a file re-signed by another key when the real key is pinned", async () => {
    const other = generateKeyPairSync("ed25519");
    const otherPem = other.publicKey.export({ type: "spki", format: "pem" }).toString();
    const impostor: SigningKey = { ...exported.key, publicKeyPem: otherPem, publicKeyRaw: rawPublicKey(other.publicKey).toString("base64"), fingerprint: publicKeyFingerprint(other.publicKey), privateKey: other.privateKey };
    // A forger who drops the newest events and signs a new head with their own key.
    const file = rewrite(exported.file, "resigned.jsonl", (lines) => {
      const kept = lines.slice(0, 20);
      const last = JSON.parse(kept[19]!) as { seq: number; hash: string; chain: string };
      return [...kept, JSON.stringify(signedHead(impostor, { chain: last.chain, seq: last.seq, hash: last.hash, count: 20, exported_at: new Date().toISOString() }))];
    });
    // Unpinned, the file is self-consistent: that is why the output says to pin the key.
    expect(await verifyJson(file)).toMatchObject({ code: 0, result: { ok: true, pinned: false } });
    expect(await verifyJson(file, "--public-key", exported.key.publicKeyPem)).toMatchObject({ code: 1, result: { first_broken: { reason: "key_not_pinned" } } });
  });

  it("exits 2 on usage errors", async () => {
    expect((await runVerify([])).code).toBe(2);
    expect((await runVerify([exported.file, "--bogus"])).code).toBe(2);
    expect((await runVerify([path.join(tmp, "does-not-exist.jsonl")])).code).toBe(2);
    const badKey = await runVerify([exported.file, "--public-key", "not a key"]);
    expect(badKey.code).toBe(2);
    expect(badKey.err).toContain("--public-key");
  });

  it("works as `cairn audit verify FILE` from the command line", () => {
    const good = spawnSync(process.execPath, [path.join(repoRoot, "bin", "cairn.js"), "audit", "verify", exported.file], { encoding: "utf8", cwd: tmp });
    expect(good.status, good.stderr).toBe(0);
    const bad = rewrite(exported.file, "cli-edited.jsonl", (lines) => lines.filter((_, i) => i !== 2));
    const broken = spawnSync(process.execPath, [path.join(repoRoot, "bin", "cairn.js"), "audit", "verify", bad, "--json"], { encoding: "utf8", cwd: tmp });
    expect(broken.status).toBe(1);
    expect(JSON.parse(broken.stdout)).toMatchObject({ ok: false, first_broken: { line: 3, reason: "missing_seq" } });
  });

  it("refuses before writing anything when the chain is over the export limit", async () => {
    const a = await newTenant();
    await appendMany(a, 5);
    const attempt = withTenant(t.client, a, (tx) => beginAuditExport(tx, a, (tx2, e) => appendAudit(tx2, { ...e, tenantId: a, actor: "x", actorType: "user" }), { via: "test", maxEvents: 5 }));
    await expect(attempt).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(await seqs(a)).toEqual(range(5));
  });

  it("exports the platform chain the same way", async () => {
    const key = await signingKey(t.client, t.secret, "audit");
    const plan = await withPlatform(t.client, (tx) => beginAuditExport(tx, "platform", (tx2, e) => appendAudit(tx2, { ...e, tenantId: null, actor: "system", actorType: "system" }), { via: "test" }));
    let text = "";
    for await (const chunk of auditExportLines(platformChain(t.client), plan, key)) text += chunk;
    const file = path.join(tmp, "platform.jsonl");
    fs.writeFileSync(file, text);
    expect(await verifyJson(file, "--public-key", key.publicKeyPem)).toMatchObject({ code: 0, result: { ok: true } });
  });
});

// ---------- Keyset list ----------

describe("audit list", () => {
  let tenant: string;
  const actors = ["user:alice@example.test", "user:bob@example.test", "api_key:abc123", "system"];
  const actions = ["member.create", "member.delete", "api_key.rotate", "auth.login", "auth_x"];
  const outcomes = ["success", "denied", "failure"] as const;
  const total = 137;

  beforeAll(async () => {
    tenant = await newTenant();
    await appendMany(tenant, total, (i) =>
      event(i, { actor: actors[i % actors.length]!, action: actions[i % actions.length]!, outcome: outcomes[i % outcomes.length]!, targetType: i % 2 ? "member" : "api_key", targetId: `t-${i % 10}` }),
    );
  });

  const list = (filters: AuditListFilters) => withTenant(t.client, tenant, (tx) => listAuditEvents(tx, tenant, filters));

  async function all(filters: AuditListFilters): Promise<AuditListItem[]> {
    const items: AuditListItem[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 100; guard++) {
      const page = await list({ ...filters, cursor });
      items.push(...page.items);
      if (!page.next_cursor) return items;
      cursor = page.next_cursor;
    }
    throw new Error("paging did not end");
  }

  it("pages newest first without overlap and covers every event", async () => {
    const first = await list({ limit: 20 });
    expect(first.items).toHaveLength(20);
    expect(first.items[0]).toMatchObject({ seq: total, actor_type: "user", details: { n: total } });
    expect(first.items[0]!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const items = await all({ limit: 20 });
    expect(items.map((i) => i.seq)).toEqual(range(total).reverse());
    expect(new Set(items.map((i) => i.event_id)).size).toBe(total);
    // Default page size, and the page that ends exactly at the last event has no next cursor.
    expect((await list({})).items).toHaveLength(50);
    expect((await list({ limit: total })).next_cursor).toBeNull();
    expect((await list({ limit: 500 })).items).toHaveLength(total);
  });

  it("filters by exact and prefix actor and action, target, outcome", async () => {
    const seqsOf = (items: AuditListItem[]) => items.map((i) => i.seq);
    const expected = (pred: (i: number) => boolean) => range(total).filter(pred).reverse();
    expect(seqsOf(await all({ actor: "user:bob@example.test", limit: 7 }))).toEqual(expected((i) => i % 4 === 1));
    expect(seqsOf(await all({ actor: "user:*", limit: 7 }))).toEqual(expected((i) => i % 4 === 0 || i % 4 === 1));
    expect(seqsOf(await all({ action: "auth.login" }))).toEqual(expected((i) => i % 5 === 3));
    // "auth_*" must not match "auth.login": the underscore is a literal, not a LIKE wildcard.
    expect(seqsOf(await all({ action: "auth_*" }))).toEqual(expected((i) => i % 5 === 4));
    expect(seqsOf(await all({ action: "member.*", outcome: "denied", limit: 5 }))).toEqual(expected((i) => i % 5 < 2 && i % 3 === 1));
    expect(seqsOf(await all({ target_type: "api_key", target_id: "t-4" }))).toEqual(expected((i) => i % 2 === 0 && i % 10 === 4));
    expect(await all({ actor: "nobody" })).toEqual([]);
  });

  it("rejects a cursor it did not make", async () => {
    await expect(list({ cursor: "not-a-cursor" })).rejects.toBeInstanceOf(AppError);
    await expect(list({ cursor: Buffer.from("-5").toString("base64url") })).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });

  it("filters by time, from inclusive and to exclusive", async () => {
    const timed = await newTenant();
    const base = Date.parse("2024-03-01T00:00:00.000Z");
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      for (let i = 0; i < 60; i++) {
        vi.setSystemTime(base + i * 60_000);
        await append(timed, event(i));
      }
    } finally {
      vi.useRealTimers();
    }
    const at = (minute: number) => new Date(base + minute * 60_000).toISOString();
    const listTimed = async (filters: AuditListFilters) => {
      const items: AuditListItem[] = [];
      let cursor: string | undefined;
      do {
        const page = await withTenant(t.client, timed, (tx) => listAuditEvents(tx, timed, { ...filters, cursor, limit: 4 }));
        items.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      return items.map((i) => i.seq);
    };
    expect(await listTimed({ from: at(10), to: at(20) })).toEqual(range(20).slice(10).reverse());
    expect(await listTimed({ from: at(55) })).toEqual([60, 59, 58, 57, 56]);
    expect(await listTimed({ to: at(3) })).toEqual([3, 2, 1]);
    expect(await listTimed({ from: at(61) })).toEqual([]);
    expect(await listTimed({ to: at(0) })).toEqual([]);
    expect(await listTimed({ from: "2024-03-01T00:10:30.000Z", to: "2030-01-01T00:00:00Z" })).toEqual(range(60).slice(11).reverse());
    expect(await listTimed({ from: at(10), to: at(20), actor: "user:alice@example.test" })).toEqual(range(20).slice(10).reverse());
  });
});
