// The node registry as platform owners see it: every process that executes work, with its heartbeat and jobs.
// Health is derived from the heartbeat age, on the database clock.
import { desc, sql } from "drizzle-orm";
import type { DbClient } from "../../../db/client.ts";
import { nodes } from "../../../db/schema/index.ts";
import { AGENT_HEARTBEAT_SECONDS } from "./workload-catalog.ts";

/** Workers heartbeat every 5 s; enrolled agents every AGENT_HEARTBEAT_SECONDS. */
export const HEARTBEAT_SECONDS = 5;

function healthOf(kind: string, stopped: boolean, ageSeconds: number): "healthy" | "stale" | "lost" | "stopped" {
  const interval = kind === "agent" ? AGENT_HEARTBEAT_SECONDS : HEARTBEAT_SECONDS;
  if (stopped) return "stopped";
  if (ageSeconds <= interval * 3) return "healthy";
  return ageSeconds <= Math.max(60, interval * 9) ? "stale" : "lost";
}

export async function listNodes(db: DbClient, opts: { includeStopped: boolean }) {
  const rows = await db.db
    .select({ node: nodes, ageSeconds: sql<number>`extract(epoch from now() - ${nodes.lastHeartbeatAt})::float` })
    .from(nodes)
    .where(opts.includeStopped ? undefined : sql`${nodes.stoppedAt} is null and ${nodes.lastHeartbeatAt} > now() - interval '1 day'`)
    .orderBy(desc(nodes.lastHeartbeatAt))
    .limit(500);
  return rows.map(({ node: n, ageSeconds }) => ({
    node_id: n.id,
    kind: n.kind,
    name: n.name,
    hostname: n.hostname,
    pid: n.pid,
    version: n.version,
    // healthy: heartbeat within 3 intervals; stale: within a minute (agents: 9 intervals); lost: older; stopped: shut
    // down cleanly (or, for an agent, revoked).
    health: healthOf(n.kind, n.stoppedAt !== null, ageSeconds),
    started_at: n.startedAt.toISOString(),
    last_heartbeat_at: n.lastHeartbeatAt.toISOString(),
    heartbeat_age_seconds: Math.round(ageSeconds),
    stopped_at: n.stoppedAt?.toISOString() ?? null,
    running_jobs: n.runningJobs.map((j) => ({ job_id: j.job_id, job_type: j.job_type, started_at: j.started_at })),
    capabilities: n.capabilities,
  }));
}
