// Credential refs of a tenant: create, list, get, delete and test. A ref names where a secret lives (provider +
// external ref); it never holds one, and nothing here ever sees a value except through the broker's probe.
import { and, desc, eq, isNotNull, isNull, sql } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { credentialRefs, sources, type CredentialProvider } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import type { AuditInput } from "../audit/audit-writer.service.ts";
import { afterCursor, cursorColumn, pageLimit, toPage, type Page } from "../keyset.ts";
import { credentialLocation, envNamespaceOverlap, externalRefProblem, isReservedProvider, probeCredentialRef, reservedProviderError, type BrokerOptions, type CredentialProbe, type CredentialRefRow } from "./credential-broker.ts";

export type AuditIn = (tx: Tx, event: Omit<AuditInput, "tenantId" | "actor" | "actorType" | "requestId" | "ip">) => Promise<unknown>;

export interface TenantRef {
  id: string;
  slug: string;
}

export interface CredentialRefView {
  credential_ref_id: string;
  name: string;
  provider: CredentialProvider;
  external_ref: string;
  description: string;
  /** Where an operator puts the values (names only). */
  location: string;
  health: string;
  health_detail: string | null;
  last_validated_at: string | null;
  /** Sources (not deleted) that use this ref; delete is refused while any do. */
  used_by_sources: number;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export function presentCredentialRef(row: CredentialRefRow, tenant: TenantRef, usedBy: number): CredentialRefView {
  return {
    credential_ref_id: row.id,
    name: row.name,
    provider: row.provider,
    external_ref: row.externalRef,
    description: row.description,
    location: credentialLocation(tenant, row.provider, row.externalRef),
    health: row.health,
    health_detail: row.healthDetail,
    last_validated_at: row.lastValidatedAt?.toISOString() ?? null,
    used_by_sources: usedBy,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

const usedBy = sql<number>`(select count(*)::int from ${sources} where ${sources.credentialRefId} = ${credentialRefs.id} and ${sources.deletedAt} is null)`;

export interface CreateCredentialRefInput {
  name: string;
  provider: CredentialProvider;
  external_ref: string;
  description?: string;
}

export async function createCredentialRef(tx: Tx, tenant: TenantRef, input: CreateCredentialRefInput, createdBy: string, auditIn: AuditIn): Promise<CredentialRefView> {
  // Reserved providers fail here rather than at the first run: nothing could ever resolve them in this build.
  if (isReservedProvider(input.provider)) throw reservedProviderError(input.provider);
  const problem = externalRefProblem(input.provider, input.external_ref);
  if (problem) throw new AppError("INVALID_INPUT", `external_ref: ${problem}`, { field: "external_ref" });
  if (input.provider === "env" && (await envNamespaceOverlap(tx, tenant.id, input.external_ref))) {
    throw new AppError("INVALID_INPUT", "external_ref: its variable names would fall inside another tenant's namespace; choose a ref that does not start with that tenant's slug", { field: "external_ref" });
  }
  const inserted = await tx
    .insert(credentialRefs)
    .values({ tenantId: tenant.id, name: input.name, provider: input.provider, externalRef: input.external_ref, description: input.description ?? "", createdBy })
    .onConflictDoNothing({ target: [credentialRefs.tenantId, credentialRefs.name] })
    .returning();
  const row = inserted[0];
  if (!row) throw new AppError("CONFLICT", `name: a credential ref named ${input.name} already exists`, { field: "name" });
  await auditIn(tx, { targetType: "credential_ref", targetId: row.id, action: "credential_ref.create", outcome: "success", details: { name: row.name, provider: row.provider, external_ref: row.externalRef } });
  return presentCredentialRef(row, tenant, 0);
}

export interface CredentialRefFilters {
  provider?: CredentialProvider;
  health?: string;
  cursor?: string;
  limit?: number;
}

export async function listCredentialRefs(tx: Tx, tenant: TenantRef, filters: CredentialRefFilters): Promise<Page<CredentialRefView>> {
  const limit = pageLimit(filters.limit);
  const c = credentialRefs;
  const rows = await tx
    .select({ row: c, usedBy, cursorAt: cursorColumn(c.createdAt), id: c.id })
    .from(c)
    .where(and(eq(c.tenantId, tenant.id), filters.provider ? eq(c.provider, filters.provider) : undefined, filters.health ? eq(c.health, filters.health) : undefined, afterCursor(c.createdAt, c.id, filters.cursor)))
    .orderBy(desc(c.createdAt), desc(c.id))
    .limit(limit + 1);
  return toPage(rows, limit, (r) => presentCredentialRef(r.row, tenant, r.usedBy));
}

async function findRow(tx: Tx, id: string, lock = false): Promise<CredentialRefRow> {
  const query = tx.select().from(credentialRefs).where(eq(credentialRefs.id, id));
  const [row] = lock ? await query.for("update") : await query;
  // Row-level security hides other tenants' refs, so a foreign id lands here exactly like a missing one.
  if (!row) throw new AppError("NOT_FOUND", "No such credential ref");
  return row;
}

async function countUsers(tx: Tx, id: string): Promise<number> {
  const [row] = await tx.select({ n: sql<number>`count(*)::int` }).from(sources).where(and(eq(sources.credentialRefId, id), isNull(sources.deletedAt)));
  return row?.n ?? 0;
}

export async function getCredentialRef(tx: Tx, tenant: TenantRef, id: string): Promise<CredentialRefView> {
  const row = await findRow(tx, id);
  return presentCredentialRef(row, tenant, await countUsers(tx, id));
}

/** The row a source may point at; a missing (or another tenant's) id names the field. */
export async function credentialRefForSource(tx: Tx, id: string): Promise<CredentialRefRow> {
  const [row] = await tx.select().from(credentialRefs).where(eq(credentialRefs.id, id));
  if (!row) throw new AppError("INVALID_INPUT", "credential_ref_id: no such credential ref", { field: "credential_ref_id" });
  return row;
}

export async function deleteCredentialRef(tx: Tx, id: string, auditIn: AuditIn): Promise<void> {
  const row = await findRow(tx, id, true);
  const users = await tx.select({ id: sources.id, name: sources.displayName }).from(sources).where(and(eq(sources.credentialRefId, id), isNull(sources.deletedAt))).limit(5);
  if (users.length) {
    throw new AppError("CONFLICT", `Credential ref ${row.name} is used by ${users.map((u) => u.name).join(", ")}: point those sources elsewhere first`, { source_ids: users.map((u) => u.id) });
  }
  // Deleted sources keep their history in runs (credential_ref_id there is plain provenance); only the live link goes.
  await tx.update(sources).set({ credentialRefId: null, credentialMode: "none" }).where(and(eq(sources.credentialRefId, id), isNotNull(sources.deletedAt)));
  await tx.delete(credentialRefs).where(eq(credentialRefs.id, id));
  await auditIn(tx, { targetType: "credential_ref", targetId: id, action: "credential_ref.delete", outcome: "success", details: { name: row.name, provider: row.provider, external_ref: row.externalRef } });
}

/** Stores what a probe found (health only: key names go back to the caller, values nowhere). */
export async function recordProbe(tx: Tx, id: string, probe: CredentialProbe): Promise<CredentialRefRow> {
  const now = new Date();
  const [row] = await tx.update(credentialRefs).set({ health: probe.health, healthDetail: probe.detail, lastValidatedAt: now, updatedAt: now }).where(eq(credentialRefs.id, id)).returning();
  return row!;
}

export interface CredentialTestResult {
  ref: CredentialRefView;
  ok: boolean;
  keys: string[];
}

/** Presence and shape through the broker; records health. A reserved provider is recorded as unsupported. */
export async function testCredentialRef(tx: Tx, tenant: TenantRef, id: string, opts: BrokerOptions, auditIn: AuditIn): Promise<CredentialTestResult> {
  const row = await findRow(tx, id, true);
  const probe = await probeCredentialRef(tx, tenant.id, row, opts);
  const updated = await recordProbe(tx, id, probe);
  await auditIn(tx, { targetType: "credential_ref", targetId: id, action: "credential_ref.test", outcome: probe.health === "healthy" ? "success" : "failure", details: { health: probe.health, keys: probe.keys } });
  return { ref: presentCredentialRef(updated, tenant, await countUsers(tx, id)), ok: probe.health === "healthy", keys: probe.keys };
}
