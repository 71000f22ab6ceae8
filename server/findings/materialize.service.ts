// Normalize and evaluate: a producer's graph becomes assets and relations (upserted by stable keys) and findings
// (created, updated, resolved or reopened by fingerprint) under the policy bindings in force, each finding linked to
// the evidence it was derived from. Runs inside the caller's tenant transaction, so a run's findings appear together
// with its evidence rows or not at all. Producers: the source.collect pipeline, push ingest, rematerialize.
import { sql } from "drizzle-orm";
import type { Tx } from "../../db/tenant.ts";
import type { FindingStatus, Resolution, Severity } from "../../db/schema/findings.ts";
import { normalizeGraph, relationKey, type GraphError, type NormalFinding } from "./graph.ts";
import { decide, type BindingInForce, type Decision } from "./policy-decision.ts";
import { expireDueExceptions } from "./exceptions.service.ts";
import { lockSourceFindings } from "./source-lock.ts";

export interface MaterializeInput {
  tenantId: string;
  sourceId: string;
  runId: string;
  jobId: string | null;
  /** Evidence rows (already inserted, same transaction) this graph was derived from. */
  evidenceIds: string[];
  graph: { assets: unknown[]; relations: unknown[]; findings: unknown[] };
  /**
   * True when the graph is the source's complete current picture: open findings of this source whose fingerprint is
   * absent are resolved. Push ingest of a full document passes true.
   */
  complete: boolean;
  /**
   * A deploy-gate re-evaluation of stored evidence (rematerialize): findings whose state does not change keep their
   * last run, job and evidence and only get a new last_seen_at, so re-evaluating an unchanged graph changes nothing else.
   */
  reevaluation?: boolean;
}

export interface EnforcedRule {
  rule: string;
  /** Open findings of this rule under an enforce binding. */
  findings: number;
  policies: string[];
}

export interface MaterializeResult {
  assets: number;
  relations: number;
  /** Finding ids. */
  created: string[];
  updated: string[];
  resolved: string[];
  reopened: string[];
  /** Every finding id present in this graph (for receipts' links). */
  findingIds: string[];
  bindingsApplied: string[];
  enforcedFailures: number;
  /** Per rule, what failed enforcement (for the evaluate stage cell). */
  enforced: EnforcedRule[];
  /** Findings the bindings in force dropped (mode disabled or rule disabled in the policy). */
  droppedByPolicy: number;
  /** Entries of the graph that were dropped or repaired, with JSON pointers. */
  errors: GraphError[];
}

const CHUNK = 5000;

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const json = (v: unknown) => sql`${JSON.stringify(v)}::jsonb`;

/** JSON with object keys sorted, so a jsonb value read back compares equal to the value written. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) =>
    value && typeof value === "object" && !Array.isArray(value) ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : value,
  );
}

/** Bindings on the tenant itself and on this source, with their policies' rules. */
export async function bindingsInForce(tx: Tx, tenantId: string, sourceId: string): Promise<BindingInForce[]> {
  const rows = await tx.execute<{ id: string; target_type: "tenant" | "source"; mode: BindingInForce["mode"]; policy_id: string; policy_name: string; rules: BindingInForce["rules"] }>(sql`
    select b.id, b.target_type, b.mode, p.id as policy_id, p.name as policy_name, p.rules
    from policy_bindings b join policies p on p.id = b.policy_id
    where b.policy_kind = 'findings'
      and ((b.target_type = 'tenant' and b.target_id = ${tenantId}::uuid) or (b.target_type = 'source' and b.target_id = ${sourceId}::uuid))
    order by b.created_at, b.id`);
  return rows.map((r) => ({ id: r.id, level: r.target_type, mode: r.mode, policyId: r.policy_id, policyName: r.policy_name, rules: r.rules }));
}

type ExistingFinding = {
  id: string;
  fingerprint: string;
  status: FindingStatus;
  rule: string;
  severity: Severity;
  title: string;
  asset_id: string | null;
  asset_key: string | null;
  location: string | null;
  details: Record<string, unknown>;
  enforcement: string;
  applied_binding_ids: string[];
  excepted: boolean;
};

async function upsertAssets(tx: Tx, input: MaterializeInput, graph: ReturnType<typeof normalizeGraph>): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  // (type, key) is the row's identity; a graph may not carry the same pair twice in one statement.
  const unique = new Map(graph.assets.map((a) => [`${a.type}\u0000${a.key}`, a]));
  for (const part of chunks([...unique.values()])) {
    const rows = await tx.execute<{ id: string; key: string }>(sql`
      insert into assets (tenant_id, type, key, name, attributes, last_source_id, last_run_id)
      select ${input.tenantId}::uuid, x.type, x.key, x.name, coalesce(x.attributes, '{}'::jsonb), ${input.sourceId}::uuid, ${input.runId}::uuid
      from jsonb_to_recordset(${json(part.map((a) => ({ type: a.type, key: a.key, name: a.name, attributes: a.attributes })))}) as x(type text, key text, name text, attributes jsonb)
      on conflict (tenant_id, type, key) do update set
        name = excluded.name,
        attributes = excluded.attributes,
        last_seen_at = now(),
        last_source_id = ${input.reevaluation ? sql`assets.last_source_id` : sql`excluded.last_source_id`},
        last_run_id = ${input.reevaluation ? sql`assets.last_run_id` : sql`excluded.last_run_id`}
      returning id, key`);
    for (const r of rows) ids.set(r.key, r.id);
  }
  return ids;
}

async function upsertRelations(tx: Tx, input: MaterializeInput, graph: ReturnType<typeof normalizeGraph>, assetIds: Map<string, string>): Promise<number> {
  const typeOf = new Map(graph.assets.map((a) => [a.key, a.type]));
  const byKey = new Map<string, { key: string; type: string; from_id: string; to_id: string; properties: Record<string, unknown> }>();
  for (const r of graph.relations) {
    const fromId = assetIds.get(r.from);
    const toId = assetIds.get(r.to);
    if (!fromId || !toId) continue;
    const key = relationKey(r.type, typeOf.get(r.from)!, r.from, typeOf.get(r.to)!, r.to);
    byKey.set(key, { key, type: r.type, from_id: fromId, to_id: toId, properties: r.properties });
  }
  for (const part of chunks([...byKey.values()])) {
    await tx.execute(sql`
      insert into asset_relations (tenant_id, key, type, from_asset_id, to_asset_id, properties, last_run_id)
      select ${input.tenantId}::uuid, x.key, x.type, x.from_id, x.to_id, coalesce(x.properties, '{}'::jsonb), ${input.runId}::uuid
      from jsonb_to_recordset(${json(part)}) as x(key text, type text, from_id uuid, to_id uuid, properties jsonb)
      on conflict (tenant_id, key) do update set
        properties = excluded.properties,
        last_seen_at = now(),
        last_run_id = ${input.reevaluation ? sql`asset_relations.last_run_id` : sql`excluded.last_run_id`}`);
  }
  return byKey.size;
}

/** This source's findings that are not resolved, plus resolved ones the graph names again. */
async function loadExisting(tx: Tx, input: MaterializeInput, fingerprints: string[]): Promise<Map<string, ExistingFinding>> {
  const select = sql`
    select f.id, f.fingerprint, f.status, f.rule, f.severity, f.title, f.asset_id, f.asset_key, f.location, f.details, f.enforcement, f.applied_binding_ids,
      exists (select 1 from finding_exceptions e where e.finding_id = f.id and e.status = 'approved' and e.expires_at > now()) as excepted
    from findings f`;
  const out = new Map<string, ExistingFinding>();
  const live = await tx.execute<ExistingFinding>(sql`${select} where f.tenant_id = ${input.tenantId}::uuid and f.source_id = ${input.sourceId}::uuid and f.status <> 'resolved'`);
  for (const r of live) out.set(r.fingerprint, r);
  for (const part of chunks(fingerprints, 5000)) {
    const rows = await tx.execute<ExistingFinding>(sql`${select}
      where f.tenant_id = ${input.tenantId}::uuid and f.source_id = ${input.sourceId}::uuid and f.status = 'resolved'
        and f.fingerprint in (select jsonb_array_elements_text(${json(part)}))`);
    for (const r of rows) out.set(r.fingerprint, r);
  }
  return out;
}

interface Recorded {
  finding: NormalFinding;
  decision: Decision;
}

export async function materializeGraph(tx: Tx, input: MaterializeInput): Promise<MaterializeResult> {
  const [source] = await tx.execute<{ id: string }>(sql`select id from sources where id = ${input.sourceId}::uuid and tenant_id = ${input.tenantId}::uuid`);
  if (!source) throw new Error(`materializeGraph: source ${input.sourceId} is not a source of tenant ${input.tenantId}`);

  // One writer of this source's findings at a time (a collect, a push, a deploy gate, an exception decision).
  await lockSourceFindings(tx, input.sourceId);

  // Exceptions that ran out reopen their findings before this graph is judged.
  await expireDueExceptions(tx, input.tenantId);

  const graph = normalizeGraph(input.graph);
  const assetIds = await upsertAssets(tx, input, graph);
  const relationCount = await upsertRelations(tx, input, graph, assetIds);

  // Evaluate: the bindings in force decide each finding.
  const bindings = await bindingsInForce(tx, input.tenantId, input.sourceId);
  const bindingById = new Map(bindings.map((b) => [b.id, b]));
  const recorded: Recorded[] = [];
  const dropped: NormalFinding[] = [];
  const applied = new Set<string>();
  for (const finding of graph.findings) {
    const decision = decide(finding.rule, finding.severity, bindings);
    for (const id of decision.bindingIds) applied.add(id);
    if (decision.action === "drop") dropped.push(finding);
    else recorded.push({ finding, decision });
  }

  const existing = await loadExisting(
    tx,
    input,
    graph.findings.map((f) => f.fingerprint),
  );
  const lastEvidenceId = input.evidenceIds.at(-1) ?? null;
  const created: string[] = [];
  const updated: string[] = [];
  const reopened: string[] = [];
  const resolved: string[] = [];
  const presentIds: string[] = [];
  const statusOf = new Map<string, FindingStatus>();
  const idByFingerprint = new Map<string, string>();
  for (const [fp, old] of existing) idByFingerprint.set(fp, old.id);

  // New findings.
  const fresh = recorded.filter((r) => !existing.has(r.finding.fingerprint));
  for (const part of chunks(fresh)) {
    const rows = part.map(({ finding: f, decision: d }) => ({
      fingerprint: f.fingerprint,
      rule: f.rule,
      severity: d.severity,
      title: f.title,
      asset_id: f.asset ? (assetIds.get(f.asset) ?? null) : null,
      asset_key: f.asset,
      location: f.where,
      details: f.details,
      enforcement: d.enforcement,
      applied_binding_ids: d.bindingIds,
    }));
    const inserted = await tx.execute<{ id: string; fingerprint: string; inserted: boolean; status: FindingStatus }>(sql`
      insert into findings (tenant_id, source_id, fingerprint, rule, severity, title, status, asset_id, asset_key, location, details, enforcement,
        applied_binding_ids, first_run_id, last_run_id, last_job_id, last_evidence_id)
      select ${input.tenantId}::uuid, ${input.sourceId}::uuid, x.fingerprint, x.rule, x.severity, x.title, 'open', x.asset_id, x.asset_key, x.location,
        coalesce(x.details, '{}'::jsonb), x.enforcement, coalesce(x.applied_binding_ids, '[]'::jsonb), ${input.runId}::uuid, ${input.runId}::uuid,
        ${input.jobId}::uuid, ${lastEvidenceId}::uuid
      from jsonb_to_recordset(${json(rows)}) as x(fingerprint text, rule text, severity text, title text, asset_id uuid, asset_key text, location text,
        details jsonb, enforcement text, applied_binding_ids jsonb)
      on conflict (tenant_id, source_id, fingerprint) do update set last_seen_at = now()
      returning id, fingerprint, (xmax = 0) as inserted, status`);
    for (const r of inserted) {
      (r.inserted ? created : updated).push(r.id);
      idByFingerprint.set(r.fingerprint, r.id);
      presentIds.push(r.id);
      statusOf.set(r.id, r.status);
    }
  }

  // Findings seen again: updated in place; resolved ones reopen (suppressed again if an exception is still approved).
  const again = recorded.filter((r) => existing.has(r.finding.fingerprint));
  const updates: Record<string, unknown>[] = [];
  for (const { finding: f, decision: d } of again) {
    const old = existing.get(f.fingerprint)!;
    const status: FindingStatus = old.excepted ? "suppressed" : "open";
    const assetId = f.asset ? (assetIds.get(f.asset) ?? null) : null;
    const changed =
      status !== old.status ||
      old.rule !== f.rule ||
      old.severity !== d.severity ||
      old.title !== f.title ||
      old.asset_id !== assetId ||
      old.asset_key !== f.asset ||
      old.location !== f.where ||
      old.enforcement !== d.enforcement ||
      canonical(old.applied_binding_ids) !== canonical(d.bindingIds) ||
      canonical(old.details) !== canonical(f.details);
    if (old.status === "resolved") reopened.push(old.id);
    else updated.push(old.id);
    presentIds.push(old.id);
    statusOf.set(old.id, status);
    updates.push({
      id: old.id,
      rule: f.rule,
      severity: d.severity,
      title: f.title,
      asset_id: assetId,
      asset_key: f.asset,
      location: f.where,
      details: f.details,
      enforcement: d.enforcement,
      applied_binding_ids: d.bindingIds,
      reopen: old.status === "resolved",
      changed,
      // A re-evaluation that changes nothing keeps the observation it re-read (last run, job, evidence).
      observe: !input.reevaluation || changed,
    });
  }
  for (const part of chunks(updates)) {
    // The status is decided when the row is written (an exception may have expired since it was read).
    const written = await tx.execute<{ id: string; status: FindingStatus }>(sql`
      update findings f set
        rule = x.rule, severity = x.severity, title = x.title, asset_id = x.asset_id, asset_key = x.asset_key,
        status = case when exists (select 1 from finding_exceptions e where e.finding_id = f.id and e.status = 'approved' and e.expires_at > clock_timestamp())
          then 'suppressed' else 'open' end,
        location = x.location, details = coalesce(x.details, '{}'::jsonb), enforcement = x.enforcement, applied_binding_ids = coalesce(x.applied_binding_ids, '[]'::jsonb),
        last_seen_at = now(),
        resolved_at = case when x.reopen then null else f.resolved_at end,
        resolution = case when x.reopen then null else f.resolution end,
        resolved_run_id = case when x.reopen then null else f.resolved_run_id end,
        reopened_count = f.reopened_count + case when x.reopen then 1 else 0 end,
        last_run_id = case when x.observe then ${input.runId}::uuid else f.last_run_id end,
        last_job_id = case when x.observe then ${input.jobId}::uuid else f.last_job_id end,
        last_evidence_id = case when x.observe then coalesce(${lastEvidenceId}::uuid, f.last_evidence_id) else f.last_evidence_id end,
        updated_at = case when x.changed then now() else f.updated_at end
      from jsonb_to_recordset(${json(part)}) as x(id uuid, rule text, severity text, title text, status text, asset_id uuid, asset_key text,
        location text, details jsonb, enforcement text, applied_binding_ids jsonb, reopen boolean, changed boolean, observe boolean)
      where f.id = x.id
      returning f.id, f.status`);
    for (const r of written) statusOf.set(r.id, r.status);
  }

  // Resolve: findings a binding now drops, and (for a complete picture) findings no longer seen.
  const toResolve: { id: string; resolution: Resolution }[] = [];
  for (const f of dropped) {
    const old = existing.get(f.fingerprint);
    if (old && old.status !== "resolved") toResolve.push({ id: old.id, resolution: "disabled_by_policy" });
  }
  if (input.complete) {
    const seen = new Set(graph.findings.map((f) => f.fingerprint));
    for (const old of existing.values()) if (old.status !== "resolved" && !seen.has(old.fingerprint)) toResolve.push({ id: old.id, resolution: "not_seen" });
  }
  for (const part of chunks(toResolve)) {
    await tx.execute(sql`
      update findings f set status = 'resolved', resolution = x.resolution, resolved_at = now(), resolved_run_id = ${input.runId}::uuid, updated_at = now()
      from jsonb_to_recordset(${json(part)}) as x(id uuid, resolution text)
      where f.id = x.id`);
    resolved.push(...part.map((p) => p.id));
  }

  // Provenance: every finding present in this graph is linked to the evidence it came from.
  if (input.evidenceIds.length) {
    for (const part of chunks(presentIds, 5000)) {
      await tx.execute(sql`
        insert into finding_evidence (tenant_id, finding_id, evidence_id, run_id, job_id)
        select ${input.tenantId}::uuid, f.id::uuid, e.id::uuid, ${input.runId}::uuid, ${input.jobId}::uuid
        from jsonb_array_elements_text(${json(part)}) as f(id) cross join jsonb_array_elements_text(${json(input.evidenceIds)}) as e(id)
        on conflict (finding_id, evidence_id) do nothing`);
    }
  }

  // Enforcement: open findings (an approved exception exempts one) under an enforce binding.
  const enforcedByRule = new Map<string, { findings: number; policies: Set<string> }>();
  let enforcedFailures = 0;
  for (const { finding: f, decision: d } of recorded) {
    if (d.enforcement !== "enforce") continue;
    const id = idByFingerprint.get(f.fingerprint);
    if (!id || statusOf.get(id) !== "open") continue;
    enforcedFailures++;
    const entry = enforcedByRule.get(f.rule) ?? { findings: 0, policies: new Set<string>() };
    entry.findings++;
    for (const b of d.bindingIds) {
      const binding = bindingById.get(b);
      if (binding?.mode === "enforce") entry.policies.add(binding.policyName);
    }
    enforcedByRule.set(f.rule, entry);
  }

  return {
    assets: assetIds.size,
    relations: relationCount,
    created,
    updated,
    resolved,
    reopened,
    findingIds: presentIds,
    bindingsApplied: [...applied],
    enforcedFailures,
    enforced: [...enforcedByRule.entries()].map(([rule, e]) => ({ rule, findings: e.findings, policies: [...e.policies].sort() })),
    droppedByPolicy: dropped.length,
    errors: graph.errors,
  };
}
