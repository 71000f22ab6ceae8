// The fabric topology laid out for React Flow: columns left to right — clusters, their node groups (nested groups one
// column further each), nodes, and the organizations nodes serve — with rows in tree order so children sit near their
// parents. Pure, so it is the same on the server and in the browser, and testable.
import type { Topology, TopologyNode } from "./fabric";

export const TOPOLOGY_COLUMN_WIDTH = 260;
export const TOPOLOGY_ROW_HEIGHT = 84;

export interface PlacedNode {
  id: string;
  type: TopologyNode["type"];
  label: string;
  /** What colours it: a node's health, a cluster's authority state. */
  state: string | null;
  href: string | null;
  column: number;
  row: number;
}

export interface PlacedEdge {
  id: string;
  source: string;
  target: string;
  kind: Topology["edges"][number]["kind"];
}

const str = (v: unknown) => (typeof v === "string" ? v : null);

export function topologyHref(n: TopologyNode): string | null {
  const d = n.data;
  if (n.type === "cluster" && str(d.cluster_id)) return `/fabric/clusters/${str(d.cluster_id)}`;
  if (n.type === "node" && str(d.node_id)) return `/fabric/nodes/${str(d.node_id)}`;
  if (n.type === "group" && str(d.group_id)) return `/fabric/nodes?cluster=${str(d.cluster_id) ?? ""}&group=${str(d.group_id)}`;
  if (n.type === "tenant") return str(d.tenant_id) ? `/fabric/roles?tenant=${str(d.tenant_id)}` : "/fabric/roles";
  return null;
}

function stateOf(n: TopologyNode): string | null {
  if (n.type === "node") return str(n.data.health);
  if (n.type === "cluster") return str(n.data.authority_state);
  return null;
}

export function layoutTopology(topology: Topology): { nodes: PlacedNode[]; edges: PlacedEdge[]; columns: number; rows: number } {
  const byId = new Map(topology.nodes.map((n) => [n.id, n]));
  const children = new Map<string, string[]>();
  for (const e of topology.edges) {
    if (e.kind === "serves") continue;
    const list = children.get(e.source) ?? [];
    list.push(e.target);
    children.set(e.source, list);
  }
  // Depth of each group below its cluster (0 for a top-level group).
  const groupDepth = new Map<string, number>();
  const walk = (id: string, depth: number) => {
    for (const child of children.get(id) ?? []) {
      if (byId.get(child)?.type === "group" && !groupDepth.has(child)) {
        groupDepth.set(child, depth);
        walk(child, depth + 1);
      }
    }
  };
  for (const n of topology.nodes) if (n.type === "cluster") walk(n.id, 0);
  const maxDepth = Math.max(-1, ...groupDepth.values());
  const nodeColumn = maxDepth + 2;
  const tenantColumn = nodeColumn + 1;
  const column = (n: TopologyNode) => (n.type === "cluster" ? 0 : n.type === "group" ? 1 + (groupDepth.get(n.id) ?? 0) : n.type === "node" ? nodeColumn : tenantColumn);

  // Rows in depth-first order from each cluster, so a cluster's groups and nodes stay together.
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    order.push(id);
    for (const child of children.get(id) ?? []) visit(child);
  };
  for (const n of topology.nodes) if (n.type === "cluster") visit(n.id);
  for (const n of topology.nodes) if (!seen.has(n.id)) visit(n.id);

  const nextRow = new Map<number, number>();
  const placed = order.map((id) => {
    const n = byId.get(id)!;
    const col = column(n);
    const row = nextRow.get(col) ?? 0;
    nextRow.set(col, row + 1);
    return { id: n.id, type: n.type, label: n.label, state: stateOf(n), href: topologyHref(n), column: col, row };
  });
  const edges = topology.edges.filter((e) => byId.has(e.source) && byId.has(e.target)).map((e) => ({ id: e.id, source: e.source, target: e.target, kind: e.kind }));
  return { nodes: placed, edges, columns: placed.length ? Math.max(...placed.map((p) => p.column)) + 1 : 0, rows: Math.max(0, ...nextRow.values()) };
}
