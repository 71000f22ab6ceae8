// Fleet endpoint writes: a sync updates the endpoint's facts and last-seen time when it is received, and its graph
// once the sync has been processed (a sync processed late never replaces a newer one's graph).
import { and, eq, isNotNull, sql } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { fleetEndpoints } from "../../../db/schema/index.ts";
import type { IngestGraph } from "../graph.ts";
import { endpointKeyOf, type EndpointInventory, type FleetSyncBody } from "./fleet-inventory.ts";

export async function recordEndpointSeen(tx: Tx, input: { tenantId: string; sourceId: string; body: FleetSyncBody; ip: string | null; receiptId: string; at: Date }): Promise<string> {
  const { body } = input;
  const values = {
    hostname: body.hostname,
    os: { name: body.os.name, version: body.os.version ?? null, arch: body.os.arch ?? null },
    agentVersion: body.agent_version,
    lastSeenIp: input.ip,
    lastSeenAt: input.at,
    collectedAt: body.collected_at ? new Date(body.collected_at) : null,
    lastReceiptId: input.receiptId,
  };
  const [row] = await tx
    .insert(fleetEndpoints)
    .values({ tenantId: input.tenantId, sourceId: input.sourceId, endpointKey: endpointKeyOf(body), firstSeenAt: input.at, ...values })
    .onConflictDoUpdate({ target: [fleetEndpoints.tenantId, fleetEndpoints.sourceId, fleetEndpoints.endpointKey], set: values })
    .returning({ id: fleetEndpoints.id });
  return row!.id;
}

/** Stores the endpoint's graph from a processed sync unless a newer sync's graph is already there. */
export async function applyEndpointInventory(tx: Tx, endpointId: string, inventory: EndpointInventory, receivedAt: Date): Promise<boolean> {
  const updated = await tx
    .update(fleetEndpoints)
    .set({ graph: inventory.graph, graphReceivedAt: receivedAt, configs: inventory.configs, servers: inventory.servers, summary: inventory.summary })
    .where(and(eq(fleetEndpoints.id, endpointId), sql`(${fleetEndpoints.graphReceivedAt} is null or ${fleetEndpoints.graphReceivedAt} <= ${receivedAt.toISOString()}::timestamptz)`))
    .returning({ id: fleetEndpoints.id });
  return updated.length > 0;
}

/** Every endpoint graph of a fleet source (the source's complete picture, merged by the caller). */
export async function endpointGraphs(tx: Tx, sourceId: string): Promise<IngestGraph[]> {
  const rows = await tx
    .select({ graph: fleetEndpoints.graph })
    .from(fleetEndpoints)
    .where(and(eq(fleetEndpoints.sourceId, sourceId), isNotNull(fleetEndpoints.graph)));
  return rows.map((r) => r.graph as unknown as IngestGraph);
}
