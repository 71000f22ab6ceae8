// Append-only audit events in hash chains (one per tenant, one for the platform) and the chain heads.
import { bigint, bigserial, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

export const auditEvents = pgTable(
  "audit_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    eventId: uuid("event_id").notNull(),
    tenantId: uuid("tenant_id"),
    /** "platform" or the tenant id. */
    chain: text("chain").notNull(),
    seq: bigint("seq", { mode: "number" }).notNull(),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
    actor: text("actor").notNull(),
    actorType: text("actor_type").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id"),
    action: text("action").notNull(),
    outcome: text("outcome").notNull(),
    requestId: text("request_id"),
    traceId: text("trace_id"),
    ip: text("ip"),
    occurredAt: timestamp("occurred_at", { withTimezone: true, precision: 3 }).notNull(),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    uniqueIndex("audit_events_event_id_key").on(t.eventId),
    uniqueIndex("audit_events_chain_seq_key").on(t.chain, t.seq),
    index("audit_events_tenant_idx").on(t.tenantId, t.id),
    index("audit_events_tenant_actor_idx").on(t.tenantId, t.actor, t.id),
    index("audit_events_tenant_action_idx").on(t.tenantId, t.action, t.id),
    index("audit_events_tenant_target_idx").on(t.tenantId, t.targetType, t.targetId, t.id),
    index("audit_events_tenant_outcome_idx").on(t.tenantId, t.outcome, t.id),
  ],
);

export const auditChainHeads = pgTable("audit_chain_heads", {
  chain: text("chain").primaryKey(),
  tenantId: uuid("tenant_id"),
  seq: bigint("seq", { mode: "number" }).notNull(),
  hash: text("hash").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Control-plane signing keys (Ed25519); private halves encrypted with the installation secret. */
export const signingKeys = pgTable("signing_keys", {
  id: text("id").primaryKey(),
  purpose: text("purpose").notNull(),
  publicKey: text("public_key").notNull(),
  privateKeyEnc: text("private_key_enc").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
