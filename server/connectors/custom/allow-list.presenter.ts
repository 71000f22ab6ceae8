// What a tenant may know about the custom-connector allow-list: which connectors exist (names and descriptions, never
// executable paths or hashes), to name one in a `custom` source.
import { asc } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { customConnectors } from "../../../db/schema/connectors.ts";

export async function availableCustomConnectors(tx: Tx): Promise<{ name: string; display_name: string; description: string }[]> {
  const rows = await tx
    .select({ name: customConnectors.name, displayName: customConnectors.displayName, description: customConnectors.description })
    .from(customConnectors)
    .orderBy(asc(customConnectors.name));
  return rows.map((r) => ({ name: r.name, display_name: r.displayName, description: r.description }));
}
