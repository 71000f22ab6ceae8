// npm run bench:audit — the audit list at a million events (first page, a deep page, filtered pages) on the
// embedded PostgreSQL, through the real presenter and the app role (row-level security on); then verify and export
// throughput on a valid hash chain.
//
//   node --import tsx scripts/bench-audit.ts [--events 1000000] [--runs 50] [--chain-events 200000]
//
// The list rows are generated in SQL (generate_series) as the owner: their hashes are placeholders, not a valid
// chain, which paging does not need. The verify/export part builds a real chain in memory with canonical.ts.
import os from "node:os";
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { startThrowawayPostgres, throwawayDir } from "./throwaway-postgres.ts";
import { createDbClient, type DbClient } from "../db/client.ts";
import { runMigrations } from "../db/migrate.ts";
import { appRoleUrl, provisionAppRole } from "../db/app-role.ts";
import { withTenant } from "../db/tenant.ts";
import { encodeCursor, listAuditEvents, type AuditListFilters } from "../server/domain/audit/audit-list.presenter.ts";
import { verifyTenantChain } from "../server/domain/audit/audit-verify.presenter.ts";
import { auditExportLines, beginAuditExport } from "../server/domain/audit/audit-export.service.ts";
import { tenantChain } from "../server/domain/audit/chain-reader.ts";
import { signingKey } from "../server/domain/audit/signing-key.service.ts";
import { appendAudit } from "../server/domain/audit/audit-writer.service.ts";
import { auditHash, GENESIS_HASH, type AuditRecord } from "../server/domain/audit/canonical.ts";

const { values: opts } = parseArgs({
  options: { events: { type: "string", default: "1000000" }, runs: { type: "string", default: "50" }, "chain-events": { type: "string", default: "200000" } },
});
const EVENTS = Number(opts.events);
const RUNS = Number(opts.runs);
const CHAIN_EVENTS = Number(opts["chain-events"]);
const SECRET = "bench-audit-installation-secret-0123456789";

const log = (msg: string) => process.stderr.write(`${msg}\n`);

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { p50: q(0.5), p95: q(0.95) };
}

async function createTenant(owner: DbClient, slug: string): Promise<string> {
  const [row] = await owner.sql<{ id: string }[]>`insert into tenants (slug, name) values (${slug}, ${slug}) returning id`;
  return row!.id;
}

/** A million rows in a few statements: realistic spread of actors and actions, a few rare ones, one event a second. */
async function generateRows(owner: DbClient, tenantId: string, count: number) {
  const chunk = 250_000;
  for (let start = 1; start <= count; start += chunk) {
    const end = Math.min(count, start + chunk - 1);
    await owner.sql`
      insert into audit_events (event_id, tenant_id, chain, seq, prev_hash, hash, actor, actor_type, target_type, target_id,
        action, outcome, request_id, trace_id, ip, occurred_at, details)
      select gen_random_uuid(), ${tenantId}::uuid, ${tenantId}, g, md5((g - 1)::text) || md5(g::text), md5(g::text) || md5((g + 1)::text),
        case when g % 10000 = 0 then 'user:rare@example.test' when g % 3 = 0 then 'api_key:' || lpad((g % 50)::text, 12, 'k') else 'user:u' || (g % 200) || '@example.test' end,
        case when g % 3 = 0 then 'api_key' else 'user' end,
        case when g % 4 = 0 then 'api_key' else 'member' end,
        'm-' || (g % 5000),
        case when g % 50000 = 0 then 'node.revoke'
          else (array['member.update','member.create','api_key.rotate','auth.login','source.run','schedule.toggle','policy.update','auth.logout'])[1 + g % 8] end,
        case when g % 97 = 0 then 'failure' when g % 20 = 0 then 'denied' else 'success' end,
        'req-' || g, null, '192.0.2.' || (g % 250),
        timestamptz '2025-01-01 00:00:00+00' + g * interval '1 second',
        jsonb_build_object('n', g, 'note', 'generated')
      from generate_series(${start}::bigint, ${end}::bigint) g`;
    log(`  inserted ${end.toLocaleString("en-US")} / ${count.toLocaleString("en-US")}`);
  }
  const last = await owner.sql<{ hash: string }[]>`select hash from audit_events where chain = ${tenantId} and seq = ${count}`;
  await owner.sql`insert into audit_chain_heads (chain, tenant_id, seq, hash) values (${tenantId}, ${tenantId}::uuid, ${count}, ${last[0]!.hash})`;
}

/** A valid chain built with canonical.ts and inserted in bulk (unnest), for verify and export. */
async function generateChain(owner: DbClient, tenantId: string, count: number) {
  const batch = 10_000;
  let prev = GENESIS_HASH;
  const base = Date.parse("2025-06-01T00:00:00.000Z");
  for (let start = 1; start <= count; start += batch) {
    const cols: string[][] = Array.from({ length: 12 }, () => []);
    for (let seq = start; seq < Math.min(count + 1, start + batch); seq++) {
      const r: AuditRecord = {
        event_id: randomUUID(),
        tenant_id: tenantId,
        chain: tenantId,
        seq,
        prev_hash: prev,
        actor: `user:u${seq % 200}@example.test`,
        actor_type: "user",
        target_type: "member",
        target_id: `m-${seq % 5000}`,
        action: seq % 2 ? "member.update" : "auth.login",
        outcome: "success",
        request_id: `req-${seq}`,
        trace_id: null,
        ip: "192.0.2.1",
        timestamp: new Date(base + seq * 1000).toISOString(),
        details: { n: seq, changes: { role: ["viewer", "operator"] } },
      };
      const hash = auditHash(r);
      [r.event_id, String(seq), r.prev_hash, hash, r.actor, r.target_id!, r.action, r.request_id!, r.timestamp, JSON.stringify(r.details), r.actor_type, r.ip!].forEach((v, i) => cols[i]!.push(v));
      prev = hash;
    }
    await owner.sql`
      insert into audit_events (event_id, tenant_id, chain, seq, prev_hash, hash, actor, actor_type, target_type, target_id, action, outcome, request_id, ip, occurred_at, details)
      select u.event_id::uuid, ${tenantId}::uuid, ${tenantId}, u.seq::bigint, u.prev_hash, u.hash, u.actor, u.actor_type, 'member', u.target_id, u.action, 'success', u.request_id, u.ip, u.ts::timestamptz, u.details::jsonb
      from unnest(${cols[0]!}::text[], ${cols[1]!}::text[], ${cols[2]!}::text[], ${cols[3]!}::text[], ${cols[4]!}::text[], ${cols[5]!}::text[], ${cols[6]!}::text[],
                  ${cols[7]!}::text[], ${cols[8]!}::text[], ${cols[9]!}::text[], ${cols[10]!}::text[], ${cols[11]!}::text[])
        as u(event_id, seq, prev_hash, hash, actor, target_id, action, request_id, ts, details, actor_type, ip)`;
  }
  await owner.sql`insert into audit_chain_heads (chain, tenant_id, seq, hash) values (${tenantId}, ${tenantId}::uuid, ${count}, ${prev})`;
}

const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

const database = await startThrowawayPostgres(throwawayDir("bench-audit"));
const { pg } = database;
const owner = createDbClient(pg.url, { max: 2, applicationName: "cairn-bench-audit-owner" });
let app: DbClient | undefined;
try {
  await runMigrations(owner);
  await provisionAppRole(owner, SECRET);
  app = createDbClient(appRoleUrl(pg.url, SECRET), { max: 2, applicationName: "cairn-bench-audit" });
  const [version] = await owner.sql<{ v: string }[]>`select current_setting('server_version') as v`;

  const tenant = await createTenant(owner, "bench-list");
  log(`generating ${EVENTS.toLocaleString("en-US")} events…`);
  const t0 = performance.now();
  await generateRows(owner, tenant, EVENTS);
  await owner.sql`vacuum analyze audit_events`;
  log(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const [mid] = await owner.sql<{ id: string }[]>`select id::text from audit_events where chain = ${tenant} and seq = ${Math.floor(EVENTS / 2)}`;
  const deep = encodeCursor(Number(mid!.id));
  const at = (seq: number) => new Date(Date.parse("2025-01-01T00:00:00Z") + seq * 1000).toISOString();
  const cases: [string, AuditListFilters][] = [
    ["first page (50)", {}],
    ["first page (500)", { limit: 500 }],
    ["deep page (cursor at the middle)", { cursor: deep }],
    ["actor, exact (1 in 300)", { actor: "user:u7@example.test" }],
    ["actor, exact, rare (100 in total)", { actor: "user:rare@example.test" }],
    ["actor, exact, deep page", { actor: "user:u7@example.test", cursor: deep }],
    ["actor, prefix `api_key:*` (1 in 3)", { actor: "api_key:*" }],
    ["actor, prefix, rare `user:rare*` (100 in total)", { actor: "user:rare*" }],
    ["action, exact (1 in 8)", { action: "auth.login" }],
    ["action, exact, rare (20 in total)", { action: "node.revoke" }],
    ["action, prefix `api_key.*`", { action: "api_key.*" }],
    ["outcome = failure", { outcome: "failure" }],
    ["target type + id", { target_type: "member", target_id: "m-42" }],
    ["time window (1 h, a quarter back)", { from: at(Math.floor(EVENTS * 0.75)), to: at(Math.floor(EVENTS * 0.75) + 3600) }],
    ["time window + actor", { from: at(Math.floor(EVENTS * 0.25)), to: at(Math.floor(EVENTS * 0.25) + 86_400), actor: "user:u7@example.test" }],
  ];

  const rows: string[] = [];
  for (const [name, filters] of cases) {
    const run = () => withTenant(app!, tenant, (tx) => listAuditEvents(tx, tenant, filters));
    let returned = 0;
    for (let i = 0; i < 5; i++) returned = (await run()).items.length;
    const ms: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const s = performance.now();
      await run();
      ms.push(performance.now() - s);
    }
    const { p50, p95 } = stats(ms);
    rows.push(`| ${name} | ${returned} | ${fmt(p50)} | ${fmt(p95)} |`);
    log(`  ${name}: p50 ${fmt(p50)} ms`);
  }

  let chainRows: string[] = [];
  if (CHAIN_EVENTS > 0) {
    const chainTenant = await createTenant(owner, "bench-chain");
    log(`building a valid chain of ${CHAIN_EVENTS.toLocaleString("en-US")} events…`);
    await generateChain(owner, chainTenant, CHAIN_EVENTS);
    await owner.sql`vacuum analyze audit_events`;
    let s = performance.now();
    const verified = await verifyTenantChain(app, chainTenant);
    const verifyMs = performance.now() - s;
    if (!verified.ok) throw new Error(`generated chain does not verify: ${JSON.stringify(verified.first_broken)}`);
    const key = await signingKey(app, SECRET, "audit");
    s = performance.now();
    const plan = await withTenant(app, chainTenant, (tx) =>
      beginAuditExport(tx, chainTenant, (tx2, e) => appendAudit(tx2, { ...e, tenantId: chainTenant, actor: "user:bench@example.test", actorType: "user" }), { via: "bench" }),
    );
    let bytes = 0;
    let peak = 0;
    for await (const chunk of auditExportLines(tenantChain(app, chainTenant), plan, key)) {
      bytes += Buffer.byteLength(chunk);
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    const exportMs = performance.now() - s;
    chainRows = [
      `| verify (recompute every hash, 5,000 per batch) | ${verified.checked.toLocaleString("en-US")} | ${(verifyMs / 1000).toFixed(2)} s | ${Math.round(verified.checked / (verifyMs / 1000)).toLocaleString("en-US")} events/s |`,
      `| export (stream JSON Lines + signed head) | ${(plan.seq).toLocaleString("en-US")} | ${(exportMs / 1000).toFixed(2)} s | ${(bytes / 1e6).toFixed(0)} MB, peak RSS ${(peak / 1e6).toFixed(0)} MB |`,
    ];
  }

  const out = [
    `Audit list, ${EVENTS.toLocaleString("en-US")} events in one tenant (PostgreSQL ${version!.v}, embedded; app role with row-level security; ${RUNS} runs after 5 warm-ups; ${os.cpus().length} CPU, Node ${process.version})`,
    "",
    "| page | rows | p50 ms | p95 ms |",
    "|---|---:|---:|---:|",
    ...rows,
  ];
  if (chainRows.length) out.push("", "| chain operation | events | time | throughput |", "|---|---:|---:|---:|", ...chainRows);
  process.stdout.write(`${out.join("\n")}\n`);
} finally {
  await app?.close();
  await owner.close();
  await database.stop();
}
