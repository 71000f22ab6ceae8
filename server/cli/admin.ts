// `cairn admin …`: operator and break-glass commands that talk to the database directly (audited as break_glass).
import { parseArgs } from "node:util";
import type { Env } from "../config/env.ts";
import type { Logger } from "../logger.ts";
import { openDatabase, type OpenedDatabase } from "../database.ts";
import { migrationStatus, runMigrations } from "../../db/migrate.ts";
import { UsageError } from "./usage.ts";
import { version } from "../version.ts";
import { tenantRoles } from "../../db/schema/tenancy.ts";
import { bootstrapTenant, mintKey } from "../domain/tenants/bootstrap.service.ts";
import { ensureInstallation } from "../domain/system/ensure-installation.service.ts";
import { AppError } from "../errors.ts";

async function withDatabase<T>(env: Env, log: Logger, fn: (opened: OpenedDatabase) => Promise<T>): Promise<T> {
  const opened = await openDatabase(env, log, `cairn-admin-${process.pid}`, 2);
  try {
    return await fn(opened);
  } finally {
    await opened.close();
  }
}

function out(json: boolean, value: Record<string, unknown>, human: string) {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : human);
}

export async function admin(args: string[], env: Env, log: Logger): Promise<number> {
  const [sub, ...rest] = args;
  try {
    switch (sub) {
      case "status":
        return await status(rest, env, log);
      case "bootstrap":
        return await bootstrap(rest, env, log);
      case "api-key":
        return await apiKey(rest, env, log);
      default:
        throw new UsageError(sub ? `Unknown admin command: ${sub}` : "Missing admin command");
    }
  } catch (err) {
    if (err instanceof AppError) {
      process.stderr.write(`cairn admin: ${err.message}\n`);
      return err.status >= 500 ? 1 : 2;
    }
    throw err;
  }
}

async function status(rest: string[], env: Env, log: Logger): Promise<number> {
  const { values } = parseArgs({ args: rest, options: { json: { type: "boolean", default: false } }, strict: true, allowPositionals: false });
  return withDatabase(env, log, async (opened) => {
    const [row] = await opened.owner.sql<{ v: string }[]>`select current_setting('server_version') as v`;
    const migrations = await migrationStatus(opened.owner);
    const s = { version, database: { kind: opened.kind, url: opened.displayUrl, server_version: row?.v ?? null, attached_to_running_server: opened.embedded ? !opened.embedded.owner : null }, migrations };
    out(values.json, s, `Cairn ${version}\nDatabase: ${s.database.kind} (${s.database.url}), PostgreSQL ${s.database.server_version}\nMigrations: ${migrations.applied}/${migrations.expected} applied${migrations.current ? " (current)" : " (run `cairn migrate`)"}\n`);
    return 0;
  });
}

async function ready(opened: OpenedDatabase) {
  await runMigrations(opened.owner);
  await ensureInstallation(opened.owner);
  return opened.openApp(2);
}

async function bootstrap(rest: string[], env: Env, log: Logger): Promise<number> {
  const { values } = parseArgs({ args: rest, options: { tenant: { type: "string" }, json: { type: "boolean", default: false }, "high-risk": { type: "boolean", default: false } }, strict: true, allowPositionals: false });
  if (!values.tenant) throw new UsageError("admin bootstrap needs --tenant SLUG");
  return withDatabase(env, log, async (opened) => {
    const result = await bootstrapTenant(await ready(opened), values.tenant!, { highRisk: values["high-risk"] });
    out(values.json, { ...result }, `Tenant ${result.tenant_slug} (${result.tenant_id})\nAdmin: ${result.email}${result.password ? `\nOne-time password: ${result.password} (must be changed at first sign-in)` : " (existing; password unchanged)"}\nAPI key (shown once): ${result.api_key}\n`);
    return 0;
  });
}

async function apiKey(rest: string[], env: Env, log: Logger): Promise<number> {
  const [verb, ...flags] = rest;
  if (verb !== "create") throw new UsageError(verb ? `Unknown api-key command: ${verb}` : "admin api-key needs a command: create");
  const { values } = parseArgs({
    args: flags,
    options: { tenant: { type: "string" }, role: { type: "string" }, platform: { type: "boolean", default: false }, "high-risk": { type: "boolean", default: false }, name: { type: "string" }, json: { type: "boolean", default: false } },
    strict: true,
    allowPositionals: false,
  });
  if (values.platform === Boolean(values.tenant)) throw new UsageError("admin api-key create needs either --tenant SLUG --role ROLE or --platform");
  if (values.tenant && !(tenantRoles as readonly string[]).includes(values.role ?? "")) throw new UsageError(`--role must be one of ${tenantRoles.join(", ")}`);
  return withDatabase(env, log, async (opened) => {
    const key = await mintKey(await ready(opened), { tenantSlug: values.tenant, role: values.role, platform: values.platform, highRisk: values["high-risk"], name: values.name });
    out(values.json, key, `API key ${key.id} (shown once): ${key.api_key}\n`);
    return 0;
  });
}
