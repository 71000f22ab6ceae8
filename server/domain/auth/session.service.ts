// Sessions on Lucia's published design: token = id.secret, only SHA-256(secret) stored, constant-time compare,
// sliding expiry. The cookie is httpOnly, SameSite=Lax, and Secure whenever the public URL is https.
import { and, eq, ne } from "drizzle-orm";
import type { DbClient } from "../../../db/client.ts";
import { sessions, users } from "../../../db/schema/index.ts";
import { hashSecret, randomBase32, secretMatches } from "./tokens.ts";

export const SESSION_COOKIE = "cairn_session";

export type SessionRow = typeof sessions.$inferSelect;
export type UserRow = typeof users.$inferSelect;

export interface CreatedSession {
  token: string;
  session: SessionRow;
}

export async function createSession(
  db: DbClient,
  input: { userId: string; authMethod: SessionRow["authMethod"]; ttlHours: number; ip?: string | null; userAgent?: string | null; tenantId?: string | null; stepUp?: boolean },
): Promise<CreatedSession> {
  const id = randomBase32(15);
  const secret = randomBase32(20);
  const now = new Date();
  const [session] = await db.db
    .insert(sessions)
    .values({
      id,
      secretHash: hashSecret(secret),
      userId: input.userId,
      tenantId: input.tenantId ?? null,
      authMethod: input.authMethod,
      authenticatedAt: now,
      stepUpAt: input.stepUp ? now : null,
      expiresAt: new Date(now.getTime() + input.ttlHours * 3_600_000),
      ip: input.ip ?? null,
      userAgent: input.userAgent?.slice(0, 400) ?? null,
    })
    .returning();
  return { token: `${id}.${secret}`, session: session! };
}

export interface ValidatedSession {
  session: SessionRow;
  user: UserRow;
  /** True when the expiry moved and the cookie should be sent again. */
  refreshed: boolean;
}

export async function validateSessionToken(db: DbClient, token: string, ttlHours: number): Promise<ValidatedSession | null> {
  const dot = token.indexOf(".");
  if (dot <= 0) return null;
  const id = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!/^[a-z2-7]{16,40}$/.test(id) || !/^[a-z2-7]{20,64}$/.test(secret)) return null;
  const rows = await db.db.select({ session: sessions, user: users }).from(sessions).innerJoin(users, eq(users.id, sessions.userId)).where(eq(sessions.id, id)).limit(1);
  const row = rows[0];
  if (!row || !secretMatches(secret, row.session.secretHash)) return null;
  const now = Date.now();
  if (row.session.expiresAt.getTime() <= now || row.user.disabledAt) {
    await db.db.delete(sessions).where(eq(sessions.id, id));
    return null;
  }
  const ttlMs = ttlHours * 3_600_000;
  let refreshed = false;
  // Sliding expiry: once half the lifetime has passed, extend it (one write per half-life, not per request).
  if (row.session.expiresAt.getTime() - now < ttlMs / 2) {
    row.session.expiresAt = new Date(now + ttlMs);
    row.session.lastSeenAt = new Date(now);
    await db.db.update(sessions).set({ expiresAt: row.session.expiresAt, lastSeenAt: row.session.lastSeenAt }).where(eq(sessions.id, id));
    refreshed = true;
  } else if (now - row.session.lastSeenAt.getTime() > 60_000) {
    await db.db.update(sessions).set({ lastSeenAt: new Date(now) }).where(eq(sessions.id, id));
  }
  return { session: row.session, user: row.user, refreshed };
}

export async function invalidateSession(db: DbClient, sessionId: string): Promise<void> {
  await db.db.delete(sessions).where(eq(sessions.id, sessionId));
}

export async function invalidateOtherSessions(db: DbClient, userId: string, keepSessionId: string): Promise<number> {
  const removed = await db.db.delete(sessions).where(and(eq(sessions.userId, userId), ne(sessions.id, keepSessionId))).returning({ id: sessions.id });
  return removed.length;
}

export function sessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure ? "; Secure" : ""}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure ? "; Secure" : ""}`;
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eqAt = part.indexOf("=");
    if (eqAt < 0) continue;
    if (part.slice(0, eqAt).trim() === name) return decodeURIComponent(part.slice(eqAt + 1).trim());
  }
  return undefined;
}
