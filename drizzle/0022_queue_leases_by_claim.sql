CREATE TABLE "job_leases" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"lease_owner" text NOT NULL,
	"job_ids" uuid[] NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
DROP INDEX "job_queue_lease_idx";--> statement-breakpoint
DROP INDEX "job_queue_claim_idx";--> statement-breakpoint
CREATE INDEX "job_leases_expiry_idx" ON "job_leases" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "job_leases_owner_idx" ON "job_leases" USING btree ("lease_owner");--> statement-breakpoint
CREATE INDEX "job_queue_claim_idx" ON "job_queue" USING btree ("tenant_id","priority" DESC NULLS LAST,"run_after");--> statement-breakpoint
ALTER TABLE "job_queue" DROP COLUMN "lease_owner";--> statement-breakpoint
ALTER TABLE "job_queue" DROP COLUMN "lease_expires_at";