// Where a `custom` source's connector is looked up at run time: the allow-list in the database, read in platform
// context. Connectors receive no database handle, so the process binds the catalog once at start-up
// (server/modes/serve.ts); a process that never bound it refuses custom sources with a clear error.
import { eq } from "drizzle-orm";
import type { DbClient } from "../../../db/client.ts";
import { withPlatform } from "../../../db/tenant.ts";
import { customConnectors } from "../../../db/schema/connectors.ts";

export interface AllowListedConnector {
  name: string;
  executablePath: string;
  sha256: string;
  timeoutSeconds: number;
  maxOutputBytes: number;
}

export type CustomConnectorLookup = (name: string) => Promise<AllowListedConnector | null>;

let lookup: CustomConnectorLookup | null = null;

/** Binds the allow-list of this process's database (call once the app pool is open). */
export function useCustomConnectorCatalog(db: DbClient): void {
  lookup = async (name) => {
    const [row] = await withPlatform(db, (tx) =>
      tx
        .select({
          name: customConnectors.name,
          executablePath: customConnectors.executablePath,
          sha256: customConnectors.sha256,
          timeoutSeconds: customConnectors.timeoutSeconds,
          maxOutputBytes: customConnectors.maxOutputBytes,
        })
        .from(customConnectors)
        .where(eq(customConnectors.name, name)),
    );
    return row ?? null;
  };
}

export function customConnectorLookup(): CustomConnectorLookup | null {
  return lookup;
}
