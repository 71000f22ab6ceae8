// Evidence: every stored, signed object the tenant's runs and pushes produced, newest first, filtered by source and
// kind (and run, from a run's link), paged by keyset. Each row opens the object: verify and download are there.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { attempt, load } from "../lib/auth.server";
import { pageTitle, sectionById } from "../lib/sections";
import { shortId } from "../lib/control-plane";
import { formatBytes } from "../lib/ingest";
import type { EvidenceItem } from "../lib/evidence";
import { PageHeader } from "../components/page-header";
import { EmptyState } from "../components/empty-state";
import { KeysetPager } from "../components/keyset-pager";
import { StatusBadge } from "../components/status-badge";
import { UtcTime } from "../components/utc-time";
import { RunLink } from "../components/work-status";
import { FilterActions } from "../components/filter-select";

export const meta: MetaFunction = () => [{ title: pageTitle("Evidence") }];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KIND = /^[A-Za-z0-9._-]{1,100}$/;

function readFilters(url: URL) {
  const filters: Record<string, string> = {};
  for (const key of ["source_id", "run_id"]) {
    const v = url.searchParams.get(key)?.trim();
    if (v && UUID.test(v)) filters[key] = v;
  }
  const kind = url.searchParams.get("kind")?.trim();
  if (kind && KIND.test(kind)) filters.kind = kind;
  return { filters, cursor: url.searchParams.get("cursor") ?? undefined };
}

export async function loader({ context, request }: LoaderFunctionArgs) {
  const { filters, cursor } = readFilters(new URL(request.url));
  const [page, sources] = await Promise.all([
    load(request, () => context.caller.evidence.list({ ...filters, cursor, limit: 50 })),
    attempt(request, () => context.caller.sources.list({ limit: 200 })),
  ]);
  return {
    filters,
    paged: Boolean(cursor),
    items: page.items,
    nextCursor: page.next_cursor,
    sources: sources.ok ? sources.value.items.map((s) => ({ id: s.source_id, name: s.display_name })) : [],
  };
}

function EvidenceRow({ e }: { e: EvidenceItem }) {
  return (
    <tr data-testid="evidence-row" data-evidence-id={e.evidence_id}>
      <td className="cell-name">
        <span className="cell-stack">
          <Link to={`/evidence/${e.evidence_id}`} className="cell-title" data-testid="evidence-link">
            {e.kind}
          </Link>
          <span className="cell-note mono">{e.content_type}</span>
        </span>
      </td>
      <td>{e.source_id ? <Link to={`/sources/${e.source_id}`}>{e.source_name ?? shortId(e.source_id)}</Link> : <span className="muted">—</span>}</td>
      <td>{e.run_id ? <RunLink runId={e.run_id} /> : <span className="muted">—</span>}</td>
      <td>
        <code className="mono cell-ellipsis" title={e.hash}>
          {e.hash.slice(0, 16)}…
        </code>
      </td>
      <td className="nowrap">{formatBytes(e.size)}</td>
      <td>{e.signed ? <StatusBadge tone="ok">Signed</StatusBadge> : <StatusBadge tone="warn">Unsigned</StatusBadge>}</td>
      <td>
        <UtcTime iso={e.created_at} />
      </td>
    </tr>
  );
}

export default function EvidencePage() {
  const { filters, paged, items, nextCursor, sources } = useLoaderData<typeof loader>();
  const section = sectionById("evidence");
  const filtered = Object.keys(filters).length > 0;
  return (
    <div className="page" data-testid="page-evidence">
      <PageHeader title="Evidence" description={section.description} />
      <section className="panel" aria-label="Evidence">
        <div className="panel-body">
          <Form method="get" className="audit-filters" data-testid="evidence-filters">
            <div className="field">
              <label className="field-label" htmlFor="evidence-source">
                Source
              </label>
              <select id="evidence-source" className="input input-compact audit-filter-input" name="source_id" defaultValue={filters.source_id ?? ""}>
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
              <label className="field-label" htmlFor="evidence-kind">
                Kind
              </label>
              <input id="evidence-kind" className="input input-compact audit-filter-input mono" name="kind" defaultValue={filters.kind ?? ""} placeholder="inventory" maxLength={100} spellCheck={false} />
            </div>
            {filters.run_id ? <input type="hidden" name="run_id" value={filters.run_id} /> : null}
            <FilterActions clearTo="/evidence" filtered={filtered} />
          </Form>
          {filters.run_id ? (
            <p className="cell-note">
              Evidence of run <RunLink runId={filters.run_id} />.
            </p>
          ) : null}
        </div>
        {items.length ? (
          <div className="table-wrap">
            <table className="table table-dense" data-testid="evidence-table">
              <thead>
                <tr>
                  <th scope="col">Kind</th>
                  <th scope="col">Source</th>
                  <th scope="col">Run</th>
                  <th scope="col">SHA-256</th>
                  <th scope="col">Size</th>
                  <th scope="col">Signed</th>
                  <th scope="col">Stored</th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => (
                  <EvidenceRow key={e.evidence_id} e={e} />
                ))}
              </tbody>
            </table>
          </div>
        ) : filtered || paged ? (
          <p className="panel-empty">No evidence matches these filters{paged ? " on this page" : ""}.</p>
        ) : (
          <div className="panel-body">
            <EmptyState icon="evidence" title={section.emptyTitle}>
              {section.emptyBody} <Link to="/sources">Run a source</Link>.
            </EmptyState>
          </div>
        )}
        <KeysetPager path="/evidence" filters={filters} nextCursor={nextCursor} paged={paged} />
      </section>
    </div>
  );
}
