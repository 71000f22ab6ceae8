// Jobs, the queue's units of work: state, attempts, evidence produced, the last error, and cancel for live ones.
// Cancel posts to the Jobs page's action, so every page that shows this table can offer it.
import { Link, useFetcher } from "@remix-run/react";
import { formatSeconds, isActive, jobEvidence, secondsBetween, shortId, who, type Job } from "../lib/control-plane";
import { UtcTime } from "./utc-time";
import { RetriedBadge, RunLink, WorkStatus } from "./work-status";

export function JobsTable({ jobs, sourceNames, showSource = true, showRun = true, testId = "jobs-table" }: { jobs: Job[]; sourceNames?: Record<string, string>; showSource?: boolean; showRun?: boolean; testId?: string }) {
  return (
    <div className="table-wrap">
      <table className="table table-dense" data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            {showRun ? <th scope="col">Run</th> : null}
            {showSource ? <th scope="col">Source</th> : null}
            <th scope="col">Evidence</th>
            <th scope="col">Started</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <JobRow key={j.job_id} job={j} sourceName={j.source_id ? sourceNames?.[j.source_id] : undefined} showSource={showSource} showRun={showRun} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function JobRow({ job, sourceName, showSource, showRun }: { job: Job; sourceName?: string; showSource: boolean; showRun: boolean }) {
  const cancel = useFetcher<{ ok: boolean; error?: string }>();
  const evidence = jobEvidence(job);
  const took = secondsBetween(job.started_at, job.finished_at);
  const failed = cancel.state === "idle" && cancel.data && !cancel.data.ok ? cancel.data.error : null;
  return (
    <tr data-testid="job-row" data-job-id={job.job_id} data-status={job.status}>
      <td>
        <span className="cell-stack">
          <code className="cell-title" title={`${job.job_id}\nrequested by ${who(job.requested_by)}`}>
            {shortId(job.job_id)}
          </code>
          <span className="cell-note mono">{job.job_type}</span>
        </span>
      </td>
      <td>
        <span className="cell-stack">
          <WorkStatus status={job.status} testId="job-status" />
          {job.cancel_requested && isActive(job.status) ? <span className="cell-note">cancel requested</span> : null}
          {job.last_error ? (
            <span className="cell-note cell-ellipsis run-error job-error" title={job.last_error} data-testid="job-last-error">
              {job.last_error}
            </span>
          ) : null}
        </span>
      </td>
      <td>
        <span className="cell-stack">
          <span className="nowrap">
            {job.attempts} <span className="muted">of {job.max_attempts}</span>
          </span>
          <RetriedBadge attempts={job.attempts} max={job.max_attempts} />
        </span>
      </td>
      {showRun ? <td>{job.run_id ? <RunLink runId={job.run_id} /> : <span className="muted">—</span>}</td> : null}
      {showSource ? (
        <td className="cell-name">
          {job.source_id ? (
            <Link to={`/sources/${job.source_id}`} className="cell-ellipsis" title={job.source_id}>
              {sourceName ?? shortId(job.source_id)}
            </Link>
          ) : (
            <span className="muted">—</span>
          )}
        </td>
      ) : null}
      <td className="nowrap" data-testid="job-evidence">
        {evidence === null ? <span className="muted">—</span> : evidence}
      </td>
      <td>
        <span className="cell-stack">
          <UtcTime iso={job.started_at} empty="Not yet" />
          {took !== null ? <span className="cell-note">took {formatSeconds(took)}</span> : job.status === "running" ? <span className="cell-note">running</span> : null}
        </span>
      </td>
      <td className="cell-actions">
        {isActive(job.status) && !job.cancel_requested ? (
          <cancel.Form method="post" action="/jobs?index">
            <input type="hidden" name="intent" value="cancel" />
            <input type="hidden" name="job_id" value={job.job_id} />
            <button type="submit" className="button button-small button-danger-quiet" disabled={cancel.state !== "idle"} data-testid="cancel-job">
              {cancel.state !== "idle" ? "Cancelling…" : "Cancel"}
            </button>
          </cancel.Form>
        ) : null}
        {failed ? <span className="error-text cell-note">{failed}</span> : null}
      </td>
    </tr>
  );
}
