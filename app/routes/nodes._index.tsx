// Nodes: every process that executes work, with its heartbeat, version and the jobs it is running. Platform owners
// see the registry; everyone else is told why it is not shown (tenants never see topology).
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { attempt } from "../lib/auth.server";
import { pageTitle, sectionById } from "../lib/sections";
import { PageHeader } from "../components/page-header";
import { EmptyState } from "../components/empty-state";
import { StatusBadge } from "../components/status-badge";
import { UtcTime } from "../components/utc-time";

export const meta: MetaFunction = () => [{ title: pageTitle("Nodes") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  const includeStopped = new URL(request.url).searchParams.get("stopped") === "1";
  const result = await attempt(request, () => context.caller.nodes.list({ include_stopped: includeStopped }));
  if (!result.ok) return { allowed: false as const, message: result.failure.message, includeStopped, nodes: [] };
  return { allowed: true as const, message: null, includeStopped, nodes: result.value.items };
}

const TONE = { healthy: "ok", stale: "warn", lost: "danger", stopped: "neutral" } as const;

export default function NodesPage() {
  const { allowed, message, includeStopped, nodes } = useLoaderData<typeof loader>();
  const section = sectionById("nodes");
  return (
    <div className="page" data-testid="page-nodes">
      <PageHeader title="Nodes" description={section.description} />
      <p className="layout-text" data-testid="nodes-fabric-link">
        Every process that claims work, by heartbeat. For hosts enrolled with a join token &mdash; their identity, certificates, roles and workloads &mdash; see{" "}
        <Link to="/fabric/nodes">Fabric nodes</Link>, with <Link to="/fabric/join-requests">join requests</Link> and the <Link to="/fabric/topology">topology</Link>.
      </p>
      {!allowed ? (
        <EmptyState icon="nodes" title="Visible to platform owners">
          {message} The node registry shows the machines and processes that run every tenant's work, so only platform owners see it.
        </EmptyState>
      ) : nodes.length === 0 ? (
        <EmptyState icon="nodes" title="No process is running work">
          Start <code>cairn worker</code> (or <code>cairn all</code>): each worker registers here with a heartbeat every few seconds. Enrolled node agents join with the fabric.
        </EmptyState>
      ) : (
        <section className="panel" aria-label="Nodes">
          <div className="panel-body">
            <p className="cell-note">
              {includeStopped ? <Link to="/nodes">Hide stopped processes</Link> : <Link to="/nodes?stopped=1">Show stopped processes</Link>}
            </p>
            <table className="table table-dense" data-testid="nodes-table">
              <thead>
                <tr>
                  <th>Node</th>
                  <th>Kind</th>
                  <th>Health</th>
                  <th>Last heartbeat</th>
                  <th>Version</th>
                  <th>Running</th>
                </tr>
              </thead>
              <tbody>
                {nodes.map((n) => (
                  <tr key={n.node_id} data-testid="node-row">
                    <td>
                      <span className="cell-stack">
                        <span className="mono break-all">{n.name}</span>
                        <span className="cell-note">
                          {n.hostname}
                          {n.pid ? ` · pid ${n.pid}` : ""}
                        </span>
                      </span>
                    </td>
                    <td>{n.kind}</td>
                    <td>
                      <StatusBadge tone={TONE[n.health]}>{n.health}</StatusBadge>
                    </td>
                    <td>
                      <span className="cell-stack">
                        <UtcTime iso={n.last_heartbeat_at} />
                        <span className="cell-note">{n.heartbeat_age_seconds} s ago</span>
                      </span>
                    </td>
                    <td className="mono">{n.version}</td>
                    <td>
                      {n.running_jobs.length === 0 ? (
                        <span className="cell-note">idle</span>
                      ) : (
                        <span className="cell-stack">
                          {n.running_jobs.map((j) => (
                            <Link key={j.job_id} to={`/jobs?status=running`} className="mono">
                              {j.job_type}
                            </Link>
                          ))}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </div>
  );
}
