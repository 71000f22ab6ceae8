// The installation secret: CAIRN_SECRET, or (embedded database only) a random key kept in the data dir.
// It derives the app role's database password and encrypts signing keys at rest.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { StartupError } from "../db/embedded-postgres.ts";
import type { Env } from "./config/env.ts";

export function installationSecret(env: Env, embedded: boolean): string {
  if (env.CAIRN_SECRET) return env.CAIRN_SECRET;
  if (!embedded) {
    throw new StartupError("CAIRN_SECRET is required with DATABASE_URL (at least 32 characters, the same on every replica): e.g. openssl rand -base64 48.");
  }
  const file = path.join(env.dataDir, "secret.key");
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    const secret = randomBytes(48).toString("base64url");
    try {
      fs.writeFileSync(file, secret, { mode: 0o600, flag: "wx" });
      return secret;
    } catch {
      return fs.readFileSync(file, "utf8").trim(); // another process wrote it first
    }
  }
}
