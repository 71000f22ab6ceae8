// The scheduler: every web replica ticks once a second; each due schedule is decided by exactly one of them.
//
// Exactly-once per fire time rests on two things: replicas split the due schedules by locking each schedule row with
// FOR UPDATE SKIP LOCKED inside its tenant transaction, and every decided fire time inserts a schedule_ticks row whose
// UNIQUE (schedule_id, fire_time) key refuses a second decision. The tick row, the run and its job are written in the
// same transaction, so they exist together or not at all.
import os from "node:os";
import { and, eq, lte, sql } from "drizzle-orm";
import { Cron } from "croner";
import type { Runtime } from "../runtime.ts";
import { withTenant, type Tx } from "../../db/tenant.ts";
import { scheduleTicks, schedules } from "../../db/schema/index.ts";
import { AppError } from "../errors.ts";
import { createRun } from "../domain/runs/create-run.service.ts";
import { nextFireAfter } from "./cron.ts";
import { planFires, type FireDecision } from "./catch-up.ts";
import { startExceptionSweep } from "../findings/exception-sweep.ts";

/** How many due schedules one tick looks at (the rest are found by the next tick, a second later). */
export const DUE_BATCH = 100;
/** A schedule whose decision failed unexpectedly is retried after this long, not every second. */
export const FAILURE_BACKOFF_MS = 30_000;

export type TickReason = "overlap" | "source_disabled" | "source_deleted" | "unsupported" | "missed_deadline" | "catch_up_collapsed";

export interface TickOptions {
  /** Who decided (recorded on every tick row). */
  decidedBy?: string;
  limit?: number;
  /** Schedule id → epoch ms before which it is not retried after an unexpected failure. Owned by the caller. */
  backoff?: Map<string, number>;
}

export interface TickResult {
  /** Due schedules found. */
  due: number;
  /** Schedules this scheduler locked and decided. */
  decided: number;
  enqueued: number;
  skipped: number;
  failed: number;
}

type ScheduleRow = typeof schedules.$inferSelect;

export function defaultSchedulerId(rt: Pick<Runtime, "mode">): string {
  return `scheduler:${os.hostname()}:${rt.mode}:${process.pid}`;
}

/** The database's clock: every replica agrees on it, whatever their own clocks say. */
export async function databaseNow(db: Pick<Tx, "execute">): Promise<Date> {
  const [row] = await db.execute<{ now: Date | string }>(sql`select clock_timestamp() as now`);
  return new Date(row!.now);
}

/** "code" or "code: detail" — the tick's reason column; the API splits it back into reason and detail. */
export function reasonText(reason: string, detail?: string | null): string {
  return detail ? `${reason}: ${detail}` : reason;
}

export function splitReason(text: string | null): { reason: string | null; detail: string | null } {
  if (!text) return { reason: null, detail: null };
  const at = text.indexOf(": ");
  return at < 0 ? { reason: text, detail: null } : { reason: text.slice(0, at), detail: text.slice(at + 2) };
}

/** One pass: find due schedules across tenants and decide each one that no other scheduler is deciding right now. */
export async function tickOnce(rt: Runtime, now?: Date, opts: TickOptions = {}): Promise<TickResult> {
  const at = now ?? (await databaseNow(rt.db.db));
  const decidedBy = opts.decidedBy ?? defaultSchedulerId(rt);
  const due = await rt.db.db.execute<{ id: string; tenant_id: string }>(sql`select id, tenant_id from cairn_due_schedules(${at.toISOString()}::timestamptz, ${opts.limit ?? DUE_BATCH})`);
  const result: TickResult = { due: due.length, decided: 0, enqueued: 0, skipped: 0, failed: 0 };
  for (const { id, tenant_id: tenantId } of due) {
    const retryAt = opts.backoff?.get(id);
    if (retryAt !== undefined && retryAt > Date.now()) continue;
    try {
      const outcome = await withTenant(rt.db, tenantId, (tx) => decideSchedule(tx, id, at, decidedBy));
      opts.backoff?.delete(id);
      if (!outcome) continue;
      result.decided++;
      result.enqueued += outcome.enqueued;
      result.skipped += outcome.skipped;
    } catch (err) {
      result.failed++;
      opts.backoff?.set(id, Date.now() + FAILURE_BACKOFF_MS);
      rt.log.error({ err, schedule_id: id, tenant_id: tenantId }, "scheduler: deciding a schedule failed; it is retried later");
    }
  }
  return result;
}

/** Decides every due fire time of one schedule, in the caller's tenant transaction. Null: not ours (locked or no longer due). */
async function decideSchedule(tx: Tx, scheduleId: string, now: Date, decidedBy: string): Promise<{ enqueued: number; skipped: number } | null> {
  const [schedule] = await tx
    .select()
    .from(schedules)
    .where(and(eq(schedules.id, scheduleId), eq(schedules.enabled, true), lte(schedules.nextRunAt, now)))
    .for("update", { skipLocked: true });
  if (!schedule?.nextRunAt) return null;

  const plan = planFires({ cron: schedule.cron, timezone: schedule.timezone, catchUp: schedule.catchUp, startingDeadlineSeconds: schedule.startingDeadlineSeconds, from: schedule.nextRunAt, now });
  let enqueued = 0;
  let skipped = 0;
  let last: { fireTime: Date; outcome: string } | null = null;
  let lastRun: { id: string; at: Date } | null = null;
  for (const decision of plan.decisions) {
    const decided = await decideFire(tx, schedule, decision, decidedBy);
    if (!decided) continue;
    last = { fireTime: decision.fireTime, outcome: decided.outcome === "enqueued" ? "enqueued" : `skipped:${decided.reason}` };
    if (decided.outcome === "enqueued") {
      enqueued++;
      lastRun = { id: decided.runId!, at: decided.runAt! };
    } else skipped++;
  }

  const nextRunAt = plan.resumeAt ?? nextFireAfter(schedule.cron, schedule.timezone, now);
  await tx
    .update(schedules)
    .set({
      nextRunAt,
      ...(last ? { lastFireAt: last.fireTime, lastOutcome: last.outcome } : {}),
      ...(lastRun ? { lastRunAt: lastRun.at, lastRunId: lastRun.id } : {}),
    })
    .where(eq(schedules.id, schedule.id));
  return { enqueued, skipped };
}

interface Decided {
  outcome: "enqueued" | "skipped";
  reason?: TickReason;
  runId?: string;
  runAt?: Date;
}

/** Records one fire time: the tick row first (the exactly-once claim), then the run. Null: already decided elsewhere. */
async function decideFire(tx: Tx, schedule: ScheduleRow, decision: FireDecision, decidedBy: string): Promise<Decided | null> {
  const base = { tenantId: schedule.tenantId, scheduleId: schedule.id, fireTime: decision.fireTime, decidedBy };
  if (decision.action === "skip") {
    const inserted = await tx
      .insert(scheduleTicks)
      .values({ ...base, outcome: "skipped", reason: reasonText(decision.reason!, decision.detail) })
      .onConflictDoNothing({ target: [scheduleTicks.scheduleId, scheduleTicks.fireTime] })
      .returning({ id: scheduleTicks.id });
    return inserted.length ? { outcome: "skipped", reason: decision.reason! } : null;
  }

  const [tick] = await tx
    .insert(scheduleTicks)
    .values({ ...base, outcome: "enqueued" })
    .onConflictDoNothing({ target: [scheduleTicks.scheduleId, scheduleTicks.fireTime] })
    .returning({ id: scheduleTicks.id });
  if (!tick) return null;

  let decided: Decided;
  let detail: string | null = null;
  try {
    // A savepoint: a refusal from createRun leaves this transaction (and the tick row) usable.
    const result = await tx.transaction((sp) =>
      createRun(sp, {
        tenantId: schedule.tenantId,
        sourceId: schedule.sourceId,
        trigger: "schedule",
        requestedBy: `schedule:${schedule.id}`,
        overlapPolicy: schedule.overlapPolicy,
        scheduleId: schedule.id,
        fireTime: decision.fireTime,
        idempotencyKey: `schedule:${schedule.id}:${decision.fireTime.toISOString()}`,
      }),
    );
    if (result.status === "skipped") {
      decided = { outcome: "skipped", reason: "overlap" };
      detail = `run ${result.activeRunId} is still queued or running`;
    } else {
      decided = { outcome: "enqueued", runId: result.run.id, runAt: result.run.createdAt };
    }
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    const reason = ({ CONFLICT: "source_disabled", UNSUPPORTED: "unsupported", NOT_FOUND: "source_deleted" } as const)[err.code as "CONFLICT" | "UNSUPPORTED" | "NOT_FOUND"];
    if (!reason) throw err;
    decided = { outcome: "skipped", reason };
    detail = err.message;
  }
  await tx
    .update(scheduleTicks)
    .set({ outcome: decided.outcome, reason: decided.reason ? reasonText(decided.reason, detail) : null, runId: decided.runId ?? null })
    .where(eq(scheduleTicks.id, tick.id));
  return decided;
}

export interface Scheduler {
  /** Stops ticking and waits for the tick in flight (call before the database pool closes). */
  stop(): Promise<void>;
}

export interface SchedulerOptions {
  id?: string;
  /** Cron pattern of the tick itself; every second by default. */
  pattern?: string;
}

/** Starts ticking (web and all modes run one per process; any number of replicas may run at once). */
export function startScheduler(rt: Runtime, opts: SchedulerOptions = {}): Scheduler {
  const log = rt.log.child({ component: "scheduler" });
  const decidedBy = opts.id ?? defaultSchedulerId(rt);
  const backoff = new Map<string, number>();
  let inFlight: Promise<void> = Promise.resolve();
  let lastErrorLoggedAt = 0;

  const tick = async () => {
    if (rt.draining) return;
    try {
      const r = await tickOnce(rt, undefined, { decidedBy, backoff });
      if (r.enqueued || r.skipped) log.info(r, "scheduler tick");
    } catch (err) {
      // Usually the database is unreachable or migrations are behind: say so once a minute, not once a second.
      if (Date.now() - lastErrorLoggedAt > 60_000) {
        lastErrorLoggedAt = Date.now();
        log.error({ err }, "scheduler tick failed; retrying every second");
      }
    }
  };

  const job = new Cron(
    opts.pattern ?? "* * * * * *",
    {
      protect: true,
      catch: (err) => log.error({ err }, "scheduler tick threw"),
    },
    () => {
      inFlight = tick();
      return inFlight;
    },
  );
  log.info({ id: decidedBy }, "scheduler started");
  // Expired finding exceptions are swept on the same replicas, every 30 seconds.
  const exceptionSweep = startExceptionSweep(rt);

  return {
    async stop() {
      job.stop();
      await exceptionSweep.stop();
      await inFlight;
      log.info("scheduler stopped");
    },
  };
}
