// One receipt: where it is in received → parsed → normalized → evaluated → done | failed, what the document held,
// what went wrong and where in the document, the raw document as received (sha256, download), and the findings the
// push created, updated, reopened or resolved. Refreshes until the receipt settles.
import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import ingestStyles from "../styles/ingest.css";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { load } from "../lib/auth.server";
import { pageTitle } from "../lib/sections";
import { shortId } from "../lib/control-plane";
import { FORMAT_LABEL, RECEIPT_STATUSES, documentSummary, formatBytes, isSettled, type Receipt, type ReceiptFinding } from "../lib/ingest";
import { PageHeader } from "../components/page-header";
import { Notice } from "../components/notice";
import { UtcTime } from "../components/utc-time";
import { KeysetPager } from "../components/keyset-pager";
import { ReceiptStatusBadge, useRefreshWhile } from "../components/receipt-status";
import { RunLink } from "../components/work-status";
import { FilterSelect, FilterActions } from "../components/filter-select";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: ingestStyles }];

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: pageTitle(data ? `Receipt ${shortId(data.receipt.receipt_id)}` : "Receipt") }];

const CHANGES = ["created", "updated", "reopened", "resolved"] as const;
type Change = (typeof CHANGES)[number];

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const id = params.id ?? "";
  const url = new URL(request.url);
  const change = url.searchParams.get("change");
  const filters: Record<string, string> = {};
  if (change && (CHANGES as readonly string[]).includes(change)) filters.change = change;
  const cursor = url.searchParams.get("cursor") ?? undefined;
  const [receipt, links] = await Promise.all([
    load(request, () => context.caller.receipts.get({ id })),
    load(request, () => context.caller.receipts.findings({ id, change: filters.change as Change | undefined, cursor, limit: 50 })),
  ]);
  return { receipt, links: links.items, nextCursor: links.next_cursor, filters, paged: Boolean(cursor) };
}

function Timeline({ receipt }: { receipt: Receipt }) {
  const reached = new Map(receipt.timeline.map((t) => [t.status, t.at]));
  const steps = receipt.status === "failed" ? [...receipt.timeline.map((t) => t.status)] : RECEIPT_STATUSES.filter((s) => s !== "failed");
  return (
    <ol className="receipt-timeline" data-testid="receipt-timeline">
      {steps.map((s) => (
        <li key={s} className={reached.has(s) ? "receipt-step receipt-step-done" : "receipt-step"} data-step={s} data-reached={reached.has(s) ? "true" : "false"}>
          <span className="receipt-step-name">{s}</span>
          <span className="cell-note">{reached.get(s) ? <UtcTime iso={reached.get(s)!} /> : "pending"}</span>
        </li>
      ))}
    </ol>
  );
}

const COUNT_LABELS: [string, string][] = [
  ["runs", "Runs"],
  ["results", "Results"],
  ["rules", "Rules"],
  ["components", "Components"],
  ["services", "Services"],
  ["dependencies", "Dependency entries"],
  ["vulnerabilities", "Vulnerabilities"],
  ["packages", "Packages"],
  ["files", "Files"],
  ["relationships", "Relationships"],
  ["configs", "MCP configs"],
  ["servers", "MCP servers"],
  ["assets", "Assets"],
  ["relations", "Relations"],
  ["findings", "Findings present"],
  ["findings_created", "Findings created"],
  ["findings_updated", "Findings seen again"],
  ["findings_reopened", "Findings reopened"],
  ["findings_resolved", "Findings resolved"],
  ["findings_dropped_by_policy", "Dropped by policy"],
  ["enforced_failures", "Enforce failures"],
];

function Counts({ receipt }: { receipt: Receipt }) {
  const rows = COUNT_LABELS.filter(([k]) => receipt.counts[k] !== undefined);
  if (!rows.length) return <p className="panel-empty panel-empty-compact">Counted once the document has been read.</p>;
  return (
    <dl className="detail-group" data-testid="receipt-counts">
      {rows.map(([k, label]) => (
        <div className="detail-row" key={k} data-count={k}>
          <dt>{label}</dt>
          <dd>{receipt.counts[k]!.toLocaleString("en-US")}</dd>
        </div>
      ))}
    </dl>
  );
}

function FindingRow({ f }: { f: ReceiptFinding }) {
  return (
    <tr data-testid="receipt-finding-row">
      <td className="cell-name">
        <span className="cell-stack">
          <Link to={f.url} className="cell-title" data-testid="receipt-finding-link">
            {f.title ?? shortId(f.finding_id)}
          </Link>
          <span className="cell-note mono">{f.rule}</span>
        </span>
      </td>
      <td>{f.severity ?? "—"}</td>
      <td className="mono break-all">{f.location ?? "—"}</td>
      <td>{f.change === "updated" ? "seen again" : f.change}</td>
      <td>{f.status ?? "—"}</td>
    </tr>
  );
}

export default function ReceiptPage() {
  const { receipt, links, nextCursor, filters, paged } = useLoaderData<typeof loader>();
  useRefreshWhile(!isSettled(receipt.status));
  const format = receipt.format ? `${FORMAT_LABEL[receipt.format] ?? receipt.format}${receipt.format_version ? ` ${receipt.format_version}` : ""}` : "not read yet";

  return (
    <div className="page" data-testid="page-receipt" data-status={receipt.status}>
      <nav className="breadcrumb" aria-label="Breadcrumb">
        <Link to={`/receipts?source_id=${receipt.source_id}`}>Receipts</Link>
      </nav>
      <PageHeader
        title={`Receipt ${shortId(receipt.receipt_id)}`}
        description={
          <>
            {receipt.channel === "fleet_sync" ? "Fleet sync" : "Pushed document"} · {format} · {documentSummary(receipt)}
          </>
        }
        actions={<ReceiptStatusBadge status={receipt.status} />}
      />
      <section className="panel" aria-labelledby="receipt-progress-title">
        <header className="panel-header">
          <h2 className="panel-title" id="receipt-progress-title">
            Progress
          </h2>
        </header>
        <div className="panel-body">
          <Timeline receipt={receipt} />
          {receipt.error ? (
            <Notice tone="error" title="The push failed" testId="receipt-error">
              {receipt.error.message}{" "}
              <span className="mono" data-testid="receipt-error-where">
                (at {receipt.error.where})
              </span>
            </Notice>
          ) : null}
          {receipt.warnings.length ? (
            <Notice tone="warn" title={`${receipt.warnings.length} warning(s) while reading`}>
              <ul className="bulk-errors">
                {receipt.warnings.slice(0, 20).map((w, i) => (
                  <li key={i}>
                    {w.message} <span className="mono">{w.where}</span>
                  </li>
                ))}
              </ul>
            </Notice>
          ) : null}
        </div>
      </section>

      <section className="panel" aria-labelledby="receipt-facts-title">
        <header className="panel-header">
          <h2 className="panel-title" id="receipt-facts-title">
            The document and what the push did
          </h2>
        </header>
        <div className="detail-columns">
          <dl className="detail-group">
            <div className="detail-row">
              <dt>Source</dt>
              <dd>
                <Link to={`/sources/${receipt.source_id}`}>{shortId(receipt.source_id)}</Link>
              </dd>
            </div>
            <div className="detail-row">
              <dt>Idempotency-Key</dt>
              <dd className="mono break-all">{receipt.idempotency_key}</dd>
            </div>
            <div className="detail-row">
              <dt>SHA-256</dt>
              <dd className="mono break-all" data-testid="receipt-sha256">
                {receipt.sha256}
              </dd>
            </div>
            <div className="detail-row">
              <dt>Raw document</dt>
              <dd>
                <a href={receipt.links.raw} download data-testid="receipt-raw-download">
                  Download
                </a>{" "}
                <span className="muted">
                  ({formatBytes(receipt.size)}, {receipt.content_type})
                </span>
              </dd>
            </div>
            <div className="detail-row">
              <dt>Run</dt>
              <dd>{receipt.run_id ? <RunLink runId={receipt.run_id} /> : "—"}</dd>
            </div>
            <div className="detail-row">
              <dt>Received</dt>
              <dd>
                <UtcTime iso={receipt.received_at} />
              </dd>
            </div>
            <div className="detail-row">
              <dt>Finished</dt>
              <dd>
                <UtcTime iso={receipt.finished_at} />
              </dd>
            </div>
            <div className="detail-row">
              <dt>Pushed by</dt>
              <dd className="mono">{receipt.requested_by}</dd>
            </div>
            {receipt.tools.length ? (
              <div className="detail-row">
                <dt>Produced by</dt>
                <dd>{receipt.tools.join(", ")}</dd>
              </div>
            ) : null}
            {receipt.endpoint_id ? (
              <div className="detail-row">
                <dt>Endpoint</dt>
                <dd>
                  <Link to={`/fleet/${receipt.endpoint_id}`}>{shortId(receipt.endpoint_id)}</Link>
                </dd>
              </div>
            ) : null}
          </dl>
          <Counts receipt={receipt} />
        </div>
      </section>

      <section className="panel" aria-labelledby="receipt-findings-title">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="receipt-findings-title">
              Findings
            </h2>
            <p className="panel-subtitle">What this push created, saw again, reopened or resolved. Each links to the finding and its provenance.</p>
          </div>
        </header>
        <div className="panel-body">
          <Form method="get" className="audit-filters">
            <FilterSelect id="receipt-change" label="Change" name="change" value={filters.change} options={CHANGES.map((c) => ({ value: c, label: c === "updated" ? "seen again" : c }))} />
            <FilterActions clearTo={`/receipts/${receipt.receipt_id}`} filtered={Boolean(filters.change)} />
          </Form>
        </div>
        {links.length ? (
          <div className="table-wrap">
            <table className="table table-dense" data-testid="receipt-findings">
              <thead>
                <tr>
                  <th scope="col">Finding</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Where</th>
                  <th scope="col">This push</th>
                  <th scope="col">Status now</th>
                </tr>
              </thead>
              <tbody>
                {links.map((f) => (
                  <FindingRow key={f.finding_id} f={f} />
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p className="panel-empty" data-testid="receipt-findings-empty">
            {isSettled(receipt.status) ? (receipt.status === "failed" ? "The push failed before any finding was produced." : "This push produced no findings.") : "Findings are linked once the push is evaluated."}
          </p>
        )}
        <KeysetPager path={`/receipts/${receipt.receipt_id}`} filters={filters} nextCursor={nextCursor} paged={paged} />
      </section>
    </div>
  );
}
