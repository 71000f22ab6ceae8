// The roles a node can be assigned and the service workload each one runs. A role names what the node is authorized
// to do; the capability it needs is what the node must report being able to do (capabilities never authorize).
import { RUN_JOB_TYPE } from "../runs/create-run.service.ts";

export interface WorkloadRole {
  role: string;
  description: string;
  /** The capability the node must report before the role can be assigned (an upper bound, not a grant). */
  capability: string;
  /** Job types the workload claims; an assignment may narrow them. */
  jobTypes: string[];
}

export const workloadRoles: Record<string, WorkloadRole> = {
  "scan-worker": {
    role: "scan-worker",
    description: "Claims scan jobs of the organizations and job types its assignment allows and runs their connectors inside the node's network",
    capability: "can_run_scan_worker",
    jobTypes: [RUN_JOB_TYPE],
  },
};

export const roleNames = Object.keys(workloadRoles) as [string, ...string[]];

/** Agent heartbeats arrive this often; health is judged against it. */
export const AGENT_HEARTBEAT_SECONDS = 10;
/** Heartbeat history kept per node (older rows are pruned). */
export const HEARTBEAT_HISTORY_PER_NODE = 200;
/** A rotated identity stays usable this long, or until its successor is first used. */
export const ROTATION_GRACE_SECONDS = 15 * 60;
/** Lease on jobs a node claims; the agent renews it with its job events. */
export const AGENT_LEASE_SECONDS = 60;

export type FabricNodeHealth = "healthy" | "degraded" | "stale" | "offline" | "never_seen" | "revoked";

/** Health from the membership, the agent's own report and the heartbeat age (database clock). */
export function fabricHealth(n: { revoked: boolean; heartbeats: number; reportedStatus: string; ageSeconds: number }): FabricNodeHealth {
  if (n.revoked) return "revoked";
  if (n.heartbeats === 0) return "never_seen";
  if (n.ageSeconds > AGENT_HEARTBEAT_SECONDS * 9) return "offline";
  if (n.ageSeconds > AGENT_HEARTBEAT_SECONDS * 3) return "stale";
  return n.reportedStatus === "degraded" ? "degraded" : "healthy";
}
