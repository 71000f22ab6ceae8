// Schedule writes: create, update, toggle, delete — each audited in the same transaction. next_run_at is always
// computed here from the current cron and the database clock, so a schedule never fires for time it was disabled or
// for an expression it no longer has.
import { and, eq, isNull } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { schedules, sources, type OverlapPolicy } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import type { AuditInput } from "../audit/audit-writer.service.ts";
import { nextFireAfter, validateSchedule } from "../../scheduler/cron.ts";
import { databaseNow } from "../../scheduler/scheduler.ts";
import { findSchedule, presentSchedule, type ScheduleView } from "./schedule.presenter.ts";
import { refuseRunOfPushSource } from "../runs/create-run.service.ts";

export type AuditIn = (tx: Tx, event: Omit<AuditInput, "tenantId" | "actor" | "actorType" | "requestId" | "ip">) => Promise<unknown>;

export interface CreateScheduleInput {
  source_id: string;
  cron: string;
  timezone?: string;
  enabled?: boolean;
  overlap_policy?: OverlapPolicy;
  catch_up?: "none" | "once";
  starting_deadline_seconds?: number;
}

export type UpdateScheduleInput = Partial<Pick<CreateScheduleInput, "cron" | "timezone" | "overlap_policy" | "catch_up" | "starting_deadline_seconds">>;

export async function createSchedule(tx: Tx, tenantId: string, input: CreateScheduleInput, createdBy: string, auditIn: AuditIn): Promise<ScheduleView> {
  // Another tenant's source is invisible under row-level security: it is "no such source", like a deleted one.
  const [source] = await tx.select({ id: sources.id, kind: sources.kind }).from(sources).where(and(eq(sources.id, input.source_id), isNull(sources.deletedAt)));
  if (!source) throw new AppError("NOT_FOUND", "source_id: no such source", { field: "source_id" });
  refuseRunOfPushSource(source, "schedule");
  const { cron, timezone } = validateSchedule({ cron: input.cron, timezone: input.timezone ?? "UTC" });
  const enabled = input.enabled ?? true;
  const now = await databaseNow(tx);
  const [row] = await tx
    .insert(schedules)
    .values({
      tenantId,
      sourceId: source.id,
      cron,
      timezone,
      enabled,
      overlapPolicy: input.overlap_policy ?? "skip",
      catchUp: input.catch_up ?? "once",
      startingDeadlineSeconds: input.starting_deadline_seconds ?? 3600,
      nextRunAt: enabled ? nextFireAfter(cron, timezone, now) : null,
      createdBy,
    })
    .returning();
  const view = presentSchedule(row!);
  await auditIn(tx, {
    targetType: "schedule",
    targetId: row!.id,
    action: "schedule.create",
    outcome: "success",
    details: { source_id: view.source_id, cron, timezone, enabled, overlap_policy: view.overlap_policy, catch_up: view.catch_up, starting_deadline_seconds: view.starting_deadline_seconds },
  });
  return view;
}

export async function updateSchedule(tx: Tx, id: string, input: UpdateScheduleInput, auditIn: AuditIn): Promise<ScheduleView> {
  const current = await findSchedule(tx, id, true);
  const spec = validateSchedule({ cron: input.cron ?? current.cron, timezone: input.timezone ?? current.timezone });
  const next = {
    cron: spec.cron,
    timezone: spec.timezone,
    overlapPolicy: input.overlap_policy ?? current.overlapPolicy,
    catchUp: input.catch_up ?? current.catchUp,
    startingDeadlineSeconds: input.starting_deadline_seconds ?? current.startingDeadlineSeconds,
  };
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  const fields = { cron: "cron", timezone: "timezone", overlapPolicy: "overlap_policy", catchUp: "catch_up", startingDeadlineSeconds: "starting_deadline_seconds" } as const;
  for (const [key, name] of Object.entries(fields) as [keyof typeof fields, string][]) {
    if (next[key] !== current[key]) changes[name] = { from: current[key], to: next[key] };
  }
  if (!Object.keys(changes).length) return presentSchedule(current);
  const timingChanged = "cron" in changes || "timezone" in changes;
  // A new expression starts from now: fire times of the old expression that were not decided yet are dropped.
  const nextRunAt = timingChanged ? (current.enabled ? nextFireAfter(spec.cron, spec.timezone, await databaseNow(tx)) : null) : current.nextRunAt;
  const [row] = await tx
    .update(schedules)
    .set({ ...next, nextRunAt, updatedAt: new Date() })
    .where(eq(schedules.id, current.id))
    .returning();
  await auditIn(tx, { targetType: "schedule", targetId: current.id, action: "schedule.update", outcome: "success", details: { changes, next_run_at: nextRunAt?.toISOString() ?? null } });
  return presentSchedule(row!);
}

/** Enabling starts from now (fire times that passed while disabled are not caught up); disabling clears next_run_at. */
export async function toggleSchedule(tx: Tx, id: string, enabled: boolean, auditIn: AuditIn): Promise<ScheduleView> {
  const current = await findSchedule(tx, id, true);
  if (current.enabled === enabled) return presentSchedule(current);
  if (enabled) {
    // A schedule made for a push source before such schedules were refused stays off.
    const [source] = await tx.select({ id: sources.id, kind: sources.kind }).from(sources).where(eq(sources.id, current.sourceId));
    if (source) refuseRunOfPushSource(source, "schedule");
  }
  const nextRunAt = enabled ? nextFireAfter(current.cron, current.timezone, await databaseNow(tx)) : null;
  const [row] = await tx.update(schedules).set({ enabled, nextRunAt, updatedAt: new Date() }).where(eq(schedules.id, current.id)).returning();
  await auditIn(tx, { targetType: "schedule", targetId: current.id, action: enabled ? "schedule.enable" : "schedule.disable", outcome: "success", details: { next_run_at: nextRunAt?.toISOString() ?? null } });
  return presentSchedule(row!);
}

/** Deletes the schedule and its tick history; runs it started stay (they belong to the source). */
export async function deleteSchedule(tx: Tx, id: string, auditIn: AuditIn): Promise<void> {
  const current = await findSchedule(tx, id, true);
  await tx.delete(schedules).where(eq(schedules.id, current.id));
  await auditIn(tx, { targetType: "schedule", targetId: current.id, action: "schedule.delete", outcome: "success", details: { source_id: current.sourceId, cron: current.cron, timezone: current.timezone } });
}
