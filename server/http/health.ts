// Probes: /healthz says the process is up; /readyz says it can serve (DB reachable, migrations current, not draining).
import { Router } from "express";
import type { Runtime } from "../runtime.ts";
import { migrationStatus } from "../../db/migrate.ts";
import type { Metrics } from "./metrics.ts";

export function healthRoutes(rt: Runtime, metrics: Metrics): Router {
  const r = Router();
  r.get("/healthz", (_req, res) => {
    res.locals.routeLabel = "/healthz";
    res.json({ status: "ok", mode: rt.mode, uptime_seconds: Math.round(process.uptime()) });
  });
  r.get("/readyz", async (_req, res) => {
    res.locals.routeLabel = "/readyz";
    res.setHeader("Cache-Control", "no-store");
    if (rt.draining) {
      res.status(503).json({ status: "draining", checks: { draining: true } });
      return;
    }
    try {
      const status = await migrationStatus(rt.owner);
      if (!status.current) {
        res.status(503).json({ status: "migrations_pending", checks: { database: "ok", migrations: status } });
        return;
      }
      res.json({ status: "ready", checks: { database: "ok", migrations: status } });
    } catch (err) {
      res.status(503).json({ status: "database_unreachable", checks: { database: (err as Error).message } });
    }
  });
  r.get("/metrics", async (_req, res) => {
    res.locals.routeLabel = "/metrics";
    res.setHeader("Content-Type", metrics.registry.contentType);
    res.end(await metrics.registry.metrics());
  });
  return r;
}
