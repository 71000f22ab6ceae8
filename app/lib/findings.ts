// Findings, exceptions and policies as the browser sees them: shapes (types only from server/), and the words and
// tones their severities, states and modes are shown with.
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../server/trpc/router.ts";
import type { StatusTone } from "../components/status-badge";

type Outputs = inferRouterOutputs<AppRouter>;

export type Finding = Outputs["findings"]["list"]["items"][number];
export type FindingDetail = Outputs["findings"]["get"];
export type Provenance = Outputs["findings"]["provenance"];
export type ProvenanceNode = Provenance["nodes"][number];
export type FindingException = FindingDetail["exceptions"][number];
export type Policy = Outputs["policies"]["list"]["items"][number];
export type PolicyDetail = Outputs["policies"]["get"];
export type Binding = Outputs["policies"]["bindings"]["items"][number];
export type Rule = Outputs["policies"]["rules"]["items"][number];

export const SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];
export const FINDING_STATUSES = ["open", "resolved", "suppressed"] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];
export const BINDING_MODES = ["audit", "enforce", "disabled"] as const;
export type BindingMode = (typeof BINDING_MODES)[number];

export const SEVERITY: Record<Severity, { tone: StatusTone; label: string }> = {
  critical: { tone: "danger", label: "Critical" },
  high: { tone: "danger", label: "High" },
  medium: { tone: "warn", label: "Medium" },
  low: { tone: "info", label: "Low" },
  info: { tone: "neutral", label: "Info" },
};

export const FINDING_STATUS: Record<FindingStatus, { tone: StatusTone; label: string; title: string }> = {
  open: { tone: "warn", label: "Open", title: "Seen in the source's latest picture and not suppressed" },
  resolved: { tone: "ok", label: "Resolved", title: "No longer seen, or its rule is disabled by a policy binding" },
  suppressed: { tone: "neutral", label: "Suppressed", title: "An approved exception covers it until it expires" },
};

export const RESOLUTION_LABEL: Record<string, string> = {
  not_seen: "its cause was no longer seen",
  disabled_by_policy: "a policy binding disabled its rule",
};

export const MODE: Record<BindingMode, { tone: StatusTone; label: string; title: string }> = {
  audit: { tone: "info", label: "Audit", title: "Findings are recorded; runs are not failed" },
  enforce: { tone: "danger", label: "Enforce", title: "Findings are recorded and open ones fail the run's evaluate stage" },
  disabled: { tone: "neutral", label: "Disabled", title: "The policy's rules are switched off here: their findings are dropped and existing ones resolve" },
};

export const EXCEPTION_TONE: Record<string, StatusTone> = { requested: "info", approved: "ok", rejected: "neutral", revoked: "neutral", expired: "warn" };

export const ENFORCEMENT_LABEL: Record<string, string> = { default: "No binding covers this rule", audit: "Audited by a policy binding", enforce: "Enforced by a policy binding" };

export interface RuleEntryInput {
  rule: string;
  enabled: boolean;
  severity: Severity | null;
}

/**
 * A policy's rules as text, one entry per line: a rule id, `prefix.*` or `*`, then optionally a severity override
 * and/or `off`. `mcp.inline_secret critical`, `mcp.*`, `mcp.plain_http_remote off`. `#` starts a comment.
 */
export function parseRulesText(text: string): { ok: true; rules: RuleEntryInput[] } | { ok: false; message: string } {
  const rules: RuleEntryInput[] = [];
  const lines = text.split("\n");
  for (const [i, raw] of lines.entries()) {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) continue;
    const [rule, ...words] = line.split(/\s+/);
    let severity: Severity | null = null;
    let enabled = true;
    for (const w of words) {
      const word = w.toLowerCase();
      if ((SEVERITIES as readonly string[]).includes(word)) severity = word as Severity;
      else if (word === "off" || word === "disabled") enabled = false;
      else if (word === "on" || word === "enabled") enabled = true;
      else return { ok: false, message: `Line ${i + 1}: “${w}” is not a severity (${SEVERITIES.join(", ")}) or off` };
    }
    rules.push({ rule: rule!, enabled, severity });
  }
  if (!rules.length) return { ok: false, message: "Rules: at least one line, such as mcp.*" };
  return { ok: true, rules };
}

export function rulesText(rules: { rule: string; enabled: boolean; severity: string | null }[]): string {
  return rules.map((r) => [r.rule, r.severity, r.enabled ? null : "off"].filter(Boolean).join(" ")).join("\n");
}
