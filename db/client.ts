// One postgres.js pool per process, wrapped by Drizzle. Tenant-bound access goes through db/tenant.ts (later).
import postgres, { type Sql } from "postgres";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import * as schema from "./schema/index.ts";

export type Database = PostgresJsDatabase<typeof schema>;

export interface DbClient {
  sql: Sql;
  db: Database;
  max: number;
  close(): Promise<void>;
}

export function createDbClient(url: string, opts: { max: number; applicationName: string }): DbClient {
  const sql = postgres(url, {
    max: opts.max,
    idle_timeout: 60,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: opts.applicationName },
  });
  const db = drizzle(sql, { schema, casing: "snake_case" });
  return {
    sql,
    db,
    max: opts.max,
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
