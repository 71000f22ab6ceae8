// Read models of evidence: the tenant's evidence in keyset pages (filter by source, run or kind) and one evidence
// object with who produced it (source, run, job), the key that signed it and how many findings were seen in it.
import { createHash, createPublicKey } from "node:crypto";
import { and, count, desc, eq, type SQL } from "drizzle-orm";
import type { DbClient } from "../../db/client.ts";
import type { Tx } from "../../db/tenant.ts";
import { evidence, findingEvidence, signingKeys, sources } from "../../db/schema/index.ts";
import { afterCursor, cursorColumn, pageLimit, toPage, type Page } from "../domain/keyset.ts";
import { AppError } from "../errors.ts";
import { evidenceKeyPurpose, type EvidenceRow } from "./evidence.service.ts";

export interface EvidenceView {
  evidence_id: string;
  tenant_id: string;
  source_id: string | null;
  source_name: string | null;
  run_id: string | null;
  job_id: string | null;
  kind: string;
  storage_uri: string;
  content_type: string;
  hash: string;
  size: number;
  signed: boolean;
  signing_key_id: string | null;
  created_at: string;
  links: { self: string; content: string; verify: string };
}

export function presentEvidence(e: EvidenceRow, sourceName: string | null): EvidenceView {
  return {
    evidence_id: e.id,
    tenant_id: e.tenantId,
    source_id: e.sourceId,
    source_name: sourceName,
    run_id: e.runId,
    job_id: e.jobId,
    kind: e.kind,
    storage_uri: e.storageUri,
    content_type: e.contentType,
    hash: e.hash,
    size: e.size,
    signed: e.signature !== null,
    signing_key_id: e.signingKeyId,
    created_at: e.createdAt.toISOString(),
    links: { self: `/v1/evidence/${e.id}`, content: `/v1/evidence/${e.id}/content`, verify: `/v1/evidence/${e.id}/verify` },
  };
}

export interface EvidenceFilters {
  source_id?: string;
  run_id?: string;
  kind?: string;
  cursor?: string;
  limit?: number;
}

/** The tenant's evidence, newest first. Each filter narrows an index range (tenant, source or run). */
export async function listEvidence(tx: Tx, tenantId: string, filters: EvidenceFilters): Promise<Page<EvidenceView>> {
  const limit = pageLimit(filters.limit);
  const where: (SQL | undefined)[] = [eq(evidence.tenantId, tenantId), afterCursor(evidence.createdAt, evidence.id, filters.cursor)];
  if (filters.source_id) where.push(eq(evidence.sourceId, filters.source_id));
  if (filters.run_id) where.push(eq(evidence.runId, filters.run_id));
  if (filters.kind) where.push(eq(evidence.kind, filters.kind));
  const rows = await tx
    .select({ row: evidence, sourceName: sources.displayName, cursorAt: cursorColumn(evidence.createdAt), id: evidence.id })
    .from(evidence)
    .leftJoin(sources, eq(sources.id, evidence.sourceId))
    .where(and(...where))
    .orderBy(desc(evidence.createdAt), desc(evidence.id))
    .limit(limit + 1);
  return toPage(rows, limit, (r) => presentEvidence(r.row, r.sourceName));
}

/** One evidence row of the transaction's tenant; another tenant's id reads exactly like a missing one. */
export async function findEvidence(tx: Tx, id: string): Promise<EvidenceRow> {
  const [row] = await tx.select().from(evidence).where(eq(evidence.id, id));
  if (!row) throw new AppError("NOT_FOUND", "No such evidence");
  return row;
}

export interface SigningKeyView {
  key_id: string;
  algorithm: "Ed25519";
  /** SHA-256 of the public key's DER (SubjectPublicKeyInfo), to compare with a copy kept elsewhere. */
  fingerprint: string;
  public_key_pem: string;
}

/** The public half of the key that signed evidence (null when the key is unknown or serves another purpose). */
export async function evidenceSigningKey(db: DbClient, keyId: string | null, tenantId: string): Promise<SigningKeyView | null> {
  if (!keyId) return null;
  const [row] = await db.db.select({ publicKey: signingKeys.publicKey, purpose: signingKeys.purpose }).from(signingKeys).where(eq(signingKeys.id, keyId));
  if (!row || row.purpose !== evidenceKeyPurpose(tenantId)) return null;
  const der = createPublicKey(row.publicKey).export({ type: "spki", format: "der" });
  return { key_id: keyId, algorithm: "Ed25519", fingerprint: `sha256:${createHash("sha256").update(der).digest("hex")}`, public_key_pem: row.publicKey };
}

export async function getEvidence(tx: Tx, db: DbClient, id: string) {
  const row = await findEvidence(tx, id);
  const [source] = row.sourceId ? await tx.select({ name: sources.displayName }).from(sources).where(eq(sources.id, row.sourceId)) : [];
  const [linked] = await tx.select({ n: count() }).from(findingEvidence).where(eq(findingEvidence.evidenceId, row.id));
  const key = await evidenceSigningKey(db, row.signingKeyId, row.tenantId);
  return { ...presentEvidence(row, source?.name ?? null), signature: row.signature, signing_key: key, findings_linked: linked?.n ?? 0 };
}
