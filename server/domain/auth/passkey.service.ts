// A person's own passkeys: registering one (only soon after signing in), listing, renaming and removing them.
// Removing the last one is high-risk (it takes away the only phishing-resistant factor), so it needs a step-up.
import { and, asc, eq } from "drizzle-orm";
import type { RegistrationResponseJSON } from "@simplewebauthn/server";
import type { DbClient } from "../../../db/client.ts";
import { withPlatform, withTenant, type Tx } from "../../../db/tenant.ts";
import { passkeys } from "../../../db/schema/index.ts";
import type { Runtime } from "../../runtime.ts";
import { AppError } from "../../errors.ts";
import { appendAudit, recordAudit, type AuditInput } from "../audit/audit-writer.service.ts";
import type { SessionRow, UserRow } from "./session.service.ts";
import { consumeChallenge, issueChallenge, registrationOptionsFor, relyingParty, verifyRegistration, type PasskeyRow } from "./webauthn.ts";

/** Registering a passkey needs a password, passkey or OIDC sign-in this recent, so a borrowed unlocked session cannot add one. */
export const RECENT_LOGIN_SECONDS = 10 * 60;

/** The signed-in person acting on their own account, and how their audit events are attributed. */
export interface SelfCaller {
  rt: Runtime;
  user: UserRow;
  session: SessionRow;
  audit: Pick<AuditInput, "actor" | "actorType" | "requestId" | "ip">;
}

export interface PasskeySummary {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  deviceType: string;
  backedUp: boolean;
  transports: string[];
}

function summary(row: PasskeyRow): PasskeySummary {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    deviceType: row.deviceType,
    backedUp: row.backedUp,
    transports: row.transports,
  };
}

/** User-level events go to the chain of the tenant the session is in, or the platform chain when it is in none. */
export function inUserScope<T>(db: DbClient, tenantId: string | null, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return tenantId ? withTenant(db, tenantId, fn) : withPlatform(db, fn);
}

export function assertRecentLogin(session: Pick<SessionRow, "authenticatedAt">, now = Date.now()): void {
  if (now - session.authenticatedAt.getTime() > RECENT_LOGIN_SECONDS * 1000) {
    throw new AppError("FORBIDDEN", "Sign in again to add a passkey: adding one needs a sign-in from the last 10 minutes", {
      reason: "recent_login_required",
      window_seconds: RECENT_LOGIN_SECONDS,
    });
  }
}

export function defaultPasskeyName(existing: string[]): string {
  const taken = new Set(existing);
  let n = existing.length + 1;
  while (taken.has(`Passkey ${n}`)) n += 1;
  return `Passkey ${n}`;
}

export async function listPasskeys(db: DbClient, userId: string): Promise<PasskeySummary[]> {
  const rows = await db.db.select().from(passkeys).where(eq(passkeys.userId, userId)).orderBy(asc(passkeys.createdAt), asc(passkeys.id));
  return rows.map(summary);
}

export async function passkeyRegistrationOptions(c: SelfCaller) {
  assertRecentLogin(c.session);
  const existing = await c.rt.db.db
    .select({ credentialId: passkeys.credentialId, transports: passkeys.transports })
    .from(passkeys)
    .where(eq(passkeys.userId, c.user.id));
  const options = await registrationOptionsFor(relyingParty(c.rt.env), c.user, existing);
  const challengeId = await issueChallenge(c.rt.db, { purpose: "passkey_register", challenge: options.challenge, userId: c.user.id, sessionId: c.session.id });
  return { challengeId, options };
}

export async function registerPasskey(
  c: SelfCaller,
  input: { challengeId: string; name?: string; response: RegistrationResponseJSON },
): Promise<PasskeySummary> {
  assertRecentLogin(c.session);
  const challenge = await consumeChallenge(c.rt.db, { id: input.challengeId, purpose: "passkey_register", userId: c.user.id, sessionId: c.session.id });
  const fail = async (reason: string, message: string, detail?: string) => {
    if (detail) c.rt.log.warn({ reason, detail, userId: c.user.id }, "passkey registration refused");
    await recordAudit(c.rt.db, { ...c.audit, tenantId: c.session.tenantId, targetType: "passkey", action: "passkey.register", outcome: "failure", details: { reason } });
    return new AppError("INVALID_INPUT", message, { reason });
  };
  if (!challenge) throw await fail("challenge_invalid", "This passkey request expired or was already used: start again");
  const verified = await verifyRegistration(relyingParty(c.rt.env), challenge.challenge, input.response);
  if (!verified.ok) throw await fail("verification_failed", "Your authenticator's answer could not be verified: try again", verified.error);
  const v = verified.value;

  return inUserScope(c.rt.db, c.session.tenantId, async (tx) => {
    const names = await tx.select({ name: passkeys.name }).from(passkeys).where(eq(passkeys.userId, c.user.id));
    const name = input.name?.trim() || defaultPasskeyName(names.map((n) => n.name));
    const [row] = await tx
      .insert(passkeys)
      .values({
        userId: c.user.id,
        credentialId: v.credentialId,
        publicKey: v.publicKey,
        counter: v.counter,
        transports: v.transports,
        deviceType: v.deviceType,
        backedUp: v.backedUp,
        name,
      })
      .onConflictDoNothing({ target: passkeys.credentialId })
      .returning();
    if (!row) throw new AppError("CONFLICT", "This passkey is already registered", { reason: "already_registered" });
    await appendAudit(tx, {
      ...c.audit,
      tenantId: c.session.tenantId,
      targetType: "passkey",
      targetId: row.id,
      action: "passkey.register",
      outcome: "success",
      details: { name, device_type: v.deviceType, backed_up: v.backedUp },
    });
    return summary(row);
  });
}

export async function renamePasskey(c: SelfCaller, id: string, newName: string): Promise<PasskeySummary> {
  const name = newName.trim();
  return inUserScope(c.rt.db, c.session.tenantId, async (tx) => {
    const [before] = await tx
      .select({ name: passkeys.name })
      .from(passkeys)
      .where(and(eq(passkeys.id, id), eq(passkeys.userId, c.user.id)))
      .for("update");
    if (!before) throw new AppError("NOT_FOUND", "No such passkey");
    const [row] = await tx
      .update(passkeys)
      .set({ name })
      .where(and(eq(passkeys.id, id), eq(passkeys.userId, c.user.id)))
      .returning();
    await appendAudit(tx, {
      ...c.audit,
      tenantId: c.session.tenantId,
      targetType: "passkey",
      targetId: id,
      action: "passkey.rename",
      outcome: "success",
      details: { from: before.name, to: name },
    });
    return summary(row!);
  });
}

/**
 * Removes one of the caller's passkeys. When it is their last, `confirmStepUp` must pass first (it throws
 * STEP_UP_REQUIRED otherwise). The caller's passkeys are locked while deciding, so two concurrent removals cannot
 * each see "not the last" and together remove every passkey without a step-up.
 */
export async function removePasskey(c: SelfCaller, id: string, confirmStepUp: () => Promise<void>): Promise<{ id: string; wasLast: boolean }> {
  return inUserScope(c.rt.db, c.session.tenantId, async (tx) => {
    const mine = await tx
      .select({ id: passkeys.id, name: passkeys.name })
      .from(passkeys)
      .where(eq(passkeys.userId, c.user.id))
      .for("update");
    const target = mine.find((p) => p.id === id);
    if (!target) throw new AppError("NOT_FOUND", "No such passkey");
    const wasLast = mine.length === 1;
    if (wasLast) await confirmStepUp();
    await tx.delete(passkeys).where(and(eq(passkeys.id, id), eq(passkeys.userId, c.user.id)));
    await appendAudit(tx, {
      ...c.audit,
      tenantId: c.session.tenantId,
      targetType: "passkey",
      targetId: id,
      action: "passkey.remove",
      outcome: "success",
      details: { name: target.name, was_last: wasLast },
    });
    return { id, wasLast };
  });
}
