// A fresh, migrated database for one test file, cloned from the template the global setup migrated.
// `client` connects as cairn_app (row-level security applies), `owner` as the owner (for set-up and tampering).
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { inject } from "vitest";
import { createDbClient, type DbClient } from "../db/client.ts";
import { appRoleUrl } from "../db/app-role.ts";

export interface TestDatabase {
  client: DbClient;
  owner: DbClient;
  url: string;
  ownerUrl: string;
  secret: string;
  name: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject("pgAdminUrl");
  const template = inject("pgTemplate");
  const secret = inject("testSecret");
  const name = `cairn_t_${randomBytes(6).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name} template ${template}`);
  await admin.end();
  const ownerUrl = adminUrl.replace(/\/postgres$/, `/${name}`);
  const url = appRoleUrl(ownerUrl, secret);
  const client = createDbClient(url, { max: 4, applicationName: `cairn-test-${name}` });
  const owner = createDbClient(ownerUrl, { max: 2, applicationName: `cairn-test-${name}-owner` });
  return {
    client,
    owner,
    url,
    ownerUrl,
    secret,
    name,
    async drop() {
      await client.close();
      await owner.close();
      const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}
