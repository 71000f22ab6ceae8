// Cron expressions in an IANA time zone: validation, fire times (DST-aware, via croner), wall-clock rendering and a
// plain-words description of the common shapes.
//
// DST, as croner schedules it (the same rules as Vixie cron), with `fixedTimeRule: "no-wildcard"`:
// - A fixed-time schedule (no `*` and no step in the second/minute/hour fields, e.g. `30 2 * * *` or `0 9,17 * * *`)
//   whose wall time falls in a spring-forward gap fires once at the first valid instant after the gap (02:30 → 03:00
//   on that day); when its wall time occurs twice (fall back) it fires once, at the first occurrence.
// - An interval schedule (`*/15 * * * *`, `0 * * * *`) skips wall times that do not exist and fires on both
//   occurrences of a repeated wall time: those are two distinct instants, an hour apart.
// Either way every fire time is one distinct instant, increasing, never repeated; none is lost except a wall time
// that does not exist and that an interval schedule would only have reached by inventing it.
import { Cron } from "croner";
import { AppError } from "../errors.ts";

export interface ScheduleSpec {
  cron: string;
  timezone: string;
}

/** The canonical IANA name (e.g. `utc` → `UTC`); throws INVALID_INPUT naming `timezone`. */
export function canonicalTimezone(timezone: string): string {
  const tz = timezone.trim();
  if (!tz) throw new AppError("INVALID_INPUT", "timezone: required, an IANA time zone such as Europe/Berlin or UTC");
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    throw new AppError("INVALID_INPUT", `timezone: ${JSON.stringify(tz)} is not an IANA time zone (e.g. America/New_York, Australia/Sydney, UTC)`, { field: "timezone" });
  }
}

function normaliseCron(cron: string): string {
  return cron.trim().split(/\s+/).join(" ");
}

function invalidCron(message: string): AppError {
  return new AppError("INVALID_INPUT", `cron: ${message}`, { field: "cron" });
}

function build(cron: string, timezone: string): Cron {
  return new Cron(cron, { timezone, mode: "5-or-6-parts", fixedTimeRule: "no-wildcard" });
}

/**
 * Validates a cron expression (5 fields `minute hour day-of-month month day-of-week`, or 6 with a leading seconds
 * field) and a time zone, and returns them normalised. Schedules fire at most once a minute, so a seconds field must
 * be a single value; an expression that never fires (e.g. 30 February) is refused.
 */
export function validateSchedule(spec: ScheduleSpec): ScheduleSpec {
  const timezone = canonicalTimezone(spec.timezone);
  const cron = normaliseCron(spec.cron);
  if (!cron) throw invalidCron("required, e.g. `30 2 * * *` (every day at 02:30)");
  if (cron.startsWith("@")) throw invalidCron(`write ${cron} as fields, e.g. @daily is \`0 0 * * *\` and @hourly is \`0 * * * *\``);
  const fields = cron.split(" ");
  if (fields.length !== 5 && fields.length !== 6) throw invalidCron(`${fields.length} fields given; use 5 (minute hour day-of-month month day-of-week) or 6 (a seconds field first)`);
  if (fields.length === 6 && !/^\d{1,2}$/.test(fields[0]!)) throw invalidCron("the seconds field must be one number (0–59): a schedule fires at most once a minute");
  let job: Cron;
  try {
    job = build(cron, timezone);
  } catch (err) {
    throw invalidCron((err as Error).message.replace(/^CronPattern: /, ""));
  }
  if (!job.nextRun(new Date())) throw invalidCron("this expression never fires");
  return { cron, timezone };
}

/** The next `n` fire times strictly after `from`. */
export function nextFireTimes(cron: string, timezone: string, from: Date, n: number): Date[] {
  if (n <= 0) return [];
  return build(cron, timezone).nextRuns(n, from);
}

/** The first fire time strictly after `from`, or null when there is none. */
export function nextFireAfter(cron: string, timezone: string, from: Date): Date | null {
  return build(cron, timezone).nextRun(from);
}

/** croner walks about 20 000 fire times a second; a backlog longer than this is counted as "more than". */
export const BACKLOG_SCAN_LIMIT = 2_000;

export interface Backlog {
  /** How many fire times lie in [from, to] (a lower bound when `countIsLowerBound`). */
  count: number;
  countIsLowerBound: boolean;
  /** The last `keep` of them, oldest first. */
  latest: Date[];
}

/** Fire times in [from, to], both inclusive: how many, and the most recent `keep`. Bounded work on any backlog. */
export function backlog(cron: string, timezone: string, from: Date, to: Date, keep: number): Backlog {
  if (to < from) return { count: 0, countIsLowerBound: false, latest: [] };
  const job = build(cron, timezone);
  const latest: Date[] = [];
  let count = 0;
  let cursor: Date | null = new Date(from.getTime() - 1);
  while ((cursor = job.nextRun(cursor)) && cursor <= to) {
    count++;
    latest.push(cursor);
    if (latest.length > keep) latest.shift();
    if (count >= BACKLOG_SCAN_LIMIT) {
      // Too long to walk: take the newest ones by walking back from `to` instead.
      const recent = job
        .previousRuns(keep, new Date(to.getTime() + 1))
        .filter((d) => d >= from)
        .reverse();
      return { count: Math.max(count, recent.length), countIsLowerBound: true, latest: recent };
    }
  }
  return { count, countIsLowerBound: false, latest };
}

/** The first fire times in [from, to], oldest first, at most `limit`. */
export function firstFireTimes(cron: string, timezone: string, from: Date, to: Date, limit: number): Date[] {
  const job = build(cron, timezone);
  const out: Date[] = [];
  let cursor: Date | null = new Date(from.getTime() - 1);
  while (out.length < limit && (cursor = job.nextRun(cursor)) && cursor <= to) out.push(cursor);
  return out;
}

const partsFormat = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timezone: string): Intl.DateTimeFormat {
  let f = partsFormat.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: timezone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    partsFormat.set(timezone, f);
  }
  return f;
}

export interface WallClock {
  /** Local date and time in the zone, ISO 8601 without offset: `2025-03-09T03:00:00`. */
  local_time: string;
  /** The zone's offset from UTC at that instant: `-04:00`. */
  utc_offset: string;
}

export function wallClock(instant: Date, timezone: string): WallClock {
  const p = Object.fromEntries(formatterFor(timezone).formatToParts(instant).map((x) => [x.type, x.value])) as Record<string, string>;
  const local_time = `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  const minutes = Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return { local_time, utc_offset: `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}` };
}

/**
 * What a DST transition did to one fire time, for the preview: `gap_shifted` (the wall time does not exist that day,
 * so it fires at the first instant after the gap), `repeated_first` / `repeated_second` (the wall time occurs twice
 * that day and this is the first / second occurrence), or null.
 */
export type DstNote = "gap_shifted" | "repeated_first" | "repeated_second" | null;

export function dstNote(cron: string, timezone: string, fire: Date): DstNote {
  if (!build(cron, timezone).match(fire)) return "gap_shifted";
  const here = wallClock(fire, timezone).local_time;
  // DST shifts are 30 or 60 minutes in every zone in use.
  for (const minutes of [60, 30]) {
    const ms = minutes * 60_000;
    if (wallClock(new Date(fire.getTime() + ms), timezone).local_time === here) return "repeated_first";
    if (wallClock(new Date(fire.getTime() - ms), timezone).local_time === here) return "repeated_second";
  }
  return null;
}

// ---- plain-words description -------------------------------------------------------------------------------------

const dayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const dowAlias: Record<string, string> = { SUN: "0", MON: "1", TUE: "2", WED: "3", THU: "4", FRI: "5", SAT: "6" };
const monAlias: Record<string, string> = { JAN: "1", FEB: "2", MAR: "3", APR: "4", MAY: "5", JUN: "6", JUL: "7", AUG: "8", SEP: "9", OCT: "10", NOV: "11", DEC: "12" };

const NUM = /^\d{1,2}$/;
const NUM_LIST = /^\d{1,2}(,\d{1,2})*$/;
const STEP = /^\*\/(\d{1,2})$/;

function numbers(field: string): number[] {
  return field.split(",").map(Number);
}

/** Expands `a-b` ranges in a plain list (no steps), or returns null. */
function expandList(field: string): number[] | null {
  const out: number[] = [];
  for (const part of field.split(",")) {
    const range = /^(\d{1,2})-(\d{1,2})$/.exec(part);
    if (range) {
      const [lo, hi] = [Number(range[1]), Number(range[2])];
      if (lo > hi) return null;
      for (let i = lo; i <= hi; i++) out.push(i);
    } else if (NUM.test(part)) out.push(Number(part));
    else return null;
  }
  return out;
}

function joinWords(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}

function two(n: number): string {
  return String(n).padStart(2, "0");
}

/**
 * A short human description: "every 15 minutes", "at minute 0 of every hour", "every day at 02:30 (America/New_York)",
 * "weekdays at 09:00 (Europe/Berlin)". Shapes it does not know are described as the expression itself.
 */
export function describeCron(cron: string, timezone: string): string {
  const fields = normaliseCron(cron).toUpperCase().split(" ");
  const fallback = `cron ${normaliseCron(cron)} (${timezone})`;
  if (fields.length !== 5 && fields.length !== 6) return fallback;
  const second = fields.length === 6 ? Number(fields[0]) : 0;
  const [minute, hour, dom, month, dowRaw] = fields.slice(fields.length - 5) as [string, string, string, string, string];
  const dow = dowRaw.replace(/[A-Z]{3}/g, (m) => dowAlias[m] ?? m).replace(/\b7\b/g, "0");
  const mon = month.replace(/[A-Z]{3}/g, (m) => monAlias[m] ?? m);
  const everyDay = dom === "*" && mon === "*" && dow === "*";
  const atSecond = second ? ` at second ${second}` : "";
  const zone = ` (${timezone})`;

  if (hour === "*" && everyDay) {
    if (minute === "*") return `every minute${atSecond}`;
    const step = STEP.exec(minute);
    if (step) return Number(step[1]) === 1 ? `every minute${atSecond}` : `every ${Number(step[1])} minutes${atSecond}`;
    if (NUM.test(minute)) return `at minute ${Number(minute)}${second ? `:${two(second)}` : ""} of every hour`;
    if (NUM_LIST.test(minute)) return `at minutes ${joinWords(numbers(minute).map(String))} of every hour`;
    return fallback;
  }
  const hourStep = STEP.exec(hour);
  if (hourStep && NUM.test(minute) && everyDay) {
    const n = Number(hourStep[1]);
    return `${n === 1 ? "every hour" : `every ${n} hours`} at minute ${Number(minute)}${zone}`;
  }
  if (!NUM.test(minute) || !NUM_LIST.test(hour)) return fallback;

  const times = joinWords(numbers(hour).map((h) => `${two(h)}:${two(Number(minute))}${second ? `:${two(second)}` : ""}`));
  if (everyDay) return `every day at ${times}${zone}`;
  if (dom === "*" && mon === "*") {
    const days = expandList(dow);
    if (!days || days.some((d) => d > 6)) return fallback;
    const set = [...new Set(days)].sort((a, b) => a - b);
    if (set.join(",") === "1,2,3,4,5") return `weekdays at ${times}${zone}`;
    if (set.join(",") === "0,6") return `weekends at ${times}${zone}`;
    return `every ${joinWords(set.map((d) => dayNames[d]!))} at ${times}${zone}`;
  }
  if (dow === "*" && NUM_LIST.test(dom)) {
    const days = numbers(dom).map(String);
    if (mon === "*") return `on day${days.length > 1 ? "s" : ""} ${joinWords(days)} of every month at ${times}${zone}`;
    if (NUM.test(mon) && Number(mon) >= 1 && Number(mon) <= 12) return `every year on ${joinWords(days)} ${monthNames[Number(mon) - 1]} at ${times}${zone}`;
  }
  return fallback;
}
