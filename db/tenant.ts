// The one way to touch tenant-bound rows: a transaction with app.tenant_id set, so row-level security admits
// exactly that tenant's rows (and refuses others even when a query forgets its where clause).
import { sql, type ExtractTablesWithRelations } from "drizzle-orm";
import type { PgTransaction } from "drizzle-orm/pg-core";
import type { PostgresJsQueryResultHKT } from "drizzle-orm/postgres-js";
import type { DbClient } from "./client.ts";
import type * as schema from "./schema/index.ts";

export type Tx = PgTransaction<PostgresJsQueryResultHKT, typeof schema, ExtractTablesWithRelations<typeof schema>>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export async function withTenant<T>(client: DbClient, tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (!UUID.test(tenantId)) throw new Error("withTenant needs a tenant uuid");
  return client.db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('app.tenant_id', ${tenantId}, true), set_config('app.platform', '', true)`);
    return fn(tx);
  });
}

/**
 * Rows of several tenants for ONE statement that writes each tenant's rows under that tenant's own scope: a database
 * function that, group by group, sets withTenant's two settings and then runs the group's statement, so row-level
 * security checks each group's rows against its own tenant (cairn_enqueue_jobs, migration 0025). Returns the
 * parameter: `[{ tenant, rows }]` as JSON text. Every tenant id must be a uuid.
 */
export function tenantGroups<T>(groups: Iterable<readonly [tenantId: string, rows: T[]]>): string {
  const out: { tenant: string; rows: T[] }[] = [];
  for (const [tenant, rows] of groups) {
    if (!UUID.test(tenant)) throw new Error("tenantGroups needs tenant uuids");
    out.push({ tenant, rows });
  }
  return JSON.stringify(out);
}

/** Platform scope: rows that belong to no tenant (platform audit chain, platform API keys). Never tenant rows. */
export async function withPlatform<T>(client: DbClient, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return client.db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('app.platform', 'on', true), set_config('app.tenant_id', '', true)`);
    return fn(tx);
  });
}
