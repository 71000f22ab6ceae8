// Read models of sources: one source, and a keyset page filtered by kind, status and label. A kind without a
// connector in this build is presented as `unsupported`, whatever its stored status.
import { and, desc, eq, inArray, isNull, notInArray, sql, type SQL } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { sources, type OverlapPolicy, type SourceKind } from "../../../db/schema/index.ts";
import { connectorFor, pushRouteOf, supportedKinds } from "../../connectors/registry.ts";
import { AppError } from "../../errors.ts";
import { afterCursor, cursorColumn, pageLimit, toPage, type Page } from "../keyset.ts";

export type SourceRow = typeof sources.$inferSelect;
export type SourceStatus = "active" | "disabled" | "unsupported";

export interface SourceView {
  source_id: string;
  kind: SourceKind;
  display_name: string;
  status: SourceStatus;
  owner: string;
  credential_mode: "none" | "credential_ref";
  credential_ref_id: string | null;
  scope: Record<string, unknown>;
  labels: Record<string, string>;
  overlap_policy: OverlapPolicy;
  time_budget_seconds: number;
  /** Push kinds: where the source's data arrives (it is never run or scheduled); null for sources that run. */
  push_route: string | null;
  last_run_at: string | null;
  last_run_id: string | null;
  last_success_at: string | null;
  last_outcome: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export function presentedStatus(row: Pick<SourceRow, "kind" | "status">): SourceStatus {
  return connectorFor(row.kind) ? row.status : "unsupported";
}

export function presentSource(row: SourceRow): SourceView {
  return {
    source_id: row.id,
    kind: row.kind,
    display_name: row.displayName,
    status: presentedStatus(row),
    owner: row.owner,
    credential_mode: row.credentialMode,
    credential_ref_id: row.credentialRefId,
    scope: row.scope,
    labels: row.labels,
    overlap_policy: row.overlapPolicy,
    time_budget_seconds: row.timeBudgetSeconds,
    push_route: pushRouteOf(row),
    last_run_at: row.lastRunAt?.toISOString() ?? null,
    last_run_id: row.lastRunId,
    last_success_at: row.lastSuccessAt?.toISOString() ?? null,
    last_outcome: row.lastOutcome,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** A live (not deleted) source of the transaction's tenant; another tenant's id reads exactly like a missing one. */
export async function findSource(tx: Tx, id: string, opts: { lock?: boolean } = {}): Promise<SourceRow> {
  const query = tx.select().from(sources).where(and(eq(sources.id, id), isNull(sources.deletedAt)));
  const [row] = opts.lock ? await query.for("update") : await query;
  if (!row) throw new AppError("NOT_FOUND", "No such source");
  return row;
}

export async function getSource(tx: Tx, id: string): Promise<SourceView> {
  return presentSource(await findSource(tx, id));
}

export interface SourceFilters {
  kind?: SourceKind;
  status?: SourceStatus;
  /** `key` (has the label) or `key=value`. */
  label?: string;
  cursor?: string;
  limit?: number;
}

function statusCondition(status: SourceStatus | undefined): SQL | undefined {
  if (!status) return undefined;
  const supported = supportedKinds();
  if (status === "unsupported") return supported.length ? notInArray(sources.kind, supported) : undefined;
  if (!supported.length) return sql`false`;
  return and(eq(sources.status, status), inArray(sources.kind, supported));
}

function labelCondition(label: string | undefined): SQL | undefined {
  if (!label) return undefined;
  const eqAt = label.indexOf("=");
  if (eqAt === -1) return sql`${sources.labels} ? ${label}`;
  return sql`${sources.labels} @> ${JSON.stringify({ [label.slice(0, eqAt)]: label.slice(eqAt + 1) })}::jsonb`;
}

export async function listSources(tx: Tx, tenantId: string, filters: SourceFilters): Promise<Page<SourceView>> {
  const limit = pageLimit(filters.limit);
  const s = sources;
  const rows = await tx
    .select({ row: s, cursorAt: cursorColumn(s.createdAt), id: s.id })
    .from(s)
    .where(
      and(
        eq(s.tenantId, tenantId),
        isNull(s.deletedAt),
        filters.kind ? eq(s.kind, filters.kind) : undefined,
        statusCondition(filters.status),
        labelCondition(filters.label),
        afterCursor(s.createdAt, s.id, filters.cursor),
      ),
    )
    .orderBy(desc(s.createdAt), desc(s.id))
    .limit(limit + 1);
  return toPage(rows, limit, (r) => presentSource(r.row));
}
