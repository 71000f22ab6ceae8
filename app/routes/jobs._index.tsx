// The work queue: every job with its state, attempts and evidence, filtered in the URL and paged by cursor; live
// jobs can be cancelled from here (and from every table of jobs, which post to this page's action).
import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { attempt, load } from "../lib/auth.server";
import { JOB_STATUSES, statusLabel, type JobStatus } from "../lib/control-plane";
import { pageTitle, sectionById } from "../lib/sections";
import { PageHeader } from "../components/page-header";
import { EmptyState } from "../components/empty-state";
import { JobsTable } from "../components/jobs-table";
import { KeysetPager } from "../components/keyset-pager";
import { Notice } from "../components/notice";
import { FilterActions, FilterSelect } from "../components/filter-select";

export const meta: MetaFunction = () => [{ title: pageTitle("Jobs") }];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function readFilters(url: URL) {
  const filters: Record<string, string> = {};
  const status = url.searchParams.get("status");
  if (status && (JOB_STATUSES as readonly string[]).includes(status)) filters.status = status;
  const type = url.searchParams.get("job_type")?.trim();
  if (type) filters.job_type = type;
  for (const key of ["source_id", "run_id"]) {
    const v = url.searchParams.get(key)?.trim();
    if (v && UUID.test(v)) filters[key] = v;
  }
  return { filters, cursor: url.searchParams.get("cursor") ?? undefined };
}

export async function loader({ context, request }: LoaderFunctionArgs) {
  const { filters, cursor } = readFilters(new URL(request.url));
  const [page, sources] = await Promise.all([
    load(request, () => context.caller.jobs.list({ ...filters, status: filters.status as JobStatus | undefined, cursor, limit: 50 })),
    attempt(request, () => context.caller.sources.list({ limit: 200 })),
  ]);
  const sourceNames: Record<string, string> = {};
  if (sources.ok) for (const s of sources.value.items) sourceNames[s.source_id] = s.display_name;
  return { filters, paged: Boolean(cursor), jobs: page.items, nextCursor: page.next_cursor, sourceNames };
}

export async function action({ context, request }: ActionFunctionArgs) {
  const form = await request.formData();
  if (form.get("intent") !== "cancel") return data({ ok: false, error: "Unknown action" }, { status: 400 });
  const result = await attempt(request, () => context.caller.jobs.cancel({ id: String(form.get("job_id") ?? "") }));
  if (!result.ok) return data({ ok: false, error: result.failure.message }, { status: result.failure.status });
  return { ok: true };
}

export default function JobsPage() {
  const { filters, paged, jobs, nextCursor, sourceNames } = useLoaderData<typeof loader>();
  const section = sectionById("jobs");
  const filtered = Object.keys(filters).length > 0;

  return (
    <div className="page" data-testid="page-jobs">
      <PageHeader title="Jobs" description={section.description} />
      <section className="panel" aria-label="Jobs">
        <div className="panel-body">
          <Form method="get" className="audit-filters" data-testid="jobs-filters">
            <FilterSelect id="jobs-status" label="Status" name="status" value={filters.status} options={JOB_STATUSES.map((s) => ({ value: s, label: statusLabel(s) }))} />
            <div className="field">
              <label className="field-label" htmlFor="jobs-type">
                Job type
              </label>
              <input id="jobs-type" className="input input-compact audit-filter-input" name="job_type" defaultValue={filters.job_type ?? ""} placeholder="source.collect" autoComplete="off" />
            </div>
            <div className="field">
              <label className="field-label" htmlFor="jobs-run">
                Run id
              </label>
              <input id="jobs-run" className="input input-compact audit-filter-input" name="run_id" defaultValue={filters.run_id ?? ""} autoComplete="off" />
            </div>
            {filters.source_id ? <input type="hidden" name="source_id" value={filters.source_id} /> : null}
            <FilterActions clearTo="/jobs" filtered={filtered} />
          </Form>
          {filters.source_id ? (
            <Notice tone="info">
              Jobs of source <Link to={`/sources/${filters.source_id}`}>{sourceNames[filters.source_id] ?? filters.source_id}</Link> only.
            </Notice>
          ) : null}
        </div>
        {jobs.length ? (
          <JobsTable jobs={jobs} sourceNames={sourceNames} />
        ) : filtered || paged ? (
          <p className="panel-empty">No jobs match these filters{paged ? " on this page" : ""}.</p>
        ) : (
          <div className="panel-body">
            <EmptyState icon="jobs" title="The queue is empty">
              Jobs appear here when a source runs: <Link to="/sources">run a source now</Link> or give it a <Link to="/schedules">schedule</Link>. Workers claim them from
              PostgreSQL, retry transient failures and survive restarts.
            </EmptyState>
          </div>
        )}
        <KeysetPager path="/jobs" filters={filters} nextCursor={nextCursor} paged={paged} />
      </section>
    </div>
  );
}
