// Runs, one per row with all four stages beside each other: the runs page and a source's runs share it.
import { Link } from "@remix-run/react";
import { STAGES, TRIGGER_LABEL, formatSeconds, secondsBetween, shortId, stageLabel, who, type Run } from "../lib/control-plane";
import { StageCells } from "./stage-cells";
import { UtcTime } from "./utc-time";
import { RecoveredBadge, RunLink, WorkStatus } from "./work-status";

export function RunsTable({ runs, showSource = true, testId = "runs-table" }: { runs: Run[]; showSource?: boolean; testId?: string }) {
  return (
    <div className="table-wrap">
      <table className="table table-dense runs-table" data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">{showSource ? "Source" : "Trigger"}</th>
            <th scope="col">Status</th>
            {STAGES.map((s) => (
              <th scope="col" key={s} className="cell-stage">
                {stageLabel(s)}
              </th>
            ))}
            <th scope="col" className="cell-took">
              Took
            </th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <RunRow key={r.run_id} run={r} showSource={showSource} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** How the run started: a retry points at the run it retries; anything else names who asked. */
function Origin({ run }: { run: Run }) {
  if (run.retry_of_run_id) {
    return (
      <span className="cell-note">
        Retry of <RunLink runId={run.retry_of_run_id} testId="retry-of-link" />
      </span>
    );
  }
  return (
    <span className="cell-note cell-ellipsis" title={run.requested_by}>
      {TRIGGER_LABEL[run.trigger]} · {who(run.requested_by)}
    </span>
  );
}

function RunRow({ run, showSource }: { run: Run; showSource: boolean }) {
  const took = secondsBetween(run.started_at, run.ended_at);
  return (
    <tr data-testid="run-row" data-run-id={run.run_id} data-status={run.status}>
      <td>
        <span className="cell-stack">
          <RunLink runId={run.run_id} testId="run-link" />
          <UtcTime iso={run.created_at} />
        </span>
      </td>
      <td className="cell-name">
        <span className="cell-stack">
          {showSource ? (
            <Link to={`/sources/${run.source_id}`} className="cell-title cell-ellipsis" title={run.source_name ?? run.source_id}>
              {run.source_name ?? shortId(run.source_id)}
            </Link>
          ) : null}
          <Origin run={run} />
        </span>
      </td>
      <td>
        <span className="cell-stack">
          <WorkStatus status={run.status} title={run.error ?? undefined} testId="run-status" />
          <RecoveredBadge byRunId={run.recovered_by_run_id} />
        </span>
      </td>
      <StageCells stages={run.stages} />
      <td className="nowrap cell-took">{took !== null ? formatSeconds(took) : <span className="muted">—</span>}</td>
    </tr>
  );
}
