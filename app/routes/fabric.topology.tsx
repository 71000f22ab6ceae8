// The fabric's topology for platform owners: clusters → node groups → nodes → the organizations they serve, coloured
// by health, drawn with React Flow in the browser. Organizations never see it.
import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useLoaderData } from "@remix-run/react";
import flowStyles from "@xyflow/react/dist/style.css";
import { platformOnly } from "../lib/fabric-load.server";
import { pageTitle } from "../lib/sections";
import { NODE_HEALTH, NODE_HEALTH_ORDER } from "../lib/fabric";
import { useRevalidateEvery } from "../lib/fabric-actions";
import { FabricPage } from "../components/fabric-page";
import { FabricDenied } from "../components/fabric-denied";
import { FabricTopologyGraph } from "../components/fabric-topology-graph";
import { EmptyState } from "../components/empty-state";
import { StatusBadge } from "../components/status-badge";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: flowStyles }];

export const meta: MetaFunction = () => [{ title: pageTitle("Topology") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  const cluster = new URL(request.url).searchParams.get("cluster") ?? "";
  return platformOnly(request, async () => {
    const [clusters, topology] = await Promise.all([context.caller.fabric.clusters.list(), context.caller.fabric.topology(cluster ? { cluster_id: cluster } : {})]);
    return { cluster, clusters: clusters.items, topology };
  });
}

const DESCRIPTION = "Clusters, their node groups and nodes, and the organizations each node serves. Nodes are coloured by health, clusters by authority state; click any element to open it.";

export default function TopologyPage() {
  const data = useLoaderData<typeof loader>();
  useRevalidateEvery(15_000, data.allowed);
  if (!data.allowed) {
    return (
      <FabricPage title="Topology" testId="page-fabric-topology" description={DESCRIPTION}>
        <FabricDenied what="The topology" message={data.message} />
      </FabricPage>
    );
  }
  const { cluster, clusters, topology } = data.data;
  return (
    <FabricPage title="Topology" testId="page-fabric-topology" description={DESCRIPTION}>
      <Form method="get" className="form-row fabric-filter">
        <div className="field">
          <label className="field-label" htmlFor="topology-cluster">
            Cluster
          </label>
          <select id="topology-cluster" className="input" name="cluster" defaultValue={cluster} onChange={(e) => e.currentTarget.form?.requestSubmit()}>
            <option value="">All clusters</option>
            {clusters.map((c) => (
              <option key={c.cluster_id} value={c.cluster_id}>
                {c.slug}
              </option>
            ))}
          </select>
        </div>
        <noscript>
          <button type="submit" className="button">
            Show
          </button>
        </noscript>
        <span className="fabric-filter-note fabric-legend" aria-label="Legend">
          {NODE_HEALTH_ORDER.map((h) => (
            <StatusBadge key={h} tone={NODE_HEALTH[h].tone}>
              {NODE_HEALTH[h].label}
            </StatusBadge>
          ))}
        </span>
      </Form>
      {topology.nodes.length === 0 ? (
        <EmptyState icon="fabric" title="Nothing to draw yet">
          Create a cluster and enroll a node; it appears here with its groups and the organizations it serves.
        </EmptyState>
      ) : (
        <section className="panel" aria-label="Topology graph">
          <FabricTopologyGraph topology={topology} />
        </section>
      )}
    </FabricPage>
  );
}
