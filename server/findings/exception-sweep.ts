// The periodic half of exception expiry (the lazy half runs on every read): every 30 seconds the scheduler asks
// which tenants have approved exceptions past their expiry and expires them inside each tenant's own transaction,
// reopening their findings. Any number of replicas may sweep at once: the update only matches rows still approved.
import { sql } from "drizzle-orm";
import { Cron } from "croner";
import { withTenant } from "../../db/tenant.ts";
import type { Runtime } from "../runtime.ts";
import { expireDueExceptions } from "./exceptions.service.ts";

export const SWEEP_TENANT_BATCH = 100;

export async function sweepExpiredExceptions(rt: Pick<Runtime, "db">): Promise<{ tenants: number; expired: number; reopened: number }> {
  const due = await rt.db.db.execute<{ tenant_id: string }>(sql`select tenant_id from cairn_tenants_with_expired_exceptions(now(), ${SWEEP_TENANT_BATCH})`);
  let expired = 0;
  let reopened = 0;
  for (const { tenant_id: tenantId } of due) {
    const r = await withTenant(rt.db, tenantId, (tx) => expireDueExceptions(tx, tenantId));
    expired += r.expired.length;
    reopened += r.reopened.length;
  }
  return { tenants: due.length, expired, reopened };
}

export function startExceptionSweep(rt: Runtime, pattern = "*/30 * * * * *"): { stop(): Promise<void> } {
  const log = rt.log.child({ component: "exception-sweep" });
  let inFlight: Promise<void> = Promise.resolve();
  const job = new Cron(pattern, { protect: true, catch: (err) => log.error({ err }, "exception sweep threw") }, () => {
    if (rt.draining) return;
    inFlight = sweepExpiredExceptions(rt)
      .then((r) => {
        if (r.expired) log.info(r, "expired exceptions swept; their findings reopened");
      })
      .catch((err: unknown) => log.warn({ err: (err as Error).message }, "exception sweep failed; retrying at the next tick"));
    return inFlight;
  });
  return {
    async stop() {
      job.stop();
      await inFlight;
    },
  };
}
