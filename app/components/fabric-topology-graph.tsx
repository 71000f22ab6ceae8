// The fabric topology drawn with React Flow: clusters → node groups → nodes → the organizations they serve, nodes
// coloured by health and clusters by authority state. Drawn in the browser only; before hydration (and without
// JavaScript) the same elements are listed as links. Clicking an element opens its page.
import { Link, useNavigate } from "@remix-run/react";
import { Background, Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from "@xyflow/react";
import { useMemo } from "react";
import type { Topology } from "../lib/fabric";
import { healthLabel } from "../lib/fabric";
import { layoutTopology, TOPOLOGY_COLUMN_WIDTH, TOPOLOGY_ROW_HEIGHT, type PlacedNode } from "../lib/fabric-topology";
import { useHydrated } from "../lib/use-hydrated";

const TYPE_LABEL: Record<PlacedNode["type"], string> = { cluster: "Cluster", group: "Group", node: "Node", tenant: "Serves" };

type CardData = PlacedNode & Record<string, unknown>;

function stateText(n: PlacedNode): string | null {
  if (!n.state) return null;
  return n.type === "node" ? healthLabel(n.state) : `authority ${n.state}`;
}

function TopologyCard({ data }: NodeProps<Node<CardData>>) {
  const state = stateText(data);
  return (
    <div className={`fabric-topo-node fabric-topo-${data.type}${data.state ? ` fabric-topo-state-${data.state}` : ""}`} data-testid={`topology-${data.type}`} data-state={data.state ?? ""} data-label={data.label}>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <span className="fabric-topo-type">{TYPE_LABEL[data.type]}</span>
      {data.href ? (
        <Link to={data.href} className="fabric-topo-label nodrag" title={data.label}>
          {data.label}
        </Link>
      ) : (
        <span className="fabric-topo-label">{data.label}</span>
      )}
      {state ? <span className="fabric-topo-state">{state}</span> : null}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

const nodeTypes = { fabric: TopologyCard };

function TopologyList({ nodes }: { nodes: PlacedNode[] }) {
  return (
    <ul className="prov-list" data-testid="topology-list">
      {nodes.map((n) => (
        <li key={n.id}>
          <span className="prov-node-type">{TYPE_LABEL[n.type]}</span> {n.href ? <Link to={n.href}>{n.label}</Link> : n.label}
          {stateText(n) ? <span className="muted"> · {stateText(n)}</span> : null}
        </li>
      ))}
    </ul>
  );
}

export function FabricTopologyGraph({ topology }: { topology: Topology }) {
  const hydrated = useHydrated();
  const navigate = useNavigate();
  const layout = useMemo(() => layoutTopology(topology), [topology]);
  const { nodes, edges } = useMemo(() => {
    const flowNodes: Node<CardData>[] = layout.nodes.map((n) => ({
      id: n.id,
      type: "fabric",
      position: { x: n.column * TOPOLOGY_COLUMN_WIDTH, y: n.row * TOPOLOGY_ROW_HEIGHT },
      data: n as CardData,
      draggable: false,
      selectable: false,
    }));
    const flowEdges: Edge[] = layout.edges.map((e) => ({
      id: e.id,
      source: e.source,
      target: e.target,
      className: `fabric-topo-edge fabric-topo-edge-${e.kind}`,
      animated: e.kind === "serves",
      label: e.kind === "serves" ? "serves" : undefined,
      labelBgPadding: [4, 2] as [number, number],
      labelBgBorderRadius: 4,
    }));
    return { nodes: flowNodes, edges: flowEdges };
  }, [layout]);
  const height = Math.min(720, Math.max(280, layout.rows * TOPOLOGY_ROW_HEIGHT + 80));
  if (!hydrated) return <TopologyList nodes={layout.nodes} />;
  return (
    <div className="prov-graph fabric-topology" style={{ height }} data-testid="topology-graph" data-nodes={layout.nodes.length} data-edges={layout.edges.length}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ padding: 0.12 }}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        onNodeClick={(_, node) => {
          if (node.data.href) navigate(node.data.href);
        }}
        zoomOnScroll={false}
        preventScrolling={false}
        minZoom={0.25}
        maxZoom={1.5}
      >
        <Background gap={24} size={1} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
