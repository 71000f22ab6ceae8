// Connectors: the custom-connector allow-list (platform owners; list, create and delete are high-risk and audited)
// and, for tenants, which custom connectors a `custom` source may name.
import { z } from "zod";
import { platformProcedure, router, tenantProcedure } from "../init.ts";
import { actorOf } from "../../domain/auth/identity.ts";
import { createCustomConnector, deleteCustomConnector, listCustomConnectors } from "../../connectors/custom/allow-list.service.ts";
import { availableCustomConnectors } from "../../connectors/custom/allow-list.presenter.ts";

const customConnector = z.object({
  connector_id: z.string(),
  name: z.string(),
  display_name: z.string(),
  description: z.string(),
  executable_path: z.string(),
  sha256: z.string(),
  timeout_seconds: z.number().int(),
  max_output_bytes: z.number().int(),
  executable_status: z.enum(["ok", "modified", "missing", "not_executable"]).describe("The executable on this host now; anything but ok means runs are refused"),
  executable_detail: z.string().nullable(),
  created_by: z.string(),
  created_at: z.string(),
});

const name = z
  .string({ error: (issue) => (issue.input === undefined ? "required" : "must be a string") })
  .regex(/^[a-z0-9][a-z0-9_-]{1,62}$/, "lowercase letters, digits, - and _, 2–63 characters, starting with a letter or digit");

export const connectorsRouter = router({
  list: platformProcedure
    .meta({
      permission: "read:custom_connector",
      highRisk: true,
      openapi: { method: "GET", path: "/platform/connectors", tags: ["connectors"], summary: "The custom-connector allow-list, each executable re-checked on this host (platform owners, high-risk, audited)" },
    })
    .input(z.object({}).strict().optional())
    .output(z.object({ items: z.array(customConnector), next_cursor: z.string().nullable() }))
    .query(async ({ ctx }) => ({ items: await ctx.inPlatform((tx) => listCustomConnectors(tx, ctx.auditIn)), next_cursor: null })),

  create: platformProcedure
    .meta({
      permission: "create:custom_connector",
      highRisk: true,
      openapi: { method: "POST", path: "/platform/connectors", tags: ["connectors"], summary: "Allow-list an executable as a custom connector: its absolute path and SHA-256 are recorded (platform owners, high-risk)" },
      rest: { successStatus: 201 },
    })
    .input(
      z
        .object({
          name,
          display_name: z.string().trim().min(1, "required").max(200, "at most 200 characters"),
          description: z.string().trim().max(2000, "at most 2000 characters").optional(),
          executable_path: z.string().min(2).max(4096).startsWith("/", "must be an absolute path"),
          sha256: z
            .string()
            .regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex characters")
            .optional()
            .describe("The SHA-256 you reviewed: the file must still hash to it"),
          timeout_seconds: z.number().int().min(1, "at least 1").max(86_400, "at most 86400").optional(),
          max_output_bytes: z.number().int().min(1024, "at least 1024").max(1_073_741_824, "at most 1073741824").optional(),
        })
        .strict(),
    )
    .output(customConnector)
    .mutation(({ ctx, input }) => ctx.inPlatform((tx) => createCustomConnector(tx, input, actorOf(ctx.identity).actor, ctx.auditIn))),

  remove: platformProcedure
    .meta({
      permission: "delete:custom_connector",
      highRisk: true,
      openapi: { method: "DELETE", path: "/platform/connectors/{id}", tags: ["connectors"], summary: "Remove a custom connector from the allow-list: sources naming it stop running (platform owners, high-risk)" },
    })
    .input(z.object({ id: z.uuid("must be a custom connector id") }).strict())
    .output(z.object({ ok: z.literal(true), connector_id: z.string(), name: z.string() }))
    .mutation(async ({ ctx, input }) => ({ ok: true as const, ...(await ctx.inPlatform((tx) => deleteCustomConnector(tx, input.id, ctx.auditIn))) })),

  available: tenantProcedure
    .meta({ permission: "read:source", openapi: { method: "GET", path: "/connectors/custom", tags: ["connectors"], summary: "Custom connectors a `custom` source may name (names and descriptions only)" } })
    .input(z.object({}).strict().optional())
    .output(z.object({ items: z.array(z.object({ name: z.string(), display_name: z.string(), description: z.string() })), next_cursor: z.string().nullable() }))
    .query(async ({ ctx }) => ({ items: await ctx.inTenant((tx) => availableCustomConnectors(tx)), next_cursor: null })),
});
