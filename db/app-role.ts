// The application connects as `cairn_app` (no ownership, no BYPASSRLS). Unless CAIRN_APP_DATABASE_URL names its
// connection, Cairn gives the role a password derived from the installation secret, so every replica agrees on it.
import { createHmac } from "node:crypto";
import type { DbClient } from "./client.ts";

export const APP_ROLE = "cairn_app";

export function appRolePassword(secret: string): string {
  return createHmac("sha256", secret).update("cairn_app database role password v1").digest("base64url");
}

/** Lets cairn_app log in with the derived password (needs an owner connection; a no-op before migrations created it). */
export async function provisionAppRole(owner: DbClient, secret: string): Promise<boolean> {
  const [exists] = await owner.sql<{ present: boolean }[]>`select exists(select 1 from pg_roles where rolname = ${APP_ROLE}) as present`;
  if (!exists?.present) return false;
  // Role and password cannot be bound parameters in ALTER ROLE; the password is base64url (no quotes possible).
  await owner.sql.unsafe(`alter role ${APP_ROLE} with login password '${appRolePassword(secret)}'`);
  return true;
}

/** The owner's URL with the app role's credentials. */
export function appRoleUrl(ownerUrl: string, secret: string): string {
  const url = new URL(ownerUrl);
  url.username = APP_ROLE;
  url.password = appRolePassword(secret);
  return url.toString();
}
