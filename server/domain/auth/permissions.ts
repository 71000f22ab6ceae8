// Permission strings (`action:resource`) and the role matrix. docs/rbac.md mirrors this file (a test compares them).
import type { TenantRole } from "../../../db/schema/tenancy.ts";

export const tenantPermissions = [
  "read:system",
  "read:tenant",
  "update:tenant_settings",
  "read:member",
  "create:member",
  "update:member",
  "delete:member",
  "read:api_key",
  "create:api_key",
  "rotate:api_key",
  "revoke:api_key",
  "read:audit",
  "export:audit",
  "read:source",
  "create:source",
  "update:source",
  "delete:source",
  "run:source",
  "read:credential",
  "create:credential",
  "delete:credential",
  "test:credential",
  "read:run",
  "retry:run",
  "cancel:run",
  "read:job",
  "cancel:job",
  "read:schedule",
  "create:schedule",
  "update:schedule",
  "delete:schedule",
  "read:evidence",
  "read:fabric_status",
  "read:finding",
  "request:finding_exception",
  "approve:finding_exception",
  "read:policy",
  "create:policy",
  "update:policy",
  "delete:policy",
  "create:policy_binding",
  "delete:policy_binding",
  "push:results",
  "read:receipt",
  "sync:fleet",
  "read:fleet",
] as const;

/** The fabric (clusters, enrollment, node trust, roles, workloads): platform owners only. */
const fabricPlatformPermissions = [
  "read:fabric",
  "manage:cluster",
  "manage:cluster_authority",
  "manage:join_token",
  "review:join_request",
  "assign:node_role",
  "revoke:node",
  "manage:node_group",
  "manage:workload",
] as const;

export const platformPermissions = ["read:platform", "create:tenant", "create:platform_api_key", "read:platform_audit", "rematerialize:findings", ...fabricPlatformPermissions, "read:custom_connector", "create:custom_connector", "delete:custom_connector"] as const;

export type TenantPermission = (typeof tenantPermissions)[number];
export type PlatformPermission = (typeof platformPermissions)[number];
/** `self`: the signed-in person's own account (sessions, passkeys, password, tenant switch); `public`: no identity. */
export type Permission = TenantPermission | PlatformPermission | "self" | "public";

const all = new Set<TenantPermission>(tenantPermissions);
/** Reading the control plane's work: sources, credential refs (never values), runs, jobs, schedules, evidence. */
const workReads: TenantPermission[] = ["read:source", "read:credential", "read:run", "read:job", "read:schedule", "read:evidence"];
/** Running the work; creating and deleting credential refs stays with admins (high-risk). */
const workChanges: TenantPermission[] = [
  "create:source",
  "update:source",
  "delete:source",
  "run:source",
  "test:credential",
  "retry:run",
  "cancel:run",
  "cancel:job",
  "create:schedule",
  "update:schedule",
  "delete:schedule",
];
/** Findings and the policies that judge them are read by everyone; operators may ask for an exception, admins decide. */
const findingReads: TenantPermission[] = ["read:finding", "read:policy"];
/** Push ingest: receipts and the fleet are read like other work; pushing results and fleet syncs is running work. */
const ingestReads: TenantPermission[] = ["read:receipt", "read:fleet"];
const ingestChanges: TenantPermission[] = ["push:results", "sync:fleet"];
export const roleMatrix: Record<TenantRole, ReadonlySet<TenantPermission>> = {
  admin: all,
  operator: new Set<TenantPermission>(["read:system", "read:tenant", "read:member", ...workReads, ...workChanges, ...findingReads, "request:finding_exception", ...ingestReads, ...ingestChanges]),
  viewer: new Set<TenantPermission>(["read:system", "read:tenant", ...workReads, ...findingReads, ...ingestReads]),
  // Auditors follow the evidence trail (finding → evidence → job → run → source), not the configuration behind it.
  auditor: new Set<TenantPermission>(["read:system", "read:tenant", "read:audit", "export:audit", "read:evidence", "read:run", "read:job", "read:source", ...findingReads, "read:receipt"]),
};

export function roleCan(role: TenantRole, permission: TenantPermission): boolean {
  return roleMatrix[role]?.has(permission) ?? false;
}

export function isTenantPermission(p: Permission): p is TenantPermission {
  return (tenantPermissions as readonly string[]).includes(p);
}

export function isPlatformPermission(p: Permission): p is PlatformPermission {
  return (platformPermissions as readonly string[]).includes(p);
}
