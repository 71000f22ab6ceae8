// Fleet: the endpoints that sync their inventory, most recently seen first, with OS, agent version, the MCP configs
// and servers found on each, and when each was last seen (stale after a day of silence).
import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import ingestStyles from "../styles/ingest.css";
import { attempt, load } from "../lib/auth.server";
import { pageTitle, sectionById } from "../lib/sections";
import type { Endpoint } from "../lib/ingest";
import { PageHeader } from "../components/page-header";
import { EmptyState } from "../components/empty-state";
import { KeysetPager } from "../components/keyset-pager";
import { StatusBadge } from "../components/status-badge";
import { UtcTime } from "../components/utc-time";
import { FilterActions } from "../components/filter-select";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: ingestStyles }];

export const meta: MetaFunction = () => [{ title: pageTitle("Fleet") }];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function loader({ context, request }: LoaderFunctionArgs) {
  const url = new URL(request.url);
  const filters: Record<string, string> = {};
  const source = url.searchParams.get("source_id");
  if (source && UUID.test(source)) filters.source_id = source;
  const q = url.searchParams.get("q")?.trim();
  if (q) filters.q = q.slice(0, 200);
  const cursor = url.searchParams.get("cursor") ?? undefined;
  const [page, sources] = await Promise.all([
    load(request, () => context.caller.fleet.endpoints({ source_id: filters.source_id, q: filters.q, cursor, limit: 50 })),
    attempt(request, () => context.caller.sources.list({ kind: "ingest.fleet_sync", limit: 200 })),
  ]);
  return { filters, paged: Boolean(cursor), endpoints: page.items, nextCursor: page.next_cursor, sources: sources.ok ? sources.value.items.map((s) => ({ id: s.source_id, name: s.display_name })) : [] };
}

function EndpointRow({ e }: { e: Endpoint }) {
  return (
    <tr data-testid="endpoint-row" data-endpoint-id={e.endpoint_id}>
      <td className="cell-name">
        <span className="cell-stack">
          <Link to={`/fleet/${e.endpoint_id}`} className="cell-title" data-testid="endpoint-link">
            {e.hostname}
          </Link>
          <span className="cell-note mono">{e.endpoint_key}</span>
        </span>
      </td>
      <td>
        <span className="cell-stack">
          <span>
            {e.os.name}
            {e.os.version ? ` ${e.os.version}` : ""}
          </span>
          <span className="cell-note">{e.os.arch ?? ""}</span>
        </span>
      </td>
      <td className="mono">{e.agent_version}</td>
      <td>
        <span className="cell-stack">
          <UtcTime iso={e.last_seen_at} />
          {e.stale ? (
            <StatusBadge tone="warn" title="No sync in the last 24 hours">
              stale
            </StatusBadge>
          ) : null}
        </span>
      </td>
      <td>
        {e.configs} config{e.configs === 1 ? "" : "s"} · {e.servers} server{e.servers === 1 ? "" : "s"}
      </td>
      <td>{e.findings}</td>
      <td>
        <Link to={`/receipts?source_id=${e.source_id}`}>{e.source_name ?? "source"}</Link>
      </td>
    </tr>
  );
}

export default function FleetPage() {
  const { filters, paged, endpoints, nextCursor, sources } = useLoaderData<typeof loader>();
  const section = sectionById("fleet");
  const filtered = Object.keys(filters).length > 0;
  return (
    <div className="page" data-testid="page-fleet">
      <PageHeader title="Fleet" description={section.description} />
      <section className="panel" aria-label="Endpoints">
        <div className="panel-body">
          <Form method="get" className="audit-filters" data-testid="fleet-filters">
            <div className="field">
              <label className="field-label" htmlFor="fleet-q">
                Host
              </label>
              <input id="fleet-q" className="input input-compact audit-filter-input" name="q" defaultValue={filters.q ?? ""} placeholder="hostname or id" />
            </div>
            <div className="field">
              <label className="field-label" htmlFor="fleet-source">
                Source
              </label>
              <select id="fleet-source" className="input input-compact audit-filter-input" name="source_id" defaultValue={filters.source_id ?? ""}>
                <option value="">Any</option>
                {sources.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </select>
            </div>
            <FilterActions clearTo="/fleet" filtered={filtered} />
          </Form>
        </div>
        {endpoints.length ? (
          <div className="table-wrap">
            <table className="table" data-testid="fleet-table">
              <thead>
                <tr>
                  <th scope="col">Endpoint</th>
                  <th scope="col">OS</th>
                  <th scope="col">Agent</th>
                  <th scope="col">Last seen</th>
                  <th scope="col">MCP</th>
                  <th scope="col">Findings</th>
                  <th scope="col">Source</th>
                </tr>
              </thead>
              <tbody>
                {endpoints.map((e) => (
                  <EndpointRow key={e.endpoint_id} e={e} />
                ))}
              </tbody>
            </table>
          </div>
        ) : filtered || paged ? (
          <p className="panel-empty">No endpoints match these filters{paged ? " on this page" : ""}.</p>
        ) : (
          <div className="panel-body">
            <EmptyState icon="fleet" title={section.emptyTitle}>
              {section.emptyBody} <Link to="/sources/new">Create a source</Link>.
            </EmptyState>
          </div>
        )}
        <KeysetPager path="/fleet" filters={filters} nextCursor={nextCursor} paged={paged} />
      </section>
    </div>
  );
}
