import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../test/test-db.ts";
import { migrationStatus, runMigrations, expectedMigrations } from "./migrate.ts";
import { ensureInstallation } from "../server/domain/system/ensure-installation.service.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});

describe("migrations", () => {
  it("reports the migrated database as current", async () => {
    const status = await migrationStatus(t.client); // as cairn_app, like /readyz
    expect(status).toMatchObject({ current: true, applied: expectedMigrations().length, expected: expectedMigrations().length });
  });

  it("is a no-op when applied again, even from several processes at once", async () => {
    const results = await Promise.all([runMigrations(t.owner), runMigrations(t.owner), runMigrations(t.owner)]);
    expect(results.map((r) => r.applied)).toEqual([0, 0, 0]);
    expect((await migrationStatus(t.owner)).current).toBe(true);
  });

  it("records the installation once and keeps its id", async () => {
    const first = await ensureInstallation(t.owner);
    const second = await ensureInstallation(t.owner);
    expect(first.created).toBe(true);
    expect(second).toEqual({ installationId: first.installationId, created: false });
    await expect(t.owner.sql`insert into installation (id, created_by_version) values (false, 'x')`).rejects.toThrow(/installation_singleton/);
  });
});
