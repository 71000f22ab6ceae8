// The evaluate stage cell of a run, from what materializeGraph did: failed when open findings violate an enforce
// binding (one error line per rule, naming the policies), succeeded otherwise. Items: findings created, seen again,
// reopened or resolved.
import type { StageCell } from "../../db/schema/control.ts";
import type { MaterializeResult } from "./materialize.service.ts";

export function evaluateOutcome(result: MaterializeResult): { status: StageCell["status"]; items: number; errors: StageCell["errors"]; runError: string | null } {
  const items = result.created.length + result.updated.length + result.reopened.length + result.resolved.length;
  if (!result.enforcedFailures) return { status: "succeeded", items, errors: [], runError: null };
  const errors = result.enforced.map((e) => ({
    message: `enforce: ${e.findings} open finding(s) of rule ${e.rule} under ${e.policies.length === 1 ? "policy" : "policies"} ${e.policies.map((p) => `"${p}"`).join(", ")}`,
  }));
  return { status: "failed", items, errors, runError: `Policy enforcement failed: ${result.enforcedFailures} open finding(s) violate enforce bindings` };
}
