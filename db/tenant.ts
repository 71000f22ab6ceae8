// The one way to touch tenant-bound rows: a transaction with app.tenant_id set, so row-level security admits
// exactly that tenant's rows (and refuses others even when a query forgets its where clause).
import { sql, type ExtractTablesWithRelations } from "drizzle-orm";
import type { PgTransaction } from "drizzle-orm/pg-core";
import type { PostgresJsQueryResultHKT } from "drizzle-orm/postgres-js";
import type { Sql, TransactionSql } from "postgres";
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
 * withTenant's settings for ONE statement: a fragment for the statement to select from first
 * (`with scope as materialized (${tenantScope(client.sql, id)}) insert … select … from scope`). For writes on hot
 * paths, where BEGIN, set_config and COMMIT would be extra round trips: the statement is its own transaction, or one
 * of several pipelined in a transaction, each with its own scope (the settings are transaction-local and each scope
 * replaces the one before, so every statement runs under its own tenant's row-level security, as in withTenant).
 */
export function tenantScope(sql: Sql | TransactionSql, tenantId: string) {
  if (!UUID.test(tenantId)) throw new Error("tenantScope needs a tenant uuid");
  return sql`select set_config('app.tenant_id', ${tenantId}, true) as tenant_scope, set_config('app.platform', '', true) as platform_scope`;
}

/** Platform scope: rows that belong to no tenant (platform audit chain, platform API keys). Never tenant rows. */
export async function withPlatform<T>(client: DbClient, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return client.db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('app.platform', 'on', true), set_config('app.tenant_id', '', true)`);
    return fn(tx);
  });
}
