import { describe, expect, it } from "vitest";
import { layoutTopology, topologyHref } from "./fabric-topology";
import type { Topology } from "./fabric";

const topology: Topology = {
  nodes: [
    { id: "cluster:c1", type: "cluster", label: "Edge", data: { cluster_id: "c1", slug: "edge", authority_state: "degraded" } },
    { id: "group:g1", type: "group", label: "Branches", data: { group_id: "g1", cluster_id: "c1" } },
    { id: "group:g2", type: "group", label: "North", data: { group_id: "g2", cluster_id: "c1" } },
    { id: "node:n1", type: "node", label: "branch-1", data: { node_id: "n1", health: "healthy" } },
    { id: "node:n2", type: "node", label: "core-1", data: { node_id: "n2", health: "offline" } },
    { id: "cluster:c2", type: "cluster", label: "Lab", data: { cluster_id: "c2", slug: "lab", authority_state: "healthy" } },
    { id: "node:n3", type: "node", label: "lab-1", data: { node_id: "n3", health: "revoked" } },
    { id: "tenant:t1", type: "tenant", label: "acme", data: { tenant_id: "t1" } },
    { id: "tenant:*", type: "tenant", label: "every organization", data: { tenant_id: null } },
  ],
  edges: [
    { id: "e1", source: "cluster:c1", target: "group:g1", kind: "group_of" },
    { id: "e2", source: "group:g1", target: "group:g2", kind: "group_of" },
    { id: "e3", source: "group:g2", target: "node:n1", kind: "member_of" },
    { id: "e4", source: "cluster:c1", target: "node:n2", kind: "member_of" },
    { id: "e5", source: "cluster:c2", target: "node:n3", kind: "member_of" },
    { id: "e6", source: "node:n1", target: "tenant:t1", kind: "serves" },
    { id: "e7", source: "node:n2", target: "tenant:*", kind: "serves" },
    { id: "e8", source: "node:n2", target: "node:missing", kind: "serves" },
  ],
};

describe("layoutTopology", () => {
  it("puts clusters, nested groups, nodes and organizations in columns left to right, colouring by health and authority", () => {
    const { nodes, edges, columns } = layoutTopology(topology);
    const at = (id: string) => nodes.find((n) => n.id === id)!;
    expect(at("cluster:c1").column).toBe(0);
    expect(at("group:g1").column).toBe(1);
    expect(at("group:g2").column).toBe(2);
    expect([at("node:n1").column, at("node:n2").column, at("node:n3").column]).toEqual([3, 3, 3]);
    expect([at("tenant:t1").column, at("tenant:*").column]).toEqual([4, 4]);
    expect(columns).toBe(5);
    expect(at("node:n2").state).toBe("offline");
    expect(at("cluster:c1").state).toBe("degraded");
    // A cluster's nodes come before the next cluster's.
    expect(at("node:n1").row).toBeLessThan(at("node:n3").row);
    expect(at("node:n2").row).toBeLessThan(at("node:n3").row);
    // Edges to nodes that are not in the graph are dropped.
    expect(edges.map((e) => e.id)).toEqual(["e1", "e2", "e3", "e4", "e5", "e6", "e7"]);
  });

  it("without groups, nodes sit right next to their cluster", () => {
    const flat = layoutTopology({ nodes: topology.nodes.filter((n) => n.type !== "group"), edges: [{ id: "e", source: "cluster:c1", target: "node:n1", kind: "member_of" }] });
    expect(flat.nodes.find((n) => n.id === "node:n1")!.column).toBe(1);
    expect(flat.nodes.find((n) => n.id === "tenant:t1")!.column).toBe(2);
    expect(layoutTopology({ nodes: [], edges: [] })).toEqual({ nodes: [], edges: [], columns: 0, rows: 0 });
  });

  it("links every element to its page", () => {
    const href = (id: string) => topologyHref(topology.nodes.find((n) => n.id === id)!);
    expect(href("cluster:c1")).toBe("/fabric/clusters/c1");
    expect(href("node:n1")).toBe("/fabric/nodes/n1");
    expect(href("group:g1")).toBe("/fabric/nodes?cluster=c1&group=g1");
    expect(href("tenant:t1")).toBe("/fabric/roles?tenant=t1");
    expect(href("tenant:*")).toBe("/fabric/roles");
  });
});
