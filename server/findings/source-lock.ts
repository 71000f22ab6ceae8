// One writer of a source's findings at a time: materializing a graph (a collect run, a push, a deploy gate) and
// deciding an exception both take this transaction-scoped lock first, so a status written by one is never
// overwritten by the other from a stale read. Cheaper than locking each finding row.
import { sql } from "drizzle-orm";
import type { Tx } from "../../db/tenant.ts";

export async function lockSourceFindings(tx: Tx, sourceId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`cairn.findings:${sourceId}`}, 0))`);
}
