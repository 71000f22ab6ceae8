// The tenant's audit log: list with filters, verify the hash chain, the signing key to pin, and export.
import { z } from "zod";
import { router, tenantProcedure } from "../init.ts";
import { AUDIT_LIST_MAX_LIMIT, listAuditEvents } from "../../domain/audit/audit-list.presenter.ts";
import { verifyChain } from "../../domain/audit/audit-verify.presenter.ts";
import { auditExportLines, beginAuditExport, exportFilename } from "../../domain/audit/audit-export.service.ts";
import { tenantChain } from "../../domain/audit/chain-reader.ts";
import { signingKey } from "../../domain/audit/signing-key.service.ts";

/** The tRPC download builds the whole file in memory; anything larger streams from GET /v1/audit/export. */
export const TRPC_EXPORT_MAX_EVENTS = 100_000;

const prefixable = (what: string) => z.string().min(1).max(500).optional().describe(`Exact ${what}, or a prefix when it ends in * (e.g. ${what === "actor" ? "user:*" : "api_key.*"})`);

export const auditListInput = z
  .object({
    actor: prefixable("actor"),
    action: prefixable("action"),
    target_type: z.string().min(1).max(200).optional(),
    target_id: z.string().min(1).max(500).optional(),
    outcome: z.enum(["success", "denied", "failure"]).optional(),
    from: z.iso.datetime({ offset: true }).optional().describe("Events at or after this time (ISO 8601)"),
    to: z.iso.datetime({ offset: true }).optional().describe("Events before this time (ISO 8601)"),
    cursor: z.string().min(1).max(64).optional().describe("next_cursor from the previous page"),
    limit: z.coerce.number().int().min(1).max(AUDIT_LIST_MAX_LIMIT).optional().describe(`Page size, 1–${AUDIT_LIST_MAX_LIMIT} (default 50)`),
  })
  .strict()
  .optional();

export const auditEventOutput = z.object({
  event_id: z.string(),
  seq: z.number().int(),
  actor: z.string(),
  actor_type: z.string(),
  target_type: z.string(),
  target_id: z.string().nullable(),
  action: z.string(),
  outcome: z.string(),
  request_id: z.string().nullable(),
  trace_id: z.string().nullable(),
  ip: z.string().nullable(),
  timestamp: z.string(),
  details: z.record(z.string(), z.unknown()),
  hash: z.string(),
  prev_hash: z.string(),
});

export const auditVerifyOutput = z.object({
  ok: z.boolean(),
  checked: z.number().int(),
  head_seq: z.number().int(),
  head_hash: z.string(),
  first_broken: z
    .object({
      seq: z.number().int(),
      event_id: z.string().nullable(),
      reason: z.enum(["hash_mismatch", "prev_hash_mismatch", "missing_seq", "head_mismatch"]),
      expected: z.string(),
      found: z.string(),
    })
    .nullable(),
});

const noInput = z.object({}).strict().optional();

export const auditRouter = router({
  list: tenantProcedure
    .meta({ permission: "read:audit", openapi: { method: "GET", path: "/audit", tags: ["audit"], summary: "Audit events, newest first (filters, cursor paging)" } })
    .input(auditListInput)
    .output(z.object({ items: z.array(auditEventOutput), next_cursor: z.string().nullable() }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => listAuditEvents(tx, ctx.tenant.id, input ?? {}))),

  verify: tenantProcedure
    .meta({ permission: "read:audit", openapi: { method: "GET", path: "/audit/verify", tags: ["audit"], summary: "Recompute the tenant's hash chain and report the first broken link" } })
    .input(noInput)
    .output(auditVerifyOutput)
    .query(({ ctx }) => verifyChain(tenantChain(ctx.rt.db, ctx.tenant.id))),

  publicKey: tenantProcedure
    .meta({ permission: "read:audit", openapi: { method: "GET", path: "/audit/public-key", tags: ["audit"], summary: "The Ed25519 key that signs audit exports, to pin in `cairn audit verify --public-key`" } })
    .input(noInput)
    .output(z.object({ key_id: z.string(), algorithm: z.literal("Ed25519"), public_key: z.string(), public_key_raw: z.string(), fingerprint: z.string(), created_at: z.string() }))
    .query(async ({ ctx }) => {
      const key = await signingKey(ctx.rt.db, ctx.rt.secret, "audit");
      return { key_id: key.id, algorithm: "Ed25519" as const, public_key: key.publicKeyPem, public_key_raw: key.publicKeyRaw, fingerprint: key.fingerprint, created_at: key.createdAt };
    }),

  /** The whole export as one string, for the UI's download button (GET /v1/audit/export streams instead). */
  export: tenantProcedure
    .meta({ permission: "export:audit", highRisk: true })
    .input(z.void())
    .output(z.object({ filename: z.string(), content_type: z.literal("application/x-ndjson"), count: z.number().int(), head_seq: z.number().int(), jsonl: z.string() }))
    .mutation(async ({ ctx }) => {
      const key = await signingKey(ctx.rt.db, ctx.rt.secret, "audit");
      const plan = await ctx.inTenant((tx) => beginAuditExport(tx, ctx.tenant.id, ctx.auditIn, { via: ctx.via, maxEvents: TRPC_EXPORT_MAX_EVENTS }));
      const chunks: string[] = [];
      for await (const chunk of auditExportLines(tenantChain(ctx.rt.db, ctx.tenant.id), plan, key)) chunks.push(chunk);
      const jsonl = chunks.join("");
      return { filename: exportFilename(ctx.tenant.slug), content_type: "application/x-ndjson" as const, count: countLines(jsonl) - 1, head_seq: plan.seq, jsonl };
    }),

  /**
   * The authorization (export:audit + step-up) and the `audit.export` event of the streamed REST export
   * (server/http/audit-export-route.ts), which then reads up to the returned seq.
   */
  beginExport: tenantProcedure
    .meta({ permission: "export:audit", highRisk: true })
    .input(z.void())
    .output(z.object({ tenant_id: z.string(), tenant_slug: z.string(), chain: z.string(), seq: z.number().int(), hash: z.string(), event_id: z.string(), filename: z.string() }))
    .mutation(async ({ ctx }) => {
      // The key is loaded before the event is written, so an export that cannot be signed is never recorded as made.
      await signingKey(ctx.rt.db, ctx.rt.secret, "audit");
      const plan = await ctx.inTenant((tx) => beginAuditExport(tx, ctx.tenant.id, ctx.auditIn, { via: ctx.via }));
      return { tenant_id: ctx.tenant.id, tenant_slug: ctx.tenant.slug, ...plan, filename: exportFilename(ctx.tenant.slug) };
    }),
});

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n += 1;
  return n;
}
