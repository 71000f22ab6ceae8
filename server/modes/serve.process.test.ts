// The whole product as a process: start `cairn all` on a throwaway data dir, exercise every surface, stop it cleanly.
import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { freePort, postgresProcessesFor, runCairn, startCairn, tempDataDir, waitForReady, type CairnProcess } from "../../test/cairn-process.ts";

const cleanup: (() => Promise<void> | void)[] = [];
const running: CairnProcess[] = [];
afterEach(async () => {
  // A failed test must not leave its server (and PostgreSQL) running into the next one.
  for (const proc of running.splice(0)) {
    if (proc.child.exitCode === null && proc.child.signalCode === null) await proc.stop("SIGTERM");
  }
});
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

function track(proc: CairnProcess) {
  running.push(proc);
  return proc;
}

describe("cairn all", () => {
  const dataDir = tempDataDir();
  cleanup.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  let installationId: string;

  it("starts on a fresh data dir, serves every surface, and stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const proc = track(startCairn(["all"], { PORT: String(port), CAIRN_DATA_DIR: dataDir, CAIRN_BODY_LIMIT_BYTES: "65536" }));
    await waitForReady(base, proc);
    expect(fs.existsSync(path.join(dataDir, "pg", "PG_VERSION"))).toBe(true);

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", mode: "all" });

    const ready = await fetch(`${base}/readyz`);
    expect(await ready.json()).toMatchObject({ status: "ready", checks: { database: "ok", migrations: { current: true } } });

    // Request ids: a well-formed incoming id is echoed; a malformed one is replaced.
    const withId = await fetch(`${base}/healthz`, { headers: { "X-Request-Id": "trace-abc.123" } });
    expect(withId.headers.get("x-request-id")).toBe("trace-abc.123");
    const badId = await fetch(`${base}/healthz`, { headers: { "X-Request-Id": "has spaces and <html>" } });
    expect(badId.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);

    // Security headers on every response.
    expect(health.headers.get("x-content-type-options")).toBe("nosniff");
    expect(health.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(health.headers.get("x-powered-by")).toBeNull();

    // REST generated from the tRPC procedure.
    const info = await fetch(`${base}/v1/system/info`);
    expect(info.status).toBe(200);
    const infoBody = (await info.json()) as { mode: string; database: { kind: string; reachable: boolean; migrations: { current: boolean } }; installation_id: string };
    expect(infoBody).toMatchObject({ mode: "all", database: { kind: "embedded", reachable: true, migrations: { current: true } } });
    expect(infoBody.installation_id).toMatch(/^[0-9a-f-]{36}$/);
    installationId = infoBody.installation_id;

    // The same procedure over tRPC (superjson envelope).
    const trpc = await fetch(`${base}/api/trpc/system.info`);
    expect(trpc.status).toBe(200);
    const trpcBody = (await trpc.json()) as { result: { data: { json: { installation_id: string } } } };
    expect(trpcBody.result.data.json.installation_id).toBe(installationId);

    // OpenAPI document.
    const doc = (await (await fetch(`${base}/v1/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.paths["/system/info"]).toBeDefined();
    expect(doc.components.schemas.Error).toBeDefined();

    // Bad input: 400 with the contract's error shape naming the field.
    const bad = await fetch(`${base}/v1/system/info?verbose=yes`);
    expect(bad.status).toBe(400);
    const badBody = (await bad.json()) as { error: { code: string; message: string; request_id: string } };
    expect(badBody.error.code).toBe("INVALID_INPUT");
    expect(badBody.error.message).toContain("verbose");
    expect(badBody.error.request_id).toBe(bad.headers.get("x-request-id"));

    // Unknown REST route: 404 in the same shape.
    const missing = await fetch(`${base}/v1/nothing-here`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");

    // Malformed JSON body: 400, not 500.
    const malformed = await fetch(`${base}/v1/system/info`, { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe("INVALID_INPUT");

    // Oversized body: 413 with the JSON error shape, before anything parses it.
    const big = await fetch(`${base}/v1/system/info`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ blob: "x".repeat(100_000) }) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");

    // The UI renders server-side.
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");

    // Metrics: process metrics, the request histogram by route and status, pool gauges.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain("process_cpu_user_seconds_total");
    expect(metrics).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/v1\/system\/info"[^}]*status_code="200"/);
    expect(metrics).toMatch(/http_request_duration_seconds_count\{[^}]*status_code="413"/);
    expect(metrics).toMatch(/db_pool_max_connections\{[^}]*\} 10/);
    expect(metrics).toMatch(/db_pool_connections\{[^}]*state="idle"/);
    expect(metrics).toMatch(/db_up\{[^}]*\} 1/);

    // While it runs, `cairn admin status` attaches to the same embedded server instead of starting another.
    const status = await runCairn(["admin", "status", "--json"], { CAIRN_DATA_DIR: dataDir });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ database: { kind: "embedded", attached_to_running_server: true }, migrations: { current: true } });
    expect(postgresProcessesFor(dataDir).length).toBeGreaterThan(0);

    const { code, ms } = await proc.stop("SIGTERM");
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
    expect(postgresProcessesFor(dataDir)).toEqual([]);
    expect(proc.output()).not.toMatch(/Error:|stack/i);
    // The embedded database password never reaches the logs.
    const creds = JSON.parse(fs.readFileSync(path.join(dataDir, "pg-credentials.json"), "utf8")) as { password: string };
    expect(creds.password.length).toBeGreaterThan(16);
    expect(proc.output()).not.toContain(creds.password);
    expect(fs.statSync(path.join(dataDir, "pg-credentials.json")).mode & 0o077).toBe(0);
  });

  it("reuses the data dir on a second start and keeps its data", async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const proc = track(startCairn(["all"], { PORT: String(port), CAIRN_DATA_DIR: dataDir }));
    await waitForReady(base, proc);
    expect(proc.output()).not.toContain("initialising embedded PostgreSQL");
    expect(proc.output()).not.toContain("migrations applied");
    const info = (await (await fetch(`${base}/v1/system/info`)).json()) as { installation_id: string };
    expect(info.installation_id).toBe(installationId);
    const { code } = await proc.stop("SIGINT");
    expect(code, proc.output()).toBe(0);
    expect(postgresProcessesFor(dataDir)).toEqual([]);
  });

  it("a signal that arrives while the worker is still starting stops it cleanly", async () => {
    const port = await freePort();
    const proc = track(startCairn(["all"], { PORT: String(port), CAIRN_DATA_DIR: dataDir }));
    // "listening" is logged just before the worker starts: signal at once, while it registers and subscribes.
    const deadline = Date.now() + 60_000;
    while (!proc.output().includes('"msg":"listening"')) {
      if (Date.now() > deadline) throw new Error(`never listened:\n${proc.output()}`);
      await new Promise((r) => setTimeout(r, 2));
    }
    const { code } = await proc.stop("SIGTERM");
    expect(code, proc.output()).toBe(0);
    expect(proc.output()).not.toContain("unexpected failure");
    expect(postgresProcessesFor(dataDir)).toEqual([]);
  });

  it("finishes an in-flight request during shutdown", async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const proc = track(startCairn(["all"], { PORT: String(port), CAIRN_DATA_DIR: dataDir }));
    await waitForReady(base, proc);
    // A slow client: the body arrives in two parts, with SIGTERM in between.
    const net = await import("node:net");
    const socket = net.connect(port, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    let response = "";
    socket.on("data", (d) => (response += d.toString()));
    const closed = new Promise((r) => socket.once("close", r));
    const body = JSON.stringify({});
    socket.write(`POST /v1/system/info HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 200));
    const stopping = proc.stop("SIGTERM");
    await new Promise((r) => setTimeout(r, 200));
    socket.write(body);
    const { code } = await stopping;
    await closed;
    // POST to a GET route gives 404 in the JSON shape, but it was answered rather than cut off.
    expect(response).toMatch(/^HTTP\/1\.1 404/);
    expect(response).toContain('"code":"NOT_FOUND"');
    expect(code).toBe(0);
    expect(postgresProcessesFor(dataDir)).toEqual([]);
  });
});

describe("cairn worker and migrate", () => {
  it("migrate applies and exits 0; worker serves only its probes and exits 0 on SIGTERM", async () => {
    const dataDir = tempDataDir();
    cleanup.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const migrated = await runCairn(["migrate"], { CAIRN_DATA_DIR: dataDir });
    expect(migrated.code).toBe(0);
    expect(postgresProcessesFor(dataDir)).toEqual([]);

    const port = await freePort();
    const proc = track(startCairn(["worker"], { CAIRN_WORKER_PORT: String(port), CAIRN_DATA_DIR: dataDir }));
    await waitForReady(`http://127.0.0.1:${port}`, proc);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain('mode="worker"');
    expect((await fetch(`http://127.0.0.1:${port}/v1/system/info`)).status).toBe(404);
    const { code } = await proc.stop("SIGTERM");
    expect(code).toBe(0);
    expect(postgresProcessesFor(dataDir)).toEqual([]);
  });
});

describe("start-up failures are one clear line", () => {
  it("a busy port says which port and what to do", async () => {
    const net = await import("node:net");
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, "127.0.0.1", () => r()));
    const dataDir = tempDataDir();
    try {
      const res = await runCairn(["web"], { PORT: String(port), CAIRN_DATA_DIR: dataDir });
      expect(res.code).toBe(1);
      expect(res.stderr.trim().split("\n")).toHaveLength(1);
      expect(res.stderr).toContain(`Port ${port}`);
      expect(res.stderr).toContain("already in use");
      expect(postgresProcessesFor(dataDir)).toEqual([]);
    } finally {
      blocker.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("an unusable data dir says which directory and what to do", async () => {
    const parent = tempDataDir();
    const file = path.join(parent, "not-a-dir");
    fs.writeFileSync(file, "x");
    try {
      const res = await runCairn(["all"], { PORT: String(await freePort()), CAIRN_DATA_DIR: file });
      expect(res.code).toBe(1);
      expect(res.stderr.trim().split("\n")).toHaveLength(1);
      expect(res.stderr).toContain(file);
      expect(res.stderr).toContain("CAIRN_DATA_DIR");
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });

  it("an unknown mode or flag prints usage and exits 2", async () => {
    const unknown = await runCairn(["serve"], {});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown command: serve");
    expect(unknown.stderr).toContain("Usage: cairn");
    const flag = await runCairn(["web", "--turbo"], {});
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("--turbo");
    const none = await runCairn([], {});
    expect(none.code).toBe(2);
    expect(none.stdout).toContain("Usage: cairn");
  });
});
