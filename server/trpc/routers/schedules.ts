// Schedules of the current tenant: cron + IANA time zone, overlap and catch-up policy, a preview of the next fire
// times (with DST marked) and the tick history with skip reasons.
import { z } from "zod";
import { router, tenantProcedure } from "../init.ts";
import { overlapPolicies } from "../../../db/schema/control.ts";
import { actorOf } from "../../domain/auth/identity.ts";
import { PAGE_MAX_LIMIT } from "../../domain/keyset.ts";
import { getSchedule, listSchedules, listTicks, UPCOMING_MAX, upcomingFires } from "../../domain/schedules/schedule.presenter.ts";
import { createSchedule, deleteSchedule, toggleSchedule, updateSchedule } from "../../domain/schedules/schedules.service.ts";

const catchUp = z.enum(["none", "once"]);

const schedule = z.object({
  schedule_id: z.string(),
  source_id: z.string(),
  cron: z.string(),
  timezone: z.string(),
  description: z.string().describe("The expression in words, e.g. `every day at 02:30 (America/New_York)`"),
  enabled: z.boolean(),
  overlap_policy: z.enum(overlapPolicies),
  catch_up: catchUp,
  starting_deadline_seconds: z.number().int(),
  next_run_at: z.string().nullable(),
  last_fire_at: z.string().nullable(),
  last_run_at: z.string().nullable(),
  last_run_id: z.string().nullable(),
  last_outcome: z.string().nullable().describe("`enqueued` or `skipped:<reason>` for the latest decided fire time"),
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});

const scheduleId = z.uuid("must be a schedule id");
const cursor = z.string().min(1).max(200).optional().describe("next_cursor from the previous page");
const limit = z.coerce.number().int().min(1).max(PAGE_MAX_LIMIT).optional().describe(`Page size, 1–${PAGE_MAX_LIMIT} (default 50)`);

const cronField = z.string().max(200, "at most 200 characters").describe("5 fields (minute hour day-of-month month day-of-week) or 6 with a leading seconds field, e.g. `30 2 * * *`");
const timezoneField = z.string().max(64, "at most 64 characters").describe("IANA time zone, e.g. `America/New_York` (default UTC)");
const deadlineField = z.number().int("must be a whole number of seconds").min(1, "at least 1").max(86_400, "at most 86400 (one day)");
const policyFields = {
  overlap_policy: z.enum(overlapPolicies).optional().describe("When a run of the source is still queued or running: `skip` this fire (default), `allow` both, or `replace` (cancel the older)"),
  catch_up: catchUp.optional().describe("After downtime: `once` runs the most recent missed fire time (default); `none` runs only fire times still within the starting deadline"),
  starting_deadline_seconds: deadlineField.optional().describe("A fire time that cannot start within this many seconds is skipped as `missed_deadline` (default 3600)"),
};

const upcomingItem = z.object({
  fire_time: z.string().describe("The instant (ISO 8601, UTC)"),
  local_time: z.string().describe("Wall-clock time in the schedule's zone"),
  utc_offset: z.string().describe("The zone's UTC offset at that instant, e.g. -04:00"),
  dst: z.enum(["gap_shifted", "repeated_first", "repeated_second"]).nullable().describe("gap_shifted: the wall time does not exist that day (spring forward), so it fires at the first instant after the gap; repeated_*: the wall time occurs twice that day (fall back)"),
});

const tick = z.object({
  tick_id: z.number().int(),
  fire_time: z.string(),
  decided_at: z.string(),
  outcome: z.string().describe("enqueued | skipped"),
  reason: z.string().nullable().describe("Why skipped: overlap, missed_deadline, catch_up_collapsed, source_disabled, source_deleted, unsupported"),
  detail: z.string().nullable(),
  run_id: z.string().nullable(),
  decided_by: z.string(),
});

export const schedulesRouter = router({
  list: tenantProcedure
    .meta({ permission: "read:schedule", openapi: { method: "GET", path: "/schedules", tags: ["schedules"], summary: "Schedules, newest first (filter by source or enabled; keyset paging)" } })
    .input(
      z
        .object({
          source_id: z.uuid("must be a source id").optional(),
          enabled: z.enum(["true", "false"]).optional().describe("Only enabled (true) or disabled (false) schedules"),
          cursor,
          limit,
        })
        .strict()
        .optional(),
    )
    .output(z.object({ items: z.array(schedule), next_cursor: z.string().nullable() }))
    .query(({ ctx, input }) =>
      ctx.inTenant((tx) => listSchedules(tx, ctx.tenant.id, { ...input, enabled: input?.enabled === undefined ? undefined : input.enabled === "true" })),
    ),

  get: tenantProcedure
    .meta({ permission: "read:schedule", openapi: { method: "GET", path: "/schedules/{id}", tags: ["schedules"], summary: "One schedule" } })
    .input(z.object({ id: scheduleId }).strict())
    .output(schedule)
    .query(({ ctx, input }) => ctx.inTenant((tx) => getSchedule(tx, input.id))),

  create: tenantProcedure
    .meta({ permission: "create:schedule", openapi: { method: "POST", path: "/schedules", tags: ["schedules"], summary: "Create a schedule for a source (422 for a push source: its data arrives by push, not by runs)" }, rest: { successStatus: 201 } })
    .input(
      z
        .object({
          source_id: z.uuid("must be a source id"),
          cron: cronField,
          timezone: timezoneField.optional(),
          enabled: z.boolean().optional().describe("Default true"),
          ...policyFields,
        })
        .strict(),
    )
    .output(schedule)
    .mutation(({ ctx, input }) => ctx.inTenant((tx) => createSchedule(tx, ctx.tenant.id, input, actorOf(ctx.identity).actor, ctx.auditIn))),

  update: tenantProcedure
    .meta({ permission: "update:schedule", openapi: { method: "PUT", path: "/schedules/{id}", tags: ["schedules"], summary: "Change a schedule's expression, zone or policies (fields left out stay); a new expression or zone starts from now" } })
    .input(z.object({ id: scheduleId, cron: cronField.optional(), timezone: timezoneField.optional(), ...policyFields }).strict())
    .output(schedule)
    .mutation(({ ctx, input }) => {
      const { id, ...changes } = input;
      return ctx.inTenant((tx) => updateSchedule(tx, id, changes, ctx.auditIn));
    }),

  toggle: tenantProcedure
    .meta({ permission: "update:schedule", openapi: { method: "PUT", path: "/schedules/{id}/toggle", tags: ["schedules"], summary: "Enable or disable; enabling starts from now (no catch-up for the disabled time)" } })
    .input(z.object({ id: scheduleId, enabled: z.boolean() }).strict())
    .output(schedule)
    .mutation(({ ctx, input }) => ctx.inTenant((tx) => toggleSchedule(tx, input.id, input.enabled, ctx.auditIn))),

  remove: tenantProcedure
    .meta({ permission: "delete:schedule", openapi: { method: "DELETE", path: "/schedules/{id}", tags: ["schedules"], summary: "Delete a schedule and its tick history (its runs stay)" } })
    .input(z.object({ id: scheduleId }).strict())
    .output(z.object({ ok: z.literal(true), schedule_id: z.string() }))
    .mutation(async ({ ctx, input }) => {
      await ctx.inTenant((tx) => deleteSchedule(tx, input.id, ctx.auditIn));
      return { ok: true as const, schedule_id: input.id };
    }),

  upcoming: tenantProcedure
    .meta({ permission: "read:schedule", openapi: { method: "GET", path: "/schedules/{id}/upcoming", tags: ["schedules"], summary: "The next N fire times: instant, local wall time, UTC offset and what DST did to each" } })
    .input(
      z
        .object({
          id: scheduleId,
          count: z.coerce.number().int().min(1).max(UPCOMING_MAX).optional().describe(`How many, 1–${UPCOMING_MAX} (default 10)`),
          from: z.iso.datetime({ offset: true }).optional().describe("Preview from this instant instead of now (ISO 8601)"),
        })
        .strict(),
    )
    .output(
      z.object({
        schedule_id: z.string(),
        timezone: z.string(),
        description: z.string(),
        enabled: z.boolean(),
        from: z.string(),
        items: z.array(upcomingItem),
      }),
    )
    .query(({ ctx, input }) => ctx.inTenant((tx) => upcomingFires(tx, input.id, input.count ?? 10, input.from ? new Date(input.from) : undefined))),

  ticks: tenantProcedure
    .meta({ permission: "read:schedule", openapi: { method: "GET", path: "/schedules/{id}/ticks", tags: ["schedules"], summary: "Tick history, newest first: each fire time, whether it enqueued a run, and why not" } })
    .input(z.object({ id: scheduleId, outcome: z.enum(["enqueued", "skipped"]).optional(), cursor, limit }).strict())
    .output(z.object({ items: z.array(tick), next_cursor: z.string().nullable() }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => listTicks(tx, input.id, input))),
});
