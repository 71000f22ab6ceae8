// Runs: every execution of a source with its four stages on one row, the sources that are still failing, and bulk
// retry or cancel of everything the current filter matches, batch by batch with progress.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useFetcher, useLoaderData, useRevalidator } from "@remix-run/react";
import { useRef, useState } from "react";
import { attempt, load } from "../lib/auth.server";
import { clientFailure } from "../lib/identity";
import { RUN_STATUSES, RUN_TRIGGERS, TRIGGER_LABEL, isRetryable, statusLabel, utcInstant, type BulkResult, type RunFilter, type RunStatus, type RunTrigger, type StillFailing } from "../lib/control-plane";
import { pageTitle, sectionById } from "../lib/sections";
import { useTRPCClient } from "../lib/trpc";
import { useHydrated } from "../lib/use-hydrated";
import { PageHeader } from "../components/page-header";
import { EmptyState } from "../components/empty-state";
import { KeysetPager } from "../components/keyset-pager";
import { Notice } from "../components/notice";
import { RunsTable } from "../components/runs-table";
import { ConfirmButton } from "../components/confirm-button";
import { UtcTime } from "../components/utc-time";
import { RunLink, WorkStatus } from "../components/work-status";
import { FilterActions, FilterSelect } from "../components/filter-select";

export const meta: MetaFunction = () => [{ title: pageTitle("Runs") }];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The filters in the URL: what the form shows, and the same filter as the API takes it. */
function readFilters(url: URL) {
  const form: Record<string, string> = {};
  const filter: RunFilter = {};
  const status = url.searchParams.get("status");
  if (status && (RUN_STATUSES as readonly string[]).includes(status)) filter.status = (form.status = status) as RunStatus;
  const trigger = url.searchParams.get("trigger");
  if (trigger && (RUN_TRIGGERS as readonly string[]).includes(trigger)) filter.trigger = (form.trigger = trigger) as RunTrigger;
  const source = url.searchParams.get("source_id");
  if (source && UUID.test(source)) filter.source_id = form.source_id = source;
  for (const [key, field] of [
    ["from", "created_after"],
    ["to", "created_before"],
  ] as const) {
    const v = url.searchParams.get(key)?.trim();
    if (v && !Number.isNaN(new Date(utcInstant(v)).getTime())) {
      form[key] = v;
      filter[field] = new Date(utcInstant(v)).toISOString();
    }
  }
  return { form, filter, cursor: url.searchParams.get("cursor") ?? undefined };
}

export async function loader({ context, request }: LoaderFunctionArgs) {
  const { form, filter, cursor } = readFilters(new URL(request.url));
  const [page, failing, sources] = await Promise.all([
    load(request, () => context.caller.runs.list({ ...filter, cursor, limit: 50 })),
    attempt(request, () => context.caller.runs.stillFailing()),
    attempt(request, () => context.caller.sources.list({ limit: 200 })),
  ]);
  return {
    filters: form,
    filter,
    paged: Boolean(cursor),
    runs: page.items,
    nextCursor: page.next_cursor,
    stillFailing: failing.ok ? failing.value.items : null,
    sources: sources.ok ? sources.value.items.map((s) => ({ id: s.source_id, name: s.display_name })) : [],
  };
}

function FilterForm({ filters, sources }: { filters: Record<string, string>; sources: { id: string; name: string }[] }) {
  return (
    <Form method="get" className="audit-filters" data-testid="runs-filters">
      <FilterSelect id="runs-status" label="Status" name="status" value={filters.status} options={RUN_STATUSES.map((s) => ({ value: s, label: statusLabel(s) }))} />
      <FilterSelect id="runs-trigger" label="Trigger" name="trigger" value={filters.trigger} options={RUN_TRIGGERS.map((t) => ({ value: t, label: TRIGGER_LABEL[t] }))} />
      <div className="field">
        <label className="field-label" htmlFor="runs-source">
          Source
        </label>
        <select id="runs-source" className="input input-compact audit-filter-input" name="source_id" defaultValue={filters.source_id ?? ""}>
          <option value="">Any</option>
          {sources.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
          {filters.source_id && !sources.some((s) => s.id === filters.source_id) ? <option value={filters.source_id}>{filters.source_id}</option> : null}
        </select>
      </div>
      <div className="field">
        <label className="field-label" htmlFor="runs-from">
          Created from (UTC)
        </label>
        <input id="runs-from" className="input input-compact audit-filter-input" type="datetime-local" name="from" defaultValue={filters.from ?? ""} />
      </div>
      <div className="field">
        <label className="field-label" htmlFor="runs-to">
          Created before (UTC)
        </label>
        <input id="runs-to" className="input input-compact audit-filter-input" type="datetime-local" name="to" defaultValue={filters.to ?? ""} />
      </div>
      <FilterActions clearTo="/runs" filtered={Object.keys(filters).length > 0} />
    </Form>
  );
}

function StillFailingPanel({ items }: { items: StillFailing[] }) {
  return (
    <section className="panel" aria-labelledby="still-failing-title" data-testid="still-failing">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="still-failing-title">
            Still failing <span className="muted">· {items.length}</span>
          </h2>
          <p className="panel-subtitle">Sources whose latest finished run failed and no retry has fixed yet. A successful retry takes a source off this list.</p>
        </div>
      </header>
      {items.length === 0 ? (
        <p className="panel-empty panel-empty-compact" data-testid="still-failing-empty">
          Nothing is failing: every source&rsquo;s latest finished run succeeded or was recovered.
        </p>
      ) : (
        <div className="table-wrap">
          <table className="table table-dense">
            <thead>
              <tr>
                <th scope="col">Source</th>
                <th scope="col">Latest run</th>
                <th scope="col">Error</th>
                <th scope="col">Failing since</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((f) => (
                <StillFailingRow key={f.source_id} item={f} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function StillFailingRow({ item }: { item: StillFailing }) {
  const retry = useFetcher<{ ok: boolean; error?: string }>();
  return (
    <tr data-testid="still-failing-row" data-source-id={item.source_id}>
      <td className="cell-name">
        <span className="cell-stack">
          <Link to={`/sources/${item.source_id}`} className="cell-title">
            {item.display_name}
          </Link>
          <span className="cell-note mono">{item.kind}</span>
        </span>
      </td>
      <td>
        <span className="cell-stack">
          <RunLink runId={item.run_id} />
          <WorkStatus status={item.status} />
        </span>
      </td>
      <td className="run-error-cell">
        <span className="cell-note error-text" title={item.error ?? undefined}>
          {item.error ?? "—"}
        </span>
      </td>
      <td>
        <UtcTime iso={item.failing_since} />
      </td>
      <td className="cell-actions">
        <retry.Form method="post" action={`/runs/${item.run_id}`}>
          <input type="hidden" name="intent" value="retry" />
          <input type="hidden" name="stay" value="1" />
          <button type="submit" className="button button-small" disabled={retry.state !== "idle"}>
            {retry.state !== "idle" ? "Retrying…" : "Retry"}
          </button>
        </retry.Form>
        {retry.state === "idle" && retry.data && !retry.data.ok ? <span className="cell-note error-text">{retry.data.error}</span> : null}
      </td>
    </tr>
  );
}

interface Progress {
  action: "retry" | "cancel";
  total: number | null;
  processed: number;
  succeeded: number;
  failed: number;
  errors: string[];
  done: boolean;
  stopped: boolean;
}

const COUNT_PAGES = 10;
const COUNT_PAGE = 500;
const BATCH = 50;

/**
 * Bulk retry or cancel of every run the filter matches. runs.bulk handles one batch per call and returns where to
 * continue; this follows it to the end, counting first (up to a few thousand runs) so the bar has a denominator.
 */
function BulkPanel({ filter, filtered }: { filter: RunFilter; filtered: boolean }) {
  const client = useTRPCClient();
  const revalidator = useRevalidator();
  const hydrated = useHydrated();
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<string | null>(null);
  const stop = useRef(false);
  const running = progress !== null && !progress.done;

  const countEligible = async (action: "retry" | "cancel"): Promise<number | null> => {
    let n = 0;
    let cursor: string | undefined;
    for (let i = 0; i < COUNT_PAGES; i++) {
      const page = await client.runs.list.query({ ...filter, cursor, limit: COUNT_PAGE });
      n += page.items.filter((r) => (action === "retry" ? isRetryable(r.status) && !r.recovered : r.status === "queued" || r.status === "running")).length;
      if (!page.next_cursor) return n;
      cursor = page.next_cursor;
    }
    return null;
  };

  const start = async (action: "retry" | "cancel") => {
    stop.current = false;
    setError(null);
    let state: Progress = { action, total: null, processed: 0, succeeded: 0, failed: 0, errors: [], done: false, stopped: false };
    setProgress(state);
    try {
      state = { ...state, total: await countEligible(action) };
      setProgress(state);
      let cursor: string | null = null;
      do {
        const r: BulkResult = await client.runs.bulk.mutate({ action, filter, cursor, batch: BATCH });
        const errors = r.items.filter((i) => i.outcome === "error").map((i) => `${i.run_id.slice(0, 8)}: ${i.error ?? "refused"}`);
        state = { ...state, processed: state.processed + r.processed, succeeded: state.succeeded + r.succeeded, failed: state.failed + r.failed, errors: [...state.errors, ...errors].slice(0, 20) };
        setProgress(state);
        cursor = r.next_cursor;
      } while (cursor && !stop.current);
      state = { ...state, done: true, stopped: Boolean(cursor) };
    } catch (err) {
      setError(clientFailure(err).message);
      state = { ...state, done: true, stopped: true };
    }
    setProgress(state);
    revalidator.revalidate();
  };

  const pct = progress?.total ? Math.min(100, Math.round((progress.processed / progress.total) * 100)) : progress?.done ? 100 : null;
  const verb = progress?.action === "cancel" ? "Cancelled" : "Retried";

  return (
    <section className="panel" aria-labelledby="bulk-title" data-testid="bulk-panel">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="bulk-title">
            Bulk actions
          </h2>
          <p className="panel-subtitle">
            Applies to every run {filtered ? "matching the filter above" : "in this tenant"}, not just this page: retry takes the failed, timed-out and cancelled ones not yet
            recovered; cancel takes the queued and running ones.
          </p>
        </div>
        <div className="inline-group bulk-actions">
          <ConfirmButton
            tone="neutral"
            label="Retry matching"
            prompt="Retry every failed run that matches?"
            confirmLabel="Retry all"
            busy={!hydrated || running}
            testId="bulk-retry"
            onConfirm={() => void start("retry")}
          />
          <ConfirmButton label="Cancel matching" prompt="Cancel every queued and running run that matches?" confirmLabel="Cancel all" busy={!hydrated || running} testId="bulk-cancel" onConfirm={() => void start("cancel")} />
        </div>
      </header>
      {progress ? (
        <div className="panel-body" data-testid="bulk-progress" data-done={progress.done ? "true" : "false"}>
          <div className="usage">
            <div className="usage-head">
              <span>
                {progress.done ? (progress.stopped ? "Stopped" : "Done") : progress.total === null && progress.processed === 0 ? "Counting matching runs…" : `${progress.action === "cancel" ? "Cancelling" : "Retrying"}…`}
              </span>
              <span className="usage-figure" data-testid="bulk-count">
                {progress.processed.toLocaleString("en-US")}
                {progress.total !== null ? ` of ${progress.total.toLocaleString("en-US")}` : progress.done ? "" : " so far"}
              </span>
            </div>
            <div className="meter" role="progressbar" aria-label="Bulk progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct ?? undefined}>
              <span className={`meter-fill${pct === null ? " meter-fill-indeterminate" : ""}${progress.failed ? " meter-fill-warn" : ""}`} style={{ width: `${pct ?? 30}%` }} />
            </div>
          </div>
          <p className="field-hint" data-testid="bulk-summary">
            {verb} {progress.succeeded.toLocaleString("en-US")}
            {progress.failed ? `, ${progress.failed.toLocaleString("en-US")} refused` : ""}.
            {running ? (
              <>
                {" "}
                <button type="button" className="link-button" onClick={() => (stop.current = true)}>
                  Stop after this batch
                </button>
              </>
            ) : null}
          </p>
          {progress.errors.length ? (
            <ul className="bulk-errors">
              {progress.errors.map((e, i) => (
                <li key={i} className="mono">
                  {e}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {error ? (
        <div className="panel-body">
          <Notice tone="error">{error}</Notice>
        </div>
      ) : null}
    </section>
  );
}

export default function RunsPage() {
  const { filters, filter, paged, runs, nextCursor, stillFailing, sources } = useLoaderData<typeof loader>();
  const section = sectionById("runs");
  const filtered = Object.keys(filters).length > 0;

  return (
    <div className="page" data-testid="page-runs">
      <PageHeader title="Runs" description={section.description} />
      {stillFailing ? <StillFailingPanel items={stillFailing} /> : null}
      <section className="panel" aria-label="Runs">
        <div className="panel-body">
          <FilterForm filters={filters} sources={sources} />
        </div>
        {runs.length ? (
          <RunsTable runs={runs} />
        ) : filtered || paged ? (
          <p className="panel-empty">No runs match these filters{paged ? " on this page" : ""}.</p>
        ) : (
          <div className="panel-body">
            <EmptyState icon="runs" title="No runs yet">
              A run is one execution of a source, stage by stage. <Link to="/sources">Run a source now</Link>, or give one a <Link to="/schedules">schedule</Link>.
            </EmptyState>
          </div>
        )}
        <KeysetPager path="/runs" filters={filters} nextCursor={nextCursor} paged={paged} />
      </section>
      <BulkPanel filter={filter} filtered={filtered} />
    </div>
  );
}
