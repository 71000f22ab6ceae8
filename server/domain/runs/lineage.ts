// Retry lineage: a retry links to the run it retries; when a retry succeeds, every failed run up its chain is
// marked recovered by it (so "still failing" stops listing the source).
import { sql } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";

export async function markRecovered(tx: Tx, succeededRunId: string): Promise<string[]> {
  const rows = await tx.execute<{ id: string }>(sql`
    with recursive chain(id, retry_of) as (
      select id, retry_of_run_id from runs where id = ${succeededRunId}
      union all
      select r.id, r.retry_of_run_id from runs r join chain c on r.id = c.retry_of
    )
    update runs set recovered_by_run_id = ${succeededRunId}
    where id in (select id from chain where id <> ${succeededRunId}) and status in ('failed','timed_out','cancelled') and recovered_by_run_id is null
    returning id`);
  return rows.map((r) => r.id);
}
