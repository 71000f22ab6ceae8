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
  db: DbClient;
  databaseKind: DatabaseKind;
  startedAt: Date;
  /** Set when SIGTERM/SIGINT arrives: /readyz turns 503 and no new work is taken. */
  draining: boolean;
}
