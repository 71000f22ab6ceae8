// A worker process for fault tests: the real worker runtime with a handler whose side effect (a row in
// test_effects) is committed with the job's completion. Started by tests with `node --import tsx`, killed at will.
import { createDbClient } from "../db/client.ts";
import { createLogger } from "../server/logger.ts";
import { parseEnv } from "../server/config/env.ts";
import type { Runtime } from "../server/runtime.ts";
import { startWorker } from "../server/worker/worker.ts";
import { sql } from "drizzle-orm";

const url = process.env.FAULT_DB_URL!;
const db = createDbClient(url, { max: 6, applicationName: `fault-worker-${process.pid}` });
const rt: Runtime = {
  mode: "worker",
  env: parseEnv({ NODE_ENV: "test", LOG_LEVEL: "silent", CAIRN_SECRET: "fault-test-secret-0123456789abcdefghij" }),
  log: createLogger("silent"),
  db,
  owner: db,
  secret: "unused",
  databaseKind: "external",
  startedAt: new Date(),
  draining: false,
};
const worker = await startWorker(rt, {
  concurrency: 4,
  leaseSeconds: 2,
  reapIntervalMs: 500,
  pollMs: 200,
  handlers: [
    {
      jobType: "test.fault",
      handler: async (ctx) => {
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 40));
        return { commit: async (tx) => void (await tx.execute(sql`insert into test_effects (job_id) values (${ctx.job.id})`)) };
      },
    },
  ],
});
process.stdout.write(`ready ${worker.id}\n`);
process.on("SIGTERM", () => void worker.stop(2_000).then(() => db.close()).then(() => process.exit(0)));
