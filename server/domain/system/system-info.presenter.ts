// Read model for system.info: version, mode and what the database looks like from this process.
import { installation } from "../../../db/schema/index.ts";
import { migrationStatus, type MigrationStatus } from "../../../db/migrate.ts";
import type { Runtime } from "../../runtime.ts";
import { version } from "../../version.ts";

export interface SystemInfo {
  version: string;
  mode: Runtime["mode"];
  node_version: string;
  started_at: string;
  uptime_seconds: number;
  draining: boolean;
  database: {
    kind: Runtime["databaseKind"];
    reachable: boolean;
    server_version: string | null;
    latency_ms: number | null;
    migrations: MigrationStatus | null;
    error: string | null;
  };
  installation_id: string | null;
}

export async function presentSystemInfo(rt: Runtime): Promise<SystemInfo> {
  const database: SystemInfo["database"] = {
    kind: rt.databaseKind,
    reachable: false,
    server_version: null,
    latency_ms: null,
    migrations: null,
    error: null,
  };
  let installationId: string | null = null;
  try {
    const t0 = performance.now();
    const [row] = await rt.db.sql<{ v: string }[]>`select current_setting('server_version') as v`;
    database.latency_ms = Math.round((performance.now() - t0) * 100) / 100;
    database.reachable = true;
    database.server_version = row?.v ?? null;
    database.migrations = await migrationStatus(rt.owner);
    if (database.migrations.applied > 0) {
      const [inst] = await rt.db.db.select({ id: installation.installationId }).from(installation).limit(1);
      installationId = inst?.id ?? null;
    }
  } catch (err) {
    database.error = (err as Error).message;
  }
  return {
    version,
    mode: rt.mode,
    node_version: process.version,
    started_at: rt.startedAt.toISOString(),
    uptime_seconds: Math.round((Date.now() - rt.startedAt.getTime()) / 1000),
    draining: rt.draining,
    database,
    installation_id: installationId,
  };
}
