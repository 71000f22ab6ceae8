// The source registry end to end through the procedures REST and the UI use: CRUD and validation, unsupported kinds,
// run now with idempotency and each overlap policy, test, the source's runs/jobs/evidence, and tenant isolation.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/test-db.ts";
import { callerAs, errorCode, testRuntime } from "../../../test/runtime.ts";
import { toAppError } from "../../trpc/init.ts";
import type { Runtime } from "../../runtime.ts";
import { bootstrapTenant, mintKey } from "../tenants/bootstrap.service.ts";
import { registerConnector } from "../../connectors/registry.ts";
import { startTestServer } from "../../../test/web.ts";

// A connector for scan.iac that exists only in this test file: it makes the kind supported without running anything.
registerConnector({
  kind: "scan.iac",
  validateScope(scope) {
    const paths = (scope as { paths?: unknown }).paths;
    if (!Array.isArray(paths) || paths.length === 0 || paths.some((p) => typeof p !== "string")) return "paths: must list the directories to scan";
    return null;
  },
  async collect() {
    return { items: 0, summary: {}, graph: { assets: [], relations: [], findings: [] }, artifacts: [], warnings: [] };
  },
});

let t: TestDatabase;
let rt: Runtime;
let acme: Awaited<ReturnType<typeof bootstrapTenant>>;
let globex: Awaited<ReturnType<typeof bootstrapTenant>>;
const SECRET = "iac-source-secret-3d9e";

beforeAll(async () => {
  t = await createTestDatabase();
  rt = testRuntime(t);
  acme = await bootstrapTenant(t.client, "acme", { highRisk: true });
  globex = await bootstrapTenant(t.client, "globex", { highRisk: true });
  process.env.CAIRN_TENANT_ACME_IAC_TOKEN = SECRET;
});
afterAll(async () => {
  delete process.env.CAIRN_TENANT_ACME_IAC_TOKEN;
  await t?.drop();
});

const admin = () => callerAs(rt, { apiKey: acme.api_key });

/** The error as a REST or tRPC client would see it (code, message, details), or null when the call succeeded. */
async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string; details: unknown } | null> {
  try {
    await promise;
    return null;
  } catch (err) {
    const app = toAppError(err);
    return { code: app.code, message: app.message, details: app.details };
  }
}

async function message(promise: Promise<unknown>): Promise<string> {
  return (await failure(promise))?.message ?? "";
}

describe("registry", () => {
  it("creates, reads, updates and lists sources in the contract's field names", async () => {
    const caller = await admin();
    const created = await caller.sources.create({ kind: "scan.iac", display_name: "Terraform", scope: { paths: ["./infra"] }, labels: { team: "platform" }, owner: "platform-team" });
    expect(created).toMatchObject({
      kind: "scan.iac",
      display_name: "Terraform",
      status: "active",
      owner: "platform-team",
      credential_mode: "none",
      credential_ref_id: null,
      scope: { paths: ["./infra"] },
      labels: { team: "platform" },
      overlap_policy: "skip",
      time_budget_seconds: 900,
      last_run_at: null,
      last_success_at: null,
      last_outcome: null,
    });
    expect(await caller.sources.get({ id: created.source_id })).toEqual(created);

    const updated = await caller.sources.update({ id: created.source_id, display_name: "Terraform (prod)", overlap_policy: "allow", scope: { paths: ["./infra/prod"] } });
    expect(updated).toMatchObject({ display_name: "Terraform (prod)", overlap_policy: "allow", scope: { paths: ["./infra/prod"] }, labels: { team: "platform" } });
    expect(new Date(updated.updated_at).getTime()).toBeGreaterThanOrEqual(new Date(created.updated_at).getTime());
    expect((await caller.sources.list()).items.map((s) => s.source_id)).toContain(created.source_id);

    const actions = await t.owner.sql<{ action: string }[]>`select action from audit_events where target_id = ${created.source_id} order by id`;
    expect(actions.map((a) => a.action)).toEqual(["source.create", "source.update"]);
  });

  it("validation errors name the field", async () => {
    const caller = await admin();
    const cases: [unknown, RegExp][] = [
      [{ kind: "scan.iac", scope: { paths: ["x"] } }, /^display_name: required$/],
      [{ kind: "scan.nope", display_name: "x" }, /kind/],
      [{ kind: "scan.iac", display_name: "x", scope: {} }, /^scope\.paths: /],
      [{ kind: "scan.iac", display_name: "x", scope: { paths: ["x"] }, time_budget_seconds: 1 }, /time_budget_seconds/],
      [{ kind: "scan.iac", display_name: "x", scope: { paths: ["x"] }, overlap_policy: "sometimes" }, /overlap_policy/],
      [{ kind: "scan.iac", display_name: "x", scope: { paths: ["x"] }, labels: { "bad key!": "v" } }, /^labels\.bad key!: label keys/],
      [{ kind: "scan.iac", display_name: "x", scope: { paths: ["x"] }, color: "red" }, /color: unknown field/],
      // Kinds without a connector still get the contract's shapes checked.
      [{ kind: "scan.repo", display_name: "x", scope: { paths: "src" } }, /^scope\.paths: /],
      [{ kind: "scan.repo", display_name: "x", scope: { url: "not a repository" } }, /^scope\.url: /],
      [{ kind: "scan.mcp_config", display_name: "x", scope: {} }, /^scope: must name what to read/],
      [{ kind: "scan.mcp_config", display_name: "x", scope: { paths: ["~/.cursor/mcp.json"], url: "https://git.example/x.git" } }, /^scope: /],
      [{ kind: "connector.registry", display_name: "x", credential_mode: "credential_ref" }, /^credential_ref_id: required/],
    ];
    for (const [input, expected] of cases) {
      const error = await failure(caller.sources.create(input as never));
      expect(error?.code, JSON.stringify(input)).toBe("INVALID_INPUT");
      expect(error?.message, JSON.stringify(input)).toMatch(expected);
    }
    const ok = await caller.sources.create({ kind: "scan.repo", display_name: "Repo", scope: { url: "git@github.com:acme/app.git" } });
    expect(await message(caller.sources.update({ id: ok.source_id, scope: { paths: [] } }))).toMatch(/^scope\.paths: /);
    expect(await message(caller.sources.update({ id: ok.source_id, kind: "scan.iac" } as never))).toMatch(/kind: unknown field/);
    expect((await caller.sources.get({ id: ok.source_id })).scope).toEqual({ url: "git@github.com:acme/app.git" });
  });

  it("deletes softly: the source disappears, its schedules stop and its active runs are cancelled", async () => {
    const caller = await admin();
    const source = await caller.sources.create({ kind: "scan.iac", display_name: "Doomed", scope: { paths: ["."] } });
    const run = await caller.sources.run({ id: source.source_id });
    await t.owner.sql`insert into schedules (tenant_id, source_id, cron, created_by, next_run_at) values (${acme.tenant_id}, ${source.source_id}, '0 * * * *', 'test', now() + interval '1 hour')`;
    const result = await caller.sources.remove({ id: source.source_id });
    expect(result).toEqual({ ok: true, source_id: source.source_id, schedules_disabled: 1, runs_cancelled: [run.run_id] });
    expect(await errorCode(caller.sources.get({ id: source.source_id }))).toBe("NOT_FOUND");
    expect(await errorCode(caller.sources.remove({ id: source.source_id }))).toBe("NOT_FOUND");
    expect((await caller.sources.list({ limit: 200 })).items.map((s) => s.source_id)).not.toContain(source.source_id);
    const [row] = await t.owner.sql<{ deleted: boolean }[]>`select deleted_at is not null as deleted from sources where id = ${source.source_id}`;
    expect(row!.deleted).toBe(true);
    const [schedule] = await t.owner.sql<{ enabled: boolean }[]>`select enabled from schedules where source_id = ${source.source_id}`;
    expect(schedule!.enabled).toBe(false);
    const [r] = await t.owner.sql<{ status: string }[]>`select status from runs where id = ${run.run_id}`;
    expect(r!.status).toBe("cancelled");
  });

  it("lists page by an opaque cursor without skipping rows written in one transaction, and filter by kind, status and label", async () => {
    // Five rows from one statement share created_at to the microsecond: only the id tells them apart.
    await t.owner.sql`
      insert into sources (tenant_id, kind, display_name, scope, labels, created_by)
      select ${acme.tenant_id}, 'scan.iac', 'batch ' || g, '{"paths": ["."]}', '{"env": "batch"}', 'test' from generate_series(1, 5) g`;
    const caller = await admin();
    const all = (await caller.sources.list({ limit: 200 })).items.map((s) => s.source_id);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const p = await caller.sources.list({ limit: 2, cursor });
      seen.push(...p.items.map((s) => s.source_id));
      cursor = p.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(all);

    expect((await caller.sources.list({ label: "env=batch" })).items).toHaveLength(5);
    expect((await caller.sources.list({ label: "env" })).items).toHaveLength(5);
    expect((await caller.sources.list({ label: "env=other" })).items).toHaveLength(0);
    const repos = (await caller.sources.list({ kind: "scan.repo" })).items;
    expect(repos.length).toBeGreaterThan(0);
    expect(repos.every((s) => s.kind === "scan.repo" && s.status === "unsupported")).toBe(true);
    const unsupported = (await caller.sources.list({ status: "unsupported", limit: 200 })).items;
    expect(unsupported.every((s) => s.kind !== "scan.iac")).toBe(true);
    const active = (await caller.sources.list({ status: "active", limit: 200 })).items;
    expect(active.length).toBeGreaterThan(5);
    expect(active.every((s) => s.kind === "scan.iac" && s.status === "active")).toBe(true);
    expect(await errorCode(caller.sources.list({ cursor: Buffer.from('["x","y"]').toString("base64url") }))).toBe("INVALID_INPUT");
  });
});

describe("run now", () => {
  it("a kind without a connector is unsupported and refuses to run with a clear error", async () => {
    const caller = await admin();
    const source = await caller.sources.create({ kind: "scan.image", display_name: "Images", scope: { images: ["nginx:1.27"] } });
    expect(source.status).toBe("unsupported");
    expect(await errorCode(caller.sources.run({ id: source.source_id }))).toBe("UNSUPPORTED");
    expect(await message(caller.sources.run({ id: source.source_id }))).toMatch(/scan\.image.*no connector/);
    const [n] = await t.owner.sql<{ n: number }[]>`select count(*)::int as n from runs where source_id = ${source.source_id}`;
    expect(n!.n).toBe(0);
  });

  it("creates a run and its job; the same Idempotency-Key returns the same run", async () => {
    const caller = await admin();
    const source = await caller.sources.create({ kind: "scan.iac", display_name: "Once", scope: { paths: ["."] } });
    const keyed = await callerAs(rt, { apiKey: acme.api_key, idempotencyKey: "deploy-42" });
    const first = await keyed.sources.run({ id: source.source_id });
    expect(first).toMatchObject({ status: "queued", duplicate: false, replaced_run_ids: [] });
    const again = await (await callerAs(rt, { apiKey: acme.api_key, idempotencyKey: "deploy-42" })).sources.run({ id: source.source_id });
    expect(again).toEqual({ ...first, duplicate: true });

    const runs = await t.owner.sql<{ id: string; trigger: string; status: string; requested_by: string }[]>`select id, trigger, status, requested_by from runs where source_id = ${source.source_id}`;
    expect(runs).toEqual([{ id: first.run_id, trigger: "api", status: "queued", requested_by: `api_key:${acme.api_key.split("_")[1]}` }]);
    const jobs = await t.owner.sql<{ id: string; run_id: string; job_type: string; tenant_id: string; scope: unknown }[]>`select id, run_id, job_type, tenant_id, scope from jobs where source_id = ${source.source_id}`;
    expect(jobs).toEqual([{ id: first.job_id, run_id: first.run_id, job_type: "source.collect", tenant_id: acme.tenant_id, scope: { paths: ["."] } }]);
    expect((await caller.sources.get({ id: source.source_id })).last_run_id).toBe(first.run_id);

    const audited = await t.owner.sql<{ n: number }[]>`select count(*)::int as n from audit_events where action = 'source.run' and target_id = ${source.source_id}`;
    expect(audited[0]!.n).toBe(1);
  });

  it("overlap skip refuses with 409 naming the active run; replace cancels it; allow runs both", async () => {
    const caller = await admin();
    const skip = await caller.sources.create({ kind: "scan.iac", display_name: "Skip", scope: { paths: ["."] }, overlap_policy: "skip" });
    const first = await caller.sources.run({ id: skip.source_id });
    expect(await errorCode(caller.sources.run({ id: skip.source_id }))).toBe("CONFLICT");
    expect((await failure(caller.sources.run({ id: skip.source_id })))?.details).toMatchObject({ active_run_id: first.run_id });
    expect(await message(caller.sources.run({ id: skip.source_id }))).toContain(first.run_id);

    const replace = await caller.sources.create({ kind: "scan.iac", display_name: "Replace", scope: { paths: ["."] }, overlap_policy: "replace" });
    const older = await caller.sources.run({ id: replace.source_id });
    const newer = await caller.sources.run({ id: replace.source_id });
    expect(newer.replaced_run_ids).toEqual([older.run_id]);
    const statuses = await t.owner.sql<{ id: string; status: string }[]>`select id, status from runs where source_id = ${replace.source_id}`;
    expect(Object.fromEntries(statuses.map((r) => [r.id, r.status]))).toEqual({ [older.run_id]: "cancelled", [newer.run_id]: "queued" });
    const [olderJob] = await t.owner.sql<{ status: string }[]>`select status from jobs where id = ${older.job_id}`;
    expect(olderJob!.status).toBe("cancelled");

    const allow = await caller.sources.create({ kind: "scan.iac", display_name: "Allow", scope: { paths: ["."] }, overlap_policy: "allow" });
    const a = await caller.sources.run({ id: allow.source_id });
    const b = await caller.sources.run({ id: allow.source_id });
    expect(a.run_id).not.toBe(b.run_id);
    const [active] = await t.owner.sql<{ n: number }[]>`select count(*)::int as n from runs where source_id = ${allow.source_id} and status = 'queued'`;
    expect(active!.n).toBe(2);
  });

  it("a disabled source refuses to run", async () => {
    const caller = await admin();
    const source = await caller.sources.create({ kind: "scan.iac", display_name: "Off", scope: { paths: ["."] }, status: "disabled" });
    expect(source.status).toBe("disabled");
    expect(await errorCode(caller.sources.run({ id: source.source_id }))).toBe("CONFLICT");
  });
});

describe("test", () => {
  it("reports each check without running the connector, and never a credential value", async () => {
    const caller = await admin();
    const ref = await caller.credentials.create({ name: "IaC token", provider: "env", external_ref: "iac" });
    const good = await caller.sources.create({ kind: "scan.iac", display_name: "Checked", scope: { paths: ["."] }, credential_ref_id: ref.credential_ref_id });
    expect(good.credential_mode).toBe("credential_ref");
    const result = await caller.sources.test({ id: good.source_id });
    expect(result.ok).toBe(true);
    expect(result.checks.map((c) => [c.check, c.status])).toEqual([
      ["connector", "pass"],
      ["status", "pass"],
      ["scope", "pass"],
      ["credential", "pass"],
    ]);
    expect(result.checks.find((c) => c.check === "credential")!.message).toContain("TOKEN");
    expect(JSON.stringify(result)).not.toContain(SECRET);
    expect((await caller.credentials.get({ id: ref.credential_ref_id })).health).toBe("healthy");
    const [runs] = await t.owner.sql<{ n: number }[]>`select count(*)::int as n from runs where source_id = ${good.source_id}`;
    expect(runs!.n).toBe(0);

    const missing = await caller.credentials.create({ name: "Unset", provider: "env", external_ref: "unset" });
    const unsupported = await caller.sources.create({ kind: "connector.warehouse", display_name: "Warehouse", credential_ref_id: missing.credential_ref_id });
    const bad = await caller.sources.test({ id: unsupported.source_id });
    expect(bad.ok).toBe(false);
    expect(Object.fromEntries(bad.checks.map((c) => [c.check, c.status]))).toEqual({ connector: "fail", status: "fail", scope: "pass", credential: "fail" });
  });
});

describe("a source's runs, jobs and evidence", () => {
  it("lists what the source produced, newest first", async () => {
    const caller = await admin();
    const source = await caller.sources.create({ kind: "scan.iac", display_name: "Producer", scope: { paths: ["."] }, overlap_policy: "allow" });
    const first = await caller.sources.run({ id: source.source_id });
    const second = await caller.sources.run({ id: source.source_id });
    await t.owner.sql`
      insert into evidence (tenant_id, job_id, run_id, source_id, kind, storage_uri, content_type, hash, size)
      values (${acme.tenant_id}, ${first.job_id}, ${first.run_id}, ${source.source_id}, 'raw', 'file://x', 'application/json', ${"a".repeat(64)}, 12)`;

    const runs = await caller.sources.runs({ id: source.source_id });
    expect(runs.items.map((r) => r.run_id)).toEqual([second.run_id, first.run_id]);
    expect(runs.items[0]).toMatchObject({ source_id: source.source_id, trigger: "api", status: "queued" });
    const paged = await caller.sources.runs({ id: source.source_id, limit: 1 });
    expect(paged.items.map((r) => r.run_id)).toEqual([second.run_id]);
    expect((await caller.sources.runs({ id: source.source_id, limit: 1, cursor: paged.next_cursor! })).items.map((r) => r.run_id)).toEqual([first.run_id]);

    const jobs = await caller.sources.jobs({ id: source.source_id });
    expect(jobs.items.map((j) => j.job_id).sort()).toEqual([first.job_id, second.job_id].sort());
    expect(jobs.items.every((j) => j.job_type === "source.collect")).toBe(true);

    const evidence = await caller.sources.evidence({ id: source.source_id });
    expect(evidence.items).toHaveLength(1);
    expect(evidence.items[0]).toMatchObject({ source_id: source.source_id, run_id: first.run_id, job_id: first.job_id, kind: "raw", size: 12, signed: false });

    // Auditors follow the evidence trail.
    const auditor = await callerAs(rt, { apiKey: (await mintKey(t.client, { tenantSlug: "acme", role: "auditor", platform: false, highRisk: false })).api_key });
    expect((await auditor.sources.evidence({ id: source.source_id })).items).toHaveLength(1);
    expect(await errorCode(auditor.sources.run({ id: source.source_id }))).toBe("FORBIDDEN");
  });
});

describe("tenant isolation", () => {
  it("another tenant's source ids read exactly like missing ids on every procedure that takes one", async () => {
    const inGlobex = await callerAs(rt, { apiKey: globex.api_key });
    const theirs = await inGlobex.sources.create({ kind: "scan.iac", display_name: "Globex IaC", scope: { paths: ["."] } });
    const inAcme = await admin();
    const missing = "00000000-0000-4000-8000-000000000000";
    for (const id of [theirs.source_id, missing]) {
      const attempts: [string, () => Promise<unknown>][] = [
        ["get", () => inAcme.sources.get({ id })],
        ["update", () => inAcme.sources.update({ id, display_name: "mine now" })],
        ["remove", () => inAcme.sources.remove({ id })],
        ["test", () => inAcme.sources.test({ id })],
        ["run", () => inAcme.sources.run({ id })],
        ["runs", () => inAcme.sources.runs({ id })],
        ["jobs", () => inAcme.sources.jobs({ id })],
        ["evidence", () => inAcme.sources.evidence({ id })],
      ];
      for (const [name, attempt] of attempts) expect(await errorCode(attempt()), `${name} ${id}`).toBe("NOT_FOUND");
    }
    expect((await inAcme.sources.list({ limit: 200 })).items.map((s) => s.source_id)).not.toContain(theirs.source_id);
    // Globex's source is untouched.
    expect(await inGlobex.sources.get({ id: theirs.source_id })).toEqual(theirs);
    const [runs] = await t.owner.sql<{ n: number }[]>`select count(*)::int as n from runs where source_id = ${theirs.source_id}`;
    expect(runs!.n).toBe(0);
  });
});

describe("over REST", () => {
  it("speaks the contract: 201 on create, 202 on run with Idempotency-Key, 409 with the active run, 404 for foreign ids", async () => {
    const server = await startTestServer(rt);
    try {
      const call = (method: string, url: string, opts: { key?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
        fetch(`${server.base}/v1${url}`, {
          method,
          headers: { authorization: `Bearer ${opts.key ?? acme.api_key}`, "content-type": "application/json", ...opts.headers },
          body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        });
      const created = await call("POST", "/sources", { body: { kind: "scan.iac", display_name: "Over REST", scope: { paths: ["."] } } });
      expect(created.status).toBe(201);
      const source = (await created.json()) as { source_id: string };

      const run = await call("POST", `/sources/${source.source_id}/run`, { headers: { "idempotency-key": "rest-1" } });
      expect(run.status).toBe(202);
      const first = (await run.json()) as { run_id: string; duplicate: boolean };
      expect(first.duplicate).toBe(false);
      const again = await call("POST", `/sources/${source.source_id}/run`, { headers: { "idempotency-key": "rest-1" } });
      expect(again.status).toBe(202);
      expect(await again.json()).toMatchObject({ run_id: first.run_id, duplicate: true });

      const refused = await call("POST", `/sources/${source.source_id}/run`);
      expect(refused.status).toBe(409);
      expect(await refused.json()).toMatchObject({ error: { code: "CONFLICT", details: { active_run_id: first.run_id } } });

      const bad = await call("POST", "/sources", { body: { kind: "scan.iac", display_name: "x", scope: {} } });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^scope\.paths: /);

      const listed = await call("GET", "/sources?kind=scan.iac&limit=1");
      expect(listed.status).toBe(200);
      const page = (await listed.json()) as { items: unknown[]; next_cursor: string | null };
      expect(page.items).toHaveLength(1);
      expect(page.next_cursor).toEqual(expect.any(String));

      const foreign = await call("GET", `/sources/${source.source_id}`, { key: globex.api_key });
      expect(foreign.status).toBe(404);
      expect(await foreign.json()).toMatchObject({ error: { code: "NOT_FOUND" } });

      const removed = await call("DELETE", `/sources/${source.source_id}`);
      expect(removed.status).toBe(200);
      expect((await call("GET", `/sources/${source.source_id}`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
