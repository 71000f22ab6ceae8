// The source registry: every source with its status, credential mode, scope and last run, and "Run now".
import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { attempt, load } from "../lib/auth.server";
import { SOURCE_KINDS, SOURCE_STATUS, scopeSummary, type SourceKind } from "../lib/control-plane";
import { pageTitle, sectionById } from "../lib/sections";
import { PageHeader } from "../components/page-header";
import { EmptyState } from "../components/empty-state";
import { KeysetPager } from "../components/keyset-pager";
import { StatusBadge } from "../components/status-badge";
import { UtcTime } from "../components/utc-time";
import { RunLink, WorkStatus } from "../components/work-status";
import { RunNow } from "../components/run-now";
import { FilterActions, FilterSelect } from "../components/filter-select";

export const meta: MetaFunction = () => [{ title: pageTitle("Sources") }];

const STATUSES = ["active", "disabled", "unsupported"] as const;

function readFilters(url: URL) {
  const filters: Record<string, string> = {};
  const kind = url.searchParams.get("kind");
  if (kind && SOURCE_KINDS.some((k) => k.kind === kind)) filters.kind = kind;
  const status = url.searchParams.get("status");
  if (status && (STATUSES as readonly string[]).includes(status)) filters.status = status;
  const label = url.searchParams.get("label")?.trim();
  if (label) filters.label = label;
  return { filters, cursor: url.searchParams.get("cursor") ?? undefined };
}

export async function loader({ context, request }: LoaderFunctionArgs) {
  const { filters, cursor } = readFilters(new URL(request.url));
  const [page, refs] = await Promise.all([
    load(request, () =>
      context.caller.sources.list({
        kind: filters.kind as SourceKind | undefined,
        status: filters.status as (typeof STATUSES)[number] | undefined,
        label: filters.label,
        cursor,
        limit: 50,
      }),
    ),
    attempt(request, () => context.caller.credentials.list({ limit: 200 })),
  ]);
  const refNames: Record<string, string> = {};
  if (refs.ok) for (const r of refs.value.items) refNames[r.credential_ref_id] = r.name;
  return { filters, paged: Boolean(cursor), sources: page.items, nextCursor: page.next_cursor, refNames };
}

export async function action({ context, request }: ActionFunctionArgs) {
  const form = await request.formData();
  if (form.get("intent") !== "run") return data({ ok: false as const, error: "Unknown action" }, { status: 400 });
  const result = await attempt(request, () => context.caller.sources.run({ id: String(form.get("source_id") ?? "") }));
  if (!result.ok) return data({ ok: false as const, error: result.failure.message }, { status: result.failure.status });
  return { ok: true as const, run_id: result.value.run_id, duplicate: result.value.duplicate };
}

export default function SourcesPage() {
  const { filters, paged, sources, nextCursor, refNames } = useLoaderData<typeof loader>();
  const section = sectionById("sources");
  const filtered = Object.keys(filters).length > 0;

  return (
    <div className="page" data-testid="page-sources">
      <PageHeader
        title="Sources"
        description={section.description}
        actions={
          <Link to="/sources/new" className="button button-primary" data-testid="new-source">
            New source
          </Link>
        }
      />
      <section className="panel" aria-label="Sources">
        <div className="panel-body">
          <Form method="get" className="audit-filters" data-testid="sources-filters">
            <FilterSelect id="sources-kind" label="Kind" name="kind" value={filters.kind} options={SOURCE_KINDS.map((k) => ({ value: k.kind, label: k.kind }))} />
            <FilterSelect id="sources-status" label="Status" name="status" value={filters.status} options={STATUSES.map((s) => ({ value: s, label: SOURCE_STATUS[s].label }))} />
            <div className="field">
              <label className="field-label" htmlFor="sources-label">
                Label
              </label>
              <input id="sources-label" className="input input-compact audit-filter-input" name="label" defaultValue={filters.label ?? ""} placeholder="team=platform" autoComplete="off" />
            </div>
            <FilterActions clearTo="/sources" filtered={filtered} />
          </Form>
        </div>
        {sources.length ? (
          <div className="table-wrap">
            <table className="table table-dense" data-testid="sources-table">
              <thead>
                <tr>
                  <th scope="col">Source</th>
                  <th scope="col">Status</th>
                  <th scope="col">Credentials</th>
                  <th scope="col">Scope</th>
                  <th scope="col">Last run</th>
                  <th scope="col">Last result</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {sources.map((s) => {
                  const status = SOURCE_STATUS[s.status];
                  return (
                    <tr key={s.source_id} data-testid="source-row" data-source-id={s.source_id} data-status={s.status}>
                      <td className="cell-name">
                        <span className="cell-stack">
                          <Link to={`/sources/${s.source_id}`} className="cell-title" data-testid="source-link">
                            {s.display_name}
                          </Link>
                          <span className="cell-note mono">{s.kind}</span>
                        </span>
                      </td>
                      <td>
                        <StatusBadge tone={status.tone} title={status.title} testId="source-status">
                          {status.label}
                        </StatusBadge>
                      </td>
                      <td>
                        {s.credential_mode === "none" ? (
                          <span className="muted">None</span>
                        ) : (
                          <span className="cell-stack">
                            <span>{(s.credential_ref_id && refNames[s.credential_ref_id]) ?? "Credential ref"}</span>
                            <span className="cell-note">credential ref</span>
                          </span>
                        )}
                      </td>
                      <td>
                        <code className="cell-ellipsis scope-cell" title={JSON.stringify(s.scope)}>
                          {scopeSummary(s.scope)}
                        </code>
                      </td>
                      <td>
                        {s.last_run_id ? (
                          <span className="cell-stack">
                            <UtcTime iso={s.last_run_at} empty="Queued" />
                            <RunLink runId={s.last_run_id} />
                          </span>
                        ) : (
                          <span className="muted">Never</span>
                        )}
                      </td>
                      <td>{s.last_outcome ? <WorkStatus status={s.last_outcome} testId="source-last-outcome" /> : <span className="muted">—</span>}</td>
                      <td className="cell-actions">
                        <RunNow source={s} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ) : filtered || paged ? (
          <p className="panel-empty">No sources match these filters{paged ? " on this page" : ""}.</p>
        ) : (
          <div className="panel-body">
            <EmptyState icon="sources" title="No sources yet">
              A source is something Cairn collects from: MCP client configs, a repository, pushed results. <Link to="/sources/new">Register the first one</Link>, then run it
              or give it a schedule.
            </EmptyState>
          </div>
        )}
        <KeysetPager path="/sources" filters={filters} nextCursor={nextCursor} paged={paged} />
      </section>
    </div>
  );
}
