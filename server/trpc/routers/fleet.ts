// The fleet: endpoints that push inventory syncs (host, OS, agent version, MCP configs found), with last seen. The
// sync itself (POST /v1/fleet/sync) is a plain route in server/http/ingest-routes.ts; its authorization is here.
import { z } from "zod";
import { router, tenantProcedure } from "../init.ts";
import { PAGE_MAX_LIMIT } from "../../domain/keyset.ts";
import { getEndpoint, listEndpoints } from "../../ingest/fleet/fleet.presenter.ts";
import { pushTarget } from "../../ingest/receipt.service.ts";
import { receiptView } from "./receipts.ts";

const uuid = (what: string) => z.uuid(`must be a ${what} id`);

const endpointView = z.object({
  endpoint_id: z.string(),
  source_id: z.string(),
  source_name: z.string().nullable(),
  endpoint_key: z.string(),
  hostname: z.string(),
  os: z.object({ name: z.string(), version: z.string().nullable(), arch: z.string().nullable() }),
  agent_version: z.string(),
  last_seen_at: z.string(),
  last_seen_ip: z.string().nullable().describe("Address the last sync came from, as Cairn saw it"),
  first_seen_at: z.string(),
  collected_at: z.string().nullable().describe("When the endpoint says it collected the inventory"),
  stale: z.boolean().describe("Not heard from in 24 hours"),
  last_receipt_id: z.string().nullable(),
  configs: z.number(),
  servers: z.number(),
  findings: z.number(),
});

export const fleetRouter = router({
  endpoints: tenantProcedure
    .meta({ permission: "read:fleet", openapi: { method: "GET", path: "/fleet/endpoints", tags: ["fleet"], summary: "Endpoints that sync their inventory, most recently seen first" } })
    .input(
      z
        .object({
          source_id: uuid("source").optional(),
          q: z.string().trim().min(1).max(200).optional().describe("Part of the hostname or endpoint id"),
          cursor: z.string().min(1).max(200).optional(),
          limit: z.coerce.number().int().min(1).max(PAGE_MAX_LIMIT).optional(),
        })
        .strict()
        .optional(),
    )
    .output(z.object({ items: z.array(endpointView), next_cursor: z.string().nullable() }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => listEndpoints(tx, ctx.tenant.id, input ?? {}))),

  endpoint: tenantProcedure
    .meta({ permission: "read:fleet", openapi: { method: "GET", path: "/fleet/endpoints/{id}", tags: ["fleet"], summary: "One endpoint: its MCP servers and findings from the latest sync, and its recent syncs" } })
    .input(z.object({ id: uuid("endpoint") }).strict())
    .output(
      endpointView.extend({
        summary: z.record(z.string(), z.unknown()),
        mcp_servers: z.array(z.object({ name: z.string(), client: z.unknown(), file: z.unknown(), transport: z.unknown(), command: z.unknown(), url: z.unknown(), package: z.unknown() })),
        detected: z.array(z.object({ rule: z.string(), severity: z.string(), title: z.string(), where: z.string().nullable() })),
        recent_receipts: z.array(receiptView),
      }),
    )
    .query(({ ctx, input }) => ctx.inTenant((tx) => getEndpoint(tx, input.id))),

  /** Step one of POST /v1/fleet/sync: may this caller sync to this source? */
  authorizeSync: tenantProcedure
    .meta({ permission: "sync:fleet" })
    .input(z.object({ source_id: uuid("source") }).strict())
    .output(z.object({ tenant_id: z.string(), source_id: z.string() }))
    .query(async ({ ctx, input }) => {
      const source = await ctx.inTenant((tx) => pushTarget(tx, input.source_id, "fleet_sync"));
      return { tenant_id: ctx.tenant.id, source_id: source.id };
    }),
});
