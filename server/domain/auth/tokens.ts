// Random identifiers and secrets, their hashes, and constant-time comparison (Lucia's design, on @oslojs).
import { sha256 } from "@oslojs/crypto/sha2";
import { constantTimeEqual } from "@oslojs/crypto/subtle";
import { encodeBase32LowerCaseNoPadding, encodeBase64urlNoPadding } from "@oslojs/encoding";
import { randomBytes } from "node:crypto";

/** `bytes` random bytes in lowercase base32 (5 bits per character). */
export function randomBase32(bytes: number): string {
  return encodeBase32LowerCaseNoPadding(randomBytes(bytes));
}

export function randomUrlToken(bytes = 32): string {
  return encodeBase64urlNoPadding(randomBytes(bytes));
}

export function hashSecret(secret: string): Uint8Array {
  return sha256(new TextEncoder().encode(secret));
}

export function secretMatches(secret: string, storedHash: Uint8Array): boolean {
  const candidate = hashSecret(secret);
  return candidate.length === storedHash.length && constantTimeEqual(candidate, storedHash);
}
