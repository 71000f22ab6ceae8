// Authenticates `Authorization: Bearer cairn_<id>_<secret>` API keys (only SHA-256 of the secret is stored).
import { sql } from "drizzle-orm";
import type { DbClient } from "../../../db/client.ts";
import { secretMatches } from "./tokens.ts";

export const API_KEY_PATTERN = /^cairn_([a-z2-7]{12})_([a-z2-7]{32})$/;

export interface ApiKeyIdentity {
  id: string;
  tenantId: string | null;
  tenantSlug: string | null;
  name: string;
  role: string;
  highRisk: boolean;
  /** Set while a rotated key is inside its grace window. */
  graceUntil: Date | null;
}

export type ApiKeyFailure = "malformed" | "unknown" | "revoked" | "expired" | "rotated";

export async function authenticateApiKey(db: DbClient, presented: string): Promise<ApiKeyIdentity | ApiKeyFailure> {
  const match = API_KEY_PATTERN.exec(presented);
  if (!match) return "malformed";
  const [, id, secret] = match as unknown as [string, string, string];
  const rows = await db.db.execute<{
    id: string;
    tenant_id: string | null;
    tenant_slug: string | null;
    name: string;
    secret_hash: Buffer;
    role: string;
    high_risk: boolean;
    expires_at: string | null;
    revoked_at: string | null;
    grace_until: string | null;
  }>(sql`select * from cairn_api_key_for_auth(${id})`);
  const row = rows[0];
  if (!row || !secretMatches(secret, new Uint8Array(row.secret_hash))) return "unknown";
  const now = Date.now();
  if (row.revoked_at) return "revoked";
  if (row.expires_at && new Date(row.expires_at).getTime() <= now) return "expired";
  if (row.grace_until && new Date(row.grace_until).getTime() <= now) return "rotated";
  await db.db.execute(sql`select cairn_api_key_touch(${id})`);
  return {
    id: row.id,
    tenantId: row.tenant_id,
    tenantSlug: row.tenant_slug,
    name: row.name,
    role: row.role,
    highRisk: row.high_risk,
    graceUntil: row.grace_until ? new Date(row.grace_until) : null,
  };
}
