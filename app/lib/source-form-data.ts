// Reading the source form on the server: JSON scope and key=value labels parsed, empty fields left out.
import { parseJsonObject, parseLabels, type OverlapPolicy } from "./control-plane";

export interface SourceFields {
  display_name: string;
  owner: string;
  scope: Record<string, unknown>;
  labels: Record<string, string>;
  credential_mode: "none" | "credential_ref";
  credential_ref_id: string | null;
  overlap_policy: OverlapPolicy;
  time_budget_seconds?: number;
}

export function readSourceForm(form: FormData): { ok: true; fields: SourceFields } | { ok: false; error: string } {
  const scope = parseJsonObject(String(form.get("scope") ?? ""), "scope");
  if (!scope.ok) return { ok: false, error: scope.message };
  const labels = parseLabels(String(form.get("labels") ?? ""));
  if (!labels.ok) return { ok: false, error: labels.message };
  const mode = form.get("credential_mode") === "credential_ref" ? "credential_ref" : "none";
  const ref = String(form.get("credential_ref_id") ?? "").trim();
  const budget = String(form.get("time_budget_seconds") ?? "").trim();
  return {
    ok: true,
    fields: {
      display_name: String(form.get("display_name") ?? "").trim(),
      owner: String(form.get("owner") ?? "").trim(),
      scope: scope.value,
      labels: labels.value,
      credential_mode: mode,
      credential_ref_id: mode === "credential_ref" ? ref || null : null,
      overlap_policy: (String(form.get("overlap_policy") ?? "skip") as OverlapPolicy) || "skip",
      ...(budget ? { time_budget_seconds: Number(budget) } : {}),
    },
  };
}
