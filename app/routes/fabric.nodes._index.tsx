// Enrolled nodes across the fabric: health from signed heartbeats, version, last heartbeat, cluster and group, roles,
// workloads and certificate validity; filtered by cluster, group and health, paged by keyset. The control plane's own
// worker processes are on Nodes.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { platformOnly } from "../lib/fabric-load.server";
import { pageTitle } from "../lib/sections";
import { NODE_HEALTH, NODE_HEALTH_ORDER, workloadTone, type NodeHealth } from "../lib/fabric";
import { useRevalidateEvery } from "../lib/fabric-actions";
import { formatDuration } from "../lib/format";
import { FabricPage } from "../components/fabric-page";
import { FabricDenied } from "../components/fabric-denied";
import { HealthBadge } from "../components/fabric-badges";
import { KeysetPager } from "../components/keyset-pager";
import { StatusBadge } from "../components/status-badge";
import { UtcTime } from "../components/utc-time";

export const meta: MetaFunction = () => [{ title: pageTitle("Fabric nodes") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  const url = new URL(request.url);
  const cluster = url.searchParams.get("cluster") ?? "";
  const group = url.searchParams.get("group") ?? "";
  const rawHealth = url.searchParams.get("health") ?? "";
  const health = (NODE_HEALTH_ORDER as readonly string[]).includes(rawHealth) ? (rawHealth as (typeof NODE_HEALTH_ORDER)[number]) : "";
  const revoked = url.searchParams.get("revoked") === "1";
  const cursor = url.searchParams.get("cursor") ?? undefined;
  return platformOnly(request, async () => {
    const [clusters, nodes] = await Promise.all([
      context.caller.fabric.clusters.list(),
      context.caller.fabric.nodes.list({
        ...(cluster ? { cluster_id: cluster } : {}),
        ...(group ? { group_id: group } : {}),
        ...(health ? { health } : {}),
        include_revoked: revoked,
        cursor,
        limit: 50,
      }),
    ]);
    return { filters: { cluster, group, health, revoked }, paged: Boolean(cursor), clusters: clusters.items, nodes: nodes.items, next_cursor: nodes.next_cursor };
  });
}

const DESCRIPTION = "Hosts enrolled through a join token and a platform owner's approval, with health from their signed heartbeats. Capabilities are what a node says it can do; only role assignments let it run work.";

export default function FabricNodesPage() {
  const data = useLoaderData<typeof loader>();
  const [params] = useSearchParams();
  useRevalidateEvery(10_000, data.allowed);
  if (!data.allowed) {
    return (
      <FabricPage title="Fabric nodes" testId="page-fabric-nodes" description={DESCRIPTION}>
        <FabricDenied what="The node list" message={data.message} />
      </FabricPage>
    );
  }
  const { filters, clusters, nodes, next_cursor, paged } = data.data;
  return (
    <FabricPage
      title="Fabric nodes"
      testId="page-fabric-nodes"
      description={
        <>
          {DESCRIPTION} The control plane&rsquo;s own worker processes are listed on <Link to="/nodes">Nodes</Link>.
        </>
      }
    >
      <Form method="get" className="form-row fabric-filter" data-testid="fabric-nodes-filter">
        <div className="field">
          <label className="field-label" htmlFor="nodes-cluster">
            Cluster
          </label>
          <select id="nodes-cluster" className="input" name="cluster" defaultValue={filters.cluster} onChange={(e) => e.currentTarget.form?.requestSubmit()}>
            <option value="">All clusters</option>
            {clusters.map((c) => (
              <option key={c.cluster_id} value={c.cluster_id}>
                {c.slug}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label className="field-label" htmlFor="nodes-health">
            Health
          </label>
          <select id="nodes-health" className="input" name="health" defaultValue={filters.health} onChange={(e) => e.currentTarget.form?.requestSubmit()}>
            <option value="">Any</option>
            {NODE_HEALTH_ORDER.map((h) => (
              <option key={h} value={h}>
                {NODE_HEALTH[h].label}
              </option>
            ))}
          </select>
        </div>
        {filters.group ? <input type="hidden" name="group" value={filters.group} /> : null}
        <label className="checkbox fabric-filter-check">
          <input type="checkbox" name="revoked" value="1" defaultChecked={filters.revoked} onChange={(e) => e.currentTarget.form?.requestSubmit()} />
          <span className="checkbox-label">Include revoked</span>
        </label>
        <noscript>
          <button type="submit" className="button">
            Filter
          </button>
        </noscript>
      </Form>
      <section className="panel" aria-label="Nodes">
        {nodes.length === 0 ? (
          <p className="panel-empty" data-testid="fabric-nodes-empty">
            No enrolled node matches. A host joins with <code>cairn agent enroll</code> and a <Link to="/fabric/join-tokens">join token</Link>, then waits for your approval on{" "}
            <Link to="/fabric/join-requests">Join requests</Link>.
          </p>
        ) : (
          <div className="table-wrap">
            <table className="table table-dense" data-testid="fabric-nodes-table">
              <thead>
                <tr>
                  <th scope="col">Node</th>
                  <th scope="col">Cluster</th>
                  <th scope="col">Health</th>
                  <th scope="col">Last heartbeat</th>
                  <th scope="col">Version</th>
                  <th scope="col">Roles</th>
                  <th scope="col">Workloads</th>
                  <th scope="col">Certificate until</th>
                </tr>
              </thead>
              <tbody>
                {nodes.map((n) => (
                  <tr key={n.node_id} data-testid="fabric-node-row" data-node-id={n.node_id} data-health={n.health}>
                    <td className="cell-name">
                      <span className="cell-stack">
                        <Link to={`/fabric/nodes/${n.node_id}`} className="cell-title">
                          {n.name}
                        </Link>
                        <span className="cell-note mono">{n.hostname}</span>
                      </span>
                    </td>
                    <td>
                      {n.cluster ? (
                        <span className="cell-stack">
                          <Link to={`/fabric/clusters/${n.cluster.cluster_id}`} className="mono">
                            {n.cluster.slug}
                          </Link>
                          {n.group ? <span className="cell-note">{n.group.name}</span> : null}
                        </span>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td>
                      <HealthBadge health={n.health as NodeHealth} />
                    </td>
                    <td>
                      {n.last_heartbeat_at ? (
                        <span className="cell-stack">
                          <UtcTime iso={n.last_heartbeat_at} />
                          {n.heartbeat_age_seconds !== null ? <span className="cell-note">{formatDuration(n.heartbeat_age_seconds)} ago</span> : null}
                        </span>
                      ) : (
                        <span className="muted">never</span>
                      )}
                    </td>
                    <td className="mono">{n.version || "—"}</td>
                    <td>
                      {n.roles.length ? (
                        <span className="cell-stack">
                          {n.roles.map((r) => (
                            <span key={r.assignment_id}>
                              <span className="mono">{r.role}</span> <span className="cell-note">{r.tenant_slug ?? "every organization"}</span>
                            </span>
                          ))}
                        </span>
                      ) : (
                        <span className="muted">none</span>
                      )}
                    </td>
                    <td>
                      {n.workloads.length ? (
                        <span className="cell-stack">
                          {n.workloads.map((w) => (
                            <StatusBadge key={`${w.cluster_id}:${w.type}`} tone={workloadTone(w)} title={`desired ${w.desired}${w.paused ? " (paused)" : ""}, reported ${w.reported}`}>
                              {w.type}: {w.reported}
                            </StatusBadge>
                          ))}
                        </span>
                      ) : (
                        <span className="muted">none</span>
                      )}
                    </td>
                    <td>
                      <UtcTime iso={n.identity?.certificate_not_after ?? null} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <KeysetPager path="/fabric/nodes" filters={Object.fromEntries([...params.entries()].filter(([k]) => k !== "cursor"))} nextCursor={next_cursor} paged={paged} />
      </section>
    </FabricPage>
  );
}
