// Recording evidence: the blob goes to the store (content-addressed), the row records who produced it (tenant,
// job, run, source), its hash and size, and an Ed25519 signature over the hash by the tenant's own evidence key.
// Verification re-hashes the stored blob and checks the signature against the key the row names.
import { createPublicKey, sign, verify } from "node:crypto";
import { eq } from "drizzle-orm";
import type { DbClient } from "../../db/client.ts";
import type { Tx } from "../../db/tenant.ts";
import { evidence, signingKeys } from "../../db/schema/index.ts";
import type { Runtime } from "../runtime.ts";
import { signingKey, type SigningKey } from "../domain/audit/signing-key.service.ts";
import { evidenceStoreFor, sha256Hex, tenantOfStorageUri, type EvidenceStore } from "./evidence-store.ts";

export type EvidenceRow = typeof evidence.$inferSelect;

export interface EvidenceServices {
  store: EvidenceStore;
  /**
   * The tenant's evidence signing key (Ed25519, one per tenant, created on first use and kept encrypted under the
   * installation secret): a tenant verifies its evidence with its own public key, and one tenant's key never
   * signs another's evidence.
   */
  keyFor(tenantId: string): Promise<SigningKey>;
}

export const evidenceKeyPurpose = (tenantId: string) => `evidence:${tenantId}` as const;

/** The evidence store the settings select (filesystem under `<dataDir>/evidence` by default, or S3) and each tenant's evidence key. */
export async function evidenceServices(rt: Pick<Runtime, "env" | "db" | "secret">): Promise<EvidenceServices> {
  return { store: evidenceStoreFor(rt.env), keyFor: (tenantId) => signingKey(rt.db, rt.secret, evidenceKeyPurpose(tenantId)) };
}

export interface RecordEvidenceInput {
  tenantId: string;
  jobId: string | null;
  runId: string | null;
  sourceId: string | null;
  kind: string;
  contentType: string;
  body: Buffer;
}

/** A stored, signed blob whose row is not written yet (so the row can join another transaction, e.g. a job's commit). */
export type PreparedEvidence = typeof evidence.$inferInsert;

/** Ed25519 over the ASCII of the lower-case hex SHA-256. The key serves evidence only, so the bare hash is unambiguous. */
export function signEvidenceHash(key: SigningKey, hash: string): string {
  return sign(null, Buffer.from(hash, "ascii"), key.privateKey).toString("base64");
}

/** Writes the blob and signs its hash; no database write. */
export async function prepareEvidence(input: RecordEvidenceInput, services: EvidenceServices): Promise<PreparedEvidence> {
  if (!input.kind) throw new Error("Evidence needs a kind");
  const key = await services.keyFor(input.tenantId);
  const stored = await services.store.put(input.tenantId, input.body, input.contentType);
  return {
    tenantId: input.tenantId,
    jobId: input.jobId,
    runId: input.runId,
    sourceId: input.sourceId,
    kind: input.kind,
    storageUri: stored.storageUri,
    contentType: input.contentType,
    hash: stored.hash,
    size: stored.size,
    signature: signEvidenceHash(key, stored.hash),
    signingKeyId: key.id,
  };
}

/** Inserts prepared evidence rows (in the caller's tenant transaction; row-level security checks the tenant). */
export async function insertEvidence(tx: Tx, prepared: PreparedEvidence[]): Promise<EvidenceRow[]> {
  if (!prepared.length) return [];
  return tx.insert(evidence).values(prepared).returning();
}

/** Stores the blob, inserts the evidence row in `tx`, and returns the row. */
export async function recordEvidence(tx: Tx, input: RecordEvidenceInput, services: EvidenceServices): Promise<EvidenceRow> {
  const [row] = await insertEvidence(tx, [await prepareEvidence(input, services)]);
  return row!;
}

export interface EvidenceVerification {
  ok: boolean;
  /** The stored blob hashes to the recorded hash (and has the recorded size). */
  hashMatches: boolean;
  signatureValid: boolean;
  /** Hash of the bytes found in the store (null when the blob is missing). */
  actualHash: string | null;
  problems: string[];
}

/** The public key a row names, only if it is its own tenant's evidence key. */
async function publicKeyOf(db: DbClient, keyId: string, tenantId: string) {
  const [row] = await db.db.select({ publicKey: signingKeys.publicKey, purpose: signingKeys.purpose }).from(signingKeys).where(eq(signingKeys.id, keyId));
  if (!row || row.purpose !== evidenceKeyPurpose(tenantId)) return null;
  return createPublicKey(row.publicKey);
}

/** Re-hashes the stored blob and checks the row's signature (the verify action). */
export async function verifyEvidence(db: DbClient, store: EvidenceStore, row: EvidenceRow): Promise<EvidenceVerification> {
  const problems: string[] = [];
  let actualHash: string | null = null;
  let size: number | null = null;
  if (tenantOfStorageUri(row.storageUri) !== row.tenantId) problems.push("the storage URI does not belong to the evidence's tenant");
  else {
    try {
      const bytes = await store.get(row.storageUri);
      actualHash = sha256Hex(bytes);
      size = bytes.length;
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  const hashMatches = actualHash === row.hash && size === row.size;
  if (actualHash !== null && !hashMatches) problems.push(actualHash !== row.hash ? "the stored blob no longer matches the recorded hash" : "the stored blob has a different size than recorded");

  let signatureValid = false;
  if (!row.signature || !row.signingKeyId) problems.push("the evidence is not signed");
  else {
    const key = await publicKeyOf(db, row.signingKeyId, row.tenantId);
    if (!key) problems.push(`signing key ${row.signingKeyId} is not an evidence key of this tenant`);
    else {
      signatureValid = verify(null, Buffer.from(row.hash, "ascii"), key, Buffer.from(row.signature, "base64"));
      if (!signatureValid) problems.push("the signature does not match the recorded hash");
    }
  }
  return { ok: hashMatches && signatureValid, hashMatches, signatureValid, actualHash, problems };
}
