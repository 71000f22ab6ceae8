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
 * withTenant's settings for ONE statement that is its own transaction: a fragment for the statement to select from
 * first (`with scope as materialized (${tenantScope(client, id)}) insert … select … from scope`). For single-statement
 * writes on hot paths, where BEGIN, set_config and COMMIT would be three extra round trips; row-level security
 * applies exactly as in withTenant (the settings are transaction-local, and this transaction is the statement).
 */
export function tenantScope(client: DbClient, tenantId: string) {
  if (!UUID.test(tenantId)) throw new Error("tenantScope needs a tenant uuid");
  return client.sql`select set_config('app.tenant_id', ${tenantId}, true) as tenant_scope, set_config('app.platform', '', true) as platform_scope`;
}

/** Platform scope: rows that belong to no tenant (platform audit chain, platform API keys). Never tenant rows. */
export async function withPlatform<T>(client: DbClient, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return client.db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('app.platform', 'on', true), set_config('app.tenant_id', '', true)`);
    return fn(tx);
  });
}
