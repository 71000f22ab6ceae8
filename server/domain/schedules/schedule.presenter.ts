// Read models for schedules: one schedule, the keyset list, the preview of upcoming fire times, and tick history.
import { and, desc, eq, lt } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { scheduleTicks, schedules, type OverlapPolicy } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { afterCursor, cursorColumn, pageLimit, toPage, type Page } from "../keyset.ts";
import { describeCron, dstNote, nextFireTimes, wallClock, type DstNote } from "../../scheduler/cron.ts";
import { databaseNow, splitReason } from "../../scheduler/scheduler.ts";

export type ScheduleRow = typeof schedules.$inferSelect;

export interface ScheduleView {
  schedule_id: string;
  source_id: string;
  cron: string;
  timezone: string;
  description: string;
  enabled: boolean;
  overlap_policy: OverlapPolicy;
  catch_up: "none" | "once";
  starting_deadline_seconds: number;
  next_run_at: string | null;
  last_fire_at: string | null;
  last_run_at: string | null;
  last_run_id: string | null;
  last_outcome: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export function presentSchedule(row: ScheduleRow): ScheduleView {
  return {
    schedule_id: row.id,
    source_id: row.sourceId,
    cron: row.cron,
    timezone: row.timezone,
    description: describeCron(row.cron, row.timezone),
    enabled: row.enabled,
    overlap_policy: row.overlapPolicy,
    catch_up: row.catchUp,
    starting_deadline_seconds: row.startingDeadlineSeconds,
    next_run_at: row.nextRunAt?.toISOString() ?? null,
    last_fire_at: row.lastFireAt?.toISOString() ?? null,
    last_run_at: row.lastRunAt?.toISOString() ?? null,
    last_run_id: row.lastRunId,
    last_outcome: row.lastOutcome,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** The schedule row; row-level security hides other tenants' schedules, so a foreign id is a 404 like a missing one. */
export async function findSchedule(tx: Tx, id: string, lock = false): Promise<ScheduleRow> {
  const query = tx.select().from(schedules).where(eq(schedules.id, id));
  const [row] = lock ? await query.for("update") : await query;
  if (!row) throw new AppError("NOT_FOUND", "No such schedule");
  return row;
}

export async function getSchedule(tx: Tx, id: string): Promise<ScheduleView> {
  return presentSchedule(await findSchedule(tx, id));
}

export interface ScheduleFilters {
  source_id?: string;
  enabled?: boolean;
  cursor?: string;
  limit?: number;
}

export async function listSchedules(tx: Tx, tenantId: string, filters: ScheduleFilters): Promise<Page<ScheduleView>> {
  const limit = pageLimit(filters.limit);
  const s = schedules;
  const rows = await tx
    .select({ row: s, cursorAt: cursorColumn(s.createdAt), id: s.id })
    .from(s)
    .where(
      and(
        eq(s.tenantId, tenantId),
        filters.source_id ? eq(s.sourceId, filters.source_id) : undefined,
        filters.enabled === undefined ? undefined : eq(s.enabled, filters.enabled),
        afterCursor(s.createdAt, s.id, filters.cursor),
      ),
    )
    .orderBy(desc(s.createdAt), desc(s.id))
    .limit(limit + 1);
  return toPage(rows, limit, (r) => presentSchedule(r.row));
}

export const UPCOMING_MAX = 100;

export interface UpcomingFire {
  /** The instant, ISO 8601 in UTC. */
  fire_time: string;
  /** The wall-clock time in the schedule's zone, without offset. */
  local_time: string;
  utc_offset: string;
  dst: DstNote;
}

export interface UpcomingView {
  schedule_id: string;
  timezone: string;
  description: string;
  enabled: boolean;
  from: string;
  items: UpcomingFire[];
}

/** The next `count` fire times after `from` (default now), whether or not the schedule is enabled. */
export async function upcomingFires(tx: Tx, id: string, count: number, from?: Date): Promise<UpcomingView> {
  const row = await findSchedule(tx, id);
  const start = from ?? (await databaseNow(tx));
  const n = Math.min(Math.max(count, 1), UPCOMING_MAX);
  return {
    schedule_id: row.id,
    timezone: row.timezone,
    description: describeCron(row.cron, row.timezone),
    enabled: row.enabled,
    from: start.toISOString(),
    items: nextFireTimes(row.cron, row.timezone, start, n).map((f) => ({ fire_time: f.toISOString(), ...wallClock(f, row.timezone), dst: dstNote(row.cron, row.timezone, f) })),
  };
}

export interface TickView {
  tick_id: number;
  fire_time: string;
  decided_at: string;
  outcome: string;
  reason: string | null;
  detail: string | null;
  run_id: string | null;
  decided_by: string;
}

function encodeTickCursor(id: number): string {
  return Buffer.from(`t${id}`).toString("base64url");
}

function decodeTickCursor(cursor: string): number {
  const text = Buffer.from(cursor, "base64url").toString();
  const m = /^t([1-9]\d{0,15})$/.exec(text);
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw new AppError("INVALID_INPUT", "cursor: not a cursor returned by this list");
  return Number(m[1]);
}

export interface TickFilters {
  outcome?: "enqueued" | "skipped";
  cursor?: string;
  limit?: number;
}

/** Tick history, newest decision first: every fire time with what happened to it and why. */
export async function listTicks(tx: Tx, id: string, filters: TickFilters): Promise<Page<TickView>> {
  const row = await findSchedule(tx, id);
  const limit = pageLimit(filters.limit);
  const t = scheduleTicks;
  const rows = await tx
    .select()
    .from(t)
    .where(and(eq(t.tenantId, row.tenantId), eq(t.scheduleId, row.id), filters.outcome ? eq(t.outcome, filters.outcome) : undefined, filters.cursor ? lt(t.id, decodeTickCursor(filters.cursor)) : undefined))
    .orderBy(desc(t.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({
      tick_id: r.id,
      fire_time: r.fireTime.toISOString(),
      decided_at: r.decidedAt.toISOString(),
      outcome: r.outcome,
      ...splitReason(r.reason),
      run_id: r.runId,
      decided_by: r.decidedBy,
    })),
    next_cursor: rows.length > limit && last ? encodeTickCursor(last.id) : null,
  };
}
