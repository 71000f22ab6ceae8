// Receipts: every pushed document and fleet sync, newest first, filtered by source and status; with a source
// chosen, that source's last-ingest health. While any receipt on the page is still moving, the page refreshes.
import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import ingestStyles from "../styles/ingest.css";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { attempt, load } from "../lib/auth.server";
import { pageTitle, sectionById } from "../lib/sections";
import { shortId } from "../lib/control-plane";
import { FORMAT_LABEL, HEALTH_TONE, RECEIPT_STATUSES, documentSummary, findingsSummary, isSettled, type IngestHealth, type Receipt, type ReceiptStatus } from "../lib/ingest";
import { PageHeader } from "../components/page-header";
import { EmptyState } from "../components/empty-state";
import { KeysetPager } from "../components/keyset-pager";
import { StatusBadge } from "../components/status-badge";
import { UtcTime } from "../components/utc-time";
import { FilterActions, FilterSelect } from "../components/filter-select";
import { ReceiptStatusBadge, useRefreshWhile } from "../components/receipt-status";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: ingestStyles }];

export const meta: MetaFunction = () => [{ title: pageTitle("Receipts") }];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PUSH_KINDS = new Set(["ingest.result_push", "ingest.fleet_sync"]);

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
    sources: allSources.filter((s) => PUSH_KINDS.has(s.kind)).map((s) => ({ id: s.source_id, name: s.display_name, kind: s.kind })),
    sourceNames: Object.fromEntries(allSources.map((s) => [s.source_id, s.display_name])),
    health: health?.ok ? health.value : null,
  };
}

function HealthPanel({ health, name }: { health: IngestHealth; name: string }) {
  const h = HEALTH_TONE[health.health];
  return (
    <section className="panel" aria-labelledby="ingest-health-title" data-testid="ingest-health">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="ingest-health-title">
            Last ingest of {name}
          </h2>
          <p className="panel-subtitle">
            <span className="mono">{health.kind}</span> · the latest push decides the health; the past 24 hours: {health.last_24h.received} received, {health.last_24h.done} done, {health.last_24h.failed} failed.
          </p>
        </div>
        <StatusBadge tone={h.tone} testId="ingest-health-status">
          {h.label}
        </StatusBadge>
      </header>
      <dl className="stat-row">
        <div className="stat">
          <dt className="stat-label">Latest push</dt>
          <dd className="stat-value stat-value-small">{health.last_receipt ? <Link to={`/receipts/${health.last_receipt.receipt_id}`}>{<UtcTime iso={health.last_receipt.received_at} />}</Link> : "—"}</dd>
        </div>
        <div className="stat">
          <dt className="stat-label">Last done</dt>
          <dd className="stat-value stat-value-small">
            <UtcTime iso={health.last_done_at} />
          </dd>
        </div>
        <div className="stat">
          <dt className="stat-label">Last failure</dt>
          <dd className="stat-value stat-value-small">
            {health.last_failure ? (
              <Link to={`/receipts/${health.last_failure.receipt_id}`} title={health.last_failure.error?.message}>
                <UtcTime iso={health.last_failure.at} />
              </Link>
            ) : (
              "—"
            )}
          </dd>
        </div>
      </dl>
    </section>
  );
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
  useRefreshWhile(receipts.some((r) => !isSettled(r.status)));

  return (
    <div className="page" data-testid="page-receipts">
      <PageHeader title="Receipts" description={section.description} />
      {health && filters.source_id ? <HealthPanel health={health} name={sourceNames[filters.source_id] ?? shortId(filters.source_id)} /> : null}
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
