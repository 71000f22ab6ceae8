// Join tokens: created and revoked by platform owners (high-risk), shown once as `id.secret`, stored as the secret's
// hash only, limited by expiry, use count and an optional binding to the machine expected to redeem them.
import { eq } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { nodeJoinTokens, type JoinTokenScope } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { hashSecret } from "../auth/tokens.ts";
import { randomBase36 } from "./agent-protocol.ts";
import { clusterForWrite, type Actor, type PlatformAudit } from "./fabric-context.ts";

export type JoinTokenRow = typeof nodeJoinTokens.$inferSelect;

/** Bootstrap tokens approve on redemption, so they are kept short-lived and few-use. */
export const BOOTSTRAP_MAX_TTL_SECONDS = 24 * 3600;
export const BOOTSTRAP_MAX_USES = 10;

export interface CreateJoinTokenInput {
  ttl_seconds: number;
  max_uses: number;
  scope: JoinTokenScope;
  description?: string;
  bind_hostname?: string | null;
  bind_machine_id?: string | null;
  bind_key_fingerprint?: string | null;
}

export async function createJoinToken(tx: Tx, clusterId: string, input: CreateJoinTokenInput, actor: Actor, audit: PlatformAudit): Promise<{ token: string; row: JoinTokenRow }> {
  const cluster = await clusterForWrite(tx, clusterId);
  if (input.scope === "bootstrap") {
    if (input.ttl_seconds > BOOTSTRAP_MAX_TTL_SECONDS) throw new AppError("INVALID_INPUT", `ttl_seconds: a bootstrap token (approved on redemption) lives at most ${BOOTSTRAP_MAX_TTL_SECONDS} seconds`);
    if (input.max_uses > BOOTSTRAP_MAX_USES) throw new AppError("INVALID_INPUT", `max_uses: a bootstrap token (approved on redemption) allows at most ${BOOTSTRAP_MAX_USES} uses`);
  }
  // Public ids are short: retry the rare collision instead of failing.
  for (let attempt = 0; attempt < 5; attempt++) {
    const id = randomBase36(6);
    const secret = randomBase36(32);
    const [row] = await tx
      .insert(nodeJoinTokens)
      .values({
        id,
        clusterId: cluster.id,
        secretHash: hashSecret(secret),
        scope: input.scope,
        description: input.description ?? "",
        expiresAt: new Date(Date.now() + input.ttl_seconds * 1000),
        maxUses: input.max_uses,
        bindHostname: input.bind_hostname ?? null,
        bindMachineId: input.bind_machine_id ?? null,
        bindKeyFingerprint: input.bind_key_fingerprint?.toLowerCase() ?? null,
        createdBy: actor.actor,
      })
      .onConflictDoNothing()
      .returning();
    if (!row) continue;
    await audit(tx, {
      targetType: "join_token",
      targetId: row.id,
      action: "join_token.create",
      outcome: "success",
      details: {
        cluster_id: cluster.id,
        scope: row.scope,
        expires_at: row.expiresAt.toISOString(),
        max_uses: row.maxUses,
        binding: { hostname: row.bindHostname, machine_id: row.bindMachineId, key_fingerprint: row.bindKeyFingerprint },
      },
    });
    return { token: `${id}.${secret}`, row };
  }
  throw new AppError("INTERNAL", "Could not allocate a join token id");
}

export async function revokeJoinToken(tx: Tx, tokenId: string, actor: Actor, audit: PlatformAudit): Promise<JoinTokenRow> {
  const [row] = await tx.select().from(nodeJoinTokens).where(eq(nodeJoinTokens.id, tokenId)).for("update");
  if (!row) throw new AppError("NOT_FOUND", "No such join token", { token_id: tokenId });
  if (row.revokedAt) return row;
  const [updated] = await tx.update(nodeJoinTokens).set({ revokedAt: new Date(), revokedBy: actor.actor }).where(eq(nodeJoinTokens.id, tokenId)).returning();
  await audit(tx, { targetType: "join_token", targetId: tokenId, action: "join_token.revoke", outcome: "success", details: { cluster_id: row.clusterId, used_count: row.usedCount, max_uses: row.maxUses } });
  return updated!;
}
