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
] as const;

export const platformPermissions = ["read:platform", "create:tenant", "create:platform_api_key", "read:platform_audit"] as const;

export type TenantPermission = (typeof tenantPermissions)[number];
export type PlatformPermission = (typeof platformPermissions)[number];
/** `self`: the signed-in person's own account (sessions, passkeys, password, tenant switch); `public`: no identity. */
export type Permission = TenantPermission | PlatformPermission | "self" | "public";

const all = new Set<TenantPermission>(tenantPermissions);
export const roleMatrix: Record<TenantRole, ReadonlySet<TenantPermission>> = {
  admin: all,
  operator: new Set(["read:system", "read:tenant", "read:member"]),
  viewer: new Set(["read:system", "read:tenant"]),
  auditor: new Set(["read:system", "read:tenant", "read:audit", "export:audit"]),
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
