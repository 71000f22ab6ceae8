// One cluster: its authority state (mark degraded or partitioned, recover — both high-risk, with a reason), its CA,
// its nodes by health, its node groups, and links to its join tokens, requests and certificates.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { useState, type FormEvent } from "react";
import { platformOnly } from "../lib/fabric-load.server";
import { pageTitle } from "../lib/sections";
import { healthBreakdown, shortHex, type Cluster, type NodeGroup } from "../lib/fabric";
import { useFabricAction } from "../lib/fabric-actions";
import { useTRPCClient } from "../lib/trpc";
import { useHydrated } from "../lib/use-hydrated";
import { FabricPage } from "../components/fabric-page";
import { FabricDenied } from "../components/fabric-denied";
import { AuthorityBadge, HealthBadge } from "../components/fabric-badges";
import { ReasonAction } from "../components/fabric-reason-action";
import { ConfirmButton } from "../components/confirm-button";
import { Notice } from "../components/notice";
import { UtcTime } from "../components/utc-time";
import { formatUtc } from "../lib/format";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: pageTitle(data?.allowed ? `Cluster ${data.data.cluster.slug}` : "Cluster") }];

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const id = params.id ?? "";
  return platformOnly(request, async () => {
    const [cluster, nodes, groups] = await Promise.all([
      context.caller.fabric.clusters.get({ id }),
      context.caller.fabric.nodes.list({ cluster_id: id, include_revoked: true, limit: 200 }),
      context.caller.fabric.clusters.groups({ id }),
    ]);
    return { cluster, nodes: nodes.items, moreNodes: nodes.next_cursor !== null, groups: groups.items };
  });
}

function Authority({ cluster }: { cluster: Cluster }) {
  const client = useTRPCClient();
  const hydrated = useHydrated();
  const action = useFabricAction();
  const healthy = cluster.authority_state === "healthy";
  return (
    <section className="panel" aria-labelledby="authority-title" data-testid="cluster-authority-panel">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="authority-title">
            Authority
          </h2>
          <p className="panel-subtitle">
            While degraded or partitioned the cluster refuses join approvals, certificate issuance, role and policy changes with a clear error. Changing it is high-risk: you will be asked for
            your passkey.
          </p>
        </div>
        <AuthorityBadge state={cluster.authority_state} />
      </header>
      <div className="panel-body">
        {action.error ? (
          <Notice tone="error" testId="authority-error">
            {action.error}
          </Notice>
        ) : null}
        {!healthy ? (
          <p className="layout-text" data-testid="authority-reason">
            Marked {cluster.authority_state}
            {cluster.authority_changed_by ? ` by ${cluster.authority_changed_by}` : ""}
            {cluster.authority_changed_at ? ` at ${formatUtc(cluster.authority_changed_at)}` : ""}
            {cluster.authority_reason ? `: ${cluster.authority_reason}` : "."}
          </p>
        ) : null}
        <div className="inline-group">
          {healthy ? (
            <>
              <ReasonAction
                label="Mark degraded"
                prompt="Why is this cluster degraded?"
                confirmLabel="Mark degraded"
                tone="neutral"
                busy={!hydrated || action.busy !== null}
                testId="mark-degraded"
                onConfirm={async (reason) => Boolean(await action.run("degraded", () => client.fabric.clusters.setAuthority.mutate({ id: cluster.cluster_id, state: "degraded", reason })))}
              />
              <ReasonAction
                label="Mark partitioned"
                prompt="Why is this cluster partitioned?"
                confirmLabel="Mark partitioned"
                busy={!hydrated || action.busy !== null}
                testId="mark-partitioned"
                onConfirm={async (reason) => Boolean(await action.run("partitioned", () => client.fabric.clusters.setAuthority.mutate({ id: cluster.cluster_id, state: "partitioned", reason })))}
              />
            </>
          ) : (
            <ReasonAction
              label="Recover to healthy"
              prompt="What was fixed?"
              confirmLabel="Recover"
              tone="neutral"
              busy={!hydrated || action.busy !== null}
              testId="recover-cluster"
              onConfirm={async (reason) => Boolean(await action.run("recover", () => client.fabric.clusters.recover.mutate({ id: cluster.cluster_id, reason })))}
            />
          )}
        </div>
      </div>
    </section>
  );
}

function Groups({ cluster, groups }: { cluster: Cluster; groups: NodeGroup[] }) {
  const client = useTRPCClient();
  const hydrated = useHydrated();
  const action = useFabricAction();
  const [name, setName] = useState("");
  const [parent, setParent] = useState("");
  const byId = new Map(groups.map((g) => [g.group_id, g]));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const created = await action.run("create-group", () => client.fabric.clusters.createGroup.mutate({ id: cluster.cluster_id, name: name.trim(), parent_id: parent || null }));
    if (created) {
      setName("");
      setParent("");
    }
  };
  return (
    <section className="panel" aria-labelledby="groups-title" data-testid="cluster-groups">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="groups-title">
            Node groups
          </h2>
          <p className="panel-subtitle">Folders inside this cluster for finding nodes; a group never grants anything.</p>
        </div>
      </header>
      <div className="panel-body">
        {action.error ? <Notice tone="error">{action.error}</Notice> : null}
        {groups.length ? (
          <ul className="fabric-group-list">
            {groups.map((g) => (
              <li key={g.group_id} data-testid="group-row">
                <span className="cell-title">{g.parent_id ? `${byId.get(g.parent_id)?.name ?? "…"} / ${g.name}` : g.name}</span>
                <span className="muted"> · {g.nodes === 1 ? "1 node" : `${g.nodes} nodes`}</span>{" "}
                <Link to={`/fabric/nodes?cluster=${cluster.cluster_id}&group=${g.group_id}`} className="cell-note">
                  show nodes
                </Link>{" "}
                <ConfirmButton
                  label="Delete"
                  prompt="Delete this group? Its nodes become ungrouped."
                  confirmLabel="Delete"
                  busy={!hydrated || action.busy !== null}
                  onConfirm={() => void action.run("delete-group", () => client.fabric.clusters.deleteGroup.mutate({ id: g.group_id }))}
                />
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">No groups yet.</p>
        )}
        <form className="form-row" onSubmit={(e) => void submit(e)}>
          <div className="field field-grow">
            <label className="field-label" htmlFor="group-name">
              New group
            </label>
            <input id="group-name" className="input" value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} placeholder="Branch offices" autoComplete="off" />
          </div>
          <div className="field">
            <label className="field-label" htmlFor="group-parent">
              Inside
            </label>
            <select id="group-parent" className="input" value={parent} onChange={(e) => setParent(e.target.value)}>
              <option value="">the cluster</option>
              {groups.map((g) => (
                <option key={g.group_id} value={g.group_id}>
                  {g.name}
                </option>
              ))}
            </select>
          </div>
          <div className="form-actions">
            <button type="submit" className="button" disabled={!hydrated || action.busy !== null || !name.trim()}>
              Add group
            </button>
          </div>
        </form>
      </div>
    </section>
  );
}

export default function ClusterPage() {
  const data = useLoaderData<typeof loader>();
  if (!data.allowed) {
    return (
      <FabricPage title="Cluster" testId="page-fabric-cluster">
        <FabricDenied what="A cluster" message={data.message} />
      </FabricPage>
    );
  }
  const { cluster, nodes, moreNodes, groups } = data.data;
  return (
    <FabricPage
      title={cluster.name}
      testId="page-fabric-cluster"
      description={cluster.description || `Cluster ${cluster.slug}${cluster.region ? ` in ${cluster.region}` : ""}: a trust domain with its own CA.`}
      actions={
        <span className="inline-group">
          <Link to={`/fabric/join-tokens?cluster=${cluster.cluster_id}`} className="button button-primary" data-testid="cluster-join-tokens">
            Join tokens
          </Link>
          <Link to={`/fabric/trust?cluster=${cluster.cluster_id}`} className="button">
            Trust &amp; certificates
          </Link>
        </span>
      }
    >
      <section className="panel" aria-label="Cluster facts">
        <dl className="stat-row fabric-stats-5">
          <div className="stat">
            <dt className="stat-label">Slug</dt>
            <dd className="stat-value stat-value-small mono" data-testid="cluster-slug">
              {cluster.slug}
            </dd>
          </div>
          <div className="stat">
            <dt className="stat-label">Nodes</dt>
            <dd className="stat-value stat-value-small">
              {cluster.nodes.total}
              <span className="stat-note fabric-health-counts">
                {healthBreakdown(cluster.nodes.by_health).map(({ health, count }) => (
                  <span key={health}>
                    {count} {health.replace("_", " ")}
                  </span>
                ))}
              </span>
            </dd>
          </div>
          <div className="stat">
            <dt className="stat-label">Pending join requests</dt>
            <dd className="stat-value stat-value-small">
              <Link to={`/fabric/join-requests?cluster=${cluster.cluster_id}`}>{cluster.pending_join_requests}</Link>
            </dd>
          </div>
          <div className="stat">
            <dt className="stat-label">CA fingerprint</dt>
            <dd className="stat-value stat-value-small mono" title={cluster.ca?.fingerprint}>
              {cluster.ca ? shortHex(cluster.ca.fingerprint, 24) : "none"}
              {cluster.ca ? <span className="stat-note">valid until {cluster.ca.not_after.slice(0, 10)}</span> : null}
            </dd>
          </div>
          <div className="stat">
            <dt className="stat-label">Certificates</dt>
            <dd className="stat-value stat-value-small">
              {cluster.cert_ttl_hours} h<span className="stat-note">desired state v{cluster.desired_version}</span>
            </dd>
          </div>
        </dl>
      </section>
      <Authority cluster={cluster} />
      <section className="panel" aria-labelledby="cluster-nodes-title">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="cluster-nodes-title">
              Nodes
            </h2>
            <p className="panel-subtitle">Members of this cluster, revoked ones included.</p>
          </div>
          <Link to={`/fabric/nodes?cluster=${cluster.cluster_id}`} className="button button-small">
            Filter in Nodes
          </Link>
        </header>
        {nodes.length === 0 ? (
          <p className="panel-empty">
            No node has joined yet. <Link to={`/fabric/join-tokens?cluster=${cluster.cluster_id}`}>Create a join token</Link> and run <code>cairn agent enroll</code> on the host.
          </p>
        ) : (
          <div className="table-wrap">
            <table className="table table-dense" data-testid="cluster-nodes">
              <thead>
                <tr>
                  <th scope="col">Node</th>
                  <th scope="col">Health</th>
                  <th scope="col">Group</th>
                  <th scope="col">Roles</th>
                  <th scope="col">Last heartbeat</th>
                </tr>
              </thead>
              <tbody>
                {nodes.map((n) => (
                  <tr key={n.node_id}>
                    <td>
                      <Link to={`/fabric/nodes/${n.node_id}`} className="cell-title">
                        {n.name}
                      </Link>
                    </td>
                    <td>
                      <HealthBadge health={n.health} />
                    </td>
                    <td>{n.group?.name ?? <span className="muted">—</span>}</td>
                    <td>{n.roles.length ? n.roles.map((r) => `${r.role} (${r.tenant_slug ?? "every organization"})`).join(", ") : <span className="muted">none</span>}</td>
                    <td>
                      <UtcTime iso={n.last_heartbeat_at} empty="Never" />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {moreNodes ? <p className="panel-footnote">Showing the first 200: use Nodes to page through all of them.</p> : null}
          </div>
        )}
      </section>
      <Groups cluster={cluster} groups={groups} />
    </FabricPage>
  );
}
