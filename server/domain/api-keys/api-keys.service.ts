// API keys: `cairn_<id>_<secret>` (160-bit secret, only its SHA-256 stored), shown once; rotation with a grace
// window; immediate revocation. Tenant keys live under row-level security; platform keys have no tenant.
import { desc, eq } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { apiKeys } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { hashSecret, randomBase32 } from "../auth/tokens.ts";
import type { AuditInput } from "../audit/audit-writer.service.ts";

type AuditIn = (tx: Tx, event: Omit<AuditInput, "tenantId" | "actor" | "actorType" | "requestId" | "ip">) => Promise<unknown>;
type KeyRow = typeof apiKeys.$inferSelect;

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  role: string;
  high_risk: boolean;
  status: "active" | "rotating" | "revoked" | "expired";
  created_by: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  rotated_to: string | null;
  grace_until: string | null;
}

export function present(k: KeyRow, now = Date.now()): ApiKeyView {
  const status: ApiKeyView["status"] = k.revokedAt
    ? "revoked"
    : k.expiresAt && k.expiresAt.getTime() <= now
      ? "expired"
      : k.graceUntil
        ? k.graceUntil.getTime() <= now
          ? "revoked"
          : "rotating"
        : "active";
  return {
    id: k.id,
    name: k.name,
    prefix: `cairn_${k.id}_`,
    role: k.role,
    high_risk: k.highRisk,
    status,
    created_by: k.createdBy,
    created_at: k.createdAt.toISOString(),
    last_used_at: k.lastUsedAt?.toISOString() ?? null,
    expires_at: k.expiresAt?.toISOString() ?? null,
    revoked_at: k.revokedAt?.toISOString() ?? null,
    rotated_to: k.rotatedTo,
    grace_until: k.graceUntil?.toISOString() ?? null,
  };
}

function newKeyMaterial() {
  const id = randomBase32(8).slice(0, 12);
  const secret = randomBase32(20); // 32 characters, 160 bits
  return { id, secret, token: `cairn_${id}_${secret}` };
}

export async function listKeys(tx: Tx): Promise<ApiKeyView[]> {
  const rows = await tx.select().from(apiKeys).orderBy(desc(apiKeys.createdAt));
  return rows.map((k) => present(k));
}

export interface CreateKeyInput {
  tenantId: string | null;
  name: string;
  role: string;
  highRisk: boolean;
  expiresAt: Date | null;
  createdBy: string;
}

export async function createKey(tx: Tx, input: CreateKeyInput, auditIn: AuditIn): Promise<ApiKeyView & { api_key: string }> {
  const m = newKeyMaterial();
  const [row] = await tx
    .insert(apiKeys)
    .values({ id: m.id, tenantId: input.tenantId, name: input.name, secretHash: hashSecret(m.secret), role: input.role, highRisk: input.highRisk, createdBy: input.createdBy, expiresAt: input.expiresAt })
    .returning();
  await auditIn(tx, { targetType: "api_key", targetId: m.id, action: "api_key.create", outcome: "success", details: { name: input.name, role: input.role, high_risk: input.highRisk, expires_at: input.expiresAt?.toISOString() ?? null } });
  return { ...present(row!), api_key: m.token };
}

async function lockKey(tx: Tx, id: string): Promise<KeyRow> {
  const [row] = await tx.select().from(apiKeys).where(eq(apiKeys.id, id)).for("update");
  if (!row) throw new AppError("NOT_FOUND", "No such API key");
  return row;
}

export async function rotateKey(tx: Tx, id: string, graceHours: number, createdBy: string, auditIn: AuditIn): Promise<{ successor: ApiKeyView & { api_key: string }; previous: ApiKeyView }> {
  const old = await lockKey(tx, id);
  const view = present(old);
  if (view.status !== "active") throw new AppError("CONFLICT", `This key is ${view.status}; only an active key can be rotated`);
  const m = newKeyMaterial();
  const [successor] = await tx
    .insert(apiKeys)
    .values({ id: m.id, tenantId: old.tenantId, name: old.name, secretHash: hashSecret(m.secret), role: old.role, highRisk: old.highRisk, createdBy, expiresAt: old.expiresAt })
    .returning();
  const graceUntil = new Date(Date.now() + graceHours * 3_600_000);
  const [previous] = await tx.update(apiKeys).set({ rotatedTo: m.id, graceUntil }).where(eq(apiKeys.id, id)).returning();
  await auditIn(tx, { targetType: "api_key", targetId: id, action: "api_key.rotate", outcome: "success", details: { successor: m.id, grace_until: graceUntil.toISOString() } });
  return { successor: { ...present(successor!), api_key: m.token }, previous: present(previous!) };
}

export async function revokeKey(tx: Tx, id: string, auditIn: AuditIn): Promise<ApiKeyView> {
  const old = await lockKey(tx, id);
  if (old.revokedAt) throw new AppError("CONFLICT", "This key is already revoked");
  const [row] = await tx.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, id)).returning();
  await auditIn(tx, { targetType: "api_key", targetId: id, action: "api_key.revoke", outcome: "success", details: { name: old.name } });
  return present(row!);
}
