// Authentication of signed agent requests: the body hash, a timestamp inside the replay window, a nonce never seen in
// that window, and an Ed25519 signature by the node's current identity key. Revocation, expiry and rotation are read
// from the database on every request, so a revoked node is refused on its very next one.
import { and, eq, lt, sql } from "drizzle-orm";
import type { DbClient } from "../../../db/client.ts";
import { isUuid, withPlatform, type Tx } from "../../../db/tenant.ts";
import type { KeyObject } from "node:crypto";
import { agentRequestNonces, clusterMemberships, clusters, nodeIdentities, nodeJoinRequests, nodes } from "../../../db/schema/index.ts";
import { AppError } from "../../errors.ts";
import { recordAudit } from "../audit/audit-writer.service.ts";
import { AGENT_HEADERS, JOIN_KEY_ID, publicKeyFromRaw, REPLAY_WINDOW_SECONDS, sha256Hex, signatureValid, type SignedParts } from "./agent-protocol.ts";
import { ROTATION_GRACE_SECONDS } from "./workload-catalog.ts";

export type NodeRow = typeof nodes.$inferSelect;
export type IdentityRow = typeof nodeIdentities.$inferSelect;
export type MembershipRow = typeof clusterMemberships.$inferSelect;
export type ClusterRow = typeof clusters.$inferSelect;

export interface AgentPrincipal {
  node: NodeRow;
  identity: IdentityRow;
  membership: MembershipRow;
  cluster: ClusterRow;
}

/** A refused agent request; `reason` is machine-readable (the agent acts on node_revoked, certificate_expired, …). */
export class AgentRefused extends AppError {
  constructor(
    code: "UNAUTHENTICATED" | "FORBIDDEN",
    message: string,
    readonly reason: string,
  ) {
    super(code, message, { reason });
  }
}

export interface SignedRequest {
  parts: SignedParts;
  signature: string;
}

const NONCE = /^[A-Za-z0-9_-]{16,64}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** Reads and checks the signature headers and the body hash; nothing here touches the database. */
export function readSignedRequest(req: { method: string; path: string; header(name: string): string | undefined }, rawBody: Buffer, now = Date.now()): SignedRequest {
  const h = (name: string) => req.header(name) ?? "";
  const keyId = h(AGENT_HEADERS.key);
  const timestamp = h(AGENT_HEADERS.timestamp);
  const nonce = h(AGENT_HEADERS.nonce);
  const bodySha256 = h(AGENT_HEADERS.bodySha256).toLowerCase();
  const signature = h(AGENT_HEADERS.signature);
  if (!keyId || !timestamp || !nonce || !bodySha256 || !signature) {
    throw new AgentRefused("UNAUTHENTICATED", `Agent requests must be signed: ${Object.values(AGENT_HEADERS).filter((n) => n !== AGENT_HEADERS.node).join(", ")} headers are required`, "unsigned");
  }
  if (!/^\d{10,16}$/.test(timestamp)) throw new AgentRefused("UNAUTHENTICATED", `${AGENT_HEADERS.timestamp} must be milliseconds since the epoch`, "unsigned");
  if (!NONCE.test(nonce)) throw new AgentRefused("UNAUTHENTICATED", `${AGENT_HEADERS.nonce} must be 16–64 base64url characters`, "unsigned");
  if (!HEX64.test(bodySha256)) throw new AgentRefused("UNAUTHENTICATED", `${AGENT_HEADERS.bodySha256} must be the hex SHA-256 of the body`, "unsigned");
  if (sha256Hex(rawBody) !== bodySha256) throw new AgentRefused("UNAUTHENTICATED", "The body does not match its signed hash: it was altered in transit", "body_hash_mismatch");
  if (Math.abs(now - Number(timestamp)) > REPLAY_WINDOW_SECONDS * 1000) {
    throw new AgentRefused("UNAUTHENTICATED", `The request's timestamp is more than ${REPLAY_WINDOW_SECONDS} s from the server's clock: check the node's clock`, "stale_timestamp");
  }
  return { parts: { method: req.method, path: req.path, keyId, nodeId: h(AGENT_HEADERS.node), timestamp, nonce, bodySha256 }, signature };
}

let lastPrune = 0;

/** Remembers a nonce for the replay window; false when it was already seen (a replayed request). */
async function consumeNonce(tx: Tx, keyId: string, nonce: string): Promise<boolean> {
  const inserted = await tx.insert(agentRequestNonces).values({ keyId, nonce }).onConflictDoNothing().returning({ nonce: agentRequestNonces.nonce });
  if (Date.now() - lastPrune > 60_000) {
    lastPrune = Date.now();
    await tx.delete(agentRequestNonces).where(lt(agentRequestNonces.seenAt, sql`now() - make_interval(secs => ${REPLAY_WINDOW_SECONDS * 2})`));
  }
  return inserted.length === 1;
}

// Denials are audited, at most once a minute per node and reason: a flood of bad requests cannot flood the chain.
const lastDenied = new Map<string, number>();
async function auditDenied(db: DbClient, nodeId: string | null, reason: string, ip: string | null, details: Record<string, unknown> = {}) {
  const key = `${nodeId ?? "unknown"}:${reason}`;
  const now = Date.now();
  if ((lastDenied.get(key) ?? 0) > now - 60_000) return;
  lastDenied.set(key, now);
  if (lastDenied.size > 10_000) lastDenied.clear();
  await recordAudit(db, { tenantId: null, actor: nodeId ? `node:${nodeId}` : "anonymous", actorType: nodeId ? "node" : "anonymous", ip, targetType: "agent_request", targetId: nodeId, action: "agent.request", outcome: "denied", details: { reason, ...details } }).catch(() => {});
}

/** The checks of one signed node request inside the caller's platform transaction: a principal, or why not. */
async function authenticateIn(tx: Tx, signed: SignedRequest): Promise<AgentPrincipal | AgentRefused> {
  const { parts, signature } = signed;
  const [row] = await tx
    .select({ identity: nodeIdentities, node: nodes, membership: clusterMemberships, cluster: clusters })
    .from(nodeIdentities)
    .innerJoin(nodes, eq(nodes.id, nodeIdentities.nodeId))
    .innerJoin(clusters, eq(clusters.id, nodeIdentities.clusterId))
    .innerJoin(clusterMemberships, and(eq(clusterMemberships.nodeId, nodeIdentities.nodeId), eq(clusterMemberships.clusterId, nodeIdentities.clusterId)))
    .where(eq(nodeIdentities.id, parts.keyId));
  if (!row || row.identity.nodeId !== parts.nodeId) return new AgentRefused("UNAUTHENTICATED", "Unknown node identity: enroll this node (cairn agent enroll)", "unknown_identity");
  if (!signatureValid(cachedPublicKey(row.identity.publicKey), parts, signature)) return new AgentRefused("UNAUTHENTICATED", "The request's signature does not verify with this node's key", "bad_signature");
  if (!(await consumeNonce(tx, row.identity.id, parts.nonce))) return new AgentRefused("UNAUTHENTICATED", "This request was already received (replayed nonce)", "replayed");
  const { identity, membership, node } = row;
  if (identity.status === "revoked" || membership.status === "revoked" || node.status === "revoked") {
    return new AgentRefused("FORBIDDEN", `This node's identity was revoked${identity.revokedAt ? ` at ${identity.revokedAt.toISOString()}` : ""}: it may no longer make requests or claim work. Enroll again with a new join token to rejoin.`, "node_revoked");
  }
  if (identity.status === "rotated") {
    const [next] = identity.replacedBy ? await tx.select({ firstUsedAt: nodeIdentities.firstUsedAt }).from(nodeIdentities).where(eq(nodeIdentities.id, identity.replacedBy)) : [];
    const inGrace = identity.rotatedAt && identity.rotatedAt.getTime() > Date.now() - ROTATION_GRACE_SECONDS * 1000 && !next?.firstUsedAt;
    if (!inGrace) return new AgentRefused("UNAUTHENTICATED", "This identity was rotated: use the newer certificate and key", "identity_rotated");
  }
  if (identity.certificateNotAfter.getTime() <= Date.now()) return new AgentRefused("UNAUTHENTICATED", `This node's certificate expired at ${identity.certificateNotAfter.toISOString()}: enroll the node again`, "certificate_expired");
  if (membership.status !== "active") return new AgentRefused("FORBIDDEN", `This node's membership of cluster ${row.cluster.slug} is ${membership.status}`, "membership_inactive");
  if (!identity.firstUsedAt && identity.status === "active") await tx.update(nodeIdentities).set({ firstUsedAt: new Date() }).where(and(eq(nodeIdentities.id, identity.id), sql`${nodeIdentities.firstUsedAt} is null`));
  return row;
}

function checkIds(parts: SignedParts) {
  if (!isUuid(parts.keyId) || !isUuid(parts.nodeId)) throw new AgentRefused("UNAUTHENTICATED", `${AGENT_HEADERS.key} must be the node's identity id and ${AGENT_HEADERS.node} its node id`, "unknown_identity");
}

/** Refusals concerning a known node are audited (rate-limited); unknown identities are noise, not events. */
async function refused(db: DbClient, signed: SignedRequest, r: AgentRefused, ip: string | null): Promise<never> {
  if (r.reason !== "unknown_identity") await auditDenied(db, signed.parts.nodeId, r.reason, ip, { path: signed.parts.path });
  throw r;
}

/** Authenticates a request signed by an enrolled node's identity key. */
export async function authenticateNode(db: DbClient, signed: SignedRequest, ip: string | null): Promise<AgentPrincipal> {
  checkIds(signed.parts);
  const result = await withPlatform(db, (tx) => authenticateIn(tx, signed));
  if (result instanceof AgentRefused) return refused(db, signed, result, ip);
  return result;
}

/**
 * Authentication and the request's own work in one platform transaction (fewer round trips for the hot path:
 * heartbeats). A refusal rolls the transaction back and is then audited like any other.
 */
export async function asAuthenticatedNode<T>(db: DbClient, signed: SignedRequest, ip: string | null, fn: (tx: Tx, principal: AgentPrincipal) => Promise<T>): Promise<T> {
  checkIds(signed.parts);
  const outcome = await withPlatform(db, async (tx) => {
    const result = await authenticateIn(tx, signed);
    if (result instanceof AgentRefused) return { refusal: result };
    return { value: await fn(tx, result) };
  });
  if (outcome.refusal) return refused(db, signed, outcome.refusal, ip);
  return outcome.value as T;
}

// KeyObjects for node keys, so a heartbeat does not parse its key again (bounded: cleared when it grows large).
const keyCache = new Map<string, KeyObject>();
function cachedPublicKey(raw: string): KeyObject {
  let key = keyCache.get(raw);
  if (!key) {
    if (keyCache.size > 20_000) keyCache.clear();
    keyCache.set(raw, (key = publicKeyFromRaw(raw)));
  }
  return key;
}

/** A join redemption: signed by the key in its own body, which proves the sender holds the private key. */
export async function verifyJoinProof(db: DbClient, signed: SignedRequest, publicKeyRaw: string): Promise<void> {
  if (signed.parts.keyId !== JOIN_KEY_ID) throw new AgentRefused("UNAUTHENTICATED", `A join request is signed with key id "${JOIN_KEY_ID}"`, "unsigned");
  let key;
  try {
    key = publicKeyFromRaw(publicKeyRaw);
  } catch {
    throw new AppError("INVALID_INPUT", "public_key: must be a raw 32-byte Ed25519 public key, base64");
  }
  if (!signatureValid(key, signed.parts, signed.signature)) throw new AgentRefused("UNAUTHENTICATED", "Proof of possession failed: the request is not signed by the private key of public_key", "proof_of_possession_failed");
  const fresh = await withPlatform(db, (tx) => consumeNonce(tx, `join:${publicKeyRaw}`, signed.parts.nonce));
  if (!fresh) throw new AgentRefused("UNAUTHENTICATED", "This request was already received (replayed nonce)", "replayed");
}

/** A pending enrollment polling its join request: signed by the key the request was made with. */
export async function authenticateJoinPoll(db: DbClient, signed: SignedRequest, requestId: string) {
  if (!isUuid(requestId)) throw new AppError("NOT_FOUND", "No such join request");
  if (signed.parts.keyId !== `join-request:${requestId}`) throw new AgentRefused("UNAUTHENTICATED", "Poll a join request with key id join-request:<id>", "unsigned");
  return withPlatform(db, async (tx) => {
    const [request] = await tx.select().from(nodeJoinRequests).where(eq(nodeJoinRequests.id, requestId));
    // A request polled with any other key reads as missing: its existence is not for others to learn.
    if (!request || !signatureValid(publicKeyFromRaw(request.publicKey), signed.parts, signed.signature)) throw new AppError("NOT_FOUND", "No such join request");
    if (!(await consumeNonce(tx, signed.parts.keyId, signed.parts.nonce))) throw new AgentRefused("UNAUTHENTICATED", "This request was already received (replayed nonce)", "replayed");
    return request;
  });
}
