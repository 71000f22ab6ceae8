// The credential broker: the only code that turns a credential ref into values, at run time, for one job, inside
// that job's tenant. The tenant part of every lookup (env namespace, directory) is computed from the tenant row the
// job belongs to, never read from the ref. Values leave here only as the return value of resolveCredentialsForJob;
// they are never logged, stored or put into an error message.
import fs from "node:fs/promises";
import path from "node:path";
import { and, eq, ne, sql } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { credentialRefs, tenants, type CredentialProvider } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";

export type CredentialRefRow = typeof credentialRefs.$inferSelect;
export type CredentialHealth = "healthy" | "missing" | "invalid" | "unsupported";

export interface BrokerOptions {
  /** Root of mounted secret directories (env.credentialsDir). */
  credentialsDir: string;
}

/** What `test` learns about a ref: presence and shape, key names only. */
export interface CredentialProbe {
  health: CredentialHealth;
  detail: string;
  keys: string[];
}

export const RESERVED_PROVIDERS: readonly CredentialProvider[] = ["aws_secrets_manager", "vault"];
export const ENV_PREFIX = "CAIRN_TENANT_";
/** One secret file larger than this is refused: a credential, not a payload. */
export const MAX_FILE_VALUE_BYTES = 64 * 1024;

const KEY_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export function isReservedProvider(provider: string): boolean {
  return (RESERVED_PROVIDERS as readonly string[]).includes(provider);
}

export function reservedProviderError(provider: string): AppError {
  return new AppError("UNSUPPORTED", `Credential provider ${provider} is not available in this build: use env or file`, { provider });
}

/**
 * Why an external ref is unacceptable, or null. A ref never carries a path or a tenant: either would let it point
 * at another tenant's secrets once joined into a lookup path or variable name.
 */
export function externalRefProblem(provider: CredentialProvider, ref: string): string | null {
  if (ref.length === 0) return "must not be empty";
  if (ref.length > 128) return "must be at most 128 characters";
  if (/[/\\]/.test(ref)) return "must not contain a path separator";
  if (ref.includes("..")) return "must not contain ..";
  if (/tenant/i.test(ref)) return "must not contain the word tenant: the tenant part of every lookup comes from the job's tenant";
  if (provider === "env" && !/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(ref)) return "for provider env: letters, digits, - and _ only, starting with a letter or digit";
  if (provider !== "env" && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(ref)) return "letters, digits, ., - and _ only, starting with a letter or digit";
  return null;
}

/** Upper-case with - as _, the way slugs and refs appear in variable names. */
export function envToken(value: string): string {
  return value.toUpperCase().replace(/-/g, "_");
}

export function envNamespace(tenantSlug: string, externalRef: string): string {
  return `${ENV_PREFIX}${envToken(tenantSlug)}_${envToken(externalRef)}_`;
}

/** Where an operator puts the values of a ref (shown to the tenant; names only). */
export function credentialLocation(tenant: { id: string; slug: string }, provider: CredentialProvider, externalRef: string): string {
  if (provider === "env") return `${envNamespace(tenant.slug, externalRef)}<KEY>`;
  if (provider === "file") return `$CAIRN_CREDENTIALS_DIR/${tenant.id}/${externalRef}/<KEY>`;
  return `${provider} (not available in this build)`;
}

interface TenantFacts {
  id: string;
  slug: string;
}

/** The tenant a lookup is for, from the tenants table, checked against the transaction's own tenant. */
async function tenantOf(tx: Tx, tenantId: string): Promise<TenantFacts> {
  const rows = await tx.execute<{ current: string | null }>(sql`select nullif(current_setting('app.tenant_id', true), '') as current`);
  if (rows[0]?.current !== tenantId) throw new AppError("INTERNAL", "Credential lookups run only inside the owning tenant's transaction");
  const [tenant] = await tx.select({ id: tenants.id, slug: tenants.slug }).from(tenants).where(eq(tenants.id, tenantId));
  if (!tenant) throw new AppError("NOT_FOUND", "No such tenant");
  return tenant;
}

/** Namespaces of tenants whose slug extends this one's (`acme-dev` for `acme`): `CAIRN_TENANT_ACME_DEV_`. */
async function longerTenantPrefixes(tx: Tx, tenant: TenantFacts): Promise<string[]> {
  const rows = await tx
    .select({ slug: tenants.slug })
    .from(tenants)
    .where(and(ne(tenants.id, tenant.id), sql`upper(replace(${tenants.slug}, '-', '_')) ^@ ${`${envToken(tenant.slug)}_`}`));
  return rows.map((t) => `${ENV_PREFIX}${envToken(t.slug)}_`);
}

/**
 * Variable-name prefixes inside this ref's namespace that belong to someone else. Slug and ref are joined with `_`,
 * so `CAIRN_TENANT_ACME_DEV_…` could be tenant acme's ref dev-… or tenant acme-dev's: the longer tenant namespace
 * always wins (a tenant never reads inside another tenant's namespace), and likewise a longer sibling ref's.
 */
async function foreignEnvPrefixes(tx: Tx, tenant: TenantFacts, ref: CredentialRefRow): Promise<string[]> {
  const mine = envNamespace(tenant.slug, ref.externalRef);
  const siblings = await tx
    .select({ externalRef: credentialRefs.externalRef })
    .from(credentialRefs)
    .where(and(eq(credentialRefs.tenantId, tenant.id), eq(credentialRefs.provider, "env"), ne(credentialRefs.id, ref.id)));
  return [...(await longerTenantPrefixes(tx, tenant)), ...siblings.map((s) => envNamespace(tenant.slug, s.externalRef)).filter((ns) => ns.length > mine.length && ns.startsWith(mine))];
}

/** Whether a new env ref's variables would fall inside another tenant's namespace (create refuses such a ref). */
export async function envNamespaceOverlap(tx: Tx, tenantId: string, externalRef: string): Promise<boolean> {
  const tenant = await tenantOf(tx, tenantId);
  const mine = envNamespace(tenant.slug, externalRef);
  return (await longerTenantPrefixes(tx, tenant)).some((prefix) => mine.startsWith(prefix));
}

interface Bundle {
  values: Map<string, string>;
  /** Problems that make the ref invalid (names only, never values). */
  problems: string[];
  /** Why nothing was found, when nothing was. */
  missing: string;
}

async function readEnvBundle(tx: Tx, tenant: TenantFacts, ref: CredentialRefRow): Promise<Bundle> {
  const namespace = envNamespace(tenant.slug, ref.externalRef);
  const foreign = await foreignEnvPrefixes(tx, tenant, ref);
  const values = new Map<string, string>();
  const problems: string[] = [];
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith(namespace) || foreign.some((prefix) => name.startsWith(prefix))) continue;
    const key = name.slice(namespace.length);
    if (!key) continue;
    if (!value) problems.push(`${name} is empty`);
    else values.set(key, value);
  }
  return { values, problems, missing: `no variables named ${namespace}<KEY> are set in this process's environment` };
}

function inside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  // Not startsWith(".."): the CSI driver's own entries (..data, ..2026_…) are inside and start with two dots.
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

async function readFileBundle(tenant: TenantFacts, ref: CredentialRefRow, opts: BrokerOptions): Promise<Bundle> {
  const root = path.resolve(opts.credentialsDir);
  const dir = path.join(root, tenant.id, ref.externalRef);
  const shown = `${tenant.id}/${ref.externalRef}/`;
  const values = new Map<string, string>();
  const problems: string[] = [];
  const missing = `directory ${shown} not found under the credentials directory (CAIRN_CREDENTIALS_DIR)`;
  if (!inside(root, dir)) return { values, problems: ["the ref does not name a directory inside the credentials directory"], missing };
  let realDir: string;
  let entries: string[];
  try {
    realDir = await fs.realpath(dir);
    // The tenant's directory itself must not lead elsewhere (for instance into another tenant's).
    if (!inside(await fs.realpath(path.join(root, tenant.id)), realDir)) return { values, problems: [`directory ${shown} points outside the tenant's credentials directory`], missing };
    entries = await fs.readdir(realDir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { values, problems, missing };
    return { values, problems: [`directory ${shown} cannot be read (${code ?? "error"})`], missing };
  }
  // Hidden entries are the CSI driver's bookkeeping (..data, ..2024_…): keys are the visible names, which link into them.
  for (const name of entries.filter((e) => !e.startsWith(".")).sort()) {
    const file = path.join(realDir, name);
    let real: string;
    try {
      real = await fs.realpath(file);
    } catch {
      problems.push(`${name} is a dangling link`);
      continue;
    }
    if (!inside(realDir, real)) {
      problems.push(`${name} points outside the ref's directory`);
      continue;
    }
    const stat = await fs.stat(real);
    if (stat.isDirectory()) continue;
    if (!stat.isFile()) {
      problems.push(`${name} is not a regular file`);
      continue;
    }
    if (!KEY_NAME.test(name)) {
      problems.push(`${name} is not a usable key name (letters, digits, ., - and _)`);
      continue;
    }
    if (stat.size > MAX_FILE_VALUE_BYTES) {
      problems.push(`${name} is larger than ${MAX_FILE_VALUE_BYTES} bytes`);
      continue;
    }
    // One trailing newline is what `echo … > file` leaves behind, not part of the secret.
    const value = (await fs.readFile(real, "utf8")).replace(/\r?\n$/, "");
    if (!value) problems.push(`${name} is empty`);
    else values.set(name, value);
  }
  return { values, problems, missing };
}

async function readBundle(tx: Tx, tenant: TenantFacts, ref: CredentialRefRow, opts: BrokerOptions): Promise<Bundle> {
  if (ref.tenantId !== tenant.id) throw new AppError("NOT_FOUND", "No such credential ref");
  if (isReservedProvider(ref.provider)) throw reservedProviderError(ref.provider);
  const refProblem = externalRefProblem(ref.provider, ref.externalRef);
  if (refProblem) return { values: new Map(), problems: [`external_ref: ${refProblem}`], missing: "" };
  if (ref.provider === "env") return readEnvBundle(tx, tenant, ref);
  if (ref.provider === "file") return readFileBundle(tenant, ref, opts);
  throw new AppError("UNSUPPORTED", `Unknown credential provider ${String(ref.provider)}`);
}

function summarise(bundle: Bundle): CredentialProbe {
  const keys = [...bundle.values.keys()].sort();
  if (bundle.problems.length) return { health: "invalid", detail: bundle.problems.join("; "), keys };
  if (!keys.length) return { health: "missing", detail: bundle.missing, keys };
  return { health: "healthy", detail: `${keys.length} key${keys.length === 1 ? "" : "s"} found: ${keys.join(", ")}`, keys };
}

/** Checks presence and shape for `test`: key names and health, never values. */
export async function probeCredentialRef(tx: Tx, tenantId: string, ref: CredentialRefRow, opts: BrokerOptions): Promise<CredentialProbe> {
  if (isReservedProvider(ref.provider)) return { health: "unsupported", detail: reservedProviderError(ref.provider).message, keys: [] };
  const tenant = await tenantOf(tx, tenantId);
  return summarise(await readBundle(tx, tenant, ref, opts));
}

/**
 * Resolves the job's credential ref to `{KEY: value}` for that job's process only. Runs in the job's tenant
 * transaction; a job without a ref gets `{}`. Fails (without values in the message) when the ref is gone, its
 * provider is reserved, or its values are missing or malformed.
 */
export async function resolveCredentialsForJob(tx: Tx, job: { id: string; tenantId: string; credentialRefId: string | null }, opts: BrokerOptions): Promise<Record<string, string>> {
  if (!job.credentialRefId) return {};
  const tenant = await tenantOf(tx, job.tenantId);
  const [ref] = await tx.select().from(credentialRefs).where(eq(credentialRefs.id, job.credentialRefId));
  if (!ref) throw new AppError("NOT_FOUND", `Credential ref ${job.credentialRefId} no longer exists`, { credential_ref_id: job.credentialRefId });
  const bundle = await readBundle(tx, tenant, ref, opts);
  const probe = summarise(bundle);
  if (probe.health !== "healthy") {
    throw new AppError(probe.health === "missing" ? "NOT_FOUND" : "INVALID_INPUT", `Credential ref ${ref.name} (${ref.provider}) is ${probe.health}: ${probe.detail}`, {
      credential_ref_id: ref.id,
      health: probe.health,
    });
  }
  return Object.fromEntries(bundle.values);
}
