// Health of a node and authority state of a cluster as status badges (the word carries the meaning, colour repeats it).
import { StatusBadge } from "./status-badge";
import { AUTHORITY, NODE_HEALTH, type AuthorityState, type NodeHealth } from "../lib/fabric";

export function HealthBadge({ health, testId = "node-health" }: { health: string; testId?: string }) {
  const h = NODE_HEALTH[health as NodeHealth] ?? { tone: "neutral" as const, label: health, title: health };
  return (
    <StatusBadge tone={h.tone} title={h.title} testId={testId}>
      {h.label}
    </StatusBadge>
  );
}

export function AuthorityBadge({ state, testId = "cluster-authority" }: { state: string; testId?: string }) {
  const a = AUTHORITY[state as AuthorityState] ?? { tone: "neutral" as const, label: state, title: state };
  return (
    <StatusBadge tone={a.tone} title={a.title} testId={testId}>
      {a.label}
    </StatusBadge>
  );
}
