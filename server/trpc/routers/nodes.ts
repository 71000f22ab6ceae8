// Nodes: the processes that execute work (workers now; enrolled agents with the fabric). Platform owners only:
// tenants never see topology.
import { z } from "zod";
import { queryBoolean } from "../query-boolean.ts";
import { platformProcedure, router } from "../init.ts";
import { listNodes } from "../../domain/fabric/nodes.presenter.ts";

const node = z.object({
  node_id: z.string(),
  kind: z.string(),
  name: z.string(),
  hostname: z.string(),
  pid: z.number().nullable(),
  version: z.string(),
  health: z.enum(["healthy", "stale", "lost", "stopped"]),
  started_at: z.string(),
  last_heartbeat_at: z.string(),
  heartbeat_age_seconds: z.number(),
  stopped_at: z.string().nullable(),
  running_jobs: z.array(z.object({ job_id: z.string(), job_type: z.string(), started_at: z.string() })),
  capabilities: z.record(z.string(), z.unknown()),
});

export const nodesRouter = router({
  list: platformProcedure
    .meta({ permission: "read:platform", openapi: { method: "GET", path: "/nodes", tags: ["fabric"], summary: "Processes that execute work, with heartbeat, version and running jobs (platform owners)" } })
    .input(z.object({ include_stopped: queryBoolean().default(false) }).strict().optional())
    .output(z.object({ items: z.array(node), next_cursor: z.string().nullable() }))
    .query(async ({ ctx, input }) => ({ items: await listNodes(ctx.rt.db, { includeStopped: input?.include_stopped ?? false }), next_cursor: null })),
});
