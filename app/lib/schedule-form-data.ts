// Reading the schedule form: the policy fields as the API takes them.
import type { OverlapPolicy } from "./control-plane";

export function readScheduleForm(form: FormData) {
  const deadline = String(form.get("starting_deadline_seconds") ?? "").trim();
  const timezone = String(form.get("timezone") ?? "").trim();
  return {
    cron: String(form.get("cron") ?? "").trim(),
    ...(timezone ? { timezone } : {}),
    overlap_policy: String(form.get("overlap_policy") ?? "skip") as OverlapPolicy,
    catch_up: (form.get("catch_up") === "none" ? "none" : "once") as "none" | "once",
    ...(deadline ? { starting_deadline_seconds: Number(deadline) } : {}),
  };
}
