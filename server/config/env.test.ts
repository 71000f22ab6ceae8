import { describe, expect, it } from "vitest";
import path from "node:path";
import { parseEnv, InvalidEnvError } from "./env.ts";
import { runCairn } from "../../test/cairn-process.ts";

describe("environment", () => {
  it("applies documented defaults", () => {
    const env = parseEnv({});
    expect(env).toMatchObject({ PORT: 3000, HOST: "127.0.0.1", CAIRN_WORKER_PORT: 3001, LOG_LEVEL: "info", CAIRN_MIGRATE_ON_START: true, NODE_ENV: "development" });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.dataDir).toBe(path.resolve(".cairn"));
    expect(env.publicUrl).toBe("http://localhost:3000");
  });

  it("lists every invalid variable at once", () => {
    let error: InvalidEnvError | undefined;
    try {
      parseEnv({ PORT: "eighty", DATABASE_URL: "mysql://root@db/cairn", LOG_LEVEL: "loud", CAIRN_DB_POOL_MAX: "0", CAIRN_PUBLIC_URL: "not a url", CAIRN_MIGRATE_ON_START: "maybe" });
    } catch (err) {
      error = err as InvalidEnvError;
    }
    expect(error).toBeInstanceOf(InvalidEnvError);
    const keys = error!.problems.map((p) => p.split(":")[0]);
    expect(keys.sort()).toEqual(["CAIRN_DB_POOL_MAX", "CAIRN_MIGRATE_ON_START", "CAIRN_PUBLIC_URL", "DATABASE_URL", "LOG_LEVEL", "PORT"]);
    expect(error!.message).toMatch(/^Invalid environment variables:/);
  });

  it("never echoes a database password in its complaint", () => {
    expect(() => parseEnv({ DATABASE_URL: "mysql://admin:hunter2@db/cairn" })).toThrow(/admin:\*\*\*@/);
    expect(() => parseEnv({ DATABASE_URL: "mysql://admin:hunter2@db/cairn" })).not.toThrow(/hunter2/);
  });

  it("stops start-up with the list and exit code 2", async () => {
    const res = await runCairn(["web"], { PORT: "99999", LOG_LEVEL: "chatty", CAIRN_SHUTDOWN_TIMEOUT_MS: "-5" });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("Invalid environment variables");
    expect(res.stderr).toContain("PORT: must be between 0 and 65535");
    expect(res.stderr).toContain("LOG_LEVEL");
    expect(res.stderr).toContain("CAIRN_SHUTDOWN_TIMEOUT_MS: must be at least 1");
    expect(res.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });
});
