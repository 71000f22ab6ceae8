// The wire contract between the control plane and `cairn agent`, shared by both sides so they cannot drift: node keys
// and their fingerprints, join token format, signed requests (timestamp + body hash + key id, replay window), and the
// signed desired-state snapshot.
import { createHash, createPublicKey, randomBytes, sign, verify, X509Certificate, type KeyObject } from "node:crypto";
import { canonicalJson } from "../audit/canonical.ts";

// ------------------------------------------------------------------------------------------------------ node keys

const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** A raw 32-byte Ed25519 public key (base64) as a KeyObject; throws on anything else. */
export function publicKeyFromRaw(rawBase64: string): KeyObject {
  const raw = Buffer.from(rawBase64, "base64");
  if (raw.length !== 32 || raw.toString("base64") !== rawBase64) throw new Error("not a raw 32-byte Ed25519 public key (base64)");
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: "der", type: "spki" });
}

export function rawPublicKeyOf(key: KeyObject): string {
  return key.export({ type: "spki", format: "der" }).subarray(-32).toString("base64");
}

/** SHA-256 of the raw public key, hex: what a join token's key binding and the review screen show. */
export function keyFingerprint(rawBase64: string): string {
  return createHash("sha256").update(Buffer.from(rawBase64, "base64")).digest("hex");
}

/** SHA-256 of a certificate's DER encoding, hex. */
export function certificateFingerprint(pem: string): string {
  return createHash("sha256").update(new X509Certificate(pem).raw).digest("hex");
}

// ------------------------------------------------------------------------------------------------------ join tokens

/**
 * `id.secret`: a 6-character public id and a 32-character secret, both [a-z0-9]. The secret carries 32·log2(36) ≈ 165
 * bits (kubeadm's 16 characters are about 82 bits, too few to stand alone).
 */
export const JOIN_TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{32})$/;
export const JOIN_TOKEN_SECRET_BITS = Math.floor(32 * Math.log2(36));

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Uniform [a-z0-9] characters by rejection sampling (no modulo bias). */
export function randomBase36(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 252 && out.length < length) out += ALPHABET[byte % 36];
    }
  }
  return out;
}

export function parseJoinToken(token: string): { id: string; secret: string } | null {
  const m = JOIN_TOKEN_PATTERN.exec(token.trim());
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

// ------------------------------------------------------------------------------------------------------ signed requests

export const REPLAY_WINDOW_SECONDS = 60;
/** Key id of a join redemption (verified against the public key in the body: the proof of possession). */
export const JOIN_KEY_ID = "join";
/** Key id of a pending enrollment polling its request: `join-request:<id>`. */
export const joinRequestKeyId = (requestId: string) => `join-request:${requestId}`;

export const AGENT_HEADERS = {
  key: "x-cairn-key",
  node: "x-cairn-node",
  timestamp: "x-cairn-timestamp",
  nonce: "x-cairn-nonce",
  bodySha256: "x-cairn-content-sha256",
  signature: "x-cairn-signature",
} as const;

export interface SignedParts {
  method: string;
  /** Path and query exactly as requested, e.g. /v1/agent/desired-state. */
  path: string;
  keyId: string;
  nodeId: string;
  timestamp: string;
  nonce: string;
  bodySha256: string;
}

export function sha256Hex(body: Buffer | string): string {
  return createHash("sha256").update(body).digest("hex");
}

/** The bytes a request signature covers: every field on its own line, so none can be moved into another. */
export function signingString(p: SignedParts): Buffer {
  return Buffer.from(["cairn-agent-request-v1", p.method.toUpperCase(), p.path, p.keyId, p.nodeId, p.timestamp, p.nonce, p.bodySha256].join("\n"));
}

/** Headers for one signed request. */
export function signRequest(privateKey: KeyObject, req: { method: string; path: string; keyId: string; nodeId?: string; body: Buffer | string; now?: number }): Record<string, string> {
  const parts: SignedParts = {
    method: req.method,
    path: req.path,
    keyId: req.keyId,
    nodeId: req.nodeId ?? "",
    timestamp: String(req.now ?? Date.now()),
    nonce: randomBytes(18).toString("base64url"),
    bodySha256: sha256Hex(req.body),
  };
  const headers: Record<string, string> = {
    [AGENT_HEADERS.key]: parts.keyId,
    [AGENT_HEADERS.timestamp]: parts.timestamp,
    [AGENT_HEADERS.nonce]: parts.nonce,
    [AGENT_HEADERS.bodySha256]: parts.bodySha256,
    [AGENT_HEADERS.signature]: sign(null, signingString(parts), privateKey).toString("base64"),
  };
  if (parts.nodeId) headers[AGENT_HEADERS.node] = parts.nodeId;
  return headers;
}

export function signatureValid(publicKey: KeyObject, parts: SignedParts, signatureBase64: string): boolean {
  try {
    return verify(null, signingString(parts), publicKey, Buffer.from(signatureBase64, "base64"));
  } catch {
    return false;
  }
}

/** Rotation: the new key signs the current identity id, proving the agent holds it too. */
export const rotationProofMessage = (identityId: string) => Buffer.from(`cairn-rotate-v1\n${identityId}`);

export function rotationProof(newPrivateKey: KeyObject, identityId: string): string {
  return sign(null, rotationProofMessage(identityId), newPrivateKey).toString("base64");
}

export function rotationProofValid(identityId: string, newPublicKeyRaw: string, proof: string): boolean {
  try {
    return verify(null, rotationProofMessage(identityId), publicKeyFromRaw(newPublicKeyRaw), Buffer.from(proof, "base64"));
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------------------------------------------ desired state

export const DESIRED_STATE_FORMAT = "cairn.desired-state/v1";

export interface DesiredWorkload {
  type: string;
  desired: "running" | "stopped";
  /** What the node may serve with this workload: each entry one role assignment (tenant null: every organization). */
  assignments: { tenant_id: string | null; job_types: string[] }[];
}

export interface DesiredState {
  format: typeof DESIRED_STATE_FORMAT;
  cluster: { id: string; slug: string; authority_state: string };
  node_id: string;
  identity_id: string;
  /** Monotonic per cluster: an agent never goes back to an older version. */
  version: number;
  issued_at: string;
  heartbeat_seconds: number;
  workloads: DesiredWorkload[];
}

export interface SignedDesiredState {
  payload: DesiredState;
  /** Ed25519 over canonical JSON of the payload, by the cluster CA's key, base64. */
  signature: string;
  /** SHA-256 of the signing CA's certificate. */
  ca_fingerprint: string;
}

export function signDesiredState(caKey: KeyObject, caFingerprint: string, payload: DesiredState): SignedDesiredState {
  return { payload, signature: sign(null, Buffer.from(canonicalJson(payload)), caKey).toString("base64"), ca_fingerprint: caFingerprint };
}

export class SnapshotRejected extends Error {}

/**
 * Checks a snapshot the way an agent must before acting on it: signed by its own cluster's CA (the certificate it
 * pinned at enrollment), addressed to this node in this cluster, and not older than what it already runs.
 */
export function verifyDesiredState(envelope: unknown, expect: { caCertificatePem: string; clusterId: string; nodeId: string; minVersion: number }): DesiredState {
  const e = envelope as Partial<SignedDesiredState> | null;
  if (!e || typeof e !== "object" || !e.payload || typeof e.signature !== "string") throw new SnapshotRejected("not a signed desired-state snapshot");
  const ca = new X509Certificate(expect.caCertificatePem);
  let ok = false;
  try {
    ok = verify(null, Buffer.from(canonicalJson(e.payload)), ca.publicKey, Buffer.from(e.signature, "base64"));
  } catch {
    ok = false;
  }
  if (!ok) throw new SnapshotRejected("signature does not verify with this cluster's CA key (signed by another key, or altered)");
  const p = e.payload;
  if (p.format !== DESIRED_STATE_FORMAT) throw new SnapshotRejected(`unknown snapshot format ${String(p.format)}`);
  if (p.cluster?.id !== expect.clusterId) throw new SnapshotRejected("snapshot is for another cluster");
  if (p.node_id !== expect.nodeId) throw new SnapshotRejected("snapshot is for another node");
  if (!Number.isInteger(p.version) || p.version < expect.minVersion) throw new SnapshotRejected(`snapshot version ${p.version} is older than the one in use (${expect.minVersion})`);
  return p;
}
