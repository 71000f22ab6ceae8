// The provenance graph of a finding, drawn with React Flow: columns from the finding on the left to its source (and
// what started each run) on the right. Drawn in the browser only; before hydration (and without JavaScript) the same
// nodes are listed as links. Every node with a page links to it.
import { Link, useNavigate } from "@remix-run/react";
import { Background, Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from "@xyflow/react";
import { useMemo } from "react";
import type { Provenance, ProvenanceNode } from "../lib/findings";
import { useHydrated } from "../lib/use-hydrated";

type NodeType = ProvenanceNode["type"];

/** Column of each node type, left to right: why → what it was seen in → which work → which run → where from. */
const COLUMN: Record<NodeType, number> = {
  finding: 0,
  asset: 1,
  evidence: 1,
  policy_binding: 1,
  job: 2,
  policy: 2,
  run: 3,
  source: 4,
  schedule: 4,
  requester: 4,
  credential_ref: 4,
};

export const NODE_TYPE_LABEL: Record<NodeType, string> = {
  finding: "Finding",
  asset: "Asset",
  evidence: "Evidence",
  job: "Job",
  run: "Run",
  source: "Source",
  schedule: "Schedule",
  requester: "Requested by",
  credential_ref: "Credential ref",
  policy_binding: "Policy binding",
  policy: "Policy",
};

const COLUMN_WIDTH = 285;
const ROW_HEIGHT = 96;

type ProvNodeData = ProvenanceNode & Record<string, unknown>;

function ProvNodeCard({ data }: NodeProps<Node<ProvNodeData>>) {
  return (
    <div className={`prov-node prov-node-${data.type}`} data-testid={`prov-node-${data.type}`} data-node-id={data.id}>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <span className="prov-node-type">{NODE_TYPE_LABEL[data.type]}</span>
      {data.href ? (
        <Link to={data.href} className="prov-node-label nodrag" title={data.label} data-testid="prov-node-link">
          {data.label}
        </Link>
      ) : (
        <span className="prov-node-label" title={data.label}>
          {data.label}
        </span>
      )}
      {data.detail ? <span className="prov-node-detail">{data.detail}</span> : null}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

const nodeTypes = { prov: ProvNodeCard };

/** Positions by column, rows in the order the API listed the nodes. */
export function layout(graph: Provenance): { nodes: Node<ProvNodeData>[]; edges: Edge[] } {
  const rows = new Map<number, number>();
  const nodes = graph.nodes.map((n) => {
    const col = COLUMN[n.type];
    const row = rows.get(col) ?? 0;
    rows.set(col, row + 1);
    return { id: n.id, type: "prov", position: { x: col * COLUMN_WIDTH, y: row * ROW_HEIGHT }, data: n as ProvNodeData, draggable: false, selectable: false };
  });
  // Centre each column on the tallest one.
  const tallest = Math.max(...rows.values(), 1);
  for (const node of nodes) {
    const count = rows.get(COLUMN[node.data.type]) ?? 1;
    node.position.y += ((tallest - count) * ROW_HEIGHT) / 2;
  }
  const edges = graph.edges.map((e) => ({ id: e.id, source: e.from, target: e.to, label: e.label, className: "prov-edge", labelBgPadding: [4, 2] as [number, number], labelBgBorderRadius: 4 }));
  return { nodes, edges };
}

function NodeList({ graph }: { graph: Provenance }) {
  return (
    <ul className="prov-list" data-testid="provenance-list">
      {graph.nodes.map((n) => (
        <li key={n.id}>
          <span className="prov-node-type">{NODE_TYPE_LABEL[n.type]}</span> {n.href ? <Link to={n.href}>{n.label}</Link> : n.label}
          {n.detail ? <span className="muted"> · {n.detail}</span> : null}
        </li>
      ))}
    </ul>
  );
}

export function ProvenanceGraph({ graph }: { graph: Provenance }) {
  const hydrated = useHydrated();
  const navigate = useNavigate();
  const { nodes, edges } = useMemo(() => layout(graph), [graph]);
  const columns = Math.max(...nodes.map((n) => COLUMN[n.data.type]), 0) + 1;
  const height = Math.min(640, Math.max(260, Math.max(...[...new Set(nodes.map((n) => COLUMN[n.data.type]))].map((c) => nodes.filter((n) => COLUMN[n.data.type] === c).length), 1) * ROW_HEIGHT + 60));
  if (!hydrated) return <NodeList graph={graph} />;
  return (
    <div className="prov-graph" style={{ height }} data-testid="provenance-graph" data-nodes={graph.nodes.length} data-columns={columns}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ padding: 0.12 }}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        // A click anywhere on a node opens its page (and gives the nodes pointer events at all).
        onNodeClick={(_, node) => {
          if (node.data.href) navigate(node.data.href);
        }}
        zoomOnScroll={false}
        preventScrolling={false}
        minZoom={0.3}
        maxZoom={1.5}
      >
        <Background gap={24} size={1} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
