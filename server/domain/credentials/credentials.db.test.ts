// Credential refs and the broker end to end: refs are references only, each tenant resolves only its own values,
// bad refs and reserved providers fail clearly, and no value ever comes back from the API or lands in the audit log.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/test-db.ts";
import { callerAs, errorCode, testRuntime } from "../../../test/runtime.ts";
import { toAppError } from "../../trpc/init.ts";
import type { Runtime } from "../../runtime.ts";
import { bootstrapTenant, mintKey } from "../tenants/bootstrap.service.ts";
import { withTenant } from "../../../db/tenant.ts";
import { resolveCredentialsForJob } from "./credential-broker.ts";

let t: TestDatabase;
let rt: Runtime;
let dir: string;
let acme: Awaited<ReturnType<typeof bootstrapTenant>>;
let globex: Awaited<ReturnType<typeof bootstrapTenant>>;
let acmeDev: Awaited<ReturnType<typeof bootstrapTenant>>;

const SECRETS = {
  acmeToken: "acme-token-value-7f3a",
  globexToken: "globex-token-value-91bc",
  acmeDevToken: "acme-dev-token-value-c044",
  acmePassword: "acme-db-password-5e1d",
  globexPassword: "globex-db-password-0a77",
};
const envSet: string[] = [];
function setEnv(name: string, value: string) {
  process.env[name] = value;
  envSet.push(name);
}

beforeAll(async () => {
  t = await createTestDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-credentials-"));
  rt = testRuntime(t, { CAIRN_CREDENTIALS_DIR: dir });
  acme = await bootstrapTenant(t.client, "acme", { highRisk: true });
  globex = await bootstrapTenant(t.client, "globex", { highRisk: true });
  acmeDev = await bootstrapTenant(t.client, "acme-dev", { highRisk: true });

  setEnv("CAIRN_TENANT_ACME_GITHUB_TOKEN", SECRETS.acmeToken);
  setEnv("CAIRN_TENANT_ACME_GITHUB_API_URL", "https://api.github.example");
  setEnv("CAIRN_TENANT_GLOBEX_GITHUB_TOKEN", SECRETS.globexToken);
  setEnv("CAIRN_TENANT_ACME_DEV_GITHUB_TOKEN", SECRETS.acmeDevToken);
  setEnv("CAIRN_TENANT_ACME_EMPTY_TOKEN", "");

  // The Secrets Store CSI layout: visible names link into a hidden, timestamped directory through ..data.
  for (const [tenantId, password] of [
    [acme.tenant_id, SECRETS.acmePassword],
    [globex.tenant_id, SECRETS.globexPassword],
  ] as const) {
    const refDir = path.join(dir, tenantId, "warehouse");
    const stamped = path.join(refDir, "..2026_01_01_00_00_00.000000001");
    fs.mkdirSync(stamped, { recursive: true });
    fs.writeFileSync(path.join(stamped, "USER"), "reader\n");
    fs.writeFileSync(path.join(stamped, "PASSWORD"), password);
    fs.symlinkSync(path.basename(stamped), path.join(refDir, "..data"));
    fs.symlinkSync(path.join("..data", "USER"), path.join(refDir, "USER"));
    fs.symlinkSync(path.join("..data", "PASSWORD"), path.join(refDir, "PASSWORD"));
  }
  const escape = path.join(dir, acme.tenant_id, "escape");
  fs.mkdirSync(escape, { recursive: true });
  fs.symlinkSync(path.join(dir, globex.tenant_id, "warehouse", "PASSWORD"), path.join(escape, "PASSWORD"));
  fs.symlinkSync(path.join(dir, globex.tenant_id, "warehouse"), path.join(dir, acme.tenant_id, "crossover"));
  const empty = path.join(dir, acme.tenant_id, "blank");
  fs.mkdirSync(empty, { recursive: true });
  fs.writeFileSync(path.join(empty, "TOKEN"), "");
});

afterAll(async () => {
  for (const name of envSet) delete process.env[name];
  fs.rmSync(dir, { recursive: true, force: true });
  await t?.drop();
});

const opts = () => ({ credentialsDir: dir });
const resolveAs = (tenantId: string, credentialRefId: string) => withTenant(t.client, tenantId, (tx) => resolveCredentialsForJob(tx, { id: "job", tenantId, credentialRefId }, opts()));

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

describe("credential refs", () => {
  it("creates, lists and reads refs in the contract's field names, without any value", async () => {
    const admin = await callerAs(rt, { apiKey: acme.api_key });
    const created = await admin.credentials.create({ name: "GitHub", provider: "env", external_ref: "github", description: "read-only token" });
    expect(created).toMatchObject({ name: "GitHub", provider: "env", external_ref: "github", description: "read-only token", health: "unknown", last_validated_at: null, used_by_sources: 0 });
    expect(created.credential_ref_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.location).toBe("CAIRN_TENANT_ACME_GITHUB_<KEY>");
    const listed = await admin.credentials.list();
    expect(listed.items.map((r) => r.credential_ref_id)).toContain(created.credential_ref_id);
    expect(listed.next_cursor).toBeNull();
    expect(await admin.credentials.get({ id: created.credential_ref_id })).toEqual(created);
    expect(JSON.stringify(listed)).not.toContain(SECRETS.acmeToken);
    expect(await errorCode(admin.credentials.create({ name: "GitHub", provider: "env", external_ref: "other" }))).toBe("CONFLICT");
  });

  it("rejects refs with a path separator, .., or the word tenant, naming the field", async () => {
    const admin = await callerAs(rt, { apiKey: acme.api_key });
    for (const [provider, ref] of [
      ["file", "../x"],
      ["file", "a/b"],
      ["file", "a\\b"],
      ["file", "x..y"],
      ["env", "my-tenant-key"],
      ["env", "TENANT"],
      ["env", "has.dot"],
    ] as const) {
      const error = await failure(admin.credentials.create({ name: `bad ${provider} ${ref}`, provider, external_ref: ref }));
      expect(error?.code, ref).toBe("INVALID_INPUT");
      expect(error?.message, ref).toMatch(/^external_ref: /);
    }
    expect(await failure(admin.credentials.create({ name: "", provider: "env", external_ref: "x" }))).toMatchObject({ code: "INVALID_INPUT", message: "name: required" });
    expect(await failure(admin.credentials.create({ name: "p", provider: "keychain", external_ref: "x" } as never))).toMatchObject({ code: "INVALID_INPUT", message: expect.stringMatching(/^provider: /) });
  });

  it("refuses an env ref whose variables would fall inside another tenant's namespace", async () => {
    const admin = await callerAs(rt, { apiKey: acme.api_key });
    // acme's "dev-github" would read CAIRN_TENANT_ACME_DEV_GITHUB_*: tenant acme-dev's variables.
    expect(await message(admin.credentials.create({ name: "sneaky", provider: "env", external_ref: "dev-github" }))).toMatch(/^external_ref: .*another tenant/);
  });

  it("reserved providers fail clearly at create, at test and at resolve time", async () => {
    const admin = await callerAs(rt, { apiKey: acme.api_key });
    for (const provider of ["vault", "aws_secrets_manager"] as const) {
      expect(await errorCode(admin.credentials.create({ name: provider, provider, external_ref: "prod" }))).toBe("UNSUPPORTED");
      expect(await message(admin.credentials.create({ name: provider, provider, external_ref: "prod" }))).toMatch(/not available in this build/);
    }
    // A row from elsewhere (a later build, a restore): test records "unsupported" and answers with the same error.
    const [row] = await t.owner.sql<{ id: string }[]>`
      insert into credential_refs (tenant_id, name, provider, external_ref, created_by) values (${acme.tenant_id}, 'vault-ref', 'vault', 'prod', 'test') returning id`;
    expect(await errorCode(admin.credentials.test({ id: row!.id }))).toBe("UNSUPPORTED");
    expect((await admin.credentials.get({ id: row!.id })).health).toBe("unsupported");
    expect(await errorCode(resolveAs(acme.tenant_id, row!.id))).toBe("UNSUPPORTED");
  });
});

describe("the broker", () => {
  it("env: two tenants, the same ref name, each resolves only its own values", async () => {
    const inAcme = await callerAs(rt, { apiKey: acme.api_key });
    const inGlobex = await callerAs(rt, { apiKey: globex.api_key });
    const a = (await inAcme.credentials.list()).items.find((r) => r.external_ref === "github")!;
    const g = await inGlobex.credentials.create({ name: "GitHub", provider: "env", external_ref: "github" });
    expect(await resolveAs(acme.tenant_id, a.credential_ref_id)).toEqual({ TOKEN: SECRETS.acmeToken, API_URL: "https://api.github.example" });
    expect(await resolveAs(globex.tenant_id, g.credential_ref_id)).toEqual({ TOKEN: SECRETS.globexToken });
    // A tenant cannot resolve another tenant's ref, even by id: row-level security hides it.
    expect(await errorCode(resolveAs(globex.tenant_id, a.credential_ref_id))).toBe("NOT_FOUND");
    // The tenant comes from the transaction's own tenant, never from the job's claim alone.
    await expect(withTenant(t.client, globex.tenant_id, (tx) => resolveCredentialsForJob(tx, { id: "job", tenantId: acme.tenant_id, credentialRefId: a.credential_ref_id }, opts()))).rejects.toThrow(/owning tenant/);
  });

  it("env: a shorter tenant never reads inside a longer tenant's namespace", async () => {
    // Made before acme-dev existed, say: the row is there, but resolving it must not reach acme-dev's variables.
    const [row] = await t.owner.sql<{ id: string }[]>`
      insert into credential_refs (tenant_id, name, provider, external_ref, created_by) values (${acme.tenant_id}, 'old', 'env', 'dev-github', 'test') returning id`;
    const err = await message(resolveAs(acme.tenant_id, row!.id));
    expect(err).toMatch(/missing/);
    expect(err).not.toContain(SECRETS.acmeDevToken);
    const inDev = await callerAs(rt, { apiKey: acmeDev.api_key });
    const own = await inDev.credentials.create({ name: "GitHub", provider: "env", external_ref: "github" });
    expect(await resolveAs(acmeDev.tenant_id, own.credential_ref_id)).toEqual({ TOKEN: SECRETS.acmeDevToken });
  });

  it("file: the tenant's directory comes from the job's tenant; CSI-style links resolve; escapes and empty files are invalid", async () => {
    const inAcme = await callerAs(rt, { apiKey: acme.api_key });
    const inGlobex = await callerAs(rt, { apiKey: globex.api_key });
    const a = await inAcme.credentials.create({ name: "Warehouse", provider: "file", external_ref: "warehouse" });
    const g = await inGlobex.credentials.create({ name: "Warehouse", provider: "file", external_ref: "warehouse" });
    expect(a.location).toBe(`$CAIRN_CREDENTIALS_DIR/${acme.tenant_id}/warehouse/<KEY>`);
    expect(await resolveAs(acme.tenant_id, a.credential_ref_id)).toEqual({ USER: "reader", PASSWORD: SECRETS.acmePassword });
    expect(await resolveAs(globex.tenant_id, g.credential_ref_id)).toEqual({ USER: "reader", PASSWORD: SECRETS.globexPassword });

    const escape = await inAcme.credentials.create({ name: "Escape", provider: "file", external_ref: "escape" });
    const escapeErr = await message(resolveAs(acme.tenant_id, escape.credential_ref_id));
    expect(escapeErr).toMatch(/invalid: PASSWORD points outside/);
    expect(escapeErr).not.toContain(SECRETS.globexPassword);
    const crossover = await inAcme.credentials.create({ name: "Crossover", provider: "file", external_ref: "crossover" });
    const crossoverErr = await message(resolveAs(acme.tenant_id, crossover.credential_ref_id));
    expect(crossoverErr).toMatch(/invalid: directory .* points outside the tenant's credentials directory/);
    expect(crossoverErr).not.toContain(SECRETS.globexPassword);
    const blank = await inAcme.credentials.create({ name: "Blank", provider: "file", external_ref: "blank" });
    expect(await message(resolveAs(acme.tenant_id, blank.credential_ref_id))).toMatch(/invalid: TOKEN is empty/);
    const absent = await inAcme.credentials.create({ name: "Absent", provider: "file", external_ref: "nowhere" });
    expect(await errorCode(resolveAs(acme.tenant_id, absent.credential_ref_id))).toBe("NOT_FOUND");
  });

  it("test reports presence and key names, records health, and never returns a value", async () => {
    const admin = await callerAs(rt, { apiKey: acme.api_key });
    const operator = await callerAs(rt, { apiKey: (await mintKey(t.client, { tenantSlug: "acme", role: "operator", platform: false, highRisk: false })).api_key });
    const refs = (await admin.credentials.list({ limit: 200 })).items;
    const github = refs.find((r) => r.external_ref === "github")!;
    const warehouse = refs.find((r) => r.external_ref === "warehouse")!;

    const ok = await operator.credentials.test({ id: github.credential_ref_id });
    expect(ok).toMatchObject({ ok: true, keys: ["API_URL", "TOKEN"], credential_ref: { health: "healthy" } });
    expect(ok.credential_ref.last_validated_at).not.toBeNull();
    const file = await operator.credentials.test({ id: warehouse.credential_ref_id });
    expect(file).toMatchObject({ ok: true, keys: ["PASSWORD", "USER"] });

    const missing = await admin.credentials.create({ name: "Nothing set", provider: "env", external_ref: "unset" });
    const tested = await operator.credentials.test({ id: missing.credential_ref_id });
    expect(tested).toMatchObject({ ok: false, keys: [], credential_ref: { health: "missing" } });
    expect(tested.credential_ref.health_detail).toContain("CAIRN_TENANT_ACME_UNSET_<KEY>");
    const emptyRef = await admin.credentials.create({ name: "Empty", provider: "env", external_ref: "empty" });
    expect(await operator.credentials.test({ id: emptyRef.credential_ref_id })).toMatchObject({ ok: false, credential_ref: { health: "invalid", health_detail: "CAIRN_TENANT_ACME_EMPTY_TOKEN is empty" } });

    const everything = JSON.stringify([ok, file, tested, await admin.credentials.list({ limit: 200 })]);
    const audit = JSON.stringify(await t.owner.sql`select details from audit_events`);
    for (const secret of Object.values(SECRETS)) {
      expect(everything).not.toContain(secret);
      expect(audit).not.toContain(secret);
    }
    const stored = JSON.stringify(await t.owner.sql`select * from credential_refs`);
    for (const secret of Object.values(SECRETS)) expect(stored).not.toContain(secret);
  });
});

describe("authorization and lifecycle", () => {
  it("create and delete are high-risk and admin-only; test is open to operators, reads to viewers", async () => {
    const plainAdmin = await callerAs(rt, { apiKey: (await mintKey(t.client, { tenantSlug: "acme", role: "admin", platform: false, highRisk: false })).api_key });
    expect(await errorCode(plainAdmin.credentials.create({ name: "x", provider: "env", external_ref: "x" }))).toBe("STEP_UP_REQUIRED");
    const operator = await callerAs(rt, { apiKey: (await mintKey(t.client, { tenantSlug: "acme", role: "operator", platform: false, highRisk: true })).api_key });
    expect(await errorCode(operator.credentials.create({ name: "x", provider: "env", external_ref: "x" }))).toBe("FORBIDDEN");
    const viewer = await callerAs(rt, { apiKey: (await mintKey(t.client, { tenantSlug: "acme", role: "viewer", platform: false, highRisk: true })).api_key });
    const items = (await viewer.credentials.list()).items;
    expect(items.length).toBeGreaterThan(0);
    expect(await errorCode(viewer.credentials.test({ id: items[0]!.credential_ref_id }))).toBe("FORBIDDEN");
  });

  it("delete is refused while a source uses the ref, and allowed once it is gone", async () => {
    const admin = await callerAs(rt, { apiKey: acme.api_key });
    const ref = await admin.credentials.create({ name: "In use", provider: "env", external_ref: "inuse" });
    const source = await admin.sources.create({ kind: "connector.registry", display_name: "Registry", credential_ref_id: ref.credential_ref_id });
    expect((await admin.credentials.get({ id: ref.credential_ref_id })).used_by_sources).toBe(1);
    expect(await errorCode(admin.credentials.remove({ id: ref.credential_ref_id }))).toBe("CONFLICT");
    expect(await message(admin.credentials.remove({ id: ref.credential_ref_id }))).toContain("Registry");
    await admin.sources.remove({ id: source.source_id });
    expect(await admin.credentials.remove({ id: ref.credential_ref_id })).toEqual({ ok: true, credential_ref_id: ref.credential_ref_id });
    expect(await errorCode(admin.credentials.get({ id: ref.credential_ref_id }))).toBe("NOT_FOUND");
    const actions = await t.owner.sql<{ action: string }[]>`select action from audit_events where target_id = ${ref.credential_ref_id} order by id`;
    expect(actions.map((a) => a.action)).toEqual(["credential_ref.create", "credential_ref.delete"]);
  });

  it("another tenant's ref ids read exactly like missing ids on every procedure that takes one", async () => {
    const inAcme = await callerAs(rt, { apiKey: acme.api_key });
    const inGlobex = await callerAs(rt, { apiKey: globex.api_key });
    const foreign = (await inGlobex.credentials.list()).items[0]!.credential_ref_id;
    const missing = "00000000-0000-4000-8000-000000000000";
    for (const id of [foreign, missing]) {
      expect(await errorCode(inAcme.credentials.get({ id }))).toBe("NOT_FOUND");
      expect(await errorCode(inAcme.credentials.test({ id }))).toBe("NOT_FOUND");
      expect(await errorCode(inAcme.credentials.remove({ id }))).toBe("NOT_FOUND");
      // Pointing a source at it is an invalid field, the same answer for both.
      expect(await message(inAcme.sources.create({ kind: "connector.registry", display_name: "x", credential_ref_id: id }))).toBe("credential_ref_id: no such credential ref");
    }
    expect((await inGlobex.credentials.get({ id: foreign })).health).not.toBeUndefined();
  });

  it("pages through refs with an opaque cursor", async () => {
    const admin = await callerAs(rt, { apiKey: acme.api_key });
    const all = (await admin.credentials.list({ limit: 200 })).items.map((r) => r.credential_ref_id);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const p = await admin.credentials.list({ limit: 2, cursor });
      seen.push(...p.items.map((r) => r.credential_ref_id));
      cursor = p.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(all);
    expect(await errorCode(admin.credentials.list({ cursor: "bm9wZQ" }))).toBe("INVALID_INPUT");
  });
});
