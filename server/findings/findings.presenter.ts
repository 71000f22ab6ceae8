// Read models for findings: the keyset list with filters, and one finding with its asset, evidence links and
// exceptions. Each read first expires this tenant's run-out exceptions, so a suppressed finding never outlives its
// exception on screen.
import { and, desc, eq, inArray, sql, type SQL } from "drizzle-orm";
import type { Tx } from "../../db/tenant.ts";
import { assets, evidence, findingEvidence, findingExceptions, findings, severities, sources, type FindingStatus, type Severity } from "../../db/schema/index.ts";
import { findSource } from "../domain/sources/source.presenter.ts";
import { afterCursor, cursorColumn, toPage } from "../domain/keyset.ts";
import { AppError } from "../errors.ts";
import { expireDueExceptions, presentException } from "./exceptions.service.ts";
import { ruleMeta } from "./rules.ts";

type FindingRow = typeof findings.$inferSelect;
type AssetRow = typeof assets.$inferSelect;

export interface LiveException {
  exception_id: string;
  status: string;
  expires_at: string;
}

export function presentFinding(f: FindingRow, extra: { sourceName?: string | null; asset?: Pick<AssetRow, "id" | "type" | "key" | "name"> | null; exception?: LiveException | null } = {}) {
  return {
    finding_id: f.id,
    tenant_id: f.tenantId,
    source_id: f.sourceId,
    source_name: extra.sourceName ?? null,
    fingerprint: f.fingerprint,
    rule: f.rule,
    rule_title: ruleMeta(f.rule)?.title ?? null,
    severity: f.severity,
    title: f.title,
    status: f.status,
    resolution: f.resolution,
    asset: extra.asset ? { asset_id: extra.asset.id, type: extra.asset.type, key: extra.asset.key, name: extra.asset.name } : f.assetKey ? { asset_id: null, type: null, key: f.assetKey, name: null } : null,
    where: f.location,
    details: f.details,
    enforcement: f.enforcement,
    policy_binding_ids: f.appliedBindingIds,
    exception: extra.exception ?? null,
    first_seen_at: f.firstSeenAt.toISOString(),
    last_seen_at: f.lastSeenAt.toISOString(),
    resolved_at: f.resolvedAt?.toISOString() ?? null,
    first_run_id: f.firstRunId,
    last_run_id: f.lastRunId,
    last_job_id: f.lastJobId,
    last_evidence_id: f.lastEvidenceId,
    resolved_run_id: f.resolvedRunId,
    reopened_count: f.reopenedCount,
    created_at: f.createdAt.toISOString(),
    updated_at: f.updatedAt.toISOString(),
  };
}
export type FindingView = ReturnType<typeof presentFinding>;

export interface FindingFilter {
  severity?: Severity;
  status?: FindingStatus;
  source_id?: string;
  rule?: string;
  cursor?: string;
  limit: number;
}

export async function listFindings(tx: Tx, tenantId: string, f: FindingFilter) {
  await expireDueExceptions(tx, tenantId);
  const where: SQL[] = [];
  if (f.severity) where.push(eq(findings.severity, f.severity));
  if (f.status) where.push(eq(findings.status, f.status));
  if (f.source_id) where.push(eq(findings.sourceId, f.source_id));
  if (f.rule) where.push(eq(findings.rule, f.rule));
  const after = afterCursor(findings.createdAt, findings.id, f.cursor);
  if (after) where.push(after);
  const rows = await tx
    .select({
      finding: findings,
      sourceName: sources.displayName,
      asset: { id: assets.id, type: assets.type, key: assets.key, name: assets.name },
      cursorAt: cursorColumn(findings.createdAt),
      id: findings.id,
    })
    .from(findings)
    .leftJoin(sources, eq(sources.id, findings.sourceId))
    .leftJoin(assets, eq(assets.id, findings.assetId))
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(findings.createdAt), desc(findings.id))
    .limit(f.limit + 1);
  const live = await liveExceptions(
    tx,
    rows.map((r) => r.id),
  );
  return toPage(rows, f.limit, (r) => presentFinding(r.finding, { sourceName: r.sourceName, asset: r.asset?.id ? r.asset : null, exception: live.get(r.id) ?? null }));
}

export interface SourceFindingsSummary {
  source_id: string;
  /** Open findings (seen in the source's latest picture, not suppressed), by severity. */
  open: number;
  open_by_severity: Record<Severity, number>;
  suppressed: number;
  resolved: number;
}

/** How many findings a source has, open ones by severity (one grouped count over the source's status index). */
export async function sourceFindingsSummary(tx: Tx, tenantId: string, sourceId: string): Promise<SourceFindingsSummary> {
  const source = await findSource(tx, sourceId);
  await expireDueExceptions(tx, tenantId);
  const rows = await tx
    .select({ status: findings.status, severity: findings.severity, n: sql<number>`count(*)::int` })
    .from(findings)
    .where(and(eq(findings.tenantId, tenantId), eq(findings.sourceId, source.id)))
    .groupBy(findings.status, findings.severity);
  const summary: SourceFindingsSummary = { source_id: source.id, open: 0, open_by_severity: Object.fromEntries(severities.map((s) => [s, 0])) as Record<Severity, number>, suppressed: 0, resolved: 0 };
  for (const r of rows) {
    if (r.status === "open") {
      summary.open += r.n;
      summary.open_by_severity[r.severity] += r.n;
    } else summary[r.status] += r.n;
  }
  return summary;
}

async function liveExceptions(tx: Tx, findingIds: string[]): Promise<Map<string, LiveException>> {
  if (!findingIds.length) return new Map();
  const rows = await tx
    .select({ id: findingExceptions.id, findingId: findingExceptions.findingId, status: findingExceptions.status, expiresAt: findingExceptions.expiresAt })
    .from(findingExceptions)
    .where(and(inArray(findingExceptions.findingId, findingIds), inArray(findingExceptions.status, ["requested", "approved"])));
  return new Map(rows.map((r) => [r.findingId, { exception_id: r.id, status: r.status, expires_at: r.expiresAt.toISOString() }]));
}

/** One finding (404 for another tenant's id, which row-level security hides). */
export async function findFinding(tx: Tx, id: string): Promise<FindingRow> {
  const [row] = await tx.select().from(findings).where(eq(findings.id, id));
  if (!row) throw new AppError("NOT_FOUND", "No such finding");
  return row;
}

/** Evidence links of a finding, newest first (at most `limit`). */
export async function findingEvidenceLinks(tx: Tx, findingId: string, limit = 50) {
  const rows = await tx
    .select({ link: findingEvidence, ev: evidence })
    .from(findingEvidence)
    .innerJoin(evidence, eq(evidence.id, findingEvidence.evidenceId))
    .where(eq(findingEvidence.findingId, findingId))
    .orderBy(desc(findingEvidence.id))
    .limit(limit);
  const [total] = await tx.select({ n: sql<number>`count(*)::int` }).from(findingEvidence).where(eq(findingEvidence.findingId, findingId));
  return {
    total: total?.n ?? 0,
    items: rows.map((r) => ({
      evidence_id: r.ev.id,
      kind: r.ev.kind,
      content_type: r.ev.contentType,
      hash: r.ev.hash,
      size: r.ev.size,
      signed: Boolean(r.ev.signature),
      evidence_run_id: r.ev.runId,
      evidence_job_id: r.ev.jobId,
      /** The run (and job) that linked this evidence to the finding: its producer, or a re-evaluation. */
      linked_by_run_id: r.link.runId,
      linked_by_job_id: r.link.jobId,
      linked_at: r.link.createdAt.toISOString(),
      created_at: r.ev.createdAt.toISOString(),
    })),
  };
}

export async function getFinding(tx: Tx, tenantId: string, id: string) {
  await expireDueExceptions(tx, tenantId);
  const row = await findFinding(tx, id);
  const [source] = await tx.select({ name: sources.displayName }).from(sources).where(eq(sources.id, row.sourceId));
  const [asset] = row.assetId ? await tx.select({ id: assets.id, type: assets.type, key: assets.key, name: assets.name }).from(assets).where(eq(assets.id, row.assetId)) : [];
  const live = await liveExceptions(tx, [row.id]);
  const history = await tx.select().from(findingExceptions).where(eq(findingExceptions.findingId, row.id)).orderBy(desc(findingExceptions.createdAt));
  const links = await findingEvidenceLinks(tx, row.id);
  const meta = ruleMeta(row.rule);
  return {
    ...presentFinding(row, { sourceName: source?.name ?? null, asset: asset ?? null, exception: live.get(row.id) ?? null }),
    rule_description: meta?.description ?? null,
    evidence: links.items,
    evidence_total: links.total,
    exceptions: history.map(presentException),
  };
}
