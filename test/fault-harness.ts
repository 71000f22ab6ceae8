// Shared by the fault test and the soak script: enqueue jobs, SIGKILL worker processes mid-job over and over,
// then let one survivor finish, and count outcomes and side effects.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { DbClient } from "../db/client.ts";
import { withTenant } from "../db/tenant.ts";
import { enqueueJobs } from "../server/queue/enqueue.ts";
import { createTenant } from "../server/domain/tenants/tenants.service.ts";

export const repoRootDir = path.resolve(import.meta.dirname, "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startFaultWorker(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRootDir, "test", "fault-worker.ts")], { cwd: repoRootDir, env: { PATH: process.env.PATH, FAULT_DB_URL: url } as unknown as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.once("data", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`fault worker exited (${code}): ${err}`)));
  });
}

export interface KillLoopResult {
  total: number;
  succeeded: number;
  running: number;
  retried: number;
  effects: number;
  distinctEffects: number;
  kills: number;
  seconds: number;
}

/** `app` connects as cairn_app to `appUrl`; `owner` can create the side-effect table. */
export async function killLoop(opts: { app: DbClient; owner: DbClient; appUrl: string; kills: number; total: number; slug?: string }): Promise<KillLoopResult> {
  const t0 = Date.now();
  const system = { actor: "system:fault-harness", actorType: "system" as const, requestId: null, ip: null };
  const tenant = (await createTenant(opts.app, { slug: opts.slug ?? "faults", name: "Faults" }, system)).id;
  await opts.owner.sql`create table if not exists test_effects (job_id uuid not null)`;
  await opts.owner.sql`grant insert, select on test_effects to cairn_app`;
  await withTenant(opts.app, tenant, (tx) => enqueueJobs(tx, Array.from({ length: opts.total }, () => ({ tenantId: tenant, jobType: "test.fault", requestedBy: "fault-harness", maxAttempts: 25 }))));
  const effects = async () => (await opts.owner.sql<{ n: number }[]>`select count(*)::int as n from test_effects`)[0]!.n;
  for (let kill = 0; kill < opts.kills; kill++) {
    const child = await startFaultWorker(opts.appUrl);
    const before = await effects();
    const deadline = Date.now() + 3_000;
    while ((await effects()) < before + 3 && Date.now() < deadline) await sleep(10);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
  }
  const finisher = await startFaultWorker(opts.appUrl);
  try {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const [s] = await opts.owner.sql<{ done: number }[]>`select count(*)::int as done from jobs where status = 'succeeded' and job_type = 'test.fault'`;
      if (s!.done === opts.total) break;
      await sleep(200);
    }
  } finally {
    finisher.kill("SIGTERM");
    await new Promise((r) => finisher.once("exit", r));
  }
  const [summary] = await opts.owner.sql<{ succeeded: number; running: number; retried: number }[]>`
    select count(*) filter (where status = 'succeeded')::int as succeeded, count(*) filter (where status = 'running')::int as running,
           count(*) filter (where attempts > 1)::int as retried from jobs where job_type = 'test.fault'`;
  const [fx] = await opts.owner.sql<{ n: number; distinct_jobs: number }[]>`select count(*)::int as n, count(distinct job_id)::int as distinct_jobs from test_effects`;
  return { total: opts.total, ...summary!, effects: fx!.n, distinctEffects: fx!.distinct_jobs, kills: opts.kills, seconds: (Date.now() - t0) / 1000 };
}
