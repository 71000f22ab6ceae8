// One source: what it is and reads, run / test / edit / enable / delete, its open findings by severity, for a push
// source its last-ingest health, and what it has done: its runs, jobs, schedules, evidence and audit trail, one tab
// each. A push source (its data arrives by push) has no "Run now" and no schedules, and says why.
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useFetcher, useLoaderData, useSearchParams } from "@remix-run/react";
import type { ReactNode } from "react";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../server/trpc/router.ts";
import { attempt, load } from "../lib/auth.server";
import { OVERLAP_SUMMARY, SOURCE_STATUS, formatSeconds, kindInfo, pushOnlyReason, shortId, who, type SourceTest } from "../lib/control-plane";
import { SEVERITIES, SEVERITY, type Finding } from "../lib/findings";
import { pageTitle } from "../lib/sections";
import { PageHeader } from "../components/page-header";
import { Notice } from "../components/notice";
import { StatusBadge, type StatusTone } from "../components/status-badge";
import { ConfirmButton } from "../components/confirm-button";
import { RunsTable } from "../components/runs-table";
import { JobsTable } from "../components/jobs-table";
import { SchedulesTable } from "../components/schedules-table";
import { KeysetPager } from "../components/keyset-pager";
import { UtcTime } from "../components/utc-time";
import { RunLink, WorkStatus } from "../components/work-status";
import { RunNow } from "../components/run-now";
import { FindingsTable } from "../components/findings-table";
import { IngestHealthPanel } from "../components/ingest-health-panel";

type AuditEvent = inferRouterOutputs<AppRouter>["audit"]["list"]["items"][number];
type FindingsSummary = inferRouterOutputs<AppRouter>["findings"]["sourceSummary"];

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: pageTitle(data ? data.source.display_name : "Source") }];

const TABS = [
  { id: "runs", label: "Runs" },
  { id: "jobs", label: "Jobs" },
  { id: "schedules", label: "Schedules" },
  { id: "evidence", label: "Evidence" },
  { id: "audit", label: "Audit trail" },
] as const;
type TabId = (typeof TABS)[number]["id"];

const PAGE = 25;
/** Open findings listed on the page; the rest are one link away. */
const FINDINGS_SHOWN = 5;

async function tabData(context: LoaderFunctionArgs["context"], request: Request, id: string, tab: TabId, cursor: string | undefined) {
  const caller = context.caller;
  switch (tab) {
    case "runs": {
      const r = await attempt(request, () => caller.sources.runs({ id, cursor, limit: PAGE }));
      return r.ok ? { tab, items: r.value.items, next: r.value.next_cursor, error: null } : { tab, items: [], next: null, error: r.failure.message };
    }
    case "jobs": {
      const r = await attempt(request, () => caller.sources.jobs({ id, cursor, limit: PAGE }));
      return r.ok ? { tab, items: r.value.items, next: r.value.next_cursor, error: null } : { tab, items: [], next: null, error: r.failure.message };
    }
    case "schedules": {
      const r = await attempt(request, () => caller.schedules.list({ source_id: id, cursor, limit: PAGE }));
      return r.ok ? { tab, items: r.value.items, next: r.value.next_cursor, error: null } : { tab, items: [], next: null, error: r.failure.message };
    }
    case "evidence": {
      const r = await attempt(request, () => caller.sources.evidence({ id, cursor, limit: PAGE }));
      return r.ok ? { tab, items: r.value.items, next: r.value.next_cursor, error: null } : { tab, items: [], next: null, error: r.failure.message };
    }
    case "audit": {
      const r = await attempt(request, () => caller.audit.list({ target_id: id, cursor, limit: PAGE }));
      return r.ok ? { tab, items: r.value.items, next: r.value.next_cursor, error: null } : { tab, items: [], next: null, error: r.failure.message };
    }
  }
}

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const url = new URL(request.url);
  const id = params.id ?? "";
  const requested = url.searchParams.get("tab");
  const tab: TabId = TABS.some((t) => t.id === requested) ? (requested as TabId) : "runs";
  const cursor = url.searchParams.get("cursor") ?? undefined;
  const source = await load(request, () => context.caller.sources.get({ id }));
  const [activity, ref, health, summary, open] = await Promise.all([
    tabData(context, request, id, tab, cursor),
    source.credential_ref_id ? attempt(request, () => context.caller.credentials.get({ id: source.credential_ref_id! })) : Promise.resolve(null),
    source.push_route ? attempt(request, () => context.caller.receipts.health({ id })) : Promise.resolve(null),
    attempt(request, () => context.caller.findings.sourceSummary({ id })),
    attempt(request, () => context.caller.findings.list({ source_id: id, status: "open", limit: FINDINGS_SHOWN })),
  ]);
  return {
    source,
    activity,
    health: health?.ok ? health.value : null,
    healthError: health && !health.ok ? health.failure.message : null,
    findings: summary.ok && open.ok ? { summary: summary.value, items: open.value.items, error: null } : { summary: null, items: [], error: !summary.ok ? summary.failure.message : !open.ok ? open.failure.message : null },
    paged: Boolean(cursor),
    credential: ref?.ok ? { name: ref.value.name, provider: ref.value.provider, health: ref.value.health } : null,
    saved: url.searchParams.has("saved"),
  };
}

export async function action({ context, request, params }: ActionFunctionArgs) {
  const form = await request.formData();
  const intent = String(form.get("intent") ?? "");
  const id = params.id ?? "";
  if (intent === "test") {
    const r = await attempt(request, () => context.caller.sources.test({ id }));
    return r.ok ? { intent, ok: true as const, test: r.value } : data({ intent, ok: false as const, error: r.failure.message }, { status: r.failure.status });
  }
  if (intent === "enable" || intent === "disable") {
    const r = await attempt(request, () => context.caller.sources.update({ id, status: intent === "enable" ? "active" : "disabled" }));
    return r.ok ? { intent, ok: true as const } : data({ intent, ok: false as const, error: r.failure.message }, { status: r.failure.status });
  }
  if (intent === "delete") {
    const r = await attempt(request, () => context.caller.sources.remove({ id }));
    if (!r.ok) return data({ intent, ok: false as const, error: r.failure.message }, { status: r.failure.status });
    throw redirect("/sources");
  }
  return data({ intent, ok: false as const, error: "Unknown action" }, { status: 400 });
}

const CHECK_TONE: Record<string, StatusTone> = { pass: "ok", fail: "danger", warn: "warn", skip: "neutral" };

function TestResult({ test }: { test: SourceTest }) {
  return (
    <Notice tone={test.ok ? "success" : "warn"} title={test.ok ? "Ready to run" : "Not ready to run"} testId="source-test-result">
      <ul className="check-list">
        {test.checks.map((c) => (
          <li key={c.check} data-testid={`check-${c.check}`}>
            <StatusBadge tone={CHECK_TONE[c.status] ?? "neutral"}>{c.status}</StatusBadge>
            <span className="check-name">{c.check}</span>
            <span>{c.message}</span>
          </li>
        ))}
      </ul>
    </Notice>
  );
}

type Loaded = ReturnType<typeof useLoaderData<typeof loader>>;

function EvidenceTable({ items }: { items: Extract<Loaded["activity"], { tab: "evidence" }>["items"] }) {
  return (
    <div className="table-wrap">
      <table className="table table-dense" data-testid="evidence-table">
        <thead>
          <tr>
            <th scope="col">Kind</th>
            <th scope="col">SHA-256</th>
            <th scope="col">Size</th>
            <th scope="col">Run</th>
            <th scope="col">Signed</th>
            <th scope="col">Stored</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.evidence_id} data-testid="evidence-row">
              <td>
                <span className="cell-stack">
                  <Link to={`/evidence/${e.evidence_id}`} className="cell-title" data-testid="evidence-link">
                    {e.kind}
                  </Link>
                  <span className="cell-note mono">{e.content_type}</span>
                </span>
              </td>
              <td>
                <code className="mono cell-ellipsis" title={e.hash}>
                  {e.hash.slice(0, 16)}…
                </code>
              </td>
              <td className="nowrap">{e.size.toLocaleString("en-US")} B</td>
              <td>{e.run_id ? <RunLink runId={e.run_id} /> : <span className="muted">—</span>}</td>
              <td>{e.signed ? <StatusBadge tone="ok">Signed</StatusBadge> : <StatusBadge tone="warn">Unsigned</StatusBadge>}</td>
              <td>
                <UtcTime iso={e.created_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const OUTCOME_TONE: Record<string, StatusTone> = { success: "ok", denied: "warn", failure: "danger" };

function AuditTable({ items }: { items: AuditEvent[] }) {
  return (
    <div className="table-wrap">
      <table className="table table-dense" data-testid="source-audit-table">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Outcome</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.event_id} data-testid="source-audit-row">
              <td>
                <UtcTime iso={e.timestamp} />
              </td>
              <td className="break-all">{e.actor}</td>
              <td className="mono">{e.action}</td>
              <td>
                <StatusBadge tone={OUTCOME_TONE[e.outcome] ?? "neutral"}>{e.outcome}</StatusBadge>
              </td>
              <td>
                {Object.keys(e.details).length ? (
                  <details className="audit-details">
                    <summary>{Object.keys(e.details).join(", ")}</summary>
                    <pre>{JSON.stringify(e.details, null, 2)}</pre>
                  </details>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function SourceFindings({ sourceId, summary, items, error }: { sourceId: string; summary: FindingsSummary | null; items: Finding[]; error: string | null }) {
  const all = `/findings?source_id=${sourceId}`;
  return (
    <section className="panel" aria-labelledby="source-findings-title" data-testid="source-findings">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="source-findings-title">
            Findings{summary ? <span className="muted"> · {summary.open.toLocaleString("en-US")} open</span> : null}
          </h2>
          <p className="panel-subtitle">
            {summary
              ? `What this source's evidence means under your policies: open findings by severity; ${summary.suppressed.toLocaleString("en-US")} suppressed, ${summary.resolved.toLocaleString("en-US")} resolved.`
              : "What this source's evidence means under your policies."}
          </p>
        </div>
        <Link to={all} className="button button-small" data-testid="source-findings-link">
          All findings of this source
        </Link>
      </header>
      {error ? <p className="panel-empty">{error}</p> : null}
      {summary ? (
        <dl className="stat-row" style={{ gridTemplateColumns: `repeat(${SEVERITIES.length}, minmax(0, 1fr))` }} data-testid="source-findings-counts">
          {SEVERITIES.map((sev) => (
            <div key={sev} className="stat" data-severity={sev} data-count={summary.open_by_severity[sev]}>
              <dt className="stat-label">{SEVERITY[sev].label}</dt>
              <dd className="stat-value">
                {summary.open_by_severity[sev] ? (
                  <Link to={`${all}&status=open&severity=${sev}`} title={`Open ${SEVERITY[sev].label.toLowerCase()} findings of this source`}>
                    {summary.open_by_severity[sev].toLocaleString("en-US")}
                  </Link>
                ) : (
                  <span className="muted">0</span>
                )}
              </dd>
            </div>
          ))}
        </dl>
      ) : null}
      {items.length ? (
        <>
          <FindingsTable findings={items} showSource={false} testId="source-findings-table" />
          {summary && summary.open > items.length ? (
            <p className="panel-footnote">
              <Link to={`${all}&status=open`}>
                All {summary.open.toLocaleString("en-US")} open findings →
              </Link>
            </p>
          ) : null}
        </>
      ) : !error ? (
        <p className="panel-empty" data-testid="source-findings-empty">
          No open findings. {summary && summary.resolved + summary.suppressed > 0 ? "Earlier ones were resolved or are suppressed." : "Findings appear here once the source's results are evaluated."}
        </p>
      ) : null}
    </section>
  );
}

function Activity({ loaded }: { loaded: Loaded }) {
  const { activity, source, paged } = loaded;
  const id = source.source_id;
  const pushOnly = pushOnlyReason(source);
  const empty: Record<TabId, string> = {
    runs: pushOnly ? "No runs yet: each push to this source makes one." : "No runs yet. Run the source now, or give it a schedule.",
    jobs: pushOnly ? "No jobs yet: each push queues one." : "No jobs yet: each run queues one.",
    schedules: pushOnly ? `No schedules. ${pushOnly}` : "No schedules: this source runs only when someone runs it.",
    evidence: "No evidence yet: a successful run stores what it collected here, hashed and signed.",
    audit: "No audit events for this source.",
  };
  let body: ReactNode;
  if (activity.error) body = <p className="panel-empty">{activity.error}</p>;
  else if (!activity.items.length) body = <p className="panel-empty">{empty[activity.tab]}</p>;
  else if (activity.tab === "runs") body = <RunsTable runs={activity.items} showSource={false} testId="source-runs" />;
  else if (activity.tab === "jobs") body = <JobsTable jobs={activity.items} showSource={false} testId="source-jobs" />;
  else if (activity.tab === "schedules") body = <SchedulesTable schedules={activity.items} />;
  else if (activity.tab === "evidence") body = <EvidenceTable items={activity.items} />;
  else body = <AuditTable items={activity.items} />;

  return (
    <section className="panel" aria-label="Activity">
      <nav className="tabs panel-tabs" aria-label="Source activity" data-testid="source-tabs">
        {TABS.map((t) => (
          <Link key={t.id} to={`/sources/${id}?tab=${t.id}`} className="tab" aria-current={t.id === activity.tab ? "page" : undefined} data-testid={`tab-${t.id}`} preventScrollReset>
            {t.label}
          </Link>
        ))}
        {activity.tab === "schedules" ? (
          pushOnly ? (
            <button type="button" className="button button-small panel-tabs-action" disabled title={pushOnly} data-testid="add-schedule">
              Add schedule
            </button>
          ) : (
            <Link to={`/schedules/new?source_id=${id}`} className="button button-small panel-tabs-action" data-testid="add-schedule">
              Add schedule
            </Link>
          )
        ) : null}
      </nav>
      {body}
      <KeysetPager path={`/sources/${id}`} filters={{ tab: activity.tab }} nextCursor={activity.next} paged={paged} />
    </section>
  );
}

export default function SourcePage() {
  const loaded = useLoaderData<typeof loader>();
  const { source, credential, saved, health, healthError, findings } = loaded;
  const pushOnly = pushOnlyReason(source);
  const fetcher = useFetcher<typeof action>();
  const [params] = useSearchParams();
  const status = SOURCE_STATUS[source.status];
  const info = kindInfo(source.kind);
  const busy = fetcher.state !== "idle";
  const result = fetcher.state === "idle" ? fetcher.data : undefined;
  const submit = (intent: string) => fetcher.submit({ intent }, { method: "post" });
  const testResult = result?.ok && "test" in result ? result.test : undefined;

  return (
    <div className="page" data-testid="page-source" data-source-id={source.source_id}>
      <p className="breadcrumb">
        <Link to="/sources">Sources</Link> <span aria-hidden="true">/</span> {source.display_name}
      </p>
      <PageHeader
        title={source.display_name}
        description={
          <span className="inline-group">
            <StatusBadge tone={status.tone} title={status.title} testId="source-status">
              {status.label}
            </StatusBadge>
            <code className="mono">{source.kind}</code>
            {info ? <span>{info.label}</span> : null}
          </span>
        }
        actions={
          <div className="inline-group header-actions">
            <RunNow source={source} compact={false} />
            <button type="button" className="button" disabled={busy} onClick={() => submit("test")} data-testid="test-source">
              {busy && fetcher.formData?.get("intent") === "test" ? "Testing…" : "Test"}
            </button>
            <Link to={`/sources/${source.source_id}/edit`} className="button" data-testid="edit-source">
              Edit
            </Link>
            {source.status === "disabled" ? (
              <button type="button" className="button" disabled={busy} onClick={() => submit("enable")} data-testid="enable-source">
                Enable
              </button>
            ) : source.status === "active" ? (
              <button type="button" className="button" disabled={busy} onClick={() => submit("disable")} data-testid="disable-source">
                Disable
              </button>
            ) : null}
            <ConfirmButton label="Delete" prompt="Delete this source? Its history stays." confirmLabel="Delete" busy={busy} testId="delete-source" onConfirm={() => submit("delete")} />
          </div>
        }
      />

      {saved && !params.has("tab") ? (
        <Notice tone="success" testId="source-saved">
          Saved. The next run uses these settings.
        </Notice>
      ) : null}
      {result && !result.ok ? (
        <Notice tone="error" testId="source-action-error">
          {result.error}
        </Notice>
      ) : null}
      {testResult ? <TestResult test={testResult} /> : null}
      {pushOnly ? (
        <Notice tone="info" testId="source-push-only">
          {pushOnly}{" "}
          <Link to={`/receipts?source_id=${source.source_id}`} data-testid="source-receipts-link">
            See its receipts
          </Link>
          .
        </Notice>
      ) : null}
      {source.status === "unsupported" ? (
        <Notice tone="warn">
          <strong>{source.kind}</strong> has no connector in this build, so this source cannot run. It stays registered and runs once a connector for its kind exists.
        </Notice>
      ) : null}

      <section className="panel" aria-label="Settings">
        <div className="detail-columns">
          <div className="detail-group">
            <h2 className="detail-group-title">Source</h2>
            <dl className="detail-list">
              <div className="detail-row">
                <dt>Id</dt>
                <dd className="mono break-all">{source.source_id}</dd>
              </div>
              <div className="detail-row">
                <dt>Owner</dt>
                <dd>{source.owner || <span className="muted">—</span>}</dd>
              </div>
              <div className="detail-row">
                <dt>Credentials</dt>
                <dd>
                  {source.credential_mode === "none" ? (
                    <span className="muted">None</span>
                  ) : credential ? (
                    <span className="inline-group">
                      <Link to="/credentials">{credential.name}</Link>
                      <span className="muted">{credential.provider}</span>
                    </span>
                  ) : (
                    <span className="mono">{source.credential_ref_id ? shortId(source.credential_ref_id) : "—"}</span>
                  )}
                </dd>
              </div>
              <div className="detail-row">
                <dt>Overlap policy</dt>
                <dd title={OVERLAP_SUMMARY[source.overlap_policy]}>{source.overlap_policy}</dd>
              </div>
              <div className="detail-row">
                <dt>Time budget</dt>
                <dd>{formatSeconds(source.time_budget_seconds)}</dd>
              </div>
              <div className="detail-row">
                <dt>Labels</dt>
                <dd>
                  {Object.keys(source.labels).length ? (
                    <span className="inline-group">
                      {Object.entries(source.labels).map(([k, v]) => (
                        <span key={k} className="tag mono">
                          {k}={v}
                        </span>
                      ))}
                    </span>
                  ) : (
                    <span className="muted">None</span>
                  )}
                </dd>
              </div>
              <div className="detail-row">
                <dt>Created</dt>
                <dd>
                  <span className="inline-group">
                    <UtcTime iso={source.created_at} />
                    <span className="muted">by {who(source.created_by)}</span>
                  </span>
                </dd>
              </div>
            </dl>
          </div>
          <div className="detail-group">
            <h2 className="detail-group-title">Scope and last run</h2>
            <pre className="scope-block" data-testid="source-scope-view">
              {JSON.stringify(source.scope, null, 2)}
            </pre>
            <dl className="detail-list">
              <div className="detail-row">
                <dt>Last run</dt>
                <dd>
                  {source.last_run_id ? (
                    <span className="inline-group">
                      <RunLink runId={source.last_run_id} testId="source-last-run" />
                      <UtcTime iso={source.last_run_at} empty="not started" />
                    </span>
                  ) : (
                    <span className="muted">Never run</span>
                  )}
                </dd>
              </div>
              <div className="detail-row">
                <dt>Last result</dt>
                <dd>{source.last_outcome ? <WorkStatus status={source.last_outcome} testId="source-last-outcome" /> : <span className="muted">—</span>}</dd>
              </div>
              <div className="detail-row">
                <dt>Last success</dt>
                <dd>
                  <UtcTime iso={source.last_success_at} empty="Never" />
                </dd>
              </div>
            </dl>
          </div>
        </div>
      </section>

      {health ? (
        <IngestHealthPanel
          health={health}
          title="Last ingest"
          action={
            <Link to={`/receipts?source_id=${source.source_id}`} className="button button-small">
              Receipts
            </Link>
          }
        />
      ) : healthError ? (
        <Notice tone="warn" testId="ingest-health-error">
          {healthError}
        </Notice>
      ) : null}

      <SourceFindings sourceId={source.source_id} summary={findings.summary} items={findings.items} error={findings.error} />

      <Activity loaded={loaded} />
    </div>
  );
}
