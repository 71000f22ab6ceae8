// The fabric at a glance. Platform owners: clusters and their authority, nodes by health, pending join requests, role
// coverage gaps, workload health and every risky state, each linking to its page. Organizations: only the safe status
// of the endpoints allowed to serve them (aliases, coarse status), never topology or trust material.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { attempt } from "../lib/auth.server";
import { pageTitle, sectionById } from "../lib/sections";
import { bySeverity, healthBreakdown, NODE_HEALTH, riskHref, SEVERITY, type Cluster, type Coverage, type FabricOverview, type RevokedActivity, type RiskyState, type TenantFabricStatus } from "../lib/fabric";
import { useRevalidateEvery } from "../lib/fabric-actions";
import { FabricPage } from "../components/fabric-page";
import { AuthorityBadge, HealthBadge } from "../components/fabric-badges";
import { EmptyState } from "../components/empty-state";
import { StatusBadge, type StatusTone } from "../components/status-badge";
import { UtcTime } from "../components/utc-time";
import { formatUtc } from "../lib/format";

export const meta: MetaFunction = () => [{ title: pageTitle("Fabric") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  const me = await context.caller.auth.me();
  if (me.is_platform_owner) {
    const [overview, clusters, revoked] = await Promise.all([context.caller.fabric.overview(), context.caller.fabric.clusters.list(), context.caller.fabricUi.revokedActivity({ hours: 24 })]);
    return { view: "platform" as const, overview, clusters: clusters.items, revoked: revoked.items, status: null, message: null };
  }
  const status = await attempt(request, () => context.caller.fabric.tenantStatus());
  return { view: "organization" as const, overview: null, clusters: [], revoked: [], status: status.ok ? status.value : null, message: status.ok ? null : status.failure.message };
}

/** Revoked identities still calling, as risky states beside the server's own list. */
function revokedRisks(items: RevokedActivity[]): (RiskyState & { testId: string })[] {
  return items.map((r) => ({
    kind: "revoked_node_calling",
    severity: "critical" as const,
    message: `Revoked node ${r.node_name} is still calling: ${r.refusals} refused ${r.refusals === 1 ? "request" : "requests"} (audited at most once a minute), last at ${formatUtc(r.last_refused_at)}${r.last_ip ? ` from ${r.last_ip}` : ""}`,
    node_id: r.node_id,
    testId: "risk-revoked-calling",
  }));
}

function Stats({ overview }: { overview: FabricOverview }) {
  const { clusters, nodes, workloads } = overview;
  const gaps = overview.role_coverage_gaps.length;
  return (
    <dl className="stat-row fabric-stats-5" data-testid="fabric-stats">
      <div className="stat">
        <dt className="stat-label">Clusters</dt>
        <dd className="stat-value">
          <Link to="/fabric/clusters" data-testid="count-clusters">
            {clusters.total}
          </Link>
          <span className="stat-note">
            {clusters.by_authority.healthy} healthy
            {clusters.by_authority.degraded ? ` · ${clusters.by_authority.degraded} degraded` : ""}
            {clusters.by_authority.partitioned ? ` · ${clusters.by_authority.partitioned} partitioned` : ""}
          </span>
        </dd>
      </div>
      <div className="stat">
        <dt className="stat-label">Nodes</dt>
        <dd className="stat-value">
          <Link to="/fabric/nodes" data-testid="count-nodes">
            {nodes.total}
          </Link>
          <span className="stat-note fabric-health-counts">
            {healthBreakdown(nodes.by_health).length === 0
              ? "none enrolled"
              : healthBreakdown(nodes.by_health).map(({ health, count }) => (
                  <Link key={health} to={`/fabric/nodes?health=${health}${health === "revoked" ? "&revoked=1" : ""}`} data-testid={`count-nodes-${health}`}>
                    {count} {NODE_HEALTH[health].label.toLowerCase()}
                  </Link>
                ))}
          </span>
        </dd>
      </div>
      <div className="stat">
        <dt className="stat-label">Pending join requests</dt>
        <dd className="stat-value">
          <Link to="/fabric/join-requests" className={overview.pending_join_requests ? "fabric-attention" : undefined} data-testid="count-pending-requests">
            {overview.pending_join_requests}
          </Link>
          <span className="stat-note">{overview.pending_join_requests ? "waiting for your review" : "nothing to review"}</span>
        </dd>
      </div>
      <div className="stat">
        <dt className="stat-label">Role coverage gaps</dt>
        <dd className="stat-value">
          <Link to="/fabric/roles" className={gaps ? "error-text" : undefined} data-testid="count-coverage-gaps">
            {gaps}
          </Link>
          <span className="stat-note">{gaps ? "assigned roles no healthy node covers" : `${overview.role_coverage.length} assigned, all covered`}</span>
        </dd>
      </div>
      <div className="stat">
        <dt className="stat-label">Workloads</dt>
        <dd className="stat-value">
          <Link to="/fabric/nodes" data-testid="count-workloads">
            {workloads.total}
          </Link>
          <span className="stat-note">
            {workloads.in_sync} as desired · {workloads.out_of_sync} not yet · {workloads.failed} failed
          </span>
        </dd>
      </div>
    </dl>
  );
}

function Risks({ risks }: { risks: (RiskyState & { testId?: string })[] }) {
  return (
    <section className="panel" aria-labelledby="risks-title" data-testid="fabric-risks">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="risks-title">
            Risky states
          </h2>
          <p className="panel-subtitle">Degraded or partitioned clusters, nodes that went quiet, certificates near expiry, bootstrap tokens, roles serving every organization, failed workloads, and revoked nodes that keep calling.</p>
        </div>
      </header>
      {risks.length === 0 ? (
        <p className="panel-empty" data-testid="no-risks">
          Nothing risky right now.
        </p>
      ) : (
        <ul className="fabric-risk-list">
          {bySeverity(risks).map((r, i) => (
            <li key={`${r.kind}:${r.node_id ?? r.cluster_id ?? r.token_id ?? i}:${i}`} className="fabric-risk" data-testid={r.testId ?? "risk"} data-kind={r.kind}>
              <StatusBadge tone={SEVERITY[r.severity].tone}>{SEVERITY[r.severity].label}</StatusBadge>
              <Link to={riskHref(r)} className="fabric-risk-message">
                {r.message}
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ClustersPanel({ clusters }: { clusters: Cluster[] }) {
  return (
    <section className="panel" aria-labelledby="clusters-title">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="clusters-title">
            Clusters
          </h2>
          <p className="panel-subtitle">Each cluster is its own trust domain with its own CA; clusters never trust each other.</p>
        </div>
        <Link to="/fabric/clusters" className="button button-small">
          All clusters
        </Link>
      </header>
      <div className="table-wrap">
        <table className="table table-dense" data-testid="overview-clusters">
          <thead>
            <tr>
              <th scope="col">Cluster</th>
              <th scope="col">Authority</th>
              <th scope="col">Nodes</th>
              <th scope="col">Pending</th>
              <th scope="col">CA valid until</th>
            </tr>
          </thead>
          <tbody>
            {clusters.map((c) => (
              <tr key={c.cluster_id}>
                <td className="cell-name">
                  <span className="cell-stack">
                    <Link to={`/fabric/clusters/${c.cluster_id}`} className="cell-title">
                      {c.name}
                    </Link>
                    <span className="cell-note mono">{c.slug}</span>
                  </span>
                </td>
                <td>
                  <AuthorityBadge state={c.authority_state} />
                </td>
                <td>
                  <span className="fabric-health-counts">
                    {c.nodes.total === 0 ? <span className="muted">none</span> : healthBreakdown(c.nodes.by_health).map(({ health, count }) => <HealthCount key={health} health={health} count={count} />)}
                  </span>
                </td>
                <td>{c.pending_join_requests ? <Link to={`/fabric/join-requests?cluster=${c.cluster_id}`}>{c.pending_join_requests}</Link> : <span className="muted">0</span>}</td>
                <td>
                  <UtcTime iso={c.ca?.not_after ?? null} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function HealthCount({ health, count }: { health: keyof typeof NODE_HEALTH; count: number }) {
  return (
    <span className="fabric-health-count">
      <HealthBadge health={health} testId={`health-count-${health}`} />
      <span>{count}</span>
    </span>
  );
}

function CoveragePanel({ coverage }: { coverage: Coverage[] }) {
  if (coverage.length === 0) return null;
  return (
    <section className="panel" aria-labelledby="coverage-title">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="coverage-title">
            Role coverage
          </h2>
          <p className="panel-subtitle">Every role someone assigned, per cluster and organization, and how many of its nodes are up (healthy or degraded).</p>
        </div>
        <Link to="/fabric/roles" className="button button-small">
          Role assignments
        </Link>
      </header>
      <div className="table-wrap">
        <table className="table table-dense" data-testid="overview-coverage">
          <thead>
            <tr>
              <th scope="col">Role</th>
              <th scope="col">Cluster</th>
              <th scope="col">Serves</th>
              <th scope="col">Nodes up</th>
            </tr>
          </thead>
          <tbody>
            {coverage.map((c) => {
              const tone: StatusTone = c.healthy_nodes === 0 ? "danger" : c.healthy_nodes < c.assigned_nodes ? "warn" : "ok";
              return (
                <tr key={`${c.cluster_id}:${c.role}:${c.tenant_id ?? "*"}`} data-testid="coverage-row" data-gap={c.healthy_nodes === 0}>
                  <td className="mono">{c.role}</td>
                  <td>
                    <Link to={`/fabric/clusters/${c.cluster_id}`} className="mono">
                      {c.cluster_slug}
                    </Link>
                  </td>
                  <td>{c.tenant_id ? <span className="mono">{c.tenant_slug ?? c.tenant_id}</span> : <span className="badge badge-warn">every organization</span>}</td>
                  <td>
                    <StatusBadge tone={tone}>
                      {c.healthy_nodes} of {c.assigned_nodes}
                    </StatusBadge>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

const ENDPOINT_TONE: Record<TenantFabricStatus["endpoints"][number]["status"], StatusTone> = { healthy: "ok", degraded: "warn", offline: "danger", unavailable: "neutral" };

function OrganizationStatus({ status, message }: { status: TenantFabricStatus | null; message: string | null }) {
  return (
    <FabricPage
      title="Fabric"
      testId="page-fabric-status"
      description="The endpoints allowed to run this organization's work, under aliases, with their status. The fabric's machines, topology and certificates belong to the platform and are not shown here."
    >
      {!status ? (
        <EmptyState icon="fabric" title="Not available to your role">
          {message}
        </EmptyState>
      ) : status.endpoints.length === 0 ? (
        <EmptyState icon="fabric" title="No endpoints serve this organization">
          This organization&rsquo;s work runs on the control plane&rsquo;s own workers. A platform owner can assign a node inside your network to it.
        </EmptyState>
      ) : (
        <section className="panel" aria-label="Endpoints" data-testid="fabric-endpoints">
          <header className="panel-header">
            <div>
              <h2 className="panel-title">
                {status.endpoints.length} {status.endpoints.length === 1 ? "endpoint" : "endpoints"}
              </h2>
              <p className="panel-subtitle">
                {status.served_by_fabric
                  ? "Endpoints marked “this organization only” run its scans inside the network they sit in; the control plane's own workers no longer take them."
                  : "They serve every organization; the control plane's own workers run this organization's scans too."}
              </p>
            </div>
          </header>
          <div className="table-wrap">
            <table className="table table-dense">
              <thead>
                <tr>
                  <th scope="col">Endpoint</th>
                  <th scope="col">Workload</th>
                  <th scope="col">Status</th>
                  <th scope="col">Workload state</th>
                  <th scope="col">Last seen</th>
                </tr>
              </thead>
              <tbody>
                {status.endpoints.map((e) => (
                  <tr key={`${e.endpoint}:${e.workload}`} data-testid="fabric-endpoint-row">
                    <td>
                      <span className="cell-stack">
                        <span className="mono">{e.endpoint}</span>
                        <span className="cell-note">{e.shared ? "shared with every organization" : "this organization only"}</span>
                      </span>
                    </td>
                    <td className="mono">{e.workload}</td>
                    <td>
                      <StatusBadge tone={ENDPOINT_TONE[e.status]}>{e.status}</StatusBadge>
                    </td>
                    <td>{e.workload_state}</td>
                    <td>
                      <UtcTime iso={e.last_seen_at} empty="Never" />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </FabricPage>
  );
}

export default function FabricOverviewPage() {
  const data = useLoaderData<typeof loader>();
  useRevalidateEvery(10_000);
  if (data.view === "organization") return <OrganizationStatus status={data.status} message={data.message} />;
  const overview = data.overview!;
  const section = sectionById("fabric");
  const risks = [...revokedRisks(data.revoked), ...overview.risky_states];
  return (
    <FabricPage title="Fabric" testId="page-fabric" description={section.description}>
      {data.clusters.length === 0 ? (
        <EmptyState icon="fabric" title={section.emptyTitle}>
          {section.emptyBody} <Link to="/fabric/clusters">Create the first cluster</Link>.
        </EmptyState>
      ) : (
        <>
          <section className="panel" aria-label="Fabric at a glance">
            <Stats overview={overview} />
          </section>
          <Risks risks={risks} />
          <ClustersPanel clusters={data.clusters} />
          <CoveragePanel coverage={overview.role_coverage} />
        </>
      )}
    </FabricPage>
  );
}
