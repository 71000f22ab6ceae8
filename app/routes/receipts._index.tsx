// Receipts: every pushed document and fleet sync, newest first, filtered by source and status; with a source
// chosen, that source's last-ingest health. While any receipt on the page (or the health's latest) is still moving,
// the page refreshes.
import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import ingestStyles from "../styles/ingest.css";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { attempt, load } from "../lib/auth.server";
import { pageTitle, sectionById } from "../lib/sections";
import { shortId } from "../lib/control-plane";
import { FORMAT_LABEL, RECEIPT_STATUSES, documentSummary, findingsSummary, isSettled, type Receipt, type ReceiptStatus } from "../lib/ingest";
import { PageHeader } from "../components/page-header";
import { EmptyState } from "../components/empty-state";
import { KeysetPager } from "../components/keyset-pager";
import { UtcTime } from "../components/utc-time";
import { FilterActions, FilterSelect } from "../components/filter-select";
import { ReceiptStatusBadge, useRefreshWhile } from "../components/receipt-status";
import { IngestHealthPanel } from "../components/ingest-health-panel";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: ingestStyles }];

export const meta: MetaFunction = () => [{ title: pageTitle("Receipts") }];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function loader({ context, request }: LoaderFunctionArgs) {
  const url = new URL(request.url);
  const filters: Record<string, string> = {};
  const source = url.searchParams.get("source_id");
  if (source && UUID.test(source)) filters.source_id = source;
  const status = url.searchParams.get("status");
  if (status && (RECEIPT_STATUSES as readonly string[]).includes(status)) filters.status = status;
  const cursor = url.searchParams.get("cursor") ?? undefined;
  const [page, sources, health] = await Promise.all([
    load(request, () => context.caller.receipts.list({ source_id: filters.source_id, status: filters.status as ReceiptStatus | undefined, cursor, limit: 50 })),
    attempt(request, () => context.caller.sources.list({ limit: 200 })),
    filters.source_id ? attempt(request, () => context.caller.receipts.health({ id: filters.source_id! })) : Promise.resolve(null),
  ]);
  const allSources = sources.ok ? sources.value.items : [];
  return {
    filters,
    paged: Boolean(cursor),
    receipts: page.items,
    nextCursor: page.next_cursor,
    sources: allSources.filter((s) => s.push_route).map((s) => ({ id: s.source_id, name: s.display_name, kind: s.kind })),
    sourceNames: Object.fromEntries(allSources.map((s) => [s.source_id, s.display_name])),
    health: health?.ok ? health.value : null,
  };
}

function ReceiptRow({ r, sourceName }: { r: Receipt; sourceName: string | undefined }) {
  return (
    <tr data-testid="receipt-row" data-receipt-id={r.receipt_id} data-status={r.status}>
      <td className="cell-name">
        <span className="cell-stack">
          <Link to={`/receipts/${r.receipt_id}`} className="cell-title mono" data-testid="receipt-link">
            {shortId(r.receipt_id)}
          </Link>
          <span className="cell-note">
            <UtcTime iso={r.received_at} />
          </span>
        </span>
      </td>
      <td>
        <span className="cell-stack">
          <Link to={`/sources/${r.source_id}`}>{sourceName ?? shortId(r.source_id)}</Link>
          <span className="cell-note mono" title="Idempotency-Key">
            {r.idempotency_key}
          </span>
        </span>
      </td>
      <td>
        <ReceiptStatusBadge status={r.status} />
      </td>
      <td>
        <span className="cell-stack">
          <span>{r.format ? `${FORMAT_LABEL[r.format] ?? r.format}${r.format_version ? ` ${r.format_version}` : ""}` : "—"}</span>
          <span className="cell-note">{documentSummary(r)}</span>
        </span>
      </td>
      <td data-testid="receipt-findings">
        {r.status === "failed" && r.error ? (
          <span className="cell-stack">
            <span className="cell-note error-text">{r.error.message}</span>
            <span className="cell-note mono" data-testid="receipt-error-where">
              at {r.error.where}
            </span>
          </span>
        ) : (
          findingsSummary(r)
        )}
      </td>
    </tr>
  );
}

export default function ReceiptsPage() {
  const { filters, paged, receipts, nextCursor, sources, sourceNames, health } = useLoaderData<typeof loader>();
  const section = sectionById("receipts");
  const filtered = Object.keys(filters).length > 0;
  // The list and the health panel are read in two queries: until both show the push settled, keep refreshing.
  useRefreshWhile(receipts.some((r) => !isSettled(r.status)) || health?.health === "processing");

  return (
    <div className="page" data-testid="page-receipts">
      <PageHeader title="Receipts" description={section.description} />
      {health && filters.source_id ? <IngestHealthPanel health={health} title={`Last ingest of ${sourceNames[filters.source_id] ?? shortId(filters.source_id)}`} /> : null}
      <section className="panel" aria-label="Receipts">
        <div className="panel-body">
          <Form method="get" className="audit-filters" data-testid="receipts-filters">
            <div className="field">
              <label className="field-label" htmlFor="receipts-source">
                Source
              </label>
              <select id="receipts-source" className="input input-compact audit-filter-input" name="source_id" defaultValue={filters.source_id ?? ""}>
                <option value="">Any</option>
                {sources.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </select>
            </div>
            <FilterSelect id="receipts-status" label="Status" name="status" value={filters.status} options={RECEIPT_STATUSES.map((s) => ({ value: s, label: s }))} />
            <FilterActions clearTo="/receipts" filtered={filtered} />
          </Form>
        </div>
        {receipts.length ? (
          <div className="table-wrap">
            <table className="table" data-testid="receipts-table">
              <thead>
                <tr>
                  <th scope="col">Receipt</th>
                  <th scope="col">Source · key</th>
                  <th scope="col">Status</th>
                  <th scope="col">Document</th>
                  <th scope="col">Findings or error</th>
                </tr>
              </thead>
              <tbody>
                {receipts.map((r) => (
                  <ReceiptRow key={r.receipt_id} r={r} sourceName={sourceNames[r.source_id]} />
                ))}
              </tbody>
            </table>
          </div>
        ) : filtered || paged ? (
          <p className="panel-empty">No receipts match these filters{paged ? " on this page" : ""}.</p>
        ) : (
          <div className="panel-body">
            <EmptyState icon="receipts" title={section.emptyTitle}>
              {section.emptyBody} <Link to="/sources/new">Create a source</Link>.
            </EmptyState>
          </div>
        )}
        <KeysetPager path="/receipts" filters={filters} nextCursor={nextCursor} paged={paged} />
      </section>
    </div>
  );
}
