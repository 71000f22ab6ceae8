// Push ingest: a receipt for every pushed document (its status from received to done or failed, the sha256 of the
// raw artifact kept as evidence, counts, a structured error), the findings each receipt produced, and the endpoints
// that fleet syncs report.
import { sql } from "drizzle-orm";
import { bigint, bigserial, check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { tenants } from "./tenancy.ts";
import { sources } from "./control.ts";

export const receiptStatuses = ["received", "parsed", "normalized", "evaluated", "done", "failed"] as const;
export type ReceiptStatus = (typeof receiptStatuses)[number];
/** sarif | cyclonedx | spdx for result pushes (null until the document has been read), fleet for fleet syncs. */
export const receiptFormats = ["sarif", "cyclonedx", "spdx", "fleet"] as const;
export type ReceiptFormat = (typeof receiptFormats)[number];
export const receiptFindingChanges = ["created", "updated", "reopened", "resolved"] as const;
export type ReceiptFindingChange = (typeof receiptFindingChanges)[number];

export interface ReceiptError {
  message: string;
  /** JSON pointer into the document ("/runs/0/results/3"), "byte N", or the stage for errors outside the document. */
  where: string;
  /** syntax | encoding | depth | size | type | format | limit | processing */
  kind: string;
}

export interface ReceiptTimelineEntry {
  status: ReceiptStatus;
  at: string;
}

const tenantId = () => uuid("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" });
const ts = (name: string) => timestamp(name, { withTimezone: true });

export const ingestReceipts = pgTable(
  "ingest_receipts",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    tenantId: tenantId(),
    sourceId: uuid("source_id")
      .notNull()
      .references(() => sources.id, { onDelete: "cascade" }),
    /** result_push | fleet_sync */
    channel: text("channel").$type<"result_push" | "fleet_sync">().notNull(),
    runId: uuid("run_id"),
    jobId: uuid("job_id"),
    /** The raw artifact, stored as evidence when the push was received. */
    evidenceId: uuid("evidence_id"),
    idempotencyKey: text("idempotency_key").notNull(),
    status: text("status").$type<ReceiptStatus>().notNull().default("received"),
    format: text("format").$type<ReceiptFormat>(),
    formatVersion: text("format_version"),
    contentType: text("content_type").notNull(),
    sha256: text("sha256").notNull(),
    size: bigint("size", { mode: "number" }).notNull(),
    counts: jsonb("counts").$type<Record<string, number>>().notNull().default({}),
    warnings: jsonb("warnings").$type<{ message: string; where: string }[]>().notNull().default([]),
    tools: jsonb("tools").$type<string[]>().notNull().default([]),
    error: jsonb("error").$type<ReceiptError>(),
    timeline: jsonb("timeline").$type<ReceiptTimelineEntry[]>().notNull().default([]),
    /** For fleet syncs: the endpoint that reported. */
    endpointId: uuid("endpoint_id"),
    requestedBy: text("requested_by").notNull(),
    receivedAt: ts("received_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
    finishedAt: ts("finished_at"),
  },
  (t) => [
    uniqueIndex("ingest_receipts_idempotency_key").on(t.tenantId, t.sourceId, t.idempotencyKey),
    index("ingest_receipts_tenant_idx").on(t.tenantId, t.receivedAt, t.id),
    index("ingest_receipts_source_idx").on(t.tenantId, t.sourceId, t.receivedAt, t.id),
    index("ingest_receipts_run_idx").on(t.runId),
    check("ingest_receipts_status", sql`${t.status} in ('received','parsed','normalized','evaluated','done','failed')`),
  ],
);

/** The findings a receipt's document produced, and what the push did to each (created, updated, reopened, resolved). */
export const ingestReceiptFindings = pgTable(
  "ingest_receipt_findings",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    tenantId: tenantId(),
    receiptId: uuid("receipt_id")
      .notNull()
      .references(() => ingestReceipts.id, { onDelete: "cascade" }),
    findingId: uuid("finding_id").notNull(),
    change: text("change").$type<ReceiptFindingChange | "unchanged">().notNull(),
  },
  (t) => [uniqueIndex("ingest_receipt_findings_key").on(t.receiptId, t.findingId), index("ingest_receipt_findings_finding_idx").on(t.findingId)],
);

/** One endpoint (workstation, server) as its fleet syncs describe it. */
export const fleetEndpoints = pgTable(
  "fleet_endpoints",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    tenantId: tenantId(),
    sourceId: uuid("source_id")
      .notNull()
      .references(() => sources.id, { onDelete: "cascade" }),
    /** endpoint_id as reported, or the lower-cased hostname. */
    endpointKey: text("endpoint_key").notNull(),
    hostname: text("hostname").notNull(),
    os: jsonb("os").$type<{ name: string; version: string | null; arch: string | null }>().notNull(),
    agentVersion: text("agent_version").notNull(),
    /** The address the last sync came from, as the control plane saw it (not claimed by the endpoint). */
    lastSeenIp: text("last_seen_ip"),
    firstSeenAt: ts("first_seen_at").notNull().defaultNow(),
    lastSeenAt: ts("last_seen_at").notNull().defaultNow(),
    /** When the endpoint says it collected the inventory. */
    collectedAt: ts("collected_at"),
    lastReceiptId: uuid("last_receipt_id"),
    configs: integer("configs").notNull().default(0),
    servers: integer("servers").notNull().default(0),
    /** The endpoint's latest normalized graph (assets, relations, findings), applied from the newest processed sync. */
    graph: jsonb("graph").$type<{ assets: unknown[]; relations: unknown[]; findings: unknown[] }>(),
    /** Received time of the sync the graph came from (an older sync processed late does not replace it). */
    graphReceivedAt: ts("graph_received_at"),
    summary: jsonb("summary").$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [uniqueIndex("fleet_endpoints_key").on(t.tenantId, t.sourceId, t.endpointKey), index("fleet_endpoints_tenant_idx").on(t.tenantId, t.lastSeenAt, t.id)],
);
