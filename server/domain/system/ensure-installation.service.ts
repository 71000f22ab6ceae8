// Records this installation's identity the first time a migrated database is used; later starts keep it.
import { installation } from "../../../db/schema/index.ts";
import type { DbClient } from "../../../db/client.ts";
import { version } from "../../version.ts";

export async function ensureInstallation(db: DbClient): Promise<{ installationId: string; created: boolean }> {
  const inserted = await db.db
    .insert(installation)
    .values({ createdByVersion: version })
    .onConflictDoNothing()
    .returning({ installationId: installation.installationId });
  if (inserted[0]) return { installationId: inserted[0].installationId, created: true };
  const [row] = await db.db.select({ installationId: installation.installationId }).from(installation).limit(1);
  return { installationId: row!.installationId, created: false };
}
