// What a running Cairn process is: its mode, its database, and whether it is draining.
import type { DbClient } from "../db/client.ts";
import type { Logger } from "./logger.ts";
import type { Env } from "./config/env.ts";

export type Mode = "web" | "worker" | "all" | "migrate" | "admin";
export type DatabaseKind = "embedded" | "external";

export interface Runtime {
  mode: Mode;
  env: Env;
  log: Logger;
  /** The app pool: connects as cairn_app, so row-level security applies to every query. */
  db: DbClient;
  /** A tiny owner pool for readiness (migration state) and start-up provisioning; never for request data. */
  owner: DbClient;
  /** The installation secret (derives the app role password, encrypts signing keys). */
  secret: string;
  databaseKind: DatabaseKind;
  startedAt: Date;
  /** Set when SIGTERM/SIGINT arrives: /readyz turns 503 and no new work is taken. */
  draining: boolean;
}
