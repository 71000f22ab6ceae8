// Evidence of the current tenant: the list (filter by source, run or kind), one evidence object with the key that
// signed it, and verify (re-hash the blob, check the signature; audited). The download streams, so it is a plain
// route (server/http/evidence-routes.ts) that authorizes through `authorizeContent` first.
import { z } from "zod";
import { router, tenantProcedure } from "../init.ts";
import { PAGE_MAX_LIMIT } from "../../domain/keyset.ts";
import { findEvidence, getEvidence, listEvidence } from "../../evidence/evidence.presenter.ts";
import { verifyEvidenceById } from "../../evidence/verify-evidence.service.ts";

const evidenceId = z.uuid("must be an evidence id");
const page = {
  cursor: z.string().min(1).max(200).optional().describe("next_cursor from the previous page"),
  limit: z.coerce.number().int().min(1).max(PAGE_MAX_LIMIT).optional().describe(`Page size, 1–${PAGE_MAX_LIMIT} (default 50)`),
};

export const evidenceView = z.object({
  evidence_id: z.string(),
  tenant_id: z.string(),
  source_id: z.string().nullable(),
  source_name: z.string().nullable(),
  run_id: z.string().nullable(),
  job_id: z.string().nullable(),
  kind: z.string().describe("What the object is: inventory (the normalized graph), a connector's artifact kind, or ingest.raw_document (a pushed document as received)"),
  storage_uri: z.string(),
  content_type: z.string(),
  hash: z.string().describe("SHA-256 of the content (lower-case hex); the object is stored under it"),
  size: z.number(),
  signed: z.boolean(),
  signing_key_id: z.string().nullable(),
  created_at: z.string(),
  links: z.object({ self: z.string(), content: z.string(), verify: z.string() }),
});

export const evidenceRouter = router({
  list: tenantProcedure
    .meta({ permission: "read:evidence", openapi: { method: "GET", path: "/evidence", tags: ["evidence"], summary: "Evidence of the current tenant, newest first (filter by source, run or kind)" } })
    .input(
      z
        .object({
          source_id: z.uuid("must be a source id").optional(),
          run_id: z.uuid("must be a run id").optional(),
          kind: z.string().min(1).max(100).optional(),
          ...page,
        })
        .strict()
        .optional(),
    )
    .output(z.object({ items: z.array(evidenceView), next_cursor: z.string().nullable() }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => listEvidence(tx, ctx.tenant.id, input ?? {}))),

  get: tenantProcedure
    .meta({ permission: "read:evidence", openapi: { method: "GET", path: "/evidence/{id}", tags: ["evidence"], summary: "One evidence object: hash, size, content type, who produced it, the key that signed it" } })
    .input(z.object({ id: evidenceId }).strict())
    .output(
      evidenceView.extend({
        signature: z.string().nullable().describe("Ed25519 over the ASCII of the hex hash, base64"),
        signing_key: z.object({ key_id: z.string(), algorithm: z.literal("Ed25519"), fingerprint: z.string(), public_key_pem: z.string() }).nullable(),
        findings_linked: z.number().int().describe("Findings seen in this evidence"),
      }),
    )
    .query(({ ctx, input }) => ctx.inTenant((tx) => getEvidence(tx, ctx.rt.db, input.id))),

  verify: tenantProcedure
    .meta({ permission: "read:evidence", openapi: { method: "POST", path: "/evidence/{id}/verify", tags: ["evidence"], summary: "Re-hash the stored blob and check its signature; audited as evidence.verify (200 with ok false when it does not verify)" } })
    .input(z.object({ id: evidenceId }).strict())
    .output(
      z.object({
        evidence_id: z.string(),
        ok: z.boolean(),
        hash_matches: z.boolean(),
        signature_valid: z.boolean(),
        recorded_hash: z.string(),
        actual_hash: z.string().nullable(),
        size: z.number(),
        signing_key_id: z.string().nullable(),
        problems: z.array(z.string()),
        verified_at: z.string(),
      }),
    )
    .mutation(({ ctx, input }) => ctx.inTenant((tx) => verifyEvidenceById(tx, ctx.rt, input.id, ctx.auditIn))),

  /** Step one of GET /v1/evidence/{id}/content: may this caller read it, and where is it? (The blob is streamed after.) */
  authorizeContent: tenantProcedure
    .meta({ permission: "read:evidence" })
    .input(z.object({ id: evidenceId }).strict())
    .output(z.object({ tenant_id: z.string(), evidence_id: z.string(), storage_uri: z.string(), hash: z.string(), size: z.number(), content_type: z.string(), kind: z.string() }))
    .query(({ ctx, input }) =>
      ctx.inTenant(async (tx) => {
        const row = await findEvidence(tx, input.id);
        return { tenant_id: ctx.tenant.id, evidence_id: row.id, storage_uri: row.storageUri, hash: row.hash, size: row.size, content_type: row.contentType, kind: row.kind };
      }),
    ),
});
