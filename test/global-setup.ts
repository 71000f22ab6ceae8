// Starts one embedded PostgreSQL (the product's own launcher) for the whole vitest run and migrates a template database.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../db/embedded-postgres.ts";
import { createDbClient } from "../db/client.ts";
import { runMigrations } from "../db/migrate.ts";
import { provisionAppRole } from "../db/app-role.ts";

declare module "vitest" {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgTemplate: string;
    testSecret: string;
  }
}

let embedded: EmbeddedPostgres | undefined;
let baseDir: string | undefined;

export const TEMPLATE = "cairn_test_template";
export const TEST_SECRET = "vitest-installation-secret-0123456789abcdef";

export async function setup(project: TestProject) {
  baseDir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-vitest-"));
  fs.chmodSync(baseDir, 0o755);
  embedded = await startEmbeddedPostgres({ baseDir });
  const admin = postgres(embedded.urlFor("postgres"), { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${TEMPLATE}`);
  await admin.unsafe(`create database ${TEMPLATE}`);
  await admin.end();
  const template = createDbClient(embedded.urlFor(TEMPLATE), { max: 2, applicationName: "cairn-test-template" });
  await runMigrations(template);
  await provisionAppRole(template, TEST_SECRET);
  await template.close();
  project.provide("pgAdminUrl", embedded.urlFor("postgres"));
  project.provide("pgTemplate", TEMPLATE);
  project.provide("testSecret", TEST_SECRET);
}

export async function teardown() {
  await embedded?.stop();
  if (baseDir) fs.rmSync(baseDir, { recursive: true, force: true });
}
