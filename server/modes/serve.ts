// Long-running modes (web, worker, all): open the database, migrate, listen, and shut down in order on SIGTERM/SIGINT.
import http from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import type { Env } from "../config/env.ts";
import type { Logger } from "../logger.ts";
import type { Mode, Runtime } from "../runtime.ts";
import { openDatabase } from "../database.ts";
import { runMigrations, migrationStatus } from "../../db/migrate.ts";
import { StartupError } from "../../db/embedded-postgres.ts";
import { createWebApp } from "../http/app.ts";
import { createMetrics } from "../http/metrics.ts";
import { healthRoutes } from "../http/health.ts";
import { requestId } from "../http/request-id.ts";
import { ensureInstallation } from "../domain/system/ensure-installation.service.ts";
import { ensureFirstOwner } from "../domain/tenants/bootstrap.service.ts";
import { startWorker, type Worker } from "../worker/worker.ts";
import { builtInHandlers } from "../worker/handlers.ts";
import { startScheduler } from "../scheduler/scheduler.ts";
import { installDriverGuard } from "../driver-guard.ts";
import "../connectors/index.ts";
import { useCustomConnectorCatalog } from "../connectors/custom/catalog.ts";

function listen(server: http.Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      if (err.code === "EADDRINUSE") reject(new StartupError(`Port ${port} on ${host} is already in use: stop the other process or choose another port (PORT / CAIRN_WORKER_PORT).`));
      else if (err.code === "EACCES") reject(new StartupError(`Not allowed to listen on ${host}:${port}: choose a port above 1024.`));
      else if (err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND") reject(new StartupError(`HOST ${host} is not an address of this machine: use 127.0.0.1, 0.0.0.0 or a local interface address.`));
      else reject(err);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve(server.address() as AddressInfo);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

/**
 * Stops accepting, lets in-flight requests finish, and cuts idle keep-alive sockets. Connections still busy at the
 * deadline are cut (an unclean stop); closing idle ones always gets a second, even when earlier shutdown steps used
 * up the deadline on a busy machine.
 */
function closeServer(server: http.Server, shutdownDeadline: number): Promise<boolean> {
  const deadline = Math.max(shutdownDeadline, Date.now() + 1_000);
  return new Promise((resolve) => {
    let done = false;
    server.close(() => {
      done = true;
      resolve(true);
    });
    server.closeIdleConnections();
    const timer = setInterval(() => {
      if (done) return clearInterval(timer);
      server.closeIdleConnections();
      if (Date.now() > deadline) {
        clearInterval(timer);
        server.closeAllConnections();
        resolve(false);
      }
    }, 50);
  });
}

export async function serve(mode: Extract<Mode, "web" | "worker" | "all">, env: Env, log: Logger): Promise<void> {
  installDriverGuard(log);
  const applicationName = `cairn-${mode}-${process.pid}`;
  const opened = await openDatabase(env, log, applicationName);
  const rt: Runtime = { mode, env, log, db: undefined as unknown as Runtime["db"], owner: opened.owner, secret: opened.secret, databaseKind: opened.kind, startedAt: new Date(), draining: false };

  let server: http.Server | undefined;
  let worker: Worker | undefined;
  /** A worker start in progress: shutdown waits for it, so the worker it makes is stopped before the pool closes. */
  let workerStarting: Promise<unknown> | undefined;
  let workerStarter: NodeJS.Timeout | undefined;
  const stoppables: { name: string; stop(): Promise<void> }[] = [];
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) {
      log.warn({ signal }, "second signal during shutdown: stopping now");
      await opened.embedded?.stop();
      process.exit(1);
    }
    shuttingDown = true;
    rt.draining = true;
    const t0 = Date.now();
    const deadline = t0 + env.CAIRN_SHUTDOWN_TIMEOUT_MS;
    log.info({ signal }, "shutting down: draining");
    let clean = true;
    clearInterval(workerStarter);
    // Order: stop ticking (scheduler) → stop accepting and claiming → let in-flight requests and jobs finish (jobs
    // still running at the deadline are released back to the queue) → close the pool → stop PostgreSQL.
    for (const s of stoppables) await s.stop().catch((err) => log.error({ err, component: s.name }, "stop failed"));
    await workerStarting?.catch(() => {});
    const [serverClean] = await Promise.all([
      server ? closeServer(server, deadline) : Promise.resolve(true),
      worker ? worker.stop(Math.max(0, deadline - Date.now() - 500)).catch((err) => log.error({ err }, "worker stop failed")) : Promise.resolve(),
    ]);
    clean = serverClean;
    await opened.close();
    log.info({ ms: Date.now() - t0, clean }, "shutdown complete");
    process.exit(clean ? 0 : 1);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  try {
    if (env.CAIRN_MIGRATE_ON_START) {
      const { applied } = await runMigrations(opened.owner);
      if (applied > 0) log.info({ applied }, "migrations applied");
    } else {
      const status = await migrationStatus(opened.owner);
      if (!status.current) log.warn({ status }, "migrations are not current: run `cairn migrate`; /readyz reports 503 until then");
    }
    if ((await migrationStatus(opened.owner)).current) await ensureInstallation(opened.owner);
    rt.db = await opened.openApp();
    useCustomConnectorCatalog(rt.db);
    const firstLogin = mode !== "worker" && (await migrationStatus(opened.owner)).current ? await ensureFirstOwner(rt.db) : null;

    if (mode === "worker") {
      const app = express();
      app.disable("x-powered-by");
      const metrics = createMetrics(rt, applicationName);
      app.use(requestId, metrics.httpMiddleware, healthRoutes(rt, metrics));
      app.use((_req, res) => res.status(404).json({ error: { code: "NOT_FOUND", message: "A worker serves only /healthz, /readyz and /metrics" } }));
      server = http.createServer(app);
      const addr = await listen(server, env.CAIRN_WORKER_PORT, env.HOST);
      log.info({ port: addr.port, host: addr.address }, "worker probes listening");
    } else {
      const { app } = await createWebApp(rt, { applicationName, withUi: true });
      server = http.createServer(app);
      server.keepAliveTimeout = 5_000;
      const addr = await listen(server, env.PORT, env.HOST);
      log.info({ port: addr.port, host: addr.address, url: env.publicUrl, database: opened.kind }, "listening");
      const scheduler = startScheduler(rt);
      stoppables.push({ name: "scheduler", stop: () => scheduler.stop() });
      if (env.NODE_ENV !== "production") {
        process.stdout.write(`\n  Cairn ${mode} is up: ${env.publicUrl}\n  Database: ${opened.kind === "embedded" ? `embedded PostgreSQL in ${opened.embedded?.pgDir}` : opened.displayUrl}\n\n`);
      }
      if (firstLogin) {
        // Printed once, never logged: the only way into a new installation. It must be changed at first sign-in.
        process.stdout.write(`  First start: sign in at ${env.publicUrl}/login\n    email:    ${firstLogin.email}\n    password: ${firstLogin.password}   (one-time; you will choose a new one)\n\n`);
      }
    }
    if (mode !== "web") {
      const begin = async () => {
        if (shuttingDown || worker || workerStarting) return;
        if (!(await migrationStatus(opened.owner).catch(() => null))?.current) return; // waits for `cairn migrate`
        if (shuttingDown || worker || workerStarting) return;
        clearInterval(workerStarter);
        const starting = startWorker(rt, { concurrency: env.CAIRN_WORKER_CONCURRENCY, handlers: builtInHandlers() });
        workerStarting = starting;
        try {
          worker = await starting;
        } finally {
          workerStarting = undefined;
        }
      };
      await begin();
      if (!worker) {
        log.warn("worker waits for migrations to be current before claiming jobs");
        workerStarter = setInterval(() => void begin().catch((err) => log.error({ err }, "worker start failed")), 5_000);
      }
    }
  } catch (err) {
    rt.draining = true;
    for (const s of stoppables) await s.stop().catch(() => {});
    server?.close();
    await opened.close();
    throw err;
  }
}
