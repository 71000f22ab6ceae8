// Prometheus metrics: process defaults, HTTP request durations by route and status, and database pool gauges.
import client from "prom-client";
import type { RequestHandler } from "express";
import type { Runtime } from "../runtime.ts";

export interface Metrics {
  registry: client.Registry;
  httpMiddleware: RequestHandler;
}

export function createMetrics(rt: Runtime, applicationName: string): Metrics {
  const registry = new client.Registry();
  registry.setDefaultLabels({ mode: rt.mode });
  client.collectDefaultMetrics({ register: registry });

  const duration = new client.Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration in seconds, by method, route pattern and status code",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  new client.Gauge({
    name: "db_pool_max_connections",
    help: "Maximum size of this process's PostgreSQL connection pool",
    registers: [registry],
    collect() {
      this.set(rt.db.max);
    },
  });

  new client.Gauge({
    name: "db_pool_connections",
    help: "Open PostgreSQL connections of this process's pool, by server-side state (pg_stat_activity)",
    labelNames: ["state"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const rows = await rt.db.sql<{ state: string | null; n: number }[]>`
          select coalesce(state, 'unknown') as state, count(*)::int as n
          from pg_stat_activity where application_name = ${applicationName} group by 1`;
        for (const s of ["active", "idle", "idle in transaction"]) this.set({ state: s }, 0);
        for (const row of rows) this.set({ state: row.state ?? "unknown" }, row.n);
      } catch {
        /* db_up reports the outage */
      }
    },
  });

  new client.Gauge({
    name: "db_up",
    help: "1 when PostgreSQL answered a trivial query during this scrape",
    registers: [registry],
    async collect() {
      try {
        await rt.db.sql`select 1`;
        this.set(1);
      } catch {
        this.set(0);
      }
    },
  });

  new client.Gauge({
    name: "process_draining",
    help: "1 once shutdown has begun and the process no longer accepts new work",
    registers: [registry],
    collect() {
      this.set(rt.draining ? 1 : 0);
    },
  });

  const httpMiddleware: RequestHandler = (req, res, next) => {
    const end = duration.startTimer();
    res.on("finish", () => {
      const route = (res.locals.routeLabel as string | undefined) ?? (req.route?.path ? `${req.baseUrl}${req.route.path}` : "unmatched");
      end({ method: req.method, route, status_code: String(res.statusCode) });
    });
    next();
  };

  return { registry, httpMiddleware };
}
