// Role assignments: which node may run which workload, in which cluster, for one organization or for all of them.
// Roles are the only grant (capabilities never are); assigning and removing are high-risk. Coverage gaps and the role
// catalogue sit beside the list.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { useState, type FormEvent } from "react";
import { platformOnly } from "../lib/fabric-load.server";
import { pageTitle } from "../lib/sections";
import { who, type FabricNode, type RoleCatalogEntry } from "../lib/fabric";
import { useFabricAction } from "../lib/fabric-actions";
import { useTRPCClient } from "../lib/trpc";
import { useHydrated } from "../lib/use-hydrated";
import { FabricPage } from "../components/fabric-page";
import { FabricDenied } from "../components/fabric-denied";
import { HealthBadge } from "../components/fabric-badges";
import { ConfirmButton } from "../components/confirm-button";
import { KeysetPager } from "../components/keyset-pager";
import { Notice } from "../components/notice";
import { StatusBadge } from "../components/status-badge";
import { UtcTime } from "../components/utc-time";

export const meta: MetaFunction = () => [{ title: pageTitle("Role assignments") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  const url = new URL(request.url);
  const filters = {
    cluster: url.searchParams.get("cluster") ?? "",
    tenant: url.searchParams.get("tenant") ?? "",
    role: url.searchParams.get("role") ?? "",
    status: url.searchParams.get("status") === "removed" ? ("removed" as const) : ("active" as const),
  };
  const cursor = url.searchParams.get("cursor") ?? undefined;
  return platformOnly(request, async () => {
    const [list, catalog, overview, clusters, tenants, nodes] = await Promise.all([
      context.caller.fabric.roles.list({
        ...(filters.cluster ? { cluster_id: filters.cluster } : {}),
        ...(filters.tenant ? { tenant_id: filters.tenant } : {}),
        ...(filters.role ? { role: filters.role } : {}),
        status: filters.status,
        cursor,
        limit: 50,
      }),
      context.caller.fabric.roles.catalog(),
      context.caller.fabric.overview(),
      context.caller.fabric.clusters.list(),
      context.caller.platform.tenants(),
      context.caller.fabric.nodes.list({ limit: 200 }),
    ]);
    return {
      filters,
      paged: Boolean(cursor),
      assignments: list.items,
      next_cursor: list.next_cursor,
      catalog: catalog.items,
      gaps: overview.role_coverage_gaps,
      clusters: clusters.items,
      tenants: tenants.items,
      nodes: nodes.items,
    };
  });
}

const DESCRIPTION =
  "Roles decide what a node may run: a role is assigned per cluster, for one organization or for every organization, and the node then receives only what that role needs in its signed desired state. Capabilities a node reports never grant anything, and a node can never assign itself a role. Assigning and removing ask for your passkey.";

function AssignForm({ nodes, catalog, tenants }: { nodes: FabricNode[]; catalog: RoleCatalogEntry[]; tenants: { tenant_id: string; slug: string; name: string }[] }) {
  const client = useTRPCClient();
  const hydrated = useHydrated();
  const action = useFabricAction();
  const [done, setDone] = useState<string | null>(null);
  const eligible = nodes.filter((n) => n.health !== "revoked" && n.identity);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const nodeId = String(form.get("node"));
    const tenant = String(form.get("tenant") ?? "");
    const role = String(form.get("role"));
    const created = await action.run("assign", () => client.fabric.nodes.assignRole.mutate({ id: nodeId, role, tenant_id: tenant || null }));
    if (created) setDone(`${created.role} assigned to ${nodes.find((n) => n.node_id === nodeId)?.name ?? "the node"} for ${created.tenant_slug ?? "every organization"}.`);
  };
  return (
    <section className="panel" aria-labelledby="assign-title" data-testid="roles-assign">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="assign-title">
            Assign a role
          </h2>
          <p className="panel-subtitle">The node must report the capability the role needs; its cluster must be healthy.</p>
        </div>
      </header>
      <div className="panel-body">
        {done ? (
          <Notice tone="success" testId="roles-assigned">
            {done}
          </Notice>
        ) : null}
        {action.error ? (
          <Notice tone="error" testId="roles-assign-error">
            {action.error}
          </Notice>
        ) : null}
        {eligible.length === 0 ? (
          <p className="muted">No enrolled node can take a role yet.</p>
        ) : (
          <form className="form-row" onSubmit={(e) => void submit(e)}>
            <div className="field field-grow">
              <label className="field-label" htmlFor="roles-node">
                Node
              </label>
              <select id="roles-node" className="input" name="node" required>
                {eligible.map((n) => (
                  <option key={n.node_id} value={n.node_id}>
                    {n.name} ({n.cluster?.slug ?? "no cluster"}, {n.health.replace("_", " ")})
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label className="field-label" htmlFor="roles-role">
                Role
              </label>
              <select id="roles-role" className="input" name="role">
                {catalog.map((r) => (
                  <option key={r.role} value={r.role}>
                    {r.role}
                  </option>
                ))}
              </select>
            </div>
            <div className="field field-grow">
              <label className="field-label" htmlFor="roles-tenant">
                For
              </label>
              <select id="roles-tenant" className="input" name="tenant">
                <option value="">every organization</option>
                {tenants.map((t) => (
                  <option key={t.tenant_id} value={t.tenant_id}>
                    {t.name} ({t.slug})
                  </option>
                ))}
              </select>
            </div>
            <div className="form-actions">
              <button type="submit" className="button button-primary" disabled={!hydrated || action.busy !== null} data-testid="roles-assign-submit">
                {action.busy ? "Assigning…" : "Assign"}
              </button>
            </div>
          </form>
        )}
      </div>
    </section>
  );
}

export default function RolesPage() {
  const data = useLoaderData<typeof loader>();
  const client = useTRPCClient();
  const hydrated = useHydrated();
  const action = useFabricAction();
  const [params] = useSearchParams();
  if (!data.allowed) {
    return (
      <FabricPage title="Role assignments" testId="page-fabric-roles" description={DESCRIPTION}>
        <FabricDenied what="Role assignments" message={data.message} />
      </FabricPage>
    );
  }
  const { filters, assignments, next_cursor, paged, catalog, gaps, clusters, tenants, nodes } = data.data;
  const health = new Map(nodes.map((n) => [n.node_id, n.health]));
  return (
    <FabricPage title="Role assignments" testId="page-fabric-roles" description={DESCRIPTION}>
      {gaps.length ? (
        <Notice tone="warn" title="Coverage gaps" testId="roles-gaps">
          {gaps.map((g) => (
            <span key={`${g.cluster_id}:${g.role}:${g.tenant_id ?? "*"}`} className="fabric-gap">
              <span className="mono">{g.role}</span> for {g.tenant_slug ?? "every organization"} in <span className="mono">{g.cluster_slug}</span>: none of its {g.assigned_nodes} node
              {g.assigned_nodes === 1 ? " is" : "s are"} up.{" "}
            </span>
          ))}
        </Notice>
      ) : null}
      <AssignForm nodes={nodes} catalog={catalog} tenants={tenants} />
      <Form method="get" className="form-row fabric-filter">
        <div className="field">
          <label className="field-label" htmlFor="rf-cluster">
            Cluster
          </label>
          <select id="rf-cluster" className="input" name="cluster" defaultValue={filters.cluster} onChange={(e) => e.currentTarget.form?.requestSubmit()}>
            <option value="">All</option>
            {clusters.map((c) => (
              <option key={c.cluster_id} value={c.cluster_id}>
                {c.slug}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label className="field-label" htmlFor="rf-tenant">
            Organization
          </label>
          <select id="rf-tenant" className="input" name="tenant" defaultValue={filters.tenant} onChange={(e) => e.currentTarget.form?.requestSubmit()}>
            <option value="">Any</option>
            {tenants.map((t) => (
              <option key={t.tenant_id} value={t.tenant_id}>
                {t.slug}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label className="field-label" htmlFor="rf-status">
            Status
          </label>
          <select id="rf-status" className="input" name="status" defaultValue={filters.status} onChange={(e) => e.currentTarget.form?.requestSubmit()}>
            <option value="active">Active</option>
            <option value="removed">Removed</option>
          </select>
        </div>
        <noscript>
          <button type="submit" className="button">
            Filter
          </button>
        </noscript>
      </Form>
      {action.error ? <Notice tone="error">{action.error}</Notice> : null}
      <section className="panel" aria-label="Assignments">
        {assignments.length === 0 ? (
          <p className="panel-empty" data-testid="roles-empty">
            No {filters.status} role assignments match.
          </p>
        ) : (
          <div className="table-wrap">
            <table className="table table-dense" data-testid="roles-table">
              <thead>
                <tr>
                  <th scope="col">Node</th>
                  <th scope="col">Role</th>
                  <th scope="col">Serves</th>
                  <th scope="col">Cluster</th>
                  <th scope="col">Job types</th>
                  <th scope="col">{filters.status === "active" ? "Assigned" : "Removed"}</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {assignments.map((a) => (
                  <tr key={a.assignment_id} data-testid="role-row">
                    <td>
                      <span className="cell-stack">
                        <Link to={`/fabric/nodes/${a.node_id}`} className="cell-title">
                          {a.node_name}
                        </Link>
                        {health.get(a.node_id) ? <HealthBadge health={health.get(a.node_id)!} /> : null}
                      </span>
                    </td>
                    <td className="mono">{a.role}</td>
                    <td>{a.tenant_id ? <span className="mono">{a.tenant_slug ?? a.tenant_id}</span> : <span className="badge badge-warn">every organization</span>}</td>
                    <td>
                      <Link to={`/fabric/clusters/${a.cluster_id}`} className="mono">
                        {clusters.find((c) => c.cluster_id === a.cluster_id)?.slug ?? a.cluster_id.slice(0, 8)}
                      </Link>
                    </td>
                    <td className="mono">{a.job_types.join(", ")}</td>
                    <td>
                      <span className="cell-stack">
                        <UtcTime iso={a.status === "active" ? a.assigned_at : a.removed_at} />
                        <span className="cell-note">by {who(a.status === "active" ? a.assigned_by : a.removed_by)}</span>
                      </span>
                    </td>
                    <td className="cell-actions">
                      {a.status === "active" ? (
                        <ConfirmButton
                          label="Remove"
                          prompt="Remove this role?"
                          confirmLabel="Remove"
                          busy={!hydrated || action.busy !== null}
                          testId="remove-role-assignment"
                          onConfirm={() => void action.run(`remove:${a.assignment_id}`, () => client.fabric.nodes.removeRole.mutate({ id: a.node_id, assignment_id: a.assignment_id }))}
                        />
                      ) : (
                        <StatusBadge tone="neutral">removed</StatusBadge>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <KeysetPager path="/fabric/roles" filters={Object.fromEntries([...params.entries()].filter(([k]) => k !== "cursor"))} nextCursor={next_cursor} paged={paged} />
      </section>
      <section className="panel" aria-labelledby="catalog-title" data-testid="roles-catalog">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="catalog-title">
              Roles a node can hold
            </h2>
          </div>
        </header>
        <div className="table-wrap">
          <table className="table table-dense">
            <thead>
              <tr>
                <th scope="col">Role</th>
                <th scope="col">What it does</th>
                <th scope="col">Needs capability</th>
                <th scope="col">Job types</th>
              </tr>
            </thead>
            <tbody>
              {catalog.map((r) => (
                <tr key={r.role}>
                  <td className="mono">{r.role}</td>
                  <td>{r.description}</td>
                  <td className="mono">{r.capability}</td>
                  <td className="mono">{r.job_types.join(", ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </FabricPage>
  );
}
