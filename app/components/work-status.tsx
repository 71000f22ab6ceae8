// The state of a run or job as a badge, and the marks that go beside it (recovered, retried).
import { Link } from "@remix-run/react";
import { WORK_TONE, shortId, statusLabel } from "../lib/control-plane";
import { StatusBadge, type StatusTone } from "./status-badge";

export function WorkStatus({ status, title, testId }: { status: string; title?: string; testId?: string }) {
  return (
    <StatusBadge tone={WORK_TONE[status] ?? "neutral"} title={title} testId={testId}>
      {statusLabel(status)}
    </StatusBadge>
  );
}

/** A failed run that a later retry fixed: "Recovered", linking to the run that did it. */
export function RecoveredBadge({ byRunId, testId = "recovered-badge" }: { byRunId: string | null; testId?: string }) {
  if (!byRunId) return null;
  return (
    <Link to={`/runs/${byRunId}`} className="badge badge-accent" title={`Recovered by run ${byRunId}`} data-testid={testId}>
      Recovered
    </Link>
  );
}

export function RetriedBadge({ attempts, max }: { attempts: number; max: number }) {
  if (attempts <= 1) return null;
  return (
    <span className="badge badge-warn" title={`Retried after transient failures: attempt ${attempts} of at most ${max}`} data-testid="retried-badge">
      Retried ×{attempts - 1}
    </span>
  );
}

/** A run id as a short monospace link. */
export function RunLink({ runId, testId }: { runId: string; testId?: string }) {
  return (
    <Link to={`/runs/${runId}`} className="mono" title={runId} data-testid={testId}>
      {shortId(runId)}
    </Link>
  );
}

export const toneOf = (status: string): StatusTone => WORK_TONE[status] ?? "neutral";
