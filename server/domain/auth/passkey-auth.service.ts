// Assertions with a passkey: signing in with a discoverable credential (no email typed), and the step-up that
// high-risk actions require, restricted to the signed-in person's own credentials.
import { and, eq, sql } from "drizzle-orm";
import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import { passkeys, sessions, users } from "../../../db/schema/index.ts";
import type { Runtime } from "../../runtime.ts";
import { AppError } from "../../errors.ts";
import { recordAudit } from "../audit/audit-writer.service.ts";
import { firstTenantOf } from "./login.service.ts";
import type { SelfCaller } from "./passkey.service.ts";
import { createSession, type CreatedSession } from "./session.service.ts";
import { authenticationOptionsFor, consumeChallenge, issueChallenge, recordAssertion, relyingParty, userIdFromHandle, verifyAssertion } from "./webauthn.ts";

// ---------- Sign-in ----------

export async function passkeyLoginOptions(rt: Runtime) {
  // No allowCredentials: the authenticator offers whichever discoverable passkey the person picks.
  const options = await authenticationOptionsFor(relyingParty(rt.env));
  const challengeId = await issueChallenge(rt.db, { purpose: "passkey_login", challenge: options.challenge });
  return { challengeId, options };
}

export interface PasskeyLoginInput {
  challengeId: string;
  response: AuthenticationResponseJSON;
  ip: string | null;
  userAgent: string | null;
  requestId: string;
}

export async function loginWithPasskey(rt: Runtime, input: PasskeyLoginInput): Promise<CreatedSession & { mustChangePassword: boolean }> {
  // One generic answer whatever went wrong, so a probe learns nothing about which credentials exist.
  const fail = async (reason: string, detail?: string): Promise<never> => {
    rt.log.info({ reason, detail, requestId: input.requestId }, "passkey sign-in refused");
    await recordAudit(rt.db, {
      tenantId: null,
      actor: "anonymous",
      actorType: "anonymous",
      targetType: "login",
      action: "auth.login",
      outcome: "failure",
      ip: input.ip,
      requestId: input.requestId,
      details: { method: "passkey", reason },
    });
    throw new AppError("UNAUTHENTICATED", "That passkey could not sign you in: try again, or sign in another way");
  };

  const challenge = await consumeChallenge(rt.db, { id: input.challengeId, purpose: "passkey_login" });
  if (!challenge) return fail("challenge_invalid");
  const [found] = await rt.db.db
    .select({ passkey: passkeys, user: users })
    .from(passkeys)
    .innerJoin(users, eq(users.id, passkeys.userId))
    .where(eq(passkeys.credentialId, input.response.id))
    .limit(1);
  if (!found) return fail("unknown_credential");
  const { passkey, user } = found;
  const handle = input.response.response.userHandle;
  if (handle && userIdFromHandle(handle) !== user.id) return fail("user_handle_mismatch");
  if (user.disabledAt) return fail("user_disabled");

  const verified = await verifyAssertion(relyingParty(rt.env), challenge.challenge, passkey, input.response);
  if (!verified.ok) return fail("verification_failed", verified.error);
  if (!(await recordAssertion(rt.db, passkey, verified))) return fail("counter_regressed");

  const tenantId = await firstTenantOf(rt, user.id);
  // The assertion just made is as fresh as a step-up gets.
  const created = await createSession(rt.db, {
    userId: user.id,
    authMethod: "passkey",
    ttlHours: rt.env.CAIRN_SESSION_TTL_HOURS,
    ip: input.ip,
    userAgent: input.userAgent,
    tenantId,
    stepUp: true,
  });
  await recordAudit(rt.db, {
    tenantId,
    actor: `user:${user.email}`,
    actorType: "user",
    targetType: "session",
    targetId: created.session.id,
    action: "auth.login",
    outcome: "success",
    ip: input.ip,
    requestId: input.requestId,
    details: { method: "passkey", passkey_id: passkey.id },
  });
  return { ...created, mustChangePassword: user.mustChangePassword };
}

// ---------- Step-up ----------

export async function stepUpOptions(c: SelfCaller) {
  const mine = await c.rt.db.db
    .select({ credentialId: passkeys.credentialId, transports: passkeys.transports })
    .from(passkeys)
    .where(eq(passkeys.userId, c.user.id));
  if (mine.length === 0) {
    throw new AppError("FORBIDDEN", "Confirming it's you needs a passkey, and you have none yet: add one in Settings → Passkeys", { reason: "no_passkey" });
  }
  const options = await authenticationOptionsFor(relyingParty(c.rt.env), mine);
  const challengeId = await issueChallenge(c.rt.db, { purpose: "step_up", challenge: options.challenge, userId: c.user.id, sessionId: c.session.id });
  return { challengeId, options };
}

export async function completeStepUp(c: SelfCaller, input: { challengeId: string; response: AuthenticationResponseJSON }): Promise<{ stepUpAt: Date }> {
  const fail = async (reason: string, detail?: string): Promise<never> => {
    c.rt.log.info({ reason, detail, userId: c.user.id }, "step-up refused");
    await recordAudit(c.rt.db, {
      ...c.audit,
      tenantId: c.session.tenantId,
      targetType: "session",
      targetId: c.session.id,
      action: "auth.step_up",
      outcome: "failure",
      details: { reason },
    });
    throw new AppError("FORBIDDEN", "Your passkey did not confirm it's you: try again", { reason: "step_up_failed" });
  };

  // Bound to this user and this session: a challenge issued elsewhere cannot step up this session.
  const challenge = await consumeChallenge(c.rt.db, { id: input.challengeId, purpose: "step_up", userId: c.user.id, sessionId: c.session.id });
  if (!challenge) return fail("challenge_invalid");
  const [passkey] = await c.rt.db.db
    .select()
    .from(passkeys)
    .where(and(eq(passkeys.credentialId, input.response.id), eq(passkeys.userId, c.user.id)))
    .limit(1);
  if (!passkey) return fail("unknown_credential");
  const verified = await verifyAssertion(relyingParty(c.rt.env), challenge.challenge, passkey, input.response);
  if (!verified.ok) return fail("verification_failed", verified.error);
  if (!(await recordAssertion(c.rt.db, passkey, verified))) return fail("counter_regressed");

  const [updated] = await c.rt.db.db
    .update(sessions)
    .set({ stepUpAt: sql`now()` })
    .where(eq(sessions.id, c.session.id))
    .returning({ stepUpAt: sessions.stepUpAt });
  if (!updated?.stepUpAt) throw new AppError("UNAUTHENTICATED", "Your session has ended: sign in again");
  c.session.stepUpAt = updated.stepUpAt;
  await recordAudit(c.rt.db, {
    ...c.audit,
    tenantId: c.session.tenantId,
    targetType: "session",
    targetId: c.session.id,
    action: "auth.step_up",
    outcome: "success",
    details: { method: "passkey", passkey_id: passkey.id },
  });
  return { stepUpAt: updated.stepUpAt };
}
