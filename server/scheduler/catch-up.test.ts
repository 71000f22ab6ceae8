// Catch-up after downtime: `once` collapses a backlog to one run, `none` never runs a fire past its deadline.
import { describe, expect, it } from "vitest";
import { MAX_RUNS_PER_DECISION, MAX_SKIP_ROWS, planFires, type PlanInput } from "./catch-up.ts";

const base = { cron: "*/15 * * * *", timezone: "UTC", startingDeadlineSeconds: 3600, from: new Date("2025-06-01T00:00:00Z"), now: new Date("2025-06-01T10:30:20Z") };
const summary = (input: PlanInput) => {
  const plan = planFires(input);
  const count = (pred: (d: (typeof plan.decisions)[number]) => boolean) => plan.decisions.filter(pred).length;
  return { plan, runs: plan.decisions.filter((d) => d.action === "run").map((d) => d.fireTime.toISOString()), collapsed: count((d) => d.reason === "catch_up_collapsed"), missed: count((d) => d.reason === "missed_deadline") };
};

describe("planFires", () => {
  it("an on-time tick runs its one fire under either policy", () => {
    for (const catchUp of ["none", "once"] as const) {
      const s = summary({ ...base, catchUp, from: new Date("2025-06-01T10:30:00Z") });
      expect(s.runs).toEqual(["2025-06-01T10:30:00.000Z"]);
      expect(s.plan.decisions).toHaveLength(1);
    }
  });

  it("once: ten and a half hours of downtime cost one run, the rest are collapsed", () => {
    const s = summary({ ...base, catchUp: "once" });
    expect(s.runs).toEqual(["2025-06-01T10:30:00.000Z"]);
    expect(s.collapsed).toBe(42);
    expect(s.missed).toBe(0);
  });

  it("once: the most recent missed fire past its deadline is skipped, not run", () => {
    const s = summary({ ...base, catchUp: "once", startingDeadlineSeconds: 10 });
    expect(s.runs).toEqual([]);
    const last = s.plan.decisions[s.plan.decisions.length - 1]!;
    expect(last).toMatchObject({ action: "skip", reason: "missed_deadline" });
    expect(last.detail).toContain("decided 20s after its fire time; the starting deadline is 10s");
  });

  it("none: fires within the deadline run, older ones missed their deadline", () => {
    const s = summary({ ...base, catchUp: "none" });
    // 09:30:20 is the edge: 09:45, 10:00, 10:15, 10:30 are within an hour of now.
    expect(s.runs).toEqual(["09:45", "10:00", "10:15", "10:30"].map((t) => `2025-06-01T${t}:00.000Z`));
    expect(s.missed).toBe(39);
    expect(s.collapsed).toBe(0);
  });

  it("none with a deadline shorter than the interval: a fire missed while down never runs", () => {
    const s = summary({ ...base, catchUp: "none", startingDeadlineSeconds: 10 });
    expect(s.runs).toEqual([]);
    expect(s.missed).toBe(43);
  });

  it("writes at most MAX_SKIP_ROWS skip rows and says how many more there were", () => {
    const s = summary({ ...base, cron: "* * * * *", catchUp: "once", from: new Date("2025-05-31T00:00:00Z") });
    expect(s.runs).toEqual(["2025-06-01T10:30:00.000Z"]);
    expect(s.collapsed).toBe(MAX_SKIP_ROWS);
    // 34 h 30 min of minutes = 2071 fires: 100 recorded, 1 ran, the rest summarised on the oldest recorded row.
    expect(s.plan.decisions[0]!.detail).toMatch(/more than \d+ earlier fire times since 2025-05-31T00:00:00.000Z were collapsed too/);
    const exact = summary({ ...base, cron: "* * * * *", catchUp: "none", startingDeadlineSeconds: 60, from: new Date("2025-06-01T08:00:00Z") });
    expect(exact.missed).toBe(MAX_SKIP_ROWS);
    expect(exact.plan.decisions[0]!.detail).toContain("; 50 earlier fire times since 2025-06-01T08:00:00.000Z missed the deadline too");
    expect(exact.runs).toEqual(["2025-06-01T10:30:00.000Z"]);
  });

  it("none: a long on-time backlog runs in bounded batches and resumes where it stopped", () => {
    const plan = planFires({ ...base, cron: "* * * * *", catchUp: "none", startingDeadlineSeconds: 86_400, from: new Date("2025-06-01T00:00:00Z") });
    expect(plan.decisions.filter((d) => d.action === "run")).toHaveLength(MAX_RUNS_PER_DECISION);
    expect(plan.resumeAt?.toISOString()).toBe("2025-06-01T01:40:00.000Z");
  });
});
