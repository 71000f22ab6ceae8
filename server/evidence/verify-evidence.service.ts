// The verify action on one evidence object: re-hash the stored blob and check the signature over the recorded hash,
// then audit who verified it and what was found (in the same transaction as the read).
import type { Tx } from "../../db/tenant.ts";
import type { Runtime } from "../runtime.ts";
import type { AuditIn } from "../domain/credentials/credential-refs.service.ts";
import { evidenceStoreFor } from "./evidence-store.ts";
import { verifyEvidence } from "./evidence.service.ts";
import { findEvidence } from "./evidence.presenter.ts";

export interface EvidenceVerificationView {
  evidence_id: string;
  /** The blob hashes to the recorded hash and size, and the signature over that hash checks out. */
  ok: boolean;
  hash_matches: boolean;
  signature_valid: boolean;
  recorded_hash: string;
  /** SHA-256 of the bytes found in the store; null when they could not be read. */
  actual_hash: string | null;
  size: number;
  signing_key_id: string | null;
  problems: string[];
  verified_at: string;
}

export async function verifyEvidenceById(tx: Tx, rt: Pick<Runtime, "env" | "db">, id: string, auditIn: AuditIn): Promise<EvidenceVerificationView> {
  const row = await findEvidence(tx, id);
  const result = await verifyEvidence(rt.db, evidenceStoreFor(rt.env), row);
  const view: EvidenceVerificationView = {
    evidence_id: row.id,
    ok: result.ok,
    hash_matches: result.hashMatches,
    signature_valid: result.signatureValid,
    recorded_hash: row.hash,
    actual_hash: result.actualHash,
    size: row.size,
    signing_key_id: row.signingKeyId,
    problems: result.problems,
    verified_at: new Date().toISOString(),
  };
  await auditIn(tx, {
    targetType: "evidence",
    targetId: row.id,
    action: "evidence.verify",
    outcome: result.ok ? "success" : "failure",
    details: { hash: row.hash, hash_matches: result.hashMatches, signature_valid: result.signatureValid, actual_hash: result.actualHash, problems: result.problems },
  });
  return view;
}
