// The control plane's Ed25519 signing keys (one per purpose), created on first use. The private half is stored
// encrypted (AES-256-GCM) under a key derived from the installation secret, so a database dump alone cannot sign.
import { createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { desc, eq } from "drizzle-orm";
import type { DbClient } from "../../../db/client.ts";
import { signingKeys } from "../../../db/schema/index.ts";
import { canonicalJson } from "./canonical.ts";

/** audit: audit exports and chain heads; evidence: evidence blobs (server/evidence/). One key per purpose, never shared. */
/** `evidence:<tenant id>`: each tenant's evidence has its own key. */
export type SigningPurpose = "audit" | "evidence" | `evidence:${string}`;

export interface SigningKey {
  id: string;
  purpose: SigningPurpose;
  /** SPKI, PEM-encoded: what exports embed and what `cairn audit verify --public-key` pins. */
  publicKeyPem: string;
  /** The raw 32-byte Ed25519 public key, base64. */
  publicKeyRaw: string;
  fingerprint: string;
  createdAt: string;
  privateKey: KeyObject;
}

const ENCRYPTION_INFO = "cairn signing-key encryption v1";
const FORMAT = "v1";

function encryptionKey(secret: string): Buffer {
  return Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), ENCRYPTION_INFO, 32));
}

/** `v1.<iv>.<ciphertext>.<tag>` (base64url); the key id is authenticated data, so a row's ciphertext cannot be moved to another row. */
export function encryptPrivateKey(secret: string, keyId: string, pkcs8Der: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", encryptionKey(secret), iv);
  cipher.setAAD(Buffer.from(keyId));
  const ciphertext = Buffer.concat([cipher.update(pkcs8Der), cipher.final()]);
  return [FORMAT, iv, ciphertext, cipher.getAuthTag()].map((p) => (typeof p === "string" ? p : p.toString("base64url"))).join(".");
}

export function decryptPrivateKey(secret: string, keyId: string, stored: string): KeyObject {
  const [format, iv, ciphertext, tag] = stored.split(".");
  if (format !== FORMAT || !iv || !ciphertext || !tag) throw new Error(`Signing key ${keyId} is stored in an unknown format`);
  try {
    const decipher = createDecipheriv("aes-256-gcm", encryptionKey(secret), Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(keyId));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    const der = Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]);
    return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  } catch {
    throw new Error(`Signing key ${keyId} cannot be decrypted: the installation secret (CAIRN_SECRET) is not the one it was created with`);
  }
}

/** First 16 hex characters of SHA-256 over the SPKI (DER) encoding: short enough to read aloud, shown wherever the key is. */
export function publicKeyFingerprint(publicKey: KeyObject): string {
  return createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex").slice(0, 16);
}

/** The raw 32-byte Ed25519 key: the last 32 bytes of its SPKI encoding. */
export function rawPublicKey(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: "spki", format: "der" }).subarray(-32);
}

type Row = typeof signingKeys.$inferSelect;

function loaded(row: Row, secret: string): SigningKey {
  const publicKey = createPublicKey(row.publicKey);
  return {
    id: row.id,
    purpose: row.purpose as SigningPurpose,
    publicKeyPem: row.publicKey,
    publicKeyRaw: rawPublicKey(publicKey).toString("base64"),
    fingerprint: publicKeyFingerprint(publicKey),
    createdAt: row.createdAt.toISOString(),
    privateKey: decryptPrivateKey(secret, row.id, row.privateKeyEnc),
  };
}

async function newest(db: DbClient, purpose: SigningPurpose): Promise<Row | undefined> {
  const [row] = await db.db.select().from(signingKeys).where(eq(signingKeys.purpose, purpose)).orderBy(desc(signingKeys.createdAt), desc(signingKeys.id)).limit(1);
  return row;
}

async function loadOrCreate(db: DbClient, secret: string, purpose: SigningPurpose): Promise<SigningKey> {
  const existing = await newest(db, purpose);
  if (existing) return loaded(existing, secret);
  // The first key's id is fixed, so processes racing to create it insert the same row and all but one are no-ops.
  const id = `${purpose}-1`;
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  await db.db
    .insert(signingKeys)
    .values({
      id,
      purpose,
      publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
      privateKeyEnc: encryptPrivateKey(secret, id, privateKey.export({ type: "pkcs8", format: "der" })),
    })
    .onConflictDoNothing();
  const row = await newest(db, purpose);
  if (!row) throw new Error(`Signing key for ${purpose} was neither created nor found`);
  return loaded(row, secret);
}

// One decrypted key per pool and purpose for the life of the process.
const cache = new WeakMap<DbClient, Map<SigningPurpose, Promise<SigningKey>>>();

/** The current signing key for `purpose`, created (once, across replicas) when none exists yet. */
export function signingKey(db: DbClient, secret: string, purpose: SigningPurpose = "audit"): Promise<SigningKey> {
  const byPurpose = cache.get(db) ?? new Map<SigningPurpose, Promise<SigningKey>>();
  cache.set(db, byPurpose);
  let key = byPurpose.get(purpose);
  if (!key) {
    key = loadOrCreate(db, secret, purpose);
    byPurpose.set(purpose, key);
    key.catch(() => byPurpose.delete(purpose));
  }
  return key;
}

/** Ed25519 over the canonical JSON of `value`, base64. */
export function signCanonical(key: SigningKey, value: unknown): string {
  return sign(null, Buffer.from(canonicalJson(value)), key.privateKey).toString("base64");
}
