// DATABASE_URL mode against a second PostgreSQL major version (Debian's 15; the embedded server is 18).
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, runCairn, startCairn, tempDataDir, waitForReady } from "../../test/cairn-process.ts";
import { startSystemPostgres, type SystemPostgres } from "../../test/system-postgres.ts";
import { expectUuidV7 } from "../../test/uuid-v7.ts";
import fs from "node:fs";
import path from "node:path";

let pg: SystemPostgres;
const SECRET = "external-test-secret-0123456789abcdefghijklmnop";
beforeAll(async () => {
  pg = await startSystemPostgres();
  const admin = postgres(pg.url("postgres"), { max: 1, onnotice: () => {} });
  await admin`create database cairn_ext`;
  await admin`create database cairn_ext_late`;
  await admin.end();
});
afterAll(async () => {
  await pg?.stop();
});

describe("with DATABASE_URL (PostgreSQL 15)", () => {
  it("uses that server, migrates it, serves, and never creates an embedded one", async () => {
    const dataDir = tempDataDir();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const proc = startCairn(["all"], { PORT: String(port), CAIRN_DATA_DIR: dataDir, DATABASE_URL: pg.url("cairn_ext"), CAIRN_SECRET: SECRET });
    try {
      await waitForReady(base, proc);
      const info = (await (await fetch(`${base}/v1/system/info`)).json()) as { database: { kind: string; server_version: string; migrations: { current: boolean } } };
      expect(info.database.kind).toBe("external");
      expect(info.database.server_version).toMatch(/^15\./);
      expect(info.database.migrations.current).toBe(true);
      expect(fs.existsSync(path.join(dataDir, "pg"))).toBe(false);
    } finally {
      const { code } = await proc.stop("SIGTERM");
      expect(code).toBe(0);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("makes time-ordered job ids without PostgreSQL 18's uuidv7()", async () => {
    // PostgreSQL 15 has no uuidv7(), so drizzle/0027 builds the same layout from gen_random_uuid() and the clock.
    // (Migrating again is a no-op after the first test; it keeps this test whole on its own.)
    expect((await runCairn(["migrate"], { DATABASE_URL: pg.url("cairn_ext"), CAIRN_SECRET: SECRET })).code).toBe(0);
    const owner = postgres(pg.url("cairn_ext"), { max: 1, onnotice: () => {} });
    try {
      const [fn] = await owner<{ src: string; def: string }[]>`
        select p.prosrc as src, c.column_default as def from pg_proc p, information_schema.columns c
        where p.proname = 'cairn_uuidv7' and c.table_name = 'jobs' and c.column_name = 'id'`;
      expect(fn!.src).toContain("gen_random_uuid()");
      expect(fn!.def).toBe("cairn_uuidv7()");
      const before = Date.now();
      const ids = (await owner<{ id: string }[]>`select cairn_uuidv7()::text as id from generate_series(1, 200)`).map((r) => r.id);
      await new Promise((r) => setTimeout(r, 5));
      const [{ id: later } = { id: "" }] = await owner<{ id: string }[]>`select cairn_uuidv7()::text as id`;
      const after = Date.now();
      expect(new Set(ids).size).toBe(200);
      for (const id of [...ids, later]) expectUuidV7(id, before, after);
      // Ordered by millisecond: an id made later sorts after every earlier one.
      expect(ids.every((id) => id < later)).toBe(true);
    } finally {
      await owner.end();
    }
  });

  it("runs the queue's statements without JIT compilation on a server built with JIT", async () => {
    // On PostgreSQL 17 and older a plan using a disabled path (the claim turns nested loops off) costs 10^10 more,
    // so a server with JIT compiled every claim's plan: about 0.8 s per claim (drizzle/0029). auto_explain reports
    // the plans of the statements inside the queue's functions as they ran, JIT included when it was used.
    expect((await runCairn(["migrate"], { DATABASE_URL: pg.url("cairn_ext"), CAIRN_SECRET: SECRET })).code).toBe(0);
    const plans: string[] = [];
    const owner = postgres(pg.url("cairn_ext"), { max: 1, onnotice: (n) => plans.push(String(n.message)) });
    try {
      const [{ jit } = { jit: false }] = await owner<{ jit: boolean }[]>`select pg_jit_available() as jit`;
      expect(jit).toBe(true);
      await owner.begin(async (tx) => {
        await tx.unsafe("load 'auto_explain'");
        await tx.unsafe("set local auto_explain.log_min_duration = 0");
        await tx.unsafe("set local auto_explain.log_analyze = on");
        await tx.unsafe("set local auto_explain.log_nested_statements = on");
        await tx.unsafe("set local auto_explain.log_level = notice");
        await tx`select * from cairn_queue_claim('jit-check', 100, 30)`;
        await tx`select cairn_queue_complete('jit-check', '{}', '{}', ${["00000000-0000-0000-0000-000000000000"]}::uuid[], '{0}')`;
        await tx`select * from cairn_queue_reap(100)`;
      });
      const claimPlans = plans.filter((p) => p.includes("job_queue"));
      expect(claimPlans.length).toBeGreaterThan(0);
      expect(plans.filter((p) => p.includes("JIT:"))).toEqual([]);
    } finally {
      await owner.end();
    }
  });

  it("reports 503 on /readyz until `cairn migrate` runs when migrating on start is off", async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const url = pg.url("cairn_ext_late");
    const proc = startCairn(["web"], { PORT: String(port), DATABASE_URL: url, CAIRN_MIGRATE_ON_START: "false", CAIRN_SECRET: SECRET });
    try {
      const deadline = Date.now() + 30_000;
      let res: Response | undefined;
      while (Date.now() < deadline) {
        try {
          res = await fetch(`${base}/readyz`);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(res?.status).toBe(503);
      expect(await res!.json()).toMatchObject({ status: "migrations_pending" });
      const migrated = await runCairn(["migrate"], { DATABASE_URL: url, CAIRN_SECRET: SECRET });
      expect(migrated.code).toBe(0);
      await waitForReady(base, proc, 10_000);
    } finally {
      expect((await proc.stop("SIGTERM")).code).toBe(0);
    }
  });

  it("refuses to start without CAIRN_SECRET, saying how to make one", async () => {
    const res = await runCairn(["migrate"], { DATABASE_URL: pg.url("cairn_ext") });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("CAIRN_SECRET is required");
  });

  it("an unreachable server is one line naming the (redacted) URL", async () => {
    const closedPort = await freePort();
    const res = await runCairn(["migrate"], { DATABASE_URL: `postgres://cairn:s3cret@127.0.0.1:${closedPort}/cairn`, CAIRN_SECRET: SECRET });
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
    expect(res.stderr).toContain(`127.0.0.1:${closedPort}`);
    expect(res.stderr).not.toContain("s3cret");
  });
});
