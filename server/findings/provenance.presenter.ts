// Why a finding exists, as a graph: finding → evidence → job → run → source, and around the run the schedule or the
// requester that started it and the credential ref it used; around the finding its asset and the policy bindings that
// decided its last evaluation. Nodes carry the page that shows them (null when there is none).
import { desc, eq, inArray, sql } from "drizzle-orm";
import type { Tx } from "../../db/tenant.ts";
import { assets, credentialRefs, evidence, findingEvidence, jobs, policies, policyBindings, runs, schedules, sources } from "../../db/schema/index.ts";
import { expireDueExceptions } from "./exceptions.service.ts";
import { findFinding } from "./findings.presenter.ts";

export const provenanceNodeTypes = ["finding", "asset", "evidence", "job", "run", "source", "schedule", "requester", "credential_ref", "policy_binding", "policy"] as const;
export type ProvenanceNodeType = (typeof provenanceNodeTypes)[number];

export interface ProvenanceNode {
  id: string;
  type: ProvenanceNodeType;
  label: string;
  /** One line under the label: a status, a hash, a kind. */
  detail: string | null;
  /** The UI page for this node, or null. */
  href: string | null;
  data: Record<string, unknown>;
}

export interface ProvenanceEdge {
  id: string;
  from: string;
  to: string;
  label: string;
}

/** Evidence shown per finding: the most recent links (a finding seen in a thousand runs does not draw a thousand nodes). */
export const PROVENANCE_EVIDENCE_LIMIT = 6;

const short = (id: string) => id.slice(0, 8);

function requesterNode(requestedBy: string): ProvenanceNode {
  const [kind, ...rest] = requestedBy.split(":");
  const who = rest.join(":");
  const href = kind === "api_key" ? "/settings/api-keys" : kind === "user" ? "/settings/members" : null;
  const label = kind === "api_key" ? `API key ${who}` : kind === "user" ? who : requestedBy;
  return { id: `requester:${requestedBy}`, type: "requester", label, detail: kind ?? null, href, data: { requested_by: requestedBy } };
}

export async function findingProvenance(tx: Tx, tenantId: string, findingId: string) {
  await expireDueExceptions(tx, tenantId);
  const finding = await findFinding(tx, findingId);
  const nodes = new Map<string, ProvenanceNode>();
  const edges = new Map<string, ProvenanceEdge>();
  const node = (n: ProvenanceNode) => {
    if (!nodes.has(n.id)) nodes.set(n.id, n);
    return n.id;
  };
  const edge = (from: string, to: string, label: string) => {
    const id = `${from}->${to}`;
    if (!edges.has(id)) edges.set(id, { id, from, to, label });
  };

  const findingNode = node({
    id: `finding:${finding.id}`,
    type: "finding",
    label: finding.title,
    detail: `${finding.severity} · ${finding.status} · ${finding.rule}`,
    href: `/findings/${finding.id}`,
    data: { finding_id: finding.id, rule: finding.rule, severity: finding.severity, status: finding.status, fingerprint: finding.fingerprint, where: finding.location },
  });

  if (finding.assetId) {
    const [asset] = await tx.select().from(assets).where(eq(assets.id, finding.assetId));
    if (asset) edge(findingNode, node({ id: `asset:${asset.id}`, type: "asset", label: asset.name ?? asset.key, detail: asset.type, href: null, data: { asset_id: asset.id, type: asset.type, key: asset.key } }), "about");
  }

  // Evidence, newest links first; then the jobs and runs that produced (or re-evaluated) it.
  const links = await tx.select().from(findingEvidence).where(eq(findingEvidence.findingId, finding.id)).orderBy(desc(findingEvidence.id)).limit(PROVENANCE_EVIDENCE_LIMIT);
  // Counted apart so the graph can say how much it left out.
  const [{ total } = { total: 0 }] = await tx.execute<{ total: number }>(sql`select count(*)::int as total from finding_evidence where finding_id = ${finding.id}::uuid`);
  const evRows = links.length ? await tx.select().from(evidence).where(inArray(evidence.id, [...new Set(links.map((l) => l.evidenceId))])) : [];
  const evById = new Map(evRows.map((e) => [e.id, e]));

  const runIds = new Set<string>();
  const jobIds = new Set<string>();
  for (const l of links) {
    const e = evById.get(l.evidenceId);
    if (e?.runId) runIds.add(e.runId);
    if (e?.jobId) jobIds.add(e.jobId);
    if (l.runId) runIds.add(l.runId);
    if (l.jobId) jobIds.add(l.jobId);
  }
  if (finding.lastRunId) runIds.add(finding.lastRunId);
  const runRows = runIds.size ? await tx.select().from(runs).where(inArray(runs.id, [...runIds])) : [];
  const runById = new Map(runRows.map((r) => [r.id, r]));
  const jobRows = jobIds.size ? await tx.select({ id: jobs.id, runId: jobs.runId, jobType: jobs.jobType, status: jobs.status, attempts: jobs.attempts, requestedBy: jobs.requestedBy }).from(jobs).where(inArray(jobs.id, [...jobIds])) : [];
  const jobById = new Map(jobRows.map((j) => [j.id, j]));

  const runNode = (runId: string): string | null => {
    const r = runById.get(runId);
    if (!r) return null;
    return node({
      id: `run:${r.id}`,
      type: "run",
      label: `Run ${short(r.id)}`,
      detail: `${r.trigger} · ${r.status}`,
      href: `/runs/${r.id}`,
      data: { run_id: r.id, trigger: r.trigger, status: r.status, created_at: r.createdAt.toISOString(), source_id: r.sourceId },
    });
  };
  const jobNode = (jobId: string): string | null => {
    const j = jobById.get(jobId);
    if (!j) return null;
    const id = node({ id: `job:${j.id}`, type: "job", label: `Job ${short(j.id)}`, detail: `${j.jobType} · ${j.status}`, href: j.runId ? `/runs/${j.runId}` : null, data: { job_id: j.id, job_type: j.jobType, status: j.status, attempts: j.attempts } });
    if (j.runId) {
      const r = runNode(j.runId);
      if (r) edge(id, r, "part of");
    }
    return id;
  };

  for (const l of links) {
    const e = evById.get(l.evidenceId);
    if (!e) continue;
    const evNode = node({
      id: `evidence:${e.id}`,
      type: "evidence",
      label: `${e.kind} evidence`,
      detail: `sha256 ${e.hash.slice(0, 12)}…`,
      // The evidence page: hash, signature key, verify and download.
      href: `/evidence/${e.id}`,
      data: { evidence_id: e.id, kind: e.kind, hash: e.hash, size: e.size, signed: Boolean(e.signature), created_at: e.createdAt.toISOString() },
    });
    edge(findingNode, evNode, "seen in");
    const producer = e.jobId ? jobNode(e.jobId) : null;
    if (producer) edge(evNode, producer, "produced by");
    else if (e.runId) {
      const r = runNode(e.runId);
      if (r) edge(evNode, r, "produced by");
    }
    // Linked by another run than its producer: a deploy-gate re-evaluation of stored evidence.
    if (l.runId && l.runId !== e.runId) {
      const target = (l.jobId ? jobNode(l.jobId) : null) ?? runNode(l.runId);
      if (target) edge(evNode, target, "re-evaluated by");
    }
  }
  if (finding.lastRunId && !links.some((l) => l.runId === finding.lastRunId)) {
    const r = runNode(finding.lastRunId);
    if (r) edge(findingNode, r, "last evaluated by");
  }

  // Around each run: its source, what started it, the credential ref it used.
  const sourceIds = new Set(runRows.map((r) => r.sourceId));
  sourceIds.add(finding.sourceId);
  const sourceRows = await tx.select().from(sources).where(inArray(sources.id, [...sourceIds]));
  const sourceNode = (id: string) => {
    const s = sourceRows.find((x) => x.id === id);
    if (!s) return null;
    return node({
      id: `source:${s.id}`,
      type: "source",
      label: s.displayName,
      detail: `${s.kind}${s.deletedAt ? " · deleted" : ""}`,
      href: `/sources/${s.id}`,
      data: { source_id: s.id, kind: s.kind, owner: s.owner, deleted: s.deletedAt !== null },
    });
  };
  const scheduleIds = runRows.map((r) => r.scheduleId).filter((x): x is string => x !== null);
  const scheduleRows = scheduleIds.length ? await tx.select().from(schedules).where(inArray(schedules.id, scheduleIds)) : [];
  const credIds = runRows.map((r) => r.credentialRefId).filter((x): x is string => x !== null);
  const credRows = credIds.length ? await tx.select({ id: credentialRefs.id, name: credentialRefs.name, provider: credentialRefs.provider }).from(credentialRefs).where(inArray(credentialRefs.id, credIds)) : [];
  for (const r of runRows) {
    const rn = `run:${r.id}`;
    if (!nodes.has(rn)) continue;
    const sn = sourceNode(r.sourceId);
    if (sn) edge(rn, sn, "run of");
    const sch = r.scheduleId ? scheduleRows.find((x) => x.id === r.scheduleId) : undefined;
    if (sch) edge(rn, node({ id: `schedule:${sch.id}`, type: "schedule", label: `Schedule ${sch.cron}`, detail: sch.timezone, href: `/schedules/${sch.id}`, data: { schedule_id: sch.id, cron: sch.cron, timezone: sch.timezone, enabled: sch.enabled } }), "fired by");
    else edge(rn, node(requesterNode(r.requestedBy)), "requested by");
    const cred = r.credentialRefId ? credRows.find((x) => x.id === r.credentialRefId) : undefined;
    if (cred) edge(rn, node({ id: `credential_ref:${cred.id}`, type: "credential_ref", label: cred.name, detail: cred.provider, href: "/credentials", data: { credential_ref_id: cred.id, provider: cred.provider } }), "used credentials");
  }
  // A finding whose runs are all gone still names its source.
  const findingSource = sourceNode(finding.sourceId);
  if (findingSource && ![...edges.values()].some((e) => e.to === findingSource)) edge(findingNode, findingSource, "from source");

  // The bindings that decided its last evaluation, and their policies.
  if (finding.appliedBindingIds.length) {
    const bindingRows = await tx
      .select({ binding: policyBindings, policyName: policies.name })
      .from(policyBindings)
      .innerJoin(policies, eq(policies.id, policyBindings.policyId))
      .where(inArray(policyBindings.id, finding.appliedBindingIds));
    for (const { binding: b, policyName } of bindingRows) {
      const bn = node({
        id: `policy_binding:${b.id}`,
        type: "policy_binding",
        label: `${b.mode} binding`,
        detail: b.targetType === "tenant" ? "on the tenant" : "on the source",
        href: `/policies/${b.policyId}`,
        data: { binding_id: b.id, mode: b.mode, target_type: b.targetType, target_id: b.targetId },
      });
      edge(findingNode, bn, "decided by");
      edge(bn, node({ id: `policy:${b.policyId}`, type: "policy", label: policyName, detail: null, href: `/policies/${b.policyId}`, data: { policy_id: b.policyId } }), "binds");
    }
    // Bindings deleted since keep their id on the finding; they are listed rather than drawn.
  }

  return {
    finding_id: finding.id,
    nodes: [...nodes.values()],
    edges: [...edges.values()],
    evidence_shown: links.length,
    evidence_total: total,
    policy_binding_ids: finding.appliedBindingIds,
  };
}
