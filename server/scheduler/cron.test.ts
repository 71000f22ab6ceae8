// Cron + time zone: what users see in the preview and what the scheduler fires, across DST in both hemispheres.
import { describe, expect, it } from "vitest";
import { AppError } from "../errors.ts";
import { backlog, BACKLOG_SCAN_LIMIT, canonicalTimezone, describeCron, dstNote, firstFireTimes, nextFireTimes, validateSchedule, wallClock } from "./cron.ts";

function preview(cron: string, tz: string, from: string, n: number) {
  return nextFireTimes(cron, tz, new Date(from), n).map((f) => ({ at: f.toISOString(), ...wallClock(f, tz), dst: dstNote(cron, tz, f) }));
}

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("expected an AppError");
}

describe("validation", () => {
  it("accepts 5 and 6 fields and normalises zone and spacing", () => {
    expect(validateSchedule({ cron: " 30  2 * * * ", timezone: "America/New_York" })).toEqual({ cron: "30 2 * * *", timezone: "America/New_York" });
    expect(validateSchedule({ cron: "15 0 9 * * MON-FRI", timezone: "utc" })).toEqual({ cron: "15 0 9 * * MON-FRI", timezone: "UTC" });
  });

  it("names the cron field for a bad expression", () => {
    for (const cron of ["", "61 * * * *", "* * *", "* * * * * * *", "0 0 30 2 *", "@daily", "*/5 * * * * *", "not cron"]) {
      const err = errorOf(() => validateSchedule({ cron, timezone: "UTC" }));
      expect(err.code, cron).toBe("INVALID_INPUT");
      expect(err.message, cron).toMatch(/^cron: /);
    }
    expect(errorOf(() => validateSchedule({ cron: "0 0 30 2 *", timezone: "UTC" })).message).toContain("never fires");
  });

  it("names the timezone field for a zone that does not exist", () => {
    for (const timezone of ["Mars/Olympus_Mons", "", "America/New York"]) {
      const err = errorOf(() => validateSchedule({ cron: "0 * * * *", timezone }));
      expect(err.code).toBe("INVALID_INPUT");
      expect(err.message).toMatch(/^timezone: /);
    }
    expect(canonicalTimezone("Australia/Sydney")).toBe("Australia/Sydney");
  });
});

describe("DST in America/New_York (spring forward 2025-03-09, fall back 2025-11-02)", () => {
  it("a fixed time inside the gap fires once, at the first instant after it", () => {
    expect(preview("30 2 * * *", "America/New_York", "2025-03-07T12:00:00Z", 3)).toEqual([
      { at: "2025-03-08T07:30:00.000Z", local_time: "2025-03-08T02:30:00", utc_offset: "-05:00", dst: null },
      { at: "2025-03-09T07:00:00.000Z", local_time: "2025-03-09T03:00:00", utc_offset: "-04:00", dst: "gap_shifted" },
      { at: "2025-03-10T06:30:00.000Z", local_time: "2025-03-10T02:30:00", utc_offset: "-04:00", dst: null },
    ]);
  });

  it("a list of fixed times behaves like each single one (02:30 still runs on the gap day)", () => {
    const at = nextFireTimes("30 2,14 * * *", "America/New_York", new Date("2025-03-08T12:00:00Z"), 3).map((d) => d.toISOString());
    expect(at).toEqual(["2025-03-08T19:30:00.000Z", "2025-03-09T07:00:00.000Z", "2025-03-09T18:30:00.000Z"]);
  });

  it("a fixed time in the repeated hour fires once, at the first occurrence", () => {
    expect(preview("30 1 * * *", "America/New_York", "2025-11-01T12:00:00Z", 2)).toEqual([
      { at: "2025-11-02T05:30:00.000Z", local_time: "2025-11-02T01:30:00", utc_offset: "-04:00", dst: "repeated_first" },
      { at: "2025-11-03T06:30:00.000Z", local_time: "2025-11-03T01:30:00", utc_offset: "-05:00", dst: null },
    ]);
  });

  it("an interval schedule runs through the repeated hour: same wall times, distinct instants", () => {
    const items = preview("*/30 1 * * *", "America/New_York", "2025-11-02T04:00:00Z", 4);
    expect(items.map((i) => [i.local_time, i.utc_offset, i.dst])).toEqual([
      ["2025-11-02T01:00:00", "-04:00", "repeated_first"],
      ["2025-11-02T01:30:00", "-04:00", "repeated_first"],
      ["2025-11-02T01:00:00", "-05:00", "repeated_second"],
      ["2025-11-02T01:30:00", "-05:00", "repeated_second"],
    ]);
    expect(new Set(items.map((i) => i.at)).size).toBe(4);
  });

  it("an interval schedule skips wall times that do not exist, and nothing else", () => {
    const at = nextFireTimes("*/30 * * * *", "America/New_York", new Date("2025-03-09T06:00:00Z"), 4).map((d) => wallClock(d, "America/New_York").local_time);
    expect(at).toEqual(["2025-03-09T01:30:00", "2025-03-09T03:00:00", "2025-03-09T03:30:00", "2025-03-09T04:00:00"]);
  });
});

describe("DST in Australia/Sydney (southern hemisphere: fall back 2025-04-06, spring forward 2025-10-05)", () => {
  it("spring forward in October shifts 02:30 to 03:00 AEDT", () => {
    expect(preview("30 2 * * *", "Australia/Sydney", "2025-10-03T00:00:00Z", 3)).toEqual([
      { at: "2025-10-03T16:30:00.000Z", local_time: "2025-10-04T02:30:00", utc_offset: "+10:00", dst: null },
      { at: "2025-10-04T16:00:00.000Z", local_time: "2025-10-05T03:00:00", utc_offset: "+11:00", dst: "gap_shifted" },
      { at: "2025-10-05T15:30:00.000Z", local_time: "2025-10-06T02:30:00", utc_offset: "+11:00", dst: null },
    ]);
  });

  it("fall back in April runs 02:30 once, in daylight time", () => {
    expect(preview("30 2 * * *", "Australia/Sydney", "2025-04-04T00:00:00Z", 3)).toEqual([
      { at: "2025-04-04T15:30:00.000Z", local_time: "2025-04-05T02:30:00", utc_offset: "+11:00", dst: null },
      { at: "2025-04-05T15:30:00.000Z", local_time: "2025-04-06T02:30:00", utc_offset: "+11:00", dst: "repeated_first" },
      { at: "2025-04-06T16:30:00.000Z", local_time: "2025-04-07T02:30:00", utc_offset: "+10:00", dst: null },
    ]);
  });
});

describe("fire times across a span", () => {
  it("is strictly increasing with no duplicate instant over a year of DST changes", () => {
    for (const [cron, tz] of [
      ["*/15 * * * *", "America/New_York"],
      ["30 2 * * *", "Australia/Sydney"],
      ["0 * * * *", "Australia/Lord_Howe"],
    ] as const) {
      const fires = firstFireTimes(cron, tz, new Date("2025-01-01T00:00:00Z"), new Date("2026-01-01T00:00:00Z"), 40_000);
      for (let i = 1; i < fires.length; i++) expect(fires[i]!.getTime(), `${cron} ${tz} #${i}`).toBeGreaterThan(fires[i - 1]!.getTime());
    }
  });

  it("both ends inclusive, and a long backlog is bounded work", () => {
    const from = new Date("2025-01-01T00:00:00Z");
    const b = backlog("0 * * * *", "UTC", from, new Date("2025-01-01T03:00:00Z"), 10);
    expect(b).toEqual({ count: 4, countIsLowerBound: false, latest: [0, 1, 2, 3].map((h) => new Date(Date.UTC(2025, 0, 1, h))) });
    // A year of minutes: the scan stops at its limit and says the count is a lower bound (bounded work).
    const long = backlog("* * * * *", "UTC", from, new Date("2025-12-31T23:59:30Z"), 3);
    expect(long.countIsLowerBound).toBe(true);
    expect(long.count).toBe(BACKLOG_SCAN_LIMIT);
    expect(long.latest.map((d) => d.toISOString())).toEqual(["2025-12-31T23:57:00.000Z", "2025-12-31T23:58:00.000Z", "2025-12-31T23:59:00.000Z"]);
  });
});

describe("description", () => {
  it.each([
    ["30 2 * * *", "America/New_York", "every day at 02:30 (America/New_York)"],
    ["*/15 * * * *", "UTC", "every 15 minutes"],
    ["* * * * *", "UTC", "every minute"],
    ["0 * * * *", "UTC", "at minute 0 of every hour"],
    ["0,30 * * * *", "UTC", "at minutes 0 and 30 of every hour"],
    ["5 */6 * * *", "Europe/Berlin", "every 6 hours at minute 5 (Europe/Berlin)"],
    ["0 9 * * 1-5", "Europe/Berlin", "weekdays at 09:00 (Europe/Berlin)"],
    ["0 9 * * MON-FRI", "Europe/Berlin", "weekdays at 09:00 (Europe/Berlin)"],
    ["0 10 * * SAT,SUN", "UTC", "weekends at 10:00 (UTC)"],
    ["0 8 * * 1,4", "UTC", "every Monday and Thursday at 08:00 (UTC)"],
    ["30 2,14 * * *", "UTC", "every day at 02:30 and 14:30 (UTC)"],
    ["0 6 1 * *", "UTC", "on day 1 of every month at 06:00 (UTC)"],
    ["0 6 1,15 * *", "UTC", "on days 1 and 15 of every month at 06:00 (UTC)"],
    ["0 0 1 1 *", "UTC", "every year on 1 January at 00:00 (UTC)"],
    ["15 0 9 * * *", "UTC", "every day at 09:00:15 (UTC)"],
    ["0 0 L * *", "UTC", "cron 0 0 L * * (UTC)"],
  ])("%s in %s", (cron, tz, text) => {
    expect(describeCron(cron, tz)).toBe(text);
  });
});
