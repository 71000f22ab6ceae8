// Push-ingest receipts: one receipt, receipts of the tenant or a source, the findings a receipt produced, a push
// source's last-ingest health, and the authorization steps of the streamed routes (POST /v1/results/push and the
// raw download), which live in server/http/ingest-routes.ts because they stream bodies.
import { z } from "zod";
import { eq } from "drizzle-orm";
import { router, tenantProcedure } from "../init.ts";
import { receiptStatuses } from "../../../db/schema/ingest.ts";
import { evidence } from "../../../db/schema/index.ts";
import { PAGE_MAX_LIMIT } from "../../domain/keyset.ts";
import { AppError } from "../../errors.ts";
import { getReceipt, findReceipt, ingestHealth, listReceiptFindings, listReceipts } from "../../ingest/receipt.presenter.ts";
import { pushTarget } from "../../ingest/receipt.service.ts";

const uuid = (what: string) => z.uuid(`must be a ${what} id`);
const page = {
  cursor: z.string().min(1).max(200).optional().describe("next_cursor from the previous page"),
  limit: z.coerce.number().int().min(1).max(PAGE_MAX_LIMIT).optional().describe(`Page size, 1–${PAGE_MAX_LIMIT} (default 50)`),
};

const receiptError = z.object({ message: z.string(), where: z.string().describe('JSON pointer into the document ("/runs/0/results/3"), "byte N", or "stage <name>"'), kind: z.string() });

export const receiptView = z.object({
  receipt_id: z.string(),
  source_id: z.string(),
  channel: z.enum(["result_push", "fleet_sync"]),
  status: z.enum(receiptStatuses).describe("received → parsed → normalized → evaluated → done, or failed"),
  format: z.string().nullable().describe("sarif | cyclonedx | spdx (detected from the content), or fleet"),
  format_version: z.string().nullable(),
  sha256: z.string().describe("SHA-256 of the raw document as received (the retained evidence)"),
  size: z.number(),
  content_type: z.string(),
  idempotency_key: z.string(),
  run_id: z.string().nullable(),
  job_id: z.string().nullable(),
  evidence_id: z.string().nullable().describe("The raw document, kept as evidence"),
  endpoint_id: z.string().nullable(),
  counts: z.record(z.string(), z.number()).describe("What the document holds (runs, results, components, packages, …) and what the push did (findings_created, findings_updated, findings_resolved, …)"),
  warnings: z.array(z.object({ message: z.string(), where: z.string() })),
  tools: z.array(z.string()),
  error: receiptError.nullable(),
  timeline: z.array(z.object({ status: z.enum(receiptStatuses), at: z.string() })),
  requested_by: z.string(),
  received_at: z.string(),
  updated_at: z.string(),
  finished_at: z.string().nullable(),
  links: z.object({ self: z.string(), raw: z.string(), findings: z.string(), run: z.string().nullable() }),
});

export const receiptsRouter = router({
  get: tenantProcedure
    .meta({ permission: "read:receipt", openapi: { method: "GET", path: "/results/receipts/{id}", tags: ["push ingest"], summary: "One push receipt: status, counts, error with where, sha256 of the raw document, links" } })
    .input(z.object({ id: uuid("receipt") }).strict())
    .output(receiptView)
    .query(({ ctx, input }) => ctx.inTenant((tx) => getReceipt(tx, input.id))),

  list: tenantProcedure
    .meta({ permission: "read:receipt", openapi: { method: "GET", path: "/results/receipts", tags: ["push ingest"], summary: "Push receipts, newest first (filter by source, status, channel)" } })
    .input(
      z
        .object({
          source_id: uuid("source").optional(),
          status: z.enum(receiptStatuses).optional(),
          channel: z.enum(["result_push", "fleet_sync"]).optional(),
          ...page,
        })
        .strict()
        .optional(),
    )
    .output(z.object({ items: z.array(receiptView), next_cursor: z.string().nullable() }))
    .query(({ ctx, input }) => ctx.inTenant((tx) => listReceipts(tx, ctx.tenant.id, input ?? {}))),

  findings: tenantProcedure
    .meta({ permission: "read:receipt", openapi: { method: "GET", path: "/results/receipts/{id}/findings", tags: ["push ingest"], summary: "Findings a push produced (created, updated, reopened) or resolved" } })
    .input(z.object({ id: uuid("receipt"), change: z.enum(["created", "updated", "reopened", "resolved"]).optional(), ...page }).strict())
    .output(
      z.object({
        items: z.array(
          z.object({
            finding_id: z.string(),
            change: z.string(),
            rule: z.string().nullable(),
            severity: z.string().nullable(),
            title: z.string().nullable(),
            status: z.string().nullable(),
            location: z.string().nullable(),
            url: z.string(),
          }),
        ),
        next_cursor: z.string().nullable(),
      }),
    )
    .query(({ ctx, input }) => ctx.inTenant((tx) => listReceiptFindings(tx, input.id, input))),

  health: tenantProcedure
    .meta({ permission: "read:receipt", openapi: { method: "GET", path: "/sources/{id}/ingest-health", tags: ["push ingest"], summary: "Last-ingest health of a push source: latest receipt, last success, last failure, the past day's tally" } })
    .input(z.object({ id: uuid("source") }).strict())
    .output(
      z.object({
        source_id: z.string(),
        kind: z.string(),
        health: z.enum(["ok", "failing", "processing", "never"]),
        last_receipt: receiptView.nullable(),
        last_done_at: z.string().nullable(),
        last_failure: z.object({ receipt_id: z.string(), at: z.string().nullable(), error: receiptError.nullable() }).nullable(),
        last_24h: z.object({ received: z.number(), done: z.number(), failed: z.number() }),
        run_status: z.string().nullable(),
      }),
    )
    .query(({ ctx, input }) => ctx.inTenant((tx) => ingestHealth(tx, input.id))),

  /** Step one of POST /v1/results/push: may this caller push to this source? (The body is read only after.) */
  authorizePush: tenantProcedure
    .meta({ permission: "push:results" })
    .input(z.object({ source_id: uuid("source") }).strict())
    .output(z.object({ tenant_id: z.string(), source_id: z.string() }))
    .query(async ({ ctx, input }) => {
      const source = await ctx.inTenant((tx) => pushTarget(tx, input.source_id, "result_push"));
      return { tenant_id: ctx.tenant.id, source_id: source.id };
    }),

  /** Step one of GET /v1/results/receipts/{id}/raw: the raw document's evidence row, for streaming. */
  authorizeRaw: tenantProcedure
    .meta({ permission: "read:evidence" })
    .input(z.object({ id: uuid("receipt") }).strict())
    .output(z.object({ tenant_id: z.string(), evidence_id: z.string(), sha256: z.string(), size: z.number(), content_type: z.string(), filename: z.string() }))
    .query(({ ctx, input }) =>
      ctx.inTenant(async (tx) => {
        const receipt = await findReceipt(tx, input.id);
        const [row] = receipt.evidenceId ? await tx.select().from(evidence).where(eq(evidence.id, receipt.evidenceId)) : [];
        if (!row) throw new AppError("NOT_FOUND", "The raw document of this receipt is not in the evidence store");
        const ext = receipt.format === "sarif" ? "sarif.json" : receipt.format === "cyclonedx" ? "cdx.json" : receipt.format === "spdx" ? "spdx.json" : "json";
        return { tenant_id: ctx.tenant.id, evidence_id: row.id, sha256: row.hash, size: row.size, content_type: row.contentType, filename: `receipt-${receipt.id}.${ext}` };
      }),
    ),
});
