// The inventory evidence document: the normalized graph a run materialized, stored (signed, content-addressed) with
// the run's other evidence. Rematerialize re-reads these documents, so they are the source's stored picture.
export const INVENTORY_EVIDENCE_KIND = "inventory";
export const INVENTORY_FORMAT = "cairn.inventory/v1";

export interface InventoryDocument {
  format: typeof INVENTORY_FORMAT;
  source: { id: string; kind: string };
  run_id: string;
  job_id: string | null;
  /** false: the graph adds to the source's earlier pictures instead of replacing them (incremental pushes). */
  complete?: boolean;
  graph: { assets: unknown[]; relations: unknown[]; findings: unknown[] };
  [extra: string]: unknown;
}

export function isInventoryDocument(v: unknown): v is InventoryDocument {
  if (typeof v !== "object" || v === null) return false;
  const d = v as Record<string, unknown>;
  const g = d.graph as Record<string, unknown> | undefined;
  return d.format === INVENTORY_FORMAT && typeof g === "object" && g !== null && Array.isArray(g.assets) && Array.isArray(g.relations) && Array.isArray(g.findings);
}
