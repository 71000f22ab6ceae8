// Exceptions: a finding suppressed for a stated reason until a stated time. Anyone allowed to request one does; an
// admin approves (the finding becomes suppressed), rejects, or revokes it later (the finding reopens). An approved
// exception that runs out expires and its finding reopens: lazily whenever this tenant's findings are read or
// materialized, and by the periodic sweep (exception-sweep.ts) so nobody has to look first.
import { and, eq, inArray, lte, sql } from "drizzle-orm";
import type { Tx } from "../../db/tenant.ts";
import { findingExceptions, findings, type ExceptionStatus } from "../../db/schema/findings.ts";
import { appendAudit } from "../domain/audit/audit-writer.service.ts";
import type { AuditIn } from "../domain/credentials/credential-refs.service.ts";
import { AppError } from "../errors.ts";
import { lockSourceFindings } from "./source-lock.ts";

export const EXCEPTION_MAX_DAYS = 365;
export const EXPIRY_ACTOR = "system:exception-expiry";

export type ExceptionRow = typeof findingExceptions.$inferSelect;

export function presentException(e: ExceptionRow) {
  return {
    exception_id: e.id,
    finding_id: e.findingId,
    reason: e.reason,
    expires_at: e.expiresAt.toISOString(),
    status: e.status,
    requested_by: e.requestedBy,
    decided_by: e.decidedBy,
    decided_at: e.decidedAt?.toISOString() ?? null,
    decision_note: e.decisionNote,
    expired_at: e.expiredAt?.toISOString() ?? null,
    created_at: e.createdAt.toISOString(),
    updated_at: e.updatedAt.toISOString(),
  };
}
export type ExceptionView = ReturnType<typeof presentException>;

/**
 * Expires this tenant's approved exceptions whose time has come and reopens their suppressed findings, audited as
 * the system. Cheap when nothing is due (one indexed update that matches no row).
 */
export async function expireDueExceptions(tx: Tx, tenantId: string): Promise<{ expired: string[]; reopened: string[] }> {
  const due = await tx
    .update(findingExceptions)
    .set({ status: "expired", expiredAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(findingExceptions.tenantId, tenantId), eq(findingExceptions.status, "approved"), lte(findingExceptions.expiresAt, sql`now()`)))
    .returning({ id: findingExceptions.id, findingId: findingExceptions.findingId, expiresAt: findingExceptions.expiresAt });
  if (!due.length) return { expired: [], reopened: [] };
  const reopenedRows = await tx
    .update(findings)
    .set({ status: "open", updatedAt: sql`now()` })
    .where(
      and(
        inArray(
          findings.id,
          due.map((d) => d.findingId),
        ),
        eq(findings.status, "suppressed"),
      ),
    )
    .returning({ id: findings.id });
  const reopened = new Set(reopenedRows.map((r) => r.id));
  for (const d of due) {
    await appendAudit(tx, {
      tenantId,
      actor: EXPIRY_ACTOR,
      actorType: "system",
      targetType: "finding_exception",
      targetId: d.id,
      action: "finding_exception.expire",
      outcome: "success",
      details: { finding_id: d.findingId, expired_at_time: d.expiresAt.toISOString(), finding_reopened: reopened.has(d.findingId) },
    });
  }
  return { expired: due.map((d) => d.id), reopened: [...reopened] };
}

async function lockedException(tx: Tx, id: string): Promise<ExceptionRow> {
  const [row] = await tx.select().from(findingExceptions).where(eq(findingExceptions.id, id)).for("update");
  if (!row) throw new AppError("NOT_FOUND", "No such exception");
  return row;
}

export interface RequestExceptionInput {
  reason: string;
  expires_at: string;
}

export async function requestException(tx: Tx, tenantId: string, findingId: string, input: RequestExceptionInput, requestedBy: string, auditIn: AuditIn): Promise<ExceptionView> {
  await expireDueExceptions(tx, tenantId);
  const [finding] = await tx.select({ id: findings.id, status: findings.status }).from(findings).where(eq(findings.id, findingId)).for("update");
  if (!finding) throw new AppError("NOT_FOUND", "No such finding");
  if (finding.status === "resolved") throw new AppError("CONFLICT", "This finding is resolved: it needs no exception");
  const expiresAt = new Date(input.expires_at);
  const clock = await tx.execute<{ now: Date | string }>(sql`select now() as now`);
  const dbNow = new Date(clock[0]!.now);
  if (expiresAt.getTime() <= dbNow.getTime()) throw new AppError("INVALID_INPUT", "expires_at: must be in the future", { field: "expires_at" });
  if (expiresAt.getTime() > dbNow.getTime() + EXCEPTION_MAX_DAYS * 86_400_000) throw new AppError("INVALID_INPUT", `expires_at: at most ${EXCEPTION_MAX_DAYS} days ahead`, { field: "expires_at" });
  const [live] = await tx
    .select({ id: findingExceptions.id, status: findingExceptions.status })
    .from(findingExceptions)
    .where(and(eq(findingExceptions.findingId, findingId), inArray(findingExceptions.status, ["requested", "approved"])));
  if (live) throw new AppError("CONFLICT", `This finding already has an ${live.status} exception (${live.id})`, { exception_id: live.id });
  const [row] = await tx.insert(findingExceptions).values({ tenantId, findingId, reason: input.reason, expiresAt, requestedBy }).returning();
  await auditIn(tx, { targetType: "finding_exception", targetId: row!.id, action: "finding_exception.request", outcome: "success", details: { finding_id: findingId, expires_at: expiresAt.toISOString() } });
  return presentException(row!);
}

export type ExceptionDecision = "approve" | "reject" | "revoke";

const allowedFrom: Record<ExceptionDecision, ExceptionStatus[]> = { approve: ["requested"], reject: ["requested"], revoke: ["requested", "approved"] };
const resultOf: Record<ExceptionDecision, ExceptionStatus> = { approve: "approved", reject: "rejected", revoke: "revoked" };

export async function decideException(tx: Tx, tenantId: string, id: string, decision: ExceptionDecision, decidedBy: string, note: string | undefined, auditIn: AuditIn): Promise<ExceptionView> {
  // The source's findings lock first (before any exception row lock, the order materializeGraph takes them in).
  const [target] = await tx.select({ sourceId: findings.sourceId }).from(findingExceptions).innerJoin(findings, eq(findings.id, findingExceptions.findingId)).where(eq(findingExceptions.id, id));
  if (!target) throw new AppError("NOT_FOUND", "No such exception");
  await lockSourceFindings(tx, target.sourceId);
  await expireDueExceptions(tx, tenantId);
  const current = await lockedException(tx, id);
  if (!allowedFrom[decision].includes(current.status)) throw new AppError("CONFLICT", `This exception is ${current.status}: it cannot be ${resultOf[decision]}`);
  if (decision === "approve" && current.expiresAt.getTime() <= Date.now()) throw new AppError("CONFLICT", "This exception's expiry has already passed: request a new one");
  const [row] = await tx
    .update(findingExceptions)
    .set({ status: resultOf[decision], decidedBy, decidedAt: sql`now()`, decisionNote: note ?? null, updatedAt: sql`now()` })
    .where(eq(findingExceptions.id, id))
    .returning();
  let findingStatus: string | null = null;
  if (decision === "approve") {
    // An open finding is suppressed now; a resolved one stays resolved (the exception applies if it comes back).
    const [f] = await tx.update(findings).set({ status: "suppressed", updatedAt: sql`now()` }).where(and(eq(findings.id, current.findingId), eq(findings.status, "open"))).returning({ status: findings.status });
    findingStatus = f?.status ?? null;
  } else if (decision === "revoke" && current.status === "approved") {
    const [f] = await tx.update(findings).set({ status: "open", updatedAt: sql`now()` }).where(and(eq(findings.id, current.findingId), eq(findings.status, "suppressed"))).returning({ status: findings.status });
    findingStatus = f?.status ?? null;
  }
  await auditIn(tx, {
    targetType: "finding_exception",
    targetId: id,
    action: `finding_exception.${decision}`,
    outcome: "success",
    details: { finding_id: current.findingId, from: current.status, to: resultOf[decision], requested_by: current.requestedBy, ...(findingStatus ? { finding_status: findingStatus } : {}) },
  });
  return presentException(row!);
}
