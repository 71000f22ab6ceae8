// Walks a hash chain in sequence order and reports the first broken link: a recomputed hash that differs, a
// prev_hash that does not point at the previous event, a missing sequence number, or a head that disagrees.
import type { DbClient } from "../../../db/client.ts";
import { auditHash, GENESIS_HASH } from "./canonical.ts";
import { platformChain, readChainBatch, readChainHead, tenantChain, type ChainScope, type StoredAuditRecord } from "./chain-reader.ts";

export type BreakReason = "hash_mismatch" | "prev_hash_mismatch" | "missing_seq" | "head_mismatch";

export interface BrokenLink {
  seq: number;
  /** The event at that seq; null when the event itself is missing. */
  event_id: string | null;
  reason: BreakReason;
  expected: string;
  found: string;
}

export interface ChainVerification {
  ok: boolean;
  /** Events checked and found intact before the first break (all of them when ok). */
  checked: number;
  head_seq: number;
  head_hash: string;
  first_broken: BrokenLink | null;
}

export const VERIFY_BATCH_SIZE = 5_000;

export async function verifyChain(scope: ChainScope, batchSize = VERIFY_BATCH_SIZE): Promise<ChainVerification> {
  // The head is read first: the writer moves it in the same transaction as the insert, so every event up to it is
  // committed and visible, and events appended while we walk (beyond it) are left for the next verify.
  const head = await scope.run((tx) => readChainHead(tx, scope.chain));
  const upto = head?.seq ?? Number.MAX_SAFE_INTEGER;
  const result = (first_broken: BrokenLink | null, checked: number): ChainVerification => ({
    ok: first_broken === null,
    checked,
    head_seq: head?.seq ?? 0,
    head_hash: head?.hash ?? GENESIS_HASH,
    first_broken,
  });

  let checked = 0;
  let lastSeq = 0;
  let prevHash = GENESIS_HASH;
  let lastEventId: string | null = null;
  const read = (after: number) => scope.run((tx) => readChainBatch(tx, scope.chain, after, upto, batchSize));
  let pending: Promise<StoredAuditRecord[]> | null = read(0);
  while (pending) {
    const batch: StoredAuditRecord[] = await pending;
    // The next batch is fetched while this one is hashed.
    pending = batch.length === batchSize ? read(batch[batch.length - 1]!.seq) : null;
    const stop = (broken: BrokenLink) => {
      pending?.catch(() => {});
      return result(broken, checked);
    };
    for (const row of batch) {
      const expectedSeq = lastSeq + 1;
      if (row.seq !== expectedSeq) {
        return stop({ seq: expectedSeq, event_id: null, reason: "missing_seq", expected: String(expectedSeq), found: String(row.seq) });
      }
      if (row.prev_hash !== prevHash) {
        return stop({ seq: row.seq, event_id: row.event_id, reason: "prev_hash_mismatch", expected: prevHash, found: row.prev_hash });
      }
      const recomputed = auditHash(row);
      if (recomputed !== row.hash) {
        return stop({ seq: row.seq, event_id: row.event_id, reason: "hash_mismatch", expected: recomputed, found: row.hash });
      }
      checked += 1;
      lastSeq = row.seq;
      prevHash = row.hash;
      lastEventId = row.event_id;
    }
  }

  if (!head) {
    if (checked === 0) return result(null, 0);
    return result({ seq: lastSeq, event_id: lastEventId, reason: "head_mismatch", expected: `${lastSeq}:${prevHash}`, found: "no head row" }, checked);
  }
  if (lastSeq < head.seq) {
    // The newest events are gone but the head still remembers them.
    return result({ seq: lastSeq + 1, event_id: null, reason: "missing_seq", expected: String(lastSeq + 1), found: "end of chain" }, checked);
  }
  if (prevHash !== head.hash) {
    return result({ seq: head.seq, event_id: lastEventId, reason: "head_mismatch", expected: head.hash, found: prevHash }, checked);
  }
  return result(null, checked);
}

export function verifyTenantChain(db: DbClient, tenantId: string): Promise<ChainVerification> {
  return verifyChain(tenantChain(db, tenantId));
}

/** The platform chain (events of no tenant): for the platform owner's audit view. */
export function verifyPlatformChain(db: DbClient): Promise<ChainVerification> {
  return verifyChain(platformChain(db));
}
