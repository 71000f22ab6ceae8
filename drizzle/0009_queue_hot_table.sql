CREATE TABLE "job_queue" (
	"job_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"job_type" text NOT NULL,
	"priority" integer NOT NULL,
	"run_after" timestamp with time zone NOT NULL,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone
);
--> statement-breakpoint
DROP INDEX "jobs_claim_idx";--> statement-breakpoint
DROP INDEX "jobs_lease_idx";--> statement-breakpoint
CREATE INDEX "job_queue_claim_idx" ON "job_queue" USING btree ("tenant_id","priority" DESC NULLS LAST,"run_after") WHERE "job_queue"."lease_owner" is null;--> statement-breakpoint
CREATE INDEX "job_queue_lease_idx" ON "job_queue" USING btree ("lease_expires_at") WHERE "job_queue"."lease_owner" is not null;