// The fabric: clusters as trust domains, node enrollment (join tokens → join requests → a person's approval), node
// identities with certificates from each cluster's own CA, capabilities (reported, never granting anything) kept
// apart from role assignments (granted by a platform owner), service workloads (desired vs reported), heartbeats,
// node groups, and the replay store for signed agent requests.
//
// Platform-scoped: row-level security admits only the platform context (db/tenant.ts withPlatform); organizations
// read a safe projection through one SECURITY DEFINER function (drizzle/*_fabric_security.sql). A node is a row of
// the existing `nodes` registry (kind = 'agent'); everything else a node has lives here.
import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, check, customType, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid, type AnyPgColumn } from "drizzle-orm/pg-core";
import { nodes } from "./control.ts";
import { tenants } from "./tenancy.ts";

const ts = (name: string) => timestamp(name, { withTimezone: true });
const bytea = customType<{ data: Uint8Array; driverData: Buffer }>({
  dataType: () => "bytea",
  toDriver: (v) => Buffer.from(v),
  fromDriver: (v) => new Uint8Array(v),
});

/** healthy: normal. degraded / partitioned: approvals, certificate issuance, role and policy changes are refused. */
export const clusterAuthorityStates = ["healthy", "degraded", "partitioned"] as const;
export type ClusterAuthorityState = (typeof clusterAuthorityStates)[number];
export const membershipStatuses = ["active", "disabled", "revoked"] as const;
export type MembershipStatus = (typeof membershipStatuses)[number];
/** join: every redemption waits for a person's approval. bootstrap: explicitly scoped, approved on redemption. */
export const joinTokenScopes = ["join", "bootstrap"] as const;
export type JoinTokenScope = (typeof joinTokenScopes)[number];
export const joinRequestStatuses = ["pending", "approved", "rejected"] as const;
export type JoinRequestStatus = (typeof joinRequestStatuses)[number];
/** rotated: replaced by a newer identity (accepted for a short grace until the successor is used). */
export const nodeIdentityStatuses = ["active", "rotated", "revoked"] as const;
export type NodeIdentityStatus = (typeof nodeIdentityStatuses)[number];
export const roleAssignmentStatuses = ["active", "removed"] as const;
export type RoleAssignmentStatus = (typeof roleAssignmentStatuses)[number];
export const desiredWorkloadStates = ["running", "stopped"] as const;
export type DesiredWorkloadState = (typeof desiredWorkloadStates)[number];
export const reportedWorkloadStates = ["running", "idle", "stopped", "failed", "degraded", "unknown"] as const;
export type ReportedWorkloadState = (typeof reportedWorkloadStates)[number];
export const agentReportedStatuses = ["healthy", "degraded"] as const;
export type AgentReportedStatus = (typeof agentReportedStatuses)[number];

export const clusters = pgTable(
  "clusters",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    region: text("region").notNull().default(""),
    authorityState: text("authority_state").$type<ClusterAuthorityState>().notNull().default("healthy"),
    authorityReason: text("authority_reason"),
    authorityChangedAt: ts("authority_changed_at"),
    authorityChangedBy: text("authority_changed_by"),
    /** Lifetime of the node certificates this cluster's CA issues. */
    certTtlHours: integer("cert_ttl_hours").notNull().default(720),
    /** Bumped by every change that alters some node's desired state; snapshots carry it as their version. */
    desiredVersion: bigint("desired_version", { mode: "number" }).notNull().default(1),
    createdBy: text("created_by").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("clusters_slug_key").on(t.slug),
    check("clusters_authority_state", sql`${t.authorityState} in ('healthy','degraded','partitioned')`),
    check("clusters_cert_ttl", sql`${t.certTtlHours} between 1 and 8760`),
  ],
);

/** Each cluster's own certificate authority. The private key is encrypted at rest with the installation secret. */
export const clusterCas = pgTable(
  "cluster_cas",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    clusterId: uuid("cluster_id").notNull().references(() => clusters.id),
    serial: text("serial").notNull(),
    certificatePem: text("certificate_pem").notNull(),
    /** SHA-256 of the certificate (DER), hex: what `cairn agent enroll --ca-fingerprint` pins. */
    fingerprint: text("fingerprint").notNull(),
    privateKeyEnc: text("private_key_enc").notNull(),
    notBefore: ts("not_before").notNull(),
    notAfter: ts("not_after").notNull(),
    status: text("status").$type<"active" | "retired">().notNull().default("active"),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("cluster_cas_active_key").on(t.clusterId).where(sql`${t.status} = 'active'`)],
);

/** Cluster-scoped folders for nodes (sites, regions, rings): inventory only, never permissions. */
export const nodeGroups = pgTable(
  "node_groups",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    clusterId: uuid("cluster_id").notNull().references(() => clusters.id),
    parentId: uuid("parent_id").references((): AnyPgColumn => nodeGroups.id, { onDelete: "restrict" }),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    createdBy: text("created_by").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("node_groups_name_key").on(t.clusterId, sql`coalesce(${t.parentId}, '00000000-0000-0000-0000-000000000000'::uuid)`, t.name)],
);

export const clusterMemberships = pgTable(
  "cluster_memberships",
  {
    clusterId: uuid("cluster_id").notNull().references(() => clusters.id),
    nodeId: uuid("node_id").notNull().references(() => nodes.id, { onDelete: "cascade" }),
    status: text("status").$type<MembershipStatus>().notNull().default("active"),
    groupId: uuid("group_id").references(() => nodeGroups.id, { onDelete: "set null" }),
    joinedAt: ts("joined_at").notNull().defaultNow(),
    lastSeenAt: ts("last_seen_at"),
    /** The address the node's latest request came from. */
    lastSeenIp: text("last_seen_ip"),
    statusChangedAt: ts("status_changed_at").notNull().defaultNow(),
    heartbeatCount: bigint("heartbeat_count", { mode: "number" }).notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.clusterId, t.nodeId] }),
    index("cluster_memberships_node_idx").on(t.nodeId),
    index("cluster_memberships_group_idx").on(t.groupId),
    check("cluster_memberships_status", sql`${t.status} in ('active','disabled','revoked')`),
  ],
);

/** `id.secret` tokens: the public id is the key, only the secret's SHA-256 is kept. */
export const nodeJoinTokens = pgTable(
  "node_join_tokens",
  {
    id: text("id").primaryKey(),
    clusterId: uuid("cluster_id").notNull().references(() => clusters.id),
    secretHash: bytea("secret_hash").notNull(),
    scope: text("scope").$type<JoinTokenScope>().notNull().default("join"),
    description: text("description").notNull().default(""),
    expiresAt: ts("expires_at").notNull(),
    maxUses: integer("max_uses").notNull(),
    usedCount: integer("used_count").notNull().default(0),
    /** Optional binding to an expected machine: a redemption from anything else is refused. */
    bindHostname: text("bind_hostname"),
    bindMachineId: text("bind_machine_id"),
    bindKeyFingerprint: text("bind_key_fingerprint"),
    createdBy: text("created_by").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    lastUsedAt: ts("last_used_at"),
    revokedAt: ts("revoked_at"),
    revokedBy: text("revoked_by"),
  },
  (t) => [
    index("node_join_tokens_cluster_idx").on(t.clusterId, t.createdAt, t.id),
    check("node_join_tokens_uses", sql`${t.maxUses} between 1 and 1000 and ${t.usedCount} between 0 and ${t.maxUses}`),
    check("node_join_tokens_scope", sql`${t.scope} in ('join','bootstrap')`),
    check("node_join_tokens_id_format", sql`${t.id} ~ '^[a-z0-9]{6}$'`),
  ],
);

/** What a redemption verified (the control plane checked it) — kept apart from what the node claims. */
export interface JoinVerified {
  token_matched: boolean;
  token_id: string;
  token_scope: JoinTokenScope;
  proof_of_possession: boolean;
  key_fingerprint: string;
  binding: { hostname: "matched" | "not_bound"; machine_id: "matched" | "not_bound"; key_fingerprint: "matched" | "not_bound" };
  source_address: string | null;
  expected_cluster: "matched" | "not_given";
}

export const nodeJoinRequests = pgTable(
  "node_join_requests",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    clusterId: uuid("cluster_id").notNull().references(() => clusters.id),
    tokenId: text("token_id").notNull().references(() => nodeJoinTokens.id),
    /** Claimed by the node. */
    nodeName: text("node_name").notNull(),
    hostname: text("hostname").notNull(),
    machineId: text("machine_id"),
    facts: jsonb("facts").$type<Record<string, unknown>>().notNull().default({}),
    capabilities: jsonb("capabilities").$type<Record<string, unknown>>().notNull().default({}),
    requestedRoles: jsonb("requested_roles").$type<string[]>().notNull().default([]),
    agentVersion: text("agent_version").notNull(),
    /** Verified by the control plane. */
    publicKey: text("public_key").notNull(),
    keyFingerprint: text("key_fingerprint").notNull(),
    sourceIp: text("source_ip"),
    verified: jsonb("verified").$type<JoinVerified>().notNull(),
    status: text("status").$type<JoinRequestStatus>().notNull().default("pending"),
    autoApproved: boolean("auto_approved").notNull().default(false),
    reviewedBy: text("reviewed_by"),
    reviewedAt: ts("reviewed_at"),
    rejectionReason: text("rejection_reason"),
    nodeId: uuid("node_id").references(() => nodes.id, { onDelete: "set null" }),
    identityId: uuid("identity_id"),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [
    index("node_join_requests_status_idx").on(t.status, t.createdAt, t.id),
    index("node_join_requests_cluster_idx").on(t.clusterId, t.createdAt, t.id),
    uniqueIndex("node_join_requests_pending_key").on(t.keyFingerprint).where(sql`${t.status} = 'pending'`),
    check("node_join_requests_status", sql`${t.status} in ('pending','approved','rejected')`),
  ],
);

/** A node's identity in one cluster: its public key and the certificate the cluster's CA issued for it. */
export const nodeIdentities = pgTable(
  "node_identities",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    nodeId: uuid("node_id").notNull().references(() => nodes.id, { onDelete: "cascade" }),
    clusterId: uuid("cluster_id").notNull().references(() => clusters.id),
    caId: uuid("ca_id").notNull().references(() => clusterCas.id),
    /** Raw 32-byte Ed25519 public key, base64. The private key never leaves the node. */
    publicKey: text("public_key").notNull(),
    keyFingerprint: text("key_fingerprint").notNull(),
    certificatePem: text("certificate_pem").notNull(),
    certificateSerial: text("certificate_serial").notNull(),
    certificateNotBefore: ts("certificate_not_before").notNull(),
    certificateNotAfter: ts("certificate_not_after").notNull(),
    status: text("status").$type<NodeIdentityStatus>().notNull().default("active"),
    issuedAt: ts("issued_at").notNull().defaultNow(),
    firstUsedAt: ts("first_used_at"),
    lastUsedAt: ts("last_used_at"),
    rotatedAt: ts("rotated_at"),
    replacedBy: uuid("replaced_by"),
    revokedAt: ts("revoked_at"),
    revokedBy: text("revoked_by"),
    revokedReason: text("revoked_reason"),
  },
  (t) => [
    uniqueIndex("node_identities_serial_key").on(t.clusterId, t.certificateSerial),
    uniqueIndex("node_identities_key_key").on(t.keyFingerprint),
    index("node_identities_node_idx").on(t.nodeId, t.issuedAt),
    check("node_identities_status", sql`${t.status} in ('active','rotated','revoked')`),
  ],
);

/** What a node reports it can do (latest report per name). Never a permission. */
export const nodeCapabilities = pgTable(
  "node_capabilities",
  {
    nodeId: uuid("node_id").notNull().references(() => nodes.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    value: jsonb("value").$type<unknown>().notNull(),
    reportedAt: ts("reported_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.nodeId, t.name] })],
);

/** What a node is authorized to run, per cluster and optionally per organization. Only people assign them. */
export const nodeRoleAssignments = pgTable(
  "node_role_assignments",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    clusterId: uuid("cluster_id").notNull().references(() => clusters.id),
    nodeId: uuid("node_id").notNull().references(() => nodes.id, { onDelete: "cascade" }),
    role: text("role").notNull(),
    /** null: every organization. */
    tenantId: uuid("tenant_id").references(() => tenants.id, { onDelete: "cascade" }),
    /** The job types this assignment lets the node claim (a subset of the role's). */
    jobTypes: text("job_types").array().notNull(),
    status: text("status").$type<RoleAssignmentStatus>().notNull().default("active"),
    assignedBy: text("assigned_by").notNull(),
    assignedAt: ts("assigned_at").notNull().defaultNow(),
    removedBy: text("removed_by"),
    removedAt: ts("removed_at"),
    removedReason: text("removed_reason"),
  },
  (t) => [
    uniqueIndex("node_role_assignments_active_key")
      .on(t.clusterId, t.nodeId, t.role, sql`coalesce(${t.tenantId}, '00000000-0000-0000-0000-000000000000'::uuid)`)
      .where(sql`${t.status} = 'active'`),
    index("node_role_assignments_node_idx").on(t.nodeId, t.status),
    index("node_role_assignments_tenant_idx").on(t.tenantId).where(sql`${t.status} = 'active'`),
    index("node_role_assignments_cluster_idx").on(t.clusterId, t.assignedAt, t.id),
    check("node_role_assignments_status", sql`${t.status} in ('active','removed')`),
  ],
);

/** One service workload on one node: what the control plane wants (desired) and what the agent last said (reported). */
export const nodeServiceInstances = pgTable(
  "node_service_instances",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    clusterId: uuid("cluster_id").notNull().references(() => clusters.id),
    nodeId: uuid("node_id").notNull().references(() => nodes.id, { onDelete: "cascade" }),
    serviceType: text("service_type").notNull(),
    desiredState: text("desired_state").$type<DesiredWorkloadState>().notNull().default("stopped"),
    /** Paused by a platform owner: stays stopped even while its role is assigned. */
    paused: boolean("paused").notNull().default(false),
    reportedState: text("reported_state").$type<ReportedWorkloadState>().notNull().default("unknown"),
    reportedVersion: text("reported_version"),
    reportedDetail: jsonb("reported_detail").$type<Record<string, unknown>>().notNull().default({}),
    reportedAt: ts("reported_at"),
    desiredChangedAt: ts("desired_changed_at").notNull().defaultNow(),
    desiredChangedBy: text("desired_changed_by").notNull(),
  },
  (t) => [uniqueIndex("node_service_instances_key").on(t.clusterId, t.nodeId, t.serviceType), index("node_service_instances_node_idx").on(t.nodeId)],
);

/** Heartbeat history (bounded per node; the latest state lives on `nodes` and `cluster_memberships`). */
export const nodeHeartbeats = pgTable(
  "node_heartbeats",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    nodeId: uuid("node_id").notNull().references(() => nodes.id, { onDelete: "cascade" }),
    clusterId: uuid("cluster_id").notNull(),
    receivedAt: ts("received_at").notNull().defaultNow(),
    status: text("status").$type<AgentReportedStatus>().notNull(),
    agentVersion: text("agent_version").notNull(),
    snapshotVersion: bigint("snapshot_version", { mode: "number" }),
    sourceIp: text("source_ip"),
    workloads: jsonb("workloads").$type<unknown[]>().notNull().default([]),
    detail: jsonb("detail").$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index("node_heartbeats_node_idx").on(t.nodeId, t.id)],
);

/** Nonces of signed agent requests seen within the replay window (pruned as they age out). */
export const agentRequestNonces = pgTable(
  "agent_request_nonces",
  {
    keyId: text("key_id").notNull(),
    nonce: text("nonce").notNull(),
    seenAt: ts("seen_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.nonce] }), index("agent_request_nonces_seen_idx").on(t.seenAt)],
);
