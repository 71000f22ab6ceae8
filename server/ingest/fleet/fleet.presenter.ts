// Read models of the fleet: endpoints with last seen (keyset page, newest sync first), and one endpoint with the
// MCP servers and findings of its latest processed sync.
import { and, desc, eq, ilike, or } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { fleetEndpoints, ingestReceipts, sources } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { afterCursor, cursorColumn, pageLimit, toPage, type Page } from "../../domain/keyset.ts";
import { presentReceipt, type ReceiptView } from "../receipt.presenter.ts";
import type { GraphAsset, GraphFinding } from "../graph.ts";

type EndpointRow = typeof fleetEndpoints.$inferSelect;

/** An endpoint not heard from in this long is shown as stale. */
export const STALE_AFTER_SECONDS = 24 * 3600;

export interface EndpointView {
  endpoint_id: string;
  source_id: string;
  source_name: string | null;
  endpoint_key: string;
  hostname: string;
  os: { name: string; version: string | null; arch: string | null };
  agent_version: string;
  last_seen_at: string;
  last_seen_ip: string | null;
  first_seen_at: string;
  collected_at: string | null;
  stale: boolean;
  last_receipt_id: string | null;
  configs: number;
  servers: number;
  findings: number;
}

function present(row: EndpointRow, sourceName: string | null): EndpointView {
  const graph = row.graph as { findings?: unknown[] } | null;
  return {
    endpoint_id: row.id,
    source_id: row.sourceId,
    source_name: sourceName,
    endpoint_key: row.endpointKey,
    hostname: row.hostname,
    os: row.os,
    agent_version: row.agentVersion,
    last_seen_at: row.lastSeenAt.toISOString(),
    last_seen_ip: row.lastSeenIp,
    first_seen_at: row.firstSeenAt.toISOString(),
    collected_at: row.collectedAt?.toISOString() ?? null,
    stale: Date.now() - row.lastSeenAt.getTime() > STALE_AFTER_SECONDS * 1000,
    last_receipt_id: row.lastReceiptId,
    configs: row.configs,
    servers: row.servers,
    findings: graph?.findings?.length ?? 0,
  };
}

export interface EndpointFilters {
  source_id?: string;
  /** Part of the hostname or endpoint key. */
  q?: string;
  cursor?: string;
  limit?: number;
}

export async function listEndpoints(tx: Tx, tenantId: string, filters: EndpointFilters): Promise<Page<EndpointView>> {
  const limit = pageLimit(filters.limit);
  const e = fleetEndpoints;
  const like = filters.q ? `%${filters.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const rows = await tx
    .select({ row: e, sourceName: sources.displayName, cursorAt: cursorColumn(e.lastSeenAt), id: e.id })
    .from(e)
    .leftJoin(sources, eq(sources.id, e.sourceId))
    .where(and(eq(e.tenantId, tenantId), filters.source_id ? eq(e.sourceId, filters.source_id) : undefined, like ? or(ilike(e.hostname, like), ilike(e.endpointKey, like)) : undefined, afterCursor(e.lastSeenAt, e.id, filters.cursor)))
    .orderBy(desc(e.lastSeenAt), desc(e.id))
    .limit(limit + 1);
  return toPage(rows, limit, (x) => present(x.row, x.sourceName));
}

export interface EndpointDetailView extends EndpointView {
  summary: Record<string, unknown>;
  mcp_servers: { name: string; client: unknown; file: unknown; transport: unknown; command: unknown; url: unknown; package: unknown }[];
  detected: { rule: string; severity: string; title: string; where: string | null }[];
  recent_receipts: ReceiptView[];
}

export async function getEndpoint(tx: Tx, id: string): Promise<EndpointDetailView> {
  const [found] = await tx.select({ row: fleetEndpoints, sourceName: sources.displayName }).from(fleetEndpoints).leftJoin(sources, eq(sources.id, fleetEndpoints.sourceId)).where(eq(fleetEndpoints.id, id));
  if (!found) throw new AppError("NOT_FOUND", "No such endpoint");
  const graph = (found.row.graph ?? { assets: [], relations: [], findings: [] }) as { assets: GraphAsset[]; findings: GraphFinding[] };
  const receipts = await tx.select().from(ingestReceipts).where(eq(ingestReceipts.endpointId, id)).orderBy(desc(ingestReceipts.receivedAt)).limit(10);
  return {
    ...present(found.row, found.sourceName),
    summary: found.row.summary,
    mcp_servers: graph.assets
      .filter((a) => a.type === "mcp_server")
      .map((a) => ({ name: a.name ?? a.id, client: a.properties.client, file: a.properties.file, transport: a.properties.transport, command: a.properties.command, url: a.properties.url, package: a.properties.package })),
    detected: graph.findings.map((f) => ({ rule: f.rule, severity: f.severity, title: f.title, where: f.where ?? null })),
    recent_receipts: receipts.map(presentReceipt),
  };
}
