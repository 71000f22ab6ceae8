CREATE TABLE "custom_connectors" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"display_name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"executable_path" text NOT NULL,
	"sha256" text NOT NULL,
	"timeout_seconds" integer DEFAULT 900 NOT NULL,
	"max_output_bytes" integer DEFAULT 67108864 NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "custom_connectors_sha256" CHECK ("custom_connectors"."sha256" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "custom_connectors_path" CHECK (left("custom_connectors"."executable_path", 1) = '/'),
	CONSTRAINT "custom_connectors_budgets" CHECK ("custom_connectors"."timeout_seconds" between 1 and 86400 and "custom_connectors"."max_output_bytes" between 1024 and 1073741824)
);
--> statement-breakpoint
CREATE UNIQUE INDEX "custom_connectors_name_key" ON "custom_connectors" USING btree ("name");