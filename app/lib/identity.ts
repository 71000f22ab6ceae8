// Who is signed in, as the browser sees it: the shape of `auth.me`, the current membership, role wording, and
// readable messages from failed tRPC calls. Safe for browser and server alike (types only from server/).
import { useRouteLoaderData } from "@remix-run/react";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../server/trpc/router.ts";
import type { TenantRole } from "../../db/schema/tenancy.ts";
import type { AppErrorCode } from "../../server/errors.ts";

type Outputs = inferRouterOutputs<AppRouter>;
export type Me = Outputs["auth"]["me"];
export type Membership = Me["memberships"][number];

export const TENANT_ROLES = ["admin", "operator", "viewer", "auditor"] as const satisfies readonly TenantRole[];

export const ROLE_SUMMARY: Record<TenantRole, string> = {
  admin: "Everything in the tenant, including members, API keys and quotas",
  operator: "Operates sources, runs and jobs; sees members",
  viewer: "Reads the tenant's pages",
  auditor: "Reads audit and evidence only",
};

export const roleLabel = (role: string) => role.charAt(0).toUpperCase() + role.slice(1);

/** The signed-in person from the root loader (null on the sign-in page when nobody is signed in). */
export function useMe(): Me | null {
  const data = useRouteLoaderData<{ me: Me | null }>("root");
  return data?.me ?? null;
}

export function currentMembership(me: Me | null): Membership | null {
  if (!me) return null;
  return me.memberships.find((m) => m.tenant_id === me.current_tenant_id) ?? me.memberships[0] ?? null;
}

/**
 * A path inside Cairn to continue to after signing in; anything else (other hosts, `//host`, `/\host`) becomes the
 * fallback, so a crafted link cannot send someone off-site.
 */
export function safeNext(value: unknown, fallback = "/"): string {
  if (typeof value !== "string" || !value.startsWith("/") || value.startsWith("//") || value.includes("\\") || value.length > 2000) return fallback;
  if ([...value].some((ch) => ch.charCodeAt(0) < 0x20)) return fallback;
  return value;
}

/** `?next=` for a path, keeping its slashes readable. */
export const nextParam = (path: string) => `next=${encodeURIComponent(path).replace(/%2F/g, "/")}`;

export interface Failure {
  code: AppErrorCode | "NETWORK";
  message: string;
  details: Record<string, unknown> | null;
}

/** A failed call from the browser's tRPC client, as something to show: the server's message and its code. */
export function clientFailure(err: unknown): Failure {
  const e = err as { message?: unknown; data?: { appCode?: unknown; details?: unknown } | null } | null;
  const code = e?.data?.appCode;
  if (typeof code === "string") {
    const details = e?.data?.details;
    return { code: code as AppErrorCode, message: String(e?.message ?? "The request failed"), details: details && typeof details === "object" ? (details as Record<string, unknown>) : null };
  }
  if (err instanceof Error && err.name === "TRPCClientError") {
    return { code: "NETWORK", message: "Cairn could not be reached: check your connection and try again.", details: null };
  }
  return { code: "INTERNAL", message: err instanceof Error && err.message ? err.message : "Something went wrong", details: null };
}

/** "Too many attempts — try again in N s" when the server said how long to wait. */
export function rateLimitMessage(details: Record<string, unknown> | null): string {
  const seconds = Number(details?.retry_after_seconds);
  return Number.isFinite(seconds) && seconds > 0 ? `Too many attempts — try again in ${Math.ceil(seconds)} s` : "Too many attempts — try again in a little while";
}
