// Whether OIDC login is configured, and how the login page labels it.
import type { Env } from "../../config/env.ts";

export function oidcConfigured(env: Env): boolean {
  return Boolean(env.CAIRN_OIDC_ISSUER && env.CAIRN_OIDC_CLIENT_ID && env.CAIRN_OIDC_CLIENT_SECRET);
}

export function oidcLabel(env: Env): string {
  return env.CAIRN_OIDC_LABEL;
}
