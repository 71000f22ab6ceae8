// How the policy bindings in force decide one finding. Pure, so the rules of precedence are tested on their own:
//
// 1. A binding covers a rule when its policy has an entry for it: the exact id, else the longest `prefix.*`
//    pattern, else `*`. Bindings whose policy has no entry for the rule do not apply.
// 2. Source bindings are more specific than tenant bindings: when any source binding covers the rule, the tenant's
//    bindings are not consulted for it (that is how one source is exempted from, or held to, a tenant-wide policy).
// 3. Within that level the strictest wins: enforce > audit > off. A binding is off when its mode is `disabled` or
//    its policy's entry has `enabled: false`.
// 4. off drops the finding (an existing one is resolved as disabled_by_policy); audit records it; enforce records it
//    and, while it is open, fails the run's evaluate stage. No binding: recorded as given ("default").
// 5. Severity: the override of the deciding entry (the highest among equally strict ones), else the producer's.
import type { BindingMode, PolicyRule, Severity } from "../../db/schema/findings.ts";

export interface BindingInForce {
  id: string;
  level: "tenant" | "source";
  mode: BindingMode;
  policyId: string;
  policyName: string;
  rules: PolicyRule[];
}

export interface Decision {
  action: "record" | "drop";
  enforcement: "default" | "audit" | "enforce";
  severity: Severity;
  /** The bindings that covered the rule at the deciding level. */
  bindingIds: string[];
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

/** The entry of a policy that covers a rule, or null: exact id, else the longest matching `prefix.*`, else `*`. */
export function entryFor(rules: PolicyRule[], rule: string): PolicyRule | null {
  let best: PolicyRule | null = null;
  let bestScore = -1;
  for (const entry of rules) {
    let score = -1;
    if (entry.rule === rule) score = Number.MAX_SAFE_INTEGER;
    else if (entry.rule === "*") score = 0;
    else if (entry.rule.endsWith(".*") && rule.startsWith(entry.rule.slice(0, -1))) score = entry.rule.length;
    if (score > bestScore) {
      best = entry;
      bestScore = score;
    }
  }
  return best;
}

const STRICTNESS = { off: 0, audit: 1, enforce: 2 } as const;

export function decide(rule: string, producerSeverity: Severity, bindings: BindingInForce[]): Decision {
  const covering = bindings.map((b) => ({ b, entry: entryFor(b.rules, rule) })).filter((c): c is { b: BindingInForce; entry: PolicyRule } => c.entry !== null);
  if (!covering.length) return { action: "record", enforcement: "default", severity: producerSeverity, bindingIds: [] };
  const level = covering.some((c) => c.b.level === "source") ? "source" : "tenant";
  const atLevel = covering.filter((c) => c.b.level === level);
  const effective = atLevel.map((c) => ({ ...c, eff: (c.b.mode === "disabled" || !c.entry.enabled ? "off" : c.b.mode) as keyof typeof STRICTNESS }));
  const strictest = effective.reduce((m, c) => Math.max(m, STRICTNESS[c.eff]), 0);
  const bindingIds = atLevel.map((c) => c.b.id);
  if (strictest === STRICTNESS.off) return { action: "drop", enforcement: "default", severity: producerSeverity, bindingIds };
  const winners = effective.filter((c) => STRICTNESS[c.eff] === strictest);
  const overrides = winners.map((c) => c.entry.severity).filter((s): s is Severity => s !== undefined);
  const severity = overrides.length ? overrides.reduce((a, b) => (SEVERITY_RANK[b] > SEVERITY_RANK[a] ? b : a)) : producerSeverity;
  return { action: "record", enforcement: strictest === STRICTNESS.enforce ? "enforce" : "audit", severity, bindingIds };
}
