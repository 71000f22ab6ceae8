// Input pieces and output shapes of the fabric procedures (REST /v1 and the OpenAPI document are generated from them).
import { z } from "zod";
import { clusterAuthorityStates, joinRequestStatuses, joinTokenScopes } from "../../../db/schema/index.ts";
import { PAGE_MAX_LIMIT } from "../../domain/keyset.ts";

export const page = {
  cursor: z.string().min(1).max(300).optional().describe("next_cursor from the previous page"),
  limit: z.coerce.number().int().min(1).max(PAGE_MAX_LIMIT).optional().describe(`Page size, 1–${PAGE_MAX_LIMIT} (default 50)`),
};
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), next_cursor: z.string().nullable() });

export const clusterId = z.uuid("must be a cluster id");
export const nodeId = z.uuid("must be a node id");
export const requestId = z.uuid("must be a join request id");
const ts = z.string().nullable();
const anyRecord = z.record(z.string(), z.unknown());

export const healthEnum = z.enum(["healthy", "degraded", "stale", "offline", "never_seen", "revoked"]);
const healthCounts = z.object({ healthy: z.number(), degraded: z.number(), stale: z.number(), offline: z.number(), never_seen: z.number(), revoked: z.number() });

export const clusterView = z.object({
  cluster_id: z.string(),
  slug: z.string(),
  name: z.string(),
  description: z.string(),
  region: z.string(),
  authority_state: z.enum(clusterAuthorityStates),
  authority_reason: z.string().nullable(),
  authority_changed_at: ts,
  authority_changed_by: z.string().nullable(),
  cert_ttl_hours: z.number().int(),
  desired_version: z.number().int(),
  ca: z.object({ fingerprint: z.string(), serial: z.string(), not_before: z.string(), not_after: z.string() }).nullable(),
  nodes: z.object({ total: z.number(), by_health: healthCounts }),
  pending_join_requests: z.number(),
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const trustView = z.object({
  cluster_id: z.string(),
  authority_state: z.enum(clusterAuthorityStates),
  cas: z.array(z.object({ ca_id: z.string(), status: z.string(), fingerprint: z.string(), serial: z.string(), not_before: z.string(), not_after: z.string(), certificate_pem: z.string() })),
  certificates: z.array(
    z.object({
      identity_id: z.string(),
      node_id: z.string(),
      node_name: z.string(),
      status: z.string(),
      serial: z.string(),
      key_fingerprint: z.string(),
      not_before: z.string(),
      not_after: z.string(),
      expires_soon: z.boolean(),
      issued_at: z.string(),
      rotated_at: ts,
      revoked_at: ts,
      revoked_reason: z.string().nullable(),
    }),
  ),
});

export const joinTokenView = z.object({
  token_id: z.string(),
  cluster_id: z.string(),
  scope: z.enum(joinTokenScopes),
  description: z.string(),
  state: z.enum(["active", "expired", "exhausted", "revoked"]),
  expires_at: z.string(),
  max_uses: z.number().int(),
  used_count: z.number().int(),
  remaining_uses: z.number().int(),
  binding: z.object({ hostname: z.string().nullable(), machine_id: z.string().nullable(), key_fingerprint: z.string().nullable() }),
  created_by: z.string(),
  created_at: z.string(),
  last_used_at: ts,
  revoked_at: ts,
  revoked_by: z.string().nullable(),
});

const verifiedView = z.object({
  token_matched: z.boolean(),
  token_id: z.string(),
  token_scope: z.enum(joinTokenScopes),
  proof_of_possession: z.boolean(),
  key_fingerprint: z.string(),
  binding: z.object({ hostname: z.enum(["matched", "not_bound"]), machine_id: z.enum(["matched", "not_bound"]), key_fingerprint: z.enum(["matched", "not_bound"]) }),
  source_address: z.string().nullable(),
  expected_cluster: z.enum(["matched", "not_given"]),
});

export const joinRequestView = z.object({
  request_id: z.string(),
  status: z.enum(joinRequestStatuses),
  cluster: z.object({ cluster_id: z.string(), slug: z.string(), name: z.string(), authority_state: z.string() }).nullable(),
  verified: verifiedView.describe("What the control plane checked itself"),
  claimed: z
    .object({
      node_name: z.string(),
      hostname: z.string(),
      machine_id: z.string().nullable(),
      agent_version: z.string(),
      facts: anyRecord,
      capabilities: anyRecord,
      requested_roles: z.array(z.string()),
    })
    .describe("What the node says about itself; nothing here was checked"),
  auto_approved: z.boolean(),
  created_at: z.string(),
  reviewed_by: z.string().nullable(),
  reviewed_at: ts,
  rejection_reason: z.string().nullable(),
  node_id: z.string().nullable(),
});

export const roleView = z.object({
  assignment_id: z.string(),
  cluster_id: z.string(),
  node_id: z.string(),
  role: z.string(),
  tenant_id: z.string().nullable().describe("null: the role serves every organization"),
  tenant_slug: z.string().nullable(),
  job_types: z.array(z.string()),
  status: z.enum(["active", "removed"]),
  assigned_by: z.string(),
  assigned_at: z.string(),
  removed_by: z.string().nullable(),
  removed_at: ts,
});

export const workloadView = z.object({
  type: z.string(),
  cluster_id: z.string(),
  desired: z.enum(["running", "stopped"]),
  paused: z.boolean(),
  reported: z.string(),
  reported_version: z.string().nullable(),
  reported_detail: anyRecord,
  reported_at: ts,
  in_sync: z.boolean(),
});

export const identityView = z.object({
  identity_id: z.string(),
  cluster_id: z.string(),
  status: z.enum(["active", "rotated", "revoked"]),
  key_fingerprint: z.string(),
  certificate_serial: z.string(),
  certificate_not_before: z.string(),
  certificate_not_after: z.string(),
  issued_at: z.string(),
  rotated_at: ts,
  revoked_at: ts,
  revoked_by: z.string().nullable(),
  revoked_reason: z.string().nullable(),
});

export const fabricNodeView = z.object({
  node_id: z.string(),
  kind: z.string(),
  name: z.string(),
  hostname: z.string(),
  health: z.union([healthEnum, z.literal("worker")]),
  reported_status: z.string(),
  version: z.string(),
  cluster: z.object({ cluster_id: z.string(), slug: z.string(), name: z.string(), authority_state: z.string() }).nullable(),
  membership_status: z.string().nullable(),
  group: z.object({ group_id: z.string(), name: z.string() }).nullable(),
  enrolled_at: z.string(),
  last_heartbeat_at: ts,
  heartbeat_age_seconds: z.number().nullable(),
  last_seen_ip: z.string().nullable(),
  identity: identityView.nullable(),
  roles: z.array(roleView),
  workloads: z.array(workloadView),
  running_jobs: z.array(z.object({ job_id: z.string(), tenant_id: z.string(), job_type: z.string(), started_at: z.string() })),
});

export const heartbeatView = z.object({
  heartbeat_id: z.number(),
  received_at: z.string(),
  status: z.string(),
  agent_version: z.string(),
  snapshot_version: z.number().nullable(),
  source_ip: z.string().nullable(),
  workloads: z.array(z.unknown()),
  detail: anyRecord,
});

export const nodeDetailView = fabricNodeView.extend({
  memberships: z.array(
    z.object({ cluster_id: z.string(), cluster_slug: z.string().nullable(), status: z.string(), group_id: z.string().nullable(), joined_at: z.string(), last_seen_at: ts, heartbeat_count: z.number() }),
  ),
  capabilities: z.array(z.object({ name: z.string(), value: z.unknown(), reported_at: z.string() })).describe("As reported by the node: capabilities never authorize anything"),
  identities: z.array(identityView),
  removed_roles: z.array(roleView),
  enrollment: z
    .object({
      request_id: z.string(),
      token_id: z.string(),
      verified: verifiedView,
      claimed: z.object({ hostname: z.string(), machine_id: z.string().nullable(), facts: anyRecord, capabilities: anyRecord, requested_roles: z.array(z.string()) }),
      approved_by: z.string().nullable(),
      approved_at: ts,
      auto_approved: z.boolean(),
    })
    .nullable(),
  recent_heartbeats: z.array(heartbeatView),
});

export const auditItemView = z.object({
  event_id: z.string(),
  seq: z.number(),
  action: z.string(),
  outcome: z.string(),
  actor: z.string(),
  actor_type: z.string(),
  target_type: z.string(),
  target_id: z.string().nullable(),
  timestamp: z.string(),
  details: anyRecord,
});

export const groupView = z.object({
  group_id: z.string(),
  cluster_id: z.string(),
  parent_id: z.string().nullable(),
  name: z.string(),
  description: z.string(),
  nodes: z.number(),
  created_by: z.string(),
  created_at: z.string(),
});

const coverageView = z.object({
  cluster_id: z.string(),
  cluster_slug: z.string(),
  role: z.string(),
  tenant_id: z.string().nullable(),
  tenant_slug: z.string().nullable(),
  assigned_nodes: z.number(),
  healthy_nodes: z.number(),
});

export const overviewView = z.object({
  clusters: z.object({ total: z.number(), by_authority: z.object({ healthy: z.number(), degraded: z.number(), partitioned: z.number() }) }),
  nodes: z.object({ total: z.number(), by_health: healthCounts }),
  pending_join_requests: z.number(),
  role_coverage: z.array(coverageView),
  role_coverage_gaps: z.array(coverageView).describe("Assigned roles no healthy node currently covers"),
  workloads: z.object({ total: z.number(), in_sync: z.number(), out_of_sync: z.number(), failed: z.number() }),
  risky_states: z.array(
    z.object({
      kind: z.string(),
      severity: z.enum(["critical", "warning", "info"]),
      message: z.string(),
      cluster_id: z.string().optional(),
      node_id: z.string().optional(),
      token_id: z.string().optional(),
    }),
  ),
});

export const topologyView = z.object({
  nodes: z.array(z.object({ id: z.string(), type: z.enum(["cluster", "group", "node", "tenant"]), label: z.string(), data: anyRecord })),
  edges: z.array(z.object({ id: z.string(), source: z.string(), target: z.string(), kind: z.enum(["group_of", "member_of", "serves"]) })),
});

export const tenantStatusView = z.object({
  served_by_fabric: z.boolean().describe("Some endpoint is assigned to this organization specifically"),
  endpoints: z.array(
    z.object({
      endpoint: z.string().describe("An alias, stable for this organization; never a node name or address"),
      workload: z.string(),
      shared: z.boolean().describe("The endpoint serves every organization"),
      status: z.enum(["healthy", "degraded", "offline", "unavailable"]),
      workload_state: z.string(),
      last_seen_at: ts,
    }),
  ),
});
