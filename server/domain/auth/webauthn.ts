// WebAuthn primitives shared by passkey registration, passkey sign-in and step-up: the relying party derived from the
// public URL, one-time challenges in auth_challenges, and the signature-counter rule that detects cloned authenticators.
import { and, eq, isNull, lt, sql } from "drizzle-orm";
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { isoBase64URL, isoUint8Array } from "@simplewebauthn/server/helpers";
import type { DbClient } from "../../../db/client.ts";
import { authChallenges, passkeys } from "../../../db/schema/index.ts";
import type { Env } from "../../config/env.ts";
import { randomBase32 } from "./tokens.ts";

export const RP_NAME = "Cairn";
/** How long a ceremony may take between asking for options and answering them. */
export const CHALLENGE_TTL_SECONDS = 5 * 60;
/** What the browser is told to wait for the authenticator. */
const CEREMONY_TIMEOUT_MS = 120_000;

export type ChallengePurpose = "passkey_register" | "passkey_login" | "step_up";
export type ChallengeRow = typeof authChallenges.$inferSelect;
export type PasskeyRow = typeof passkeys.$inferSelect;

export interface RelyingParty {
  id: string;
  name: string;
  origin: string;
}

/** The relying party is the host users reach Cairn at: passkeys are bound to it, so changing the public URL orphans them. */
export function relyingParty(env: Pick<Env, "publicUrl">): RelyingParty {
  const url = new URL(env.publicUrl);
  return { id: url.hostname, name: RP_NAME, origin: url.origin };
}

/** The WebAuthn user handle: the user's id, so a discoverable credential names its owner without an email. */
export function userHandleFor(userId: string): ReturnType<typeof isoUint8Array.fromUTF8String> {
  return isoUint8Array.fromUTF8String(userId);
}

export function userIdFromHandle(handle: string): string | null {
  try {
    return isoBase64URL.toUTF8String(handle);
  } catch {
    return null;
  }
}

// ---------- Challenges ----------

export async function issueChallenge(
  db: DbClient,
  input: { purpose: ChallengePurpose; challenge: string; userId?: string | null; sessionId?: string | null },
): Promise<string> {
  const id = randomBase32(20);
  // Expired challenges are useless; sweep them as new ones are issued so the table stays small.
  await db.db.delete(authChallenges).where(lt(authChallenges.expiresAt, sql`now() - interval '1 hour'`));
  await db.db.insert(authChallenges).values({
    id,
    purpose: input.purpose,
    challenge: input.challenge,
    userId: input.userId ?? null,
    sessionId: input.sessionId ?? null,
    // The database clock decides expiry, on issue and on consumption alike.
    expiresAt: sql`now() + make_interval(secs => ${CHALLENGE_TTL_SECONDS})`,
  });
  return id;
}

/**
 * Marks a challenge used and returns it, or null when it is unknown, of another purpose, bound to another user or
 * session, expired, or already used. One statement, so two concurrent answers cannot both consume it.
 */
export async function consumeChallenge(
  db: DbClient,
  input: { id: string; purpose: ChallengePurpose; userId?: string; sessionId?: string },
): Promise<ChallengeRow | null> {
  const conditions = [
    eq(authChallenges.id, input.id),
    eq(authChallenges.purpose, input.purpose),
    isNull(authChallenges.usedAt),
    sql`${authChallenges.expiresAt} > now()`,
  ];
  if (input.userId !== undefined) conditions.push(eq(authChallenges.userId, input.userId));
  if (input.sessionId !== undefined) conditions.push(eq(authChallenges.sessionId, input.sessionId));
  const [row] = await db.db
    .update(authChallenges)
    .set({ usedAt: sql`now()` })
    .where(and(...conditions))
    .returning();
  return row ?? null;
}

// ---------- Signature counters ----------

export type CounterCheck = { ok: true; next: number } | { ok: false; reason: "counter_regressed" };

/**
 * WebAuthn's clone signal: authenticators that keep a counter must report a strictly larger one each time.
 * Both zero means the authenticator keeps no counter (common for synced passkeys), which is allowed.
 */
export function checkSignCounter(stored: number, reported: number): CounterCheck {
  if (stored === 0 && reported === 0) return { ok: true, next: 0 };
  if (reported > stored) return { ok: true, next: reported };
  return { ok: false, reason: "counter_regressed" };
}

/**
 * Stores a verified assertion's counter, refusing it if another assertion moved the counter past it meanwhile
 * (the compare happens in the update itself). Returns false when the counter is refused.
 */
export async function recordAssertion(
  db: DbClient,
  passkey: Pick<PasskeyRow, "id" | "counter">,
  verified: { newCounter: number; backedUp: boolean },
): Promise<boolean> {
  const check = checkSignCounter(passkey.counter, verified.newCounter);
  if (!check.ok) return false;
  const next = check.next;
  const updated = await db.db
    .update(passkeys)
    .set({ counter: next, backedUp: verified.backedUp, lastUsedAt: sql`now()` })
    .where(and(eq(passkeys.id, passkey.id), sql`(${passkeys.counter} < ${next} or (${passkeys.counter} = 0 and ${next} = 0))`))
    .returning({ id: passkeys.id });
  return updated.length === 1;
}

// ---------- Ceremonies ----------

export function registrationOptionsFor(
  rp: RelyingParty,
  user: { id: string; email: string; name: string },
  existing: Pick<PasskeyRow, "credentialId" | "transports">[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.email,
    userDisplayName: user.name || user.email,
    userID: userHandleFor(user.id),
    timeout: CEREMONY_TIMEOUT_MS,
    attestationType: "none",
    // An authenticator that already holds one of this user's passkeys is not enrolled twice.
    excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
    // Discoverable credentials, so signing in needs no email; user verification, so a passkey is two factors.
    authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
  });
}

export function authenticationOptionsFor(
  rp: RelyingParty,
  allow?: Pick<PasskeyRow, "credentialId" | "transports">[],
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: rp.id,
    timeout: CEREMONY_TIMEOUT_MS,
    userVerification: "required",
    allowCredentials: allow?.map((p) => ({ id: p.credentialId, transports: p.transports })),
  });
}

export interface VerifiedRegistration {
  credentialId: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
  deviceType: string;
  backedUp: boolean;
}

/** Verifies an attestation against the stored challenge; null when it does not verify (the reason is logged by the caller). */
export async function verifyRegistration(
  rp: RelyingParty,
  expectedChallenge: string,
  response: RegistrationResponseJSON,
): Promise<{ ok: true; value: VerifiedRegistration } | { ok: false; error: string }> {
  try {
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
    });
    if (!result.verified) return { ok: false, error: "not verified" };
    const info = result.registrationInfo;
    return {
      ok: true,
      value: {
        credentialId: info.credential.id,
        publicKey: info.credential.publicKey,
        counter: info.credential.counter,
        transports: info.credential.transports ?? response.response.transports ?? [],
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp,
      },
    };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Verifies an assertion made with `passkey` against the stored challenge (signature, origin, RP, user verification). */
export async function verifyAssertion(
  rp: RelyingParty,
  expectedChallenge: string,
  passkey: Pick<PasskeyRow, "credentialId" | "publicKey" | "counter" | "transports">,
  response: AuthenticationResponseJSON,
): Promise<{ ok: true; newCounter: number; backedUp: boolean } | { ok: false; error: string }> {
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
      credential: { id: passkey.credentialId, publicKey: new Uint8Array(passkey.publicKey), counter: passkey.counter, transports: passkey.transports },
    });
    if (!result.verified) return { ok: false, error: "not verified" };
    return { ok: true, newCounter: result.authenticationInfo.newCounter, backedUp: result.authenticationInfo.credentialBackedUp };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
