// npm run bench:findings — materializeGraph at scale, as the app role (row-level security on): a graph of N findings
// (each on its own asset, one relation per asset) materialized for the first time, again unchanged, as a deploy-gate
// re-evaluation, and with a tenth removed (resolved); then the Findings list's first and a deep page at that size.
//
//   node --import tsx scripts/bench-findings.ts [--findings 100000] [--rounds 3]
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { startThrowawayPostgres, throwawayDir } from "./throwaway-postgres.ts";
import { createDbClient } from "../db/client.ts";
import { runMigrations } from "../db/migrate.ts";
import { appRoleUrl, provisionAppRole } from "../db/app-role.ts";
import { withTenant } from "../db/tenant.ts";
import { materializeGraph } from "../server/findings/materialize.service.ts";
import { listFindings } from "../server/findings/findings.presenter.ts";

const { values: opts } = parseArgs({ options: { findings: { type: "string", default: "100000" }, rounds: { type: "string", default: "3" } } });
const N = Number(opts.findings);
const ROUNDS = Number(opts.rounds);
const SECRET = "bench-findings-installation-secret-0123456789";
const log = (m: string) => process.stderr.write(`${m}\n`);

function graphOf(count: number, skipEvery = 0) {
  const assets: unknown[] = [{ id: "repo:bench", type: "repository", name: "bench" }];
  const relations: unknown[] = [];
  const findings: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const id = `pkg:npm/bench-${i}@1.0.${i % 10}`;
    assets.push({ id, type: "package", name: `bench-${i}`, version: `1.0.${i % 10}` });
    relations.push({ type: "depends_on", from: "repo:bench", to: id });
    if (skipEvery && i % skipEvery === 0) continue;
    findings.push({ fingerprint: `fp-${i}`, rule: `vuln.CVE-2025-${i % 5000}`, severity: (["critical", "high", "medium", "low", "info"] as const)[i % 5], title: `CVE-2025-${i % 5000} in bench-${i}`, asset: id, where: `package-lock.json#/packages/node_modules~1bench-${i}`, details: { installed: `1.0.${i % 10}`, fixed: "2.0.0" } });
  }
  return { assets, relations, findings };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) => `${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;

const database = await startThrowawayPostgres(throwawayDir("bench-findings"));
const { pg } = database;
const owner = createDbClient(pg.url, { max: 2, applicationName: "bench-findings-owner" });
try {
  await runMigrations(owner);
  await provisionAppRole(owner, SECRET);
  const app = createDbClient(appRoleUrl(pg.url, SECRET), { max: 4, applicationName: "bench-findings-app" });
  const results: Record<string, number[]> = { first: [], unchanged: [], reevaluation: [], removed: [], listFirst: [], listDeep: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    const [tenant] = await owner.sql<{ id: string }[]>`insert into tenants (slug, name) values (${`bench-${round}`}, 'bench') returning id`;
    const tenantId = tenant!.id;
    const [source] = await owner.sql<{ id: string }[]>`insert into sources (tenant_id, kind, display_name, created_by) values (${tenantId}, 'ingest.result_push', 'bench', 'bench') returning id`;
    const materialize = async (graph: ReturnType<typeof graphOf>, reevaluation = false) => {
      const runId = randomUUID();
      const [ev] = await owner.sql<{ id: string }[]>`
        insert into evidence (tenant_id, source_id, run_id, kind, storage_uri, content_type, hash, size)
        values (${tenantId}, ${source!.id}, ${runId}, 'inventory', ${`fs://${tenantId}/00/${"0".repeat(64)}`}, 'application/json', ${"0".repeat(64)}, 1) returning id`;
      const t0 = performance.now();
      const r = await withTenant(app, tenantId, (tx) => materializeGraph(tx, { tenantId, sourceId: source!.id, runId, jobId: null, evidenceIds: [ev!.id], graph, complete: true, reevaluation }));
      return { ms: performance.now() - t0, r };
    };
    const full = graphOf(N);
    const first = await materialize(full);
    if (first.r.created.length !== N) throw new Error(`expected ${N} created, got ${first.r.created.length}`);
    results.first!.push(first.ms);
    const again = await materialize(full);
    if (again.r.created.length !== 0 || again.r.updated.length !== N) throw new Error("a re-run must only update");
    results.unchanged!.push(again.ms);
    const reeval = await materialize(full, true);
    results.reevaluation!.push(reeval.ms);
    const removed = await materialize(graphOf(N, 10));
    if (removed.r.resolved.length !== N / 10) throw new Error(`expected ${N / 10} resolved, got ${removed.r.resolved.length}`);
    results.removed!.push(removed.ms);
    await owner.sql`analyze`;
    let t0 = performance.now();
    const page = await withTenant(app, tenantId, (tx) => listFindings(tx, tenantId, { limit: 50 }));
    results.listFirst!.push(performance.now() - t0);
    // A cursor from the middle of the list.
    const [mid] = await owner.sql<{ at: string; id: string }[]>`
      select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at, id::text from findings where tenant_id = ${tenantId}
      order by created_at desc, id desc offset ${Math.floor(N / 2)} limit 1`;
    const cursor = Buffer.from(JSON.stringify([mid!.at, mid!.id])).toString("base64url");
    t0 = performance.now();
    const deep = await withTenant(app, tenantId, (tx) => listFindings(tx, tenantId, { limit: 50, cursor }));
    results.listDeep!.push(performance.now() - t0);
    if (page.items.length !== 50 || deep.items.length !== 50) throw new Error("list pages must be full");
    log(`round ${round}: first ${first.ms.toFixed(0)} ms, unchanged ${again.ms.toFixed(0)} ms, re-evaluation ${reeval.ms.toFixed(0)} ms, a tenth removed ${removed.ms.toFixed(0)} ms`);
  }
  const rate = (ms: number) => Math.round((N / ms) * 1000).toLocaleString("en-US");
  process.stdout.write(
    [
      `materializeGraph with ${N.toLocaleString("en-US")} findings (${(N + 1).toLocaleString("en-US")} assets, ${N.toLocaleString("en-US")} relations), ${ROUNDS} rounds, medians:`,
      `  first run (all created):        ${fmt(results.first!)} → ${rate(median(results.first!))} findings/s`,
      `  same graph again (all updated): ${fmt(results.unchanged!)} → ${rate(median(results.unchanged!))} findings/s`,
      `  deploy-gate re-evaluation:      ${fmt(results.reevaluation!)}`,
      `  a tenth removed (resolved):     ${fmt(results.removed!)}`,
      `Findings list at ${N.toLocaleString("en-US")} findings: first page ${fmt(results.listFirst!)}, deep page ${fmt(results.listDeep!)}`,
      "",
    ].join("\n"),
  );
  await app.close();
} finally {
  await owner.close();
  await database.stop();
}
