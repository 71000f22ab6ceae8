// One endpoint: what it reported (host, OS, agent), when it was last seen and from where, the MCP servers of its
// latest processed sync, what was found in them, and its recent syncs.
import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import ingestStyles from "../styles/ingest.css";
import { load } from "../lib/auth.server";
import { pageTitle } from "../lib/sections";
import { shortId } from "../lib/control-plane";
import { documentSummary, type EndpointDetail } from "../lib/ingest";
import { PageHeader } from "../components/page-header";
import { StatusBadge } from "../components/status-badge";
import { UtcTime } from "../components/utc-time";
import { ReceiptStatusBadge } from "../components/receipt-status";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: ingestStyles }];

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: pageTitle(data ? data.endpoint.hostname : "Endpoint") }];

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  return { endpoint: await load(request, () => context.caller.fleet.endpoint({ id: params.id ?? "" })) };
}

const text = (v: unknown) => (typeof v === "string" && v ? v : "—");

function Servers({ e }: { e: EndpointDetail }) {
  return (
    <section className="panel" aria-labelledby="endpoint-servers-title">
      <header className="panel-header">
        <h2 className="panel-title" id="endpoint-servers-title">
          MCP servers <span className="muted">· {e.mcp_servers.length}</span>
        </h2>
      </header>
      {e.mcp_servers.length ? (
        <div className="table-wrap">
          <table className="table table-dense" data-testid="endpoint-servers">
            <thead>
              <tr>
                <th scope="col">Server</th>
                <th scope="col">Client · file</th>
                <th scope="col">Transport</th>
                <th scope="col">Runs</th>
              </tr>
            </thead>
            <tbody>
              {e.mcp_servers.map((s, i) => {
                const pkg = s.package as { ecosystem?: string; name?: string; version?: string | null; pinned?: boolean } | null;
                return (
                  <tr key={i}>
                    <td className="cell-name">{s.name}</td>
                    <td>
                      <span className="cell-stack">
                        <span>{text(s.client)}</span>
                        <span className="cell-note mono break-all">{text(s.file)}</span>
                      </span>
                    </td>
                    <td>{text(s.transport)}</td>
                    <td className="mono break-all">{pkg?.name ? `${pkg.ecosystem}:${pkg.name}${pkg.version ? `@${pkg.version}` : " (unpinned)"}` : text(s.url) !== "—" ? text(s.url) : text(s.command)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : (
        <p className="panel-empty">The latest processed sync reported no MCP servers.</p>
      )}
    </section>
  );
}

export default function EndpointPage() {
  const { endpoint: e } = useLoaderData<typeof loader>();
  return (
    <div className="page" data-testid="page-endpoint">
      <nav className="breadcrumb" aria-label="Breadcrumb">
        <Link to="/fleet">Fleet</Link>
      </nav>
      <PageHeader
        title={e.hostname}
        description={
          <>
            {e.os.name}
            {e.os.version ? ` ${e.os.version}` : ""}
            {e.os.arch ? ` (${e.os.arch})` : ""} · agent {e.agent_version} · <span className="mono">{e.endpoint_key}</span>
          </>
        }
        actions={e.stale ? <StatusBadge tone="warn">stale</StatusBadge> : <StatusBadge tone="ok">seen recently</StatusBadge>}
      />
      <section className="panel" aria-label="Endpoint facts">
        <dl className="stat-row">
          <div className="stat">
            <dt className="stat-label">Last seen</dt>
            <dd className="stat-value stat-value-small" data-testid="endpoint-last-seen">
              <UtcTime iso={e.last_seen_at} />
            </dd>
          </div>
          <div className="stat">
            <dt className="stat-label">From (as Cairn saw it)</dt>
            <dd className="stat-value stat-value-small mono">{e.last_seen_ip ?? "—"}</dd>
          </div>
          <div className="stat">
            <dt className="stat-label">Collected (as reported)</dt>
            <dd className="stat-value stat-value-small">
              <UtcTime iso={e.collected_at} />
            </dd>
          </div>
          <div className="stat">
            <dt className="stat-label">First seen</dt>
            <dd className="stat-value stat-value-small">
              <UtcTime iso={e.first_seen_at} />
            </dd>
          </div>
        </dl>
      </section>
      <Servers e={e} />
      <section className="panel" aria-labelledby="endpoint-detected-title">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="endpoint-detected-title">
              Found in its MCP configs <span className="muted">· {e.detected.length}</span>
            </h2>
            <p className="panel-subtitle">
              As of the latest processed sync. The findings themselves, with their status and provenance, are on the <Link to={`/receipts/${e.last_receipt_id ?? ""}`}>latest receipt</Link>.
            </p>
          </div>
        </header>
        {e.detected.length ? (
          <div className="table-wrap">
            <table className="table table-dense" data-testid="endpoint-detected">
              <thead>
                <tr>
                  <th scope="col">Finding</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Where</th>
                </tr>
              </thead>
              <tbody>
                {e.detected.map((d, i) => (
                  <tr key={i}>
                    <td className="cell-name">
                      <span className="cell-stack">
                        <span>{d.title}</span>
                        <span className="cell-note mono">{d.rule}</span>
                      </span>
                    </td>
                    <td>{d.severity}</td>
                    <td className="mono break-all">{d.where ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p className="panel-empty">Nothing found.</p>
        )}
      </section>
      <section className="panel" aria-labelledby="endpoint-syncs-title">
        <header className="panel-header">
          <h2 className="panel-title" id="endpoint-syncs-title">
            Recent syncs
          </h2>
        </header>
        <div className="table-wrap">
          <table className="table table-dense">
            <thead>
              <tr>
                <th scope="col">Receipt</th>
                <th scope="col">Status</th>
                <th scope="col">Reported</th>
                <th scope="col">Received</th>
              </tr>
            </thead>
            <tbody>
              {e.recent_receipts.map((r) => (
                <tr key={r.receipt_id}>
                  <td>
                    <Link to={`/receipts/${r.receipt_id}`} className="mono">
                      {shortId(r.receipt_id)}
                    </Link>
                  </td>
                  <td>
                    <ReceiptStatusBadge status={r.status} />
                  </td>
                  <td>{documentSummary(r)}</td>
                  <td>
                    <UtcTime iso={r.received_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}
