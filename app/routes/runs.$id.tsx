// One run: its stages, its jobs, the live log of the job doing the work, lineage (what it retries, what retried it,
// what recovered it), and retry / cancel. While the run is live, stream activity refreshes the page's data.
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useFetcher, useLoaderData, useRevalidator } from "@remix-run/react";
import { useCallback, useEffect, useRef } from "react";
import { attempt, load } from "../lib/auth.server";
import { TRIGGER_LABEL, formatSeconds, isActive, isRetryable, secondsBetween, shortId, who } from "../lib/control-plane";
import { pageTitle } from "../lib/sections";
import { PageHeader } from "../components/page-header";
import { Notice } from "../components/notice";
import { StagePanel } from "../components/stage-cells";
import { JobsTable } from "../components/jobs-table";
import { LiveLog } from "../components/live-log";
import { UtcTime } from "../components/utc-time";
import { RecoveredBadge, RunLink, WorkStatus } from "../components/work-status";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: pageTitle(data ? `Run ${shortId(data.run.run_id)}` : "Run") }];

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const run = await load(request, () => context.caller.runs.get({ id: params.id ?? "" }));
  // The job doing (or that did) the work: the newest one of the run.
  const job = run.jobs.length ? run.jobs[run.jobs.length - 1]! : null;
  const logs = job ? await attempt(request, () => context.caller.jobs.logs({ id: job.job_id, limit: 1000 })) : null;
  return { run, streamJobId: job?.job_id ?? null, logs: logs?.ok ? logs.value.items : [] };
}

export async function action({ context, request, params }: ActionFunctionArgs) {
  const form = await request.formData();
  const intent = form.get("intent");
  const id = params.id ?? "";
  if (intent === "retry") {
    const result = await attempt(request, () => context.caller.runs.retry({ id }));
    if (!result.ok) return data({ ok: false as const, intent, error: result.failure.message }, { status: result.failure.status });
    // From a list, stay there; from the run page, follow the new run.
    if (form.get("stay")) return { ok: true as const, intent, new_run_id: result.value.run_id };
    throw redirect(`/runs/${result.value.run_id}`);
  }
  if (intent === "cancel") {
    const result = await attempt(request, () => context.caller.runs.cancel({ id }));
    if (!result.ok) return data({ ok: false as const, intent, error: result.failure.message }, { status: result.failure.status });
    return { ok: true as const, intent };
  }
  return data({ ok: false as const, intent, error: "Unknown action" }, { status: 400 });
}

/** Refreshes the loader's data at most every `ms`, however fast the stream reports activity. */
function useThrottledRevalidate(ms: number) {
  const revalidator = useRevalidator();
  const latest = useRef(revalidator);
  latest.current = revalidator;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const pending = useRef(false);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  return useCallback(() => {
    if (timer.current) {
      pending.current = true;
      return;
    }
    latest.current.revalidate();
    timer.current = setTimeout(function flush() {
      timer.current = null;
      if (pending.current) {
        pending.current = false;
        latest.current.revalidate();
      }
    }, ms);
  }, [ms]);
}

type RunData = ReturnType<typeof useLoaderData<typeof loader>>["run"];

function RunActions({ run }: { run: RunData }) {
  const fetcher = useFetcher<typeof action>();
  const busy = fetcher.state !== "idle";
  const failed = fetcher.state === "idle" && fetcher.data && !fetcher.data.ok ? fetcher.data.error : null;
  return (
    <div className="inline-group">
      {isRetryable(run.status) ? (
        <fetcher.Form method="post">
          <input type="hidden" name="intent" value="retry" />
          <button type="submit" className="button button-primary" disabled={busy} data-testid="retry-run">
            {busy && fetcher.formData?.get("intent") === "retry" ? "Retrying…" : "Retry"}
          </button>
        </fetcher.Form>
      ) : null}
      {isActive(run.status) ? (
        <fetcher.Form method="post">
          <input type="hidden" name="intent" value="cancel" />
          <button type="submit" className="button button-danger-quiet" disabled={busy} data-testid="cancel-run">
            {busy && fetcher.formData?.get("intent") === "cancel" ? "Cancelling…" : "Cancel run"}
          </button>
        </fetcher.Form>
      ) : null}
      {failed ? (
        <span className="error-text run-action-error" role="alert" data-testid="run-action-error">
          {failed}
        </span>
      ) : null}
    </div>
  );
}

function Lineage({ run }: { run: RunData }) {
  if (!run.retry_of_run_id && !run.retries.length && !run.recovered_by_run_id) return null;
  return (
    <section className="panel" aria-labelledby="lineage-title" data-testid="lineage">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="lineage-title">
            Lineage
          </h2>
          <p className="panel-subtitle">A retry is a new run linked to the one it retries; when it succeeds, the failed runs before it count as recovered.</p>
        </div>
      </header>
      <ol className="lineage">
        {run.retry_of_run_id ? (
          <li className="lineage-step">
            <span className="lineage-label">Retry of</span>
            <RunLink runId={run.retry_of_run_id} testId="lineage-retry-of" />
          </li>
        ) : null}
        <li className="lineage-step lineage-current">
          <span className="lineage-label">This run</span>
          <span className="inline-group">
            <code className="mono">{shortId(run.run_id)}</code>
            <WorkStatus status={run.status} />
          </span>
        </li>
        {run.retries.map((r) => (
          <li className="lineage-step" key={r.run_id} data-testid="lineage-retry">
            <span className="lineage-label">Retried by</span>
            <span className="inline-group">
              <RunLink runId={r.run_id} />
              <WorkStatus status={r.status} />
              <UtcTime iso={r.created_at} />
            </span>
          </li>
        ))}
      </ol>
      {run.recovered_by_run_id ? (
        <p className="lineage-note" data-testid="recovered-by">
          Recovered by run <RunLink runId={run.recovered_by_run_id} />: a later retry succeeded, so this failure no longer counts against the source.
        </p>
      ) : null}
    </section>
  );
}

export default function RunPage() {
  const { run, streamJobId, logs } = useLoaderData<typeof loader>();
  const live = isActive(run.status);
  const revalidate = useThrottledRevalidate(500);
  // Once a run has ended nothing about it changes: its stream only replays the log.
  const liveNow = useRef(live);
  liveNow.current = live;
  const onActivity = useCallback(() => {
    if (liveNow.current) revalidate();
  }, [revalidate]);
  const took = secondsBetween(run.started_at, run.ended_at);
  const streamed = run.jobs.find((j) => j.job_id === streamJobId);

  return (
    <div className="page" data-testid="page-run" data-run-id={run.run_id} data-status={run.status}>
      <p className="breadcrumb">
        <Link to="/runs">Runs</Link> <span aria-hidden="true">/</span> <Link to={`/sources/${run.source_id}`}>{run.source_name ?? shortId(run.source_id)}</Link>
      </p>
      <PageHeader
        title={`Run ${shortId(run.run_id)}`}
        description={
          <span className="inline-group">
            <WorkStatus status={run.status} testId="run-status" />
            <RecoveredBadge byRunId={run.recovered_by_run_id} />
            <span>
              {TRIGGER_LABEL[run.trigger]} run of <Link to={`/sources/${run.source_id}`}>{run.source_name ?? run.source_id}</Link>, requested by {who(run.requested_by)}
            </span>
          </span>
        }
        actions={<RunActions run={run} />}
      />

      {run.error ? (
        <Notice tone={run.recovered_by_run_id ? "info" : "error"} title={run.recovered_by_run_id ? "Failed, then recovered" : "Why it stopped"} testId="run-error">
          {run.error}
        </Notice>
      ) : null}

      <section className="panel" aria-labelledby="run-facts-title">
        <h2 className="visually-hidden" id="run-facts-title">
          Run facts
        </h2>
        <dl className="stat-row">
          <div className="stat">
            <dt className="stat-label">Created</dt>
            <dd className="stat-value stat-value-small">
              <UtcTime iso={run.created_at} />
            </dd>
          </div>
          <div className="stat">
            <dt className="stat-label">Took</dt>
            <dd className="stat-value">{took !== null ? formatSeconds(took) : live ? <span className="stat-note">in progress</span> : "—"}</dd>
          </div>
          <div className="stat">
            <dt className="stat-label">Evidence</dt>
            <dd className="stat-value">
              <span data-testid="run-evidence-count">{run.evidence_count}</span>
              {run.evidence_count > 0 ? (
                <Link to={`/evidence?run_id=${run.run_id}`} className="stat-note" data-testid="run-evidence-link">
                  View evidence
                </Link>
              ) : (
                <span className="stat-note">{live ? "stored when the run finishes" : "none stored"}</span>
              )}
            </dd>
          </div>
          <div className="stat">
            <dt className="stat-label">Trace</dt>
            <dd className="stat-value stat-value-small mono break-all" title="The trace id the run's jobs and logs carry">
              {run.trace_id}
            </dd>
          </div>
        </dl>
      </section>

      <section className="panel" aria-labelledby="stages-title">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="stages-title">
              Stages
            </h2>
            <p className="panel-subtitle">Collect reads the source, normalize checks the graph, evaluate applies policy bindings, evidence stores and signs what was collected.</p>
          </div>
        </header>
        <StagePanel stages={run.stages} />
      </section>

      <Lineage run={run} />

      <section className="panel" aria-labelledby="log-title">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="log-title">
              Log
            </h2>
            <p className="panel-subtitle">
              {streamed ? (
                <>
                  Job <code>{shortId(streamed.job_id)}</code> ({streamed.job_type}), attempt {streamed.attempts} of {streamed.max_attempts}.
                </>
              ) : (
                "This run has no job."
              )}
            </p>
          </div>
        </header>
        {streamJobId ? <LiveLog key={streamJobId} jobId={streamJobId} initial={logs} onActivity={onActivity} /> : null}
      </section>

      <section className="panel" aria-labelledby="jobs-title">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="jobs-title">
              Jobs <span className="muted">· {run.jobs.length}</span>
            </h2>
            <p className="panel-subtitle">The queued work behind this run, with attempts and the last error of each.</p>
          </div>
        </header>
        {run.jobs.length ? <JobsTable jobs={run.jobs} showRun={false} showSource={false} testId="run-jobs" /> : <p className="panel-empty">No jobs.</p>}
      </section>
    </div>
  );
}
