// Password hashing with argon2id (OWASP's recommended parameters), and the policy new passwords must meet.
import { hash, verify } from "@node-rs/argon2";
import { randomBase32 } from "./tokens.ts";

const params = { algorithm: 2 as const, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, params);
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

// A real argon2id hash of a random password: verifying against it costs the same as a real account,
// so a login for an unknown email takes as long as one with a wrong password.
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBase32(20));
  return dummy;
}

export function passwordProblem(password: string): string | null {
  if (password.length < 12) return "must be at least 12 characters";
  if (password.length > 256) return "must be at most 256 characters";
  if (/^(.)\1+$/.test(password)) return "must not be one repeated character";
  return null;
}

export function oneTimePassword(): string {
  // 20 base32 characters = 100 bits, grouped for reading aloud.
  return randomBase32(13).slice(0, 20).replace(/(.{5})(?=.)/g, "$1-");
}
