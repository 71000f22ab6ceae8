// What runs turn into: assets and relations upserted by stable keys, findings keyed by (source, fingerprint) with
// their lifecycle, the evidence each finding was derived from, tenant policies and their bindings, and exceptions
// (suppressions with a reason, an approver and an expiry).
import { sql } from "drizzle-orm";
import { bigserial, check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { tenants } from "./tenancy.ts";
import { evidence, sources } from "./control.ts";

export const severities = ["critical", "high", "medium", "low", "info"] as const;
export type Severity = (typeof severities)[number];
export const findingStatuses = ["open", "resolved", "suppressed"] as const;
export type FindingStatus = (typeof findingStatuses)[number];
/** Why a finding was resolved: its cause was no longer seen, or a policy binding in force disabled its rule. */
export const resolutions = ["not_seen", "disabled_by_policy"] as const;
export type Resolution = (typeof resolutions)[number];
export const bindingModes = ["audit", "enforce", "disabled"] as const;
export type BindingMode = (typeof bindingModes)[number];
export const bindingTargets = ["tenant", "source"] as const;
export type BindingTarget = (typeof bindingTargets)[number];
export const exceptionStatuses = ["requested", "approved", "rejected", "revoked", "expired"] as const;
export type ExceptionStatus = (typeof exceptionStatuses)[number];

/** One entry of a policy: a rule id, a `prefix.*` pattern or `*`; enabled or not; an optional severity override. */
export interface PolicyRule {
  rule: string;
  enabled: boolean;
  severity?: Severity;
}

const tenantId = () => uuid("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" });
const ts = (name: string) => timestamp(name, { withTimezone: true });

export const assets = pgTable(
  "assets",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    tenantId: tenantId(),
    type: text("type").notNull(),
    /** The producer's stable id ("pkg:npm/lodash@4.17.21", "mcp_server:<file>#<pointer>", …). */
    key: text("key").notNull(),
    name: text("name"),
    attributes: jsonb("attributes").$type<Record<string, unknown>>().notNull().default({}),
    firstSeenAt: ts("first_seen_at").notNull().defaultNow(),
    lastSeenAt: ts("last_seen_at").notNull().defaultNow(),
    lastSourceId: uuid("last_source_id"),
    lastRunId: uuid("last_run_id"),
  },
  (t) => [uniqueIndex("assets_tenant_type_key").on(t.tenantId, t.type, t.key)],
);

export const assetRelations = pgTable(
  "asset_relations",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    tenantId: tenantId(),
    /** sha256 of (type, from key, to key): the same edge in every run. */
    key: text("key").notNull(),
    type: text("type").notNull(),
    fromAssetId: uuid("from_asset_id").notNull().references(() => assets.id, { onDelete: "cascade" }),
    toAssetId: uuid("to_asset_id").notNull().references(() => assets.id, { onDelete: "cascade" }),
    properties: jsonb("properties").$type<Record<string, unknown>>().notNull().default({}),
    firstSeenAt: ts("first_seen_at").notNull().defaultNow(),
    lastSeenAt: ts("last_seen_at").notNull().defaultNow(),
    lastRunId: uuid("last_run_id"),
  },
  (t) => [uniqueIndex("asset_relations_tenant_key").on(t.tenantId, t.key), index("asset_relations_from_idx").on(t.fromAssetId), index("asset_relations_to_idx").on(t.toAssetId)],
);

export const findings = pgTable(
  "findings",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    tenantId: tenantId(),
    sourceId: uuid("source_id")
      .notNull()
      .references(() => sources.id, { onDelete: "cascade" }),
    fingerprint: text("fingerprint").notNull(),
    rule: text("rule").notNull(),
    severity: text("severity").$type<Severity>().notNull(),
    title: text("title").notNull(),
    status: text("status").$type<FindingStatus>().notNull().default("open"),
    resolution: text("resolution").$type<Resolution>(),
    assetId: uuid("asset_id").references(() => assets.id, { onDelete: "set null" }),
    /** The producer's asset id, kept even if the asset row goes. */
    assetKey: text("asset_key"),
    /** file:line or file#/json/pointer. */
    location: text("location"),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    /** How the last evaluation treated it: default (no binding covers the rule), audit or enforce. */
    enforcement: text("enforcement").$type<"default" | "audit" | "enforce">().notNull().default("default"),
    /** The policy bindings that decided its last evaluation. */
    appliedBindingIds: jsonb("applied_binding_ids").$type<string[]>().notNull().default([]),
    firstSeenAt: ts("first_seen_at").notNull().defaultNow(),
    lastSeenAt: ts("last_seen_at").notNull().defaultNow(),
    resolvedAt: ts("resolved_at"),
    firstRunId: uuid("first_run_id"),
    lastRunId: uuid("last_run_id"),
    lastJobId: uuid("last_job_id"),
    lastEvidenceId: uuid("last_evidence_id"),
    resolvedRunId: uuid("resolved_run_id"),
    reopenedCount: integer("reopened_count").notNull().default(0),
    /** The statement's clock, not the transaction's: a run's findings get distinct times, so keyset pages stay index ranges. */
    createdAt: ts("created_at").notNull().default(sql`clock_timestamp()`),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("findings_fingerprint_key").on(t.tenantId, t.sourceId, t.fingerprint),
    index("findings_tenant_idx").on(t.tenantId, t.createdAt, t.id),
    index("findings_status_idx").on(t.tenantId, t.status, t.createdAt, t.id),
    index("findings_source_idx").on(t.tenantId, t.sourceId, t.status),
    index("findings_rule_idx").on(t.tenantId, t.rule, t.createdAt),
    check("findings_status", sql`${t.status} in ('open','resolved','suppressed')`),
    check("findings_severity", sql`${t.severity} in ('critical','high','medium','low','info')`),
  ],
);

/** The chain provenance walks: this finding was seen in this evidence, produced (or re-evaluated) by this run/job. */
export const findingEvidence = pgTable(
  "finding_evidence",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    tenantId: tenantId(),
    findingId: uuid("finding_id")
      .notNull()
      .references(() => findings.id, { onDelete: "cascade" }),
    evidenceId: uuid("evidence_id")
      .notNull()
      .references(() => evidence.id, { onDelete: "cascade" }),
    runId: uuid("run_id"),
    jobId: uuid("job_id"),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("finding_evidence_key").on(t.findingId, t.evidenceId), index("finding_evidence_evidence_idx").on(t.evidenceId)],
);

export const policies = pgTable(
  "policies",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    tenantId: tenantId(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    rules: jsonb("rules").$type<PolicyRule[]>().notNull().default([]),
    createdBy: text("created_by").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("policies_tenant_name_key").on(t.tenantId, t.name), index("policies_tenant_idx").on(t.tenantId, t.createdAt, t.id)],
);

export const policyBindings = pgTable(
  "policy_bindings",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    tenantId: tenantId(),
    policyId: uuid("policy_id")
      .notNull()
      .references(() => policies.id, { onDelete: "restrict" }),
    /** What the policy governs; findings policies are the only kind so far. */
    policyKind: text("policy_kind").notNull().default("findings"),
    targetType: text("target_type").$type<BindingTarget>().notNull(),
    /** The tenant's own id for tenant bindings, a source id for source bindings. */
    targetId: uuid("target_id").notNull(),
    mode: text("mode").$type<BindingMode>().notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("policy_bindings_target_key").on(t.tenantId, t.policyId, t.targetType, t.targetId),
    index("policy_bindings_tenant_idx").on(t.tenantId, t.createdAt, t.id),
    check("policy_bindings_mode", sql`${t.mode} in ('audit','enforce','disabled')`),
    check("policy_bindings_target", sql`${t.targetType} in ('tenant','source')`),
  ],
);

export const findingExceptions = pgTable(
  "finding_exceptions",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    tenantId: tenantId(),
    findingId: uuid("finding_id")
      .notNull()
      .references(() => findings.id, { onDelete: "cascade" }),
    reason: text("reason").notNull(),
    expiresAt: ts("expires_at").notNull(),
    status: text("status").$type<ExceptionStatus>().notNull().default("requested"),
    requestedBy: text("requested_by").notNull(),
    decidedBy: text("decided_by"),
    decidedAt: ts("decided_at"),
    decisionNote: text("decision_note"),
    /** When an approved exception ran out (and its finding reopened). */
    expiredAt: ts("expired_at"),
    createdAt: ts("created_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [
    // At most one pending or approved exception per finding.
    uniqueIndex("finding_exceptions_live_key").on(t.findingId).where(sql`${t.status} in ('requested','approved')`),
    index("finding_exceptions_tenant_idx").on(t.tenantId, t.createdAt, t.id),
    index("finding_exceptions_due_idx").on(t.expiresAt).where(sql`${t.status} = 'approved'`),
    check("finding_exceptions_status", sql`${t.status} in ('requested','approved','rejected','revoked','expired')`),
  ],
);
