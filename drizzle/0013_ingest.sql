CREATE TABLE "fleet_endpoints" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"source_id" uuid NOT NULL,
	"endpoint_key" text NOT NULL,
	"hostname" text NOT NULL,
	"os" jsonb NOT NULL,
	"agent_version" text NOT NULL,
	"last_seen_ip" text,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"collected_at" timestamp with time zone,
	"last_receipt_id" uuid,
	"configs" integer DEFAULT 0 NOT NULL,
	"servers" integer DEFAULT 0 NOT NULL,
	"graph" jsonb,
	"graph_received_at" timestamp with time zone,
	"summary" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ingest_receipt_findings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"receipt_id" uuid NOT NULL,
	"finding_id" uuid NOT NULL,
	"change" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ingest_receipts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"source_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"run_id" uuid,
	"job_id" uuid,
	"evidence_id" uuid,
	"idempotency_key" text NOT NULL,
	"status" text DEFAULT 'received' NOT NULL,
	"format" text,
	"format_version" text,
	"content_type" text NOT NULL,
	"sha256" text NOT NULL,
	"size" bigint NOT NULL,
	"counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"warnings" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"tools" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"error" jsonb,
	"timeline" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"endpoint_id" uuid,
	"requested_by" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "ingest_receipts_status" CHECK ("ingest_receipts"."status" in ('received','parsed','normalized','evaluated','done','failed'))
);
--> statement-breakpoint
ALTER TABLE "fleet_endpoints" ADD CONSTRAINT "fleet_endpoints_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fleet_endpoints" ADD CONSTRAINT "fleet_endpoints_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ingest_receipt_findings" ADD CONSTRAINT "ingest_receipt_findings_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ingest_receipt_findings" ADD CONSTRAINT "ingest_receipt_findings_receipt_id_ingest_receipts_id_fk" FOREIGN KEY ("receipt_id") REFERENCES "public"."ingest_receipts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ingest_receipts" ADD CONSTRAINT "ingest_receipts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ingest_receipts" ADD CONSTRAINT "ingest_receipts_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "fleet_endpoints_key" ON "fleet_endpoints" USING btree ("tenant_id","source_id","endpoint_key");--> statement-breakpoint
CREATE INDEX "fleet_endpoints_tenant_idx" ON "fleet_endpoints" USING btree ("tenant_id","last_seen_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "ingest_receipt_findings_key" ON "ingest_receipt_findings" USING btree ("receipt_id","finding_id");--> statement-breakpoint
CREATE INDEX "ingest_receipt_findings_finding_idx" ON "ingest_receipt_findings" USING btree ("finding_id");--> statement-breakpoint
CREATE UNIQUE INDEX "ingest_receipts_idempotency_key" ON "ingest_receipts" USING btree ("tenant_id","source_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "ingest_receipts_tenant_idx" ON "ingest_receipts" USING btree ("tenant_id","received_at","id");--> statement-breakpoint
CREATE INDEX "ingest_receipts_source_idx" ON "ingest_receipts" USING btree ("tenant_id","source_id","received_at","id");--> statement-breakpoint
CREATE INDEX "ingest_receipts_run_idx" ON "ingest_receipts" USING btree ("run_id");