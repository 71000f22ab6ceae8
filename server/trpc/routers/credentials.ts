// Credential refs of the current tenant: create and delete (high-risk), list, get, test. Values never pass through.
import { z } from "zod";
import { router, tenantProcedure } from "../init.ts";
import { credentialProviders } from "../../../db/schema/control.ts";
import { actorOf } from "../../domain/auth/identity.ts";
import { createCredentialRef, deleteCredentialRef, getCredentialRef, listCredentialRefs, testCredentialRef } from "../../domain/credentials/credential-refs.service.ts";
import { reservedProviderError } from "../../domain/credentials/credential-broker.ts";
import { PAGE_MAX_LIMIT } from "../../domain/keyset.ts";

const health = z.enum(["unknown", "healthy", "missing", "invalid", "unsupported"]);

const credentialRef = z.object({
  credential_ref_id: z.string(),
  name: z.string(),
  provider: z.enum(credentialProviders),
  external_ref: z.string(),
  description: z.string(),
  location: z.string().describe("Where an operator puts the values: the variable names (env) or the file path (file)"),
  health: z.string(),
  health_detail: z.string().nullable(),
  last_validated_at: z.string().nullable(),
  used_by_sources: z.number().int(),
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});
const refId = z.uuid("must be a credential ref id");

export const credentialsRouter = router({
  list: tenantProcedure
    .meta({ permission: "read:credential", openapi: { method: "GET", path: "/credentials", tags: ["credentials"], summary: "Credential refs of the current tenant (references, never values)" } })
    .input(
      z
        .object({
          provider: z.enum(credentialProviders).optional(),
          health: health.optional(),
          cursor: z.string().min(1).max(200).optional().describe("next_cursor from the previous page"),
          limit: z.coerce.number().int().min(1).max(PAGE_MAX_LIMIT).optional().describe(`Page size, 1–${PAGE_MAX_LIMIT} (default 50)`),
        })
        .strict()
        .optional(),
    )
    .output(z.object({ items: z.array(credentialRef), next_cursor: z.string().nullable() }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => listCredentialRefs(tx, ctx.tenant, input ?? {}))),

  get: tenantProcedure
    .meta({ permission: "read:credential", openapi: { method: "GET", path: "/credentials/{id}", tags: ["credentials"], summary: "One credential ref" } })
    .input(z.object({ id: refId }).strict())
    .output(credentialRef)
    .query(({ ctx, input }) => ctx.inTenant((tx) => getCredentialRef(tx, ctx.tenant, input.id))),

  create: tenantProcedure
    .meta({
      permission: "create:credential",
      highRisk: true,
      openapi: { method: "POST", path: "/credentials", tags: ["credentials"], summary: "Create a credential ref (high-risk). Providers env and file; aws_secrets_manager and vault are reserved" },
      rest: { successStatus: 201 },
    })
    .input(
      z
        .object({
          name: z.string({ error: (issue) => (issue.input === undefined ? "required" : "must be a string") }).trim().min(1, "required").max(100, "at most 100 characters"),
          provider: z.enum(credentialProviders),
          external_ref: z.string({ error: (issue) => (issue.input === undefined ? "required" : "must be a string") }).trim().min(1, "required").max(128, "at most 128 characters").describe("The name inside the provider: env → CAIRN_TENANT_<SLUG>_<REF>_<KEY> variables; file → a directory <tenant id>/<ref>/ with one file per key"),
          description: z.string().max(1000, "at most 1000 characters").optional(),
        })
        .strict(),
    )
    .output(credentialRef)
    .mutation(({ ctx, input }) => ctx.inTenant((tx) => createCredentialRef(tx, ctx.tenant, input, actorOf(ctx.identity).actor, ctx.auditIn))),

  remove: tenantProcedure
    .meta({ permission: "delete:credential", highRisk: true, openapi: { method: "DELETE", path: "/credentials/{id}", tags: ["credentials"], summary: "Delete a credential ref (high-risk; refused while a source uses it)" } })
    .input(z.object({ id: refId }).strict())
    .output(z.object({ ok: z.literal(true), credential_ref_id: z.string() }))
    .mutation(async ({ ctx, input }) => {
      await ctx.inTenant((tx) => deleteCredentialRef(tx, input.id, ctx.auditIn));
      return { ok: true as const, credential_ref_id: input.id };
    }),

  test: tenantProcedure
    .meta({ permission: "test:credential", openapi: { method: "POST", path: "/credentials/{id}/test", tags: ["credentials"], summary: "Check that the values are present and well-formed (key names only, never values); records health" } })
    .input(z.object({ id: refId }).strict())
    .output(z.object({ ok: z.boolean(), keys: z.array(z.string()).describe("Key names found (never values)"), credential_ref: credentialRef }))
    .mutation(async ({ ctx, input }) => {
      const result = await ctx.inTenant((tx) => testCredentialRef(tx, ctx.tenant, input.id, { credentialsDir: ctx.rt.env.credentialsDir }, ctx.auditIn));
      // The health is recorded either way; a reserved provider still answers with a clear error.
      if (result.ref.health === "unsupported") throw reservedProviderError(result.ref.provider);
      return { ok: result.ok, keys: result.keys, credential_ref: result.ref };
    }),
});
