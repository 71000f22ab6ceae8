// Which of a schedule's due fire times run and which are recorded as skipped, by its catch-up policy and starting
// deadline. Pure: the scheduler applies the plan inside the schedule's tenant transaction.
import { backlog, firstFireTimes } from "./cron.ts";

/** At most this many skip rows are written for one backlog; the oldest written row carries the count of the rest. */
export const MAX_SKIP_ROWS = 100;
/** At most this many fire times start runs in one decision (`none` with a long deadline); the rest wait a tick. */
export const MAX_RUNS_PER_DECISION = 100;

export type SkipReason = "missed_deadline" | "catch_up_collapsed";

export interface FireDecision {
  fireTime: Date;
  action: "run" | "skip";
  reason?: SkipReason;
  detail?: string;
}

export interface FirePlan {
  /** Oldest first. */
  decisions: FireDecision[];
  /** Where the next decision starts when this one stopped early (a bounded batch), else null: the next fire after now. */
  resumeAt: Date | null;
}

export interface PlanInput {
  cron: string;
  timezone: string;
  catchUp: "none" | "once";
  startingDeadlineSeconds: number;
  /** The earliest fire time not yet decided (the schedule's next_run_at). */
  from: Date;
  now: Date;
}

function lateBy(fire: Date, now: Date): string {
  return `decided ${Math.round((now.getTime() - fire.getTime()) / 1000)}s after its fire time`;
}

function omittedNote(omitted: number, lowerBound: boolean, since: Date, verb: string): string {
  return `${lowerBound ? "more than " : ""}${omitted} earlier fire time${omitted === 1 && !lowerBound ? "" : "s"} since ${since.toISOString()} ${verb} too, without a row each`;
}

/**
 * `once`: only the most recent due fire time is a candidate. It runs if it is within the starting deadline, else it is
 * skipped as `missed_deadline`; every earlier one is skipped as `catch_up_collapsed`. A downtime of any length costs at
 * most one run.
 *
 * `none`: no collapsing — each fire time is judged alone: it runs if the scheduler reaches it within the starting
 * deadline, and is skipped as `missed_deadline` otherwise. With the usual deadline (shorter than the cron interval)
 * that means a fire missed during downtime never runs.
 */
export function planFires(input: PlanInput): FirePlan {
  const { cron, timezone, from, now } = input;
  const deadlineMs = input.startingDeadlineSeconds * 1000;
  const deadlineNote = `the starting deadline is ${input.startingDeadlineSeconds}s`;

  if (input.catchUp === "once") {
    const due = backlog(cron, timezone, from, now, MAX_SKIP_ROWS + 1);
    const latest = due.latest[due.latest.length - 1];
    if (!latest) return { decisions: [], resumeAt: null };
    const collapsed = due.latest.slice(0, -1);
    const decisions: FireDecision[] = collapsed.map((fireTime) => ({ fireTime, action: "skip", reason: "catch_up_collapsed", detail: "a later fire time ran (or was judged) in its place" }));
    const omitted = due.count - 1 - collapsed.length;
    if (omitted > 0 && decisions[0]) decisions[0].detail = `${decisions[0].detail}; ${omittedNote(omitted, due.countIsLowerBound, from, "were collapsed")}`;
    if (now.getTime() - latest.getTime() <= deadlineMs) decisions.push({ fireTime: latest, action: "run" });
    else decisions.push({ fireTime: latest, action: "skip", reason: "missed_deadline", detail: `${lateBy(latest, now)}; ${deadlineNote}` });
    return { decisions, resumeAt: null };
  }

  const edge = new Date(now.getTime() - deadlineMs);
  const decisions: FireDecision[] = [];
  if (from < edge) {
    const late = backlog(cron, timezone, from, new Date(Math.min(now.getTime(), edge.getTime() - 1)), MAX_SKIP_ROWS);
    for (const fireTime of late.latest) decisions.push({ fireTime, action: "skip", reason: "missed_deadline", detail: `${lateBy(fireTime, now)}; ${deadlineNote}` });
    const omitted = late.count - late.latest.length;
    if (omitted > 0 && decisions[0]) decisions[0].detail = `${decisions[0].detail}; ${omittedNote(omitted, late.countIsLowerBound, from, "missed the deadline")}`;
  }
  const onTime = firstFireTimes(cron, timezone, from < edge ? edge : from, now, MAX_RUNS_PER_DECISION + 1);
  for (const fireTime of onTime.slice(0, MAX_RUNS_PER_DECISION)) decisions.push({ fireTime, action: "run" });
  return { decisions, resumeAt: onTime[MAX_RUNS_PER_DECISION] ?? null };
}
