import { z } from "zod";
import { publicProcedure, router } from "../init.ts";
import { presentSystemInfo } from "../../domain/system/system-info.presenter.ts";

const migrations = z.object({ applied: z.number(), expected: z.number(), current: z.boolean(), latest: z.string().nullable() });

export const systemInfoOutput = z.object({
  version: z.string(),
  mode: z.enum(["web", "worker", "all", "migrate", "admin"]),
  node_version: z.string(),
  started_at: z.string(),
  uptime_seconds: z.number(),
  draining: z.boolean(),
  database: z.object({
    kind: z.enum(["embedded", "external"]),
    reachable: z.boolean(),
    server_version: z.string().nullable(),
    latency_ms: z.number().nullable(),
    migrations: migrations.nullable(),
    error: z.string().nullable(),
  }),
  installation_id: z.string().nullable(),
});

export const systemRouter = router({
  info: publicProcedure
    .meta({ permission: "public", openapi: { method: "GET", path: "/system/info", tags: ["system"], summary: "Version, process mode and database reachability" } })
    .input(z.object({}).strict().optional())
    .output(systemInfoOutput)
    .query(({ ctx }) => presentSystemInfo(ctx.rt)),
});
