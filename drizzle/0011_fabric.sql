CREATE TABLE "agent_request_nonces" (
	"key_id" text NOT NULL,
	"nonce" text NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agent_request_nonces_key_id_nonce_pk" PRIMARY KEY("key_id","nonce")
);
--> statement-breakpoint
CREATE TABLE "cluster_cas" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"cluster_id" uuid NOT NULL,
	"serial" text NOT NULL,
	"certificate_pem" text NOT NULL,
	"fingerprint" text NOT NULL,
	"private_key_enc" text NOT NULL,
	"not_before" timestamp with time zone NOT NULL,
	"not_after" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cluster_memberships" (
	"cluster_id" uuid NOT NULL,
	"node_id" uuid NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"group_id" uuid,
	"joined_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone,
	"last_seen_ip" text,
	"status_changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_count" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "cluster_memberships_cluster_id_node_id_pk" PRIMARY KEY("cluster_id","node_id"),
	CONSTRAINT "cluster_memberships_status" CHECK ("cluster_memberships"."status" in ('active','disabled','revoked'))
);
--> statement-breakpoint
CREATE TABLE "clusters" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"region" text DEFAULT '' NOT NULL,
	"authority_state" text DEFAULT 'healthy' NOT NULL,
	"authority_reason" text,
	"authority_changed_at" timestamp with time zone,
	"authority_changed_by" text,
	"cert_ttl_hours" integer DEFAULT 720 NOT NULL,
	"desired_version" bigint DEFAULT 1 NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "clusters_authority_state" CHECK ("clusters"."authority_state" in ('healthy','degraded','partitioned')),
	CONSTRAINT "clusters_cert_ttl" CHECK ("clusters"."cert_ttl_hours" between 1 and 8760)
);
--> statement-breakpoint
CREATE TABLE "node_capabilities" (
	"node_id" uuid NOT NULL,
	"name" text NOT NULL,
	"value" jsonb NOT NULL,
	"reported_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "node_capabilities_node_id_name_pk" PRIMARY KEY("node_id","name")
);
--> statement-breakpoint
CREATE TABLE "node_groups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"cluster_id" uuid NOT NULL,
	"parent_id" uuid,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "node_heartbeats" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"node_id" uuid NOT NULL,
	"cluster_id" uuid NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" text NOT NULL,
	"agent_version" text NOT NULL,
	"snapshot_version" bigint,
	"source_ip" text,
	"workloads" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "node_identities" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"node_id" uuid NOT NULL,
	"cluster_id" uuid NOT NULL,
	"ca_id" uuid NOT NULL,
	"public_key" text NOT NULL,
	"key_fingerprint" text NOT NULL,
	"certificate_pem" text NOT NULL,
	"certificate_serial" text NOT NULL,
	"certificate_not_before" timestamp with time zone NOT NULL,
	"certificate_not_after" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"issued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"first_used_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	"rotated_at" timestamp with time zone,
	"replaced_by" uuid,
	"revoked_at" timestamp with time zone,
	"revoked_by" text,
	"revoked_reason" text,
	CONSTRAINT "node_identities_status" CHECK ("node_identities"."status" in ('active','rotated','revoked'))
);
--> statement-breakpoint
CREATE TABLE "node_join_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"cluster_id" uuid NOT NULL,
	"token_id" text NOT NULL,
	"node_name" text NOT NULL,
	"hostname" text NOT NULL,
	"machine_id" text,
	"facts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"capabilities" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"requested_roles" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"agent_version" text NOT NULL,
	"public_key" text NOT NULL,
	"key_fingerprint" text NOT NULL,
	"source_ip" text,
	"verified" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"auto_approved" boolean DEFAULT false NOT NULL,
	"reviewed_by" text,
	"reviewed_at" timestamp with time zone,
	"rejection_reason" text,
	"node_id" uuid,
	"identity_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "node_join_requests_status" CHECK ("node_join_requests"."status" in ('pending','approved','rejected'))
);
--> statement-breakpoint
CREATE TABLE "node_join_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"cluster_id" uuid NOT NULL,
	"secret_hash" "bytea" NOT NULL,
	"scope" text DEFAULT 'join' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"max_uses" integer NOT NULL,
	"used_count" integer DEFAULT 0 NOT NULL,
	"bind_hostname" text,
	"bind_machine_id" text,
	"bind_key_fingerprint" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"revoked_by" text,
	CONSTRAINT "node_join_tokens_uses" CHECK ("node_join_tokens"."max_uses" between 1 and 1000 and "node_join_tokens"."used_count" between 0 and "node_join_tokens"."max_uses"),
	CONSTRAINT "node_join_tokens_scope" CHECK ("node_join_tokens"."scope" in ('join','bootstrap')),
	CONSTRAINT "node_join_tokens_id_format" CHECK ("node_join_tokens"."id" ~ '^[a-z0-9]{6}$')
);
--> statement-breakpoint
CREATE TABLE "node_role_assignments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"cluster_id" uuid NOT NULL,
	"node_id" uuid NOT NULL,
	"role" text NOT NULL,
	"tenant_id" uuid,
	"job_types" text[] NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"assigned_by" text NOT NULL,
	"assigned_at" timestamp with time zone DEFAULT now() NOT NULL,
	"removed_by" text,
	"removed_at" timestamp with time zone,
	"removed_reason" text,
	CONSTRAINT "node_role_assignments_status" CHECK ("node_role_assignments"."status" in ('active','removed'))
);
--> statement-breakpoint
CREATE TABLE "node_service_instances" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"cluster_id" uuid NOT NULL,
	"node_id" uuid NOT NULL,
	"service_type" text NOT NULL,
	"desired_state" text DEFAULT 'stopped' NOT NULL,
	"paused" boolean DEFAULT false NOT NULL,
	"reported_state" text DEFAULT 'unknown' NOT NULL,
	"reported_version" text,
	"reported_detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"reported_at" timestamp with time zone,
	"desired_changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"desired_changed_by" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cluster_cas" ADD CONSTRAINT "cluster_cas_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cluster_memberships" ADD CONSTRAINT "cluster_memberships_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cluster_memberships" ADD CONSTRAINT "cluster_memberships_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cluster_memberships" ADD CONSTRAINT "cluster_memberships_group_id_node_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."node_groups"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_capabilities" ADD CONSTRAINT "node_capabilities_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_groups" ADD CONSTRAINT "node_groups_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_groups" ADD CONSTRAINT "node_groups_parent_id_node_groups_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."node_groups"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_heartbeats" ADD CONSTRAINT "node_heartbeats_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_identities" ADD CONSTRAINT "node_identities_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_identities" ADD CONSTRAINT "node_identities_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_identities" ADD CONSTRAINT "node_identities_ca_id_cluster_cas_id_fk" FOREIGN KEY ("ca_id") REFERENCES "public"."cluster_cas"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_join_requests" ADD CONSTRAINT "node_join_requests_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_join_requests" ADD CONSTRAINT "node_join_requests_token_id_node_join_tokens_id_fk" FOREIGN KEY ("token_id") REFERENCES "public"."node_join_tokens"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_join_requests" ADD CONSTRAINT "node_join_requests_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_join_tokens" ADD CONSTRAINT "node_join_tokens_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_role_assignments" ADD CONSTRAINT "node_role_assignments_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_role_assignments" ADD CONSTRAINT "node_role_assignments_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_role_assignments" ADD CONSTRAINT "node_role_assignments_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_service_instances" ADD CONSTRAINT "node_service_instances_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_service_instances" ADD CONSTRAINT "node_service_instances_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "agent_request_nonces_seen_idx" ON "agent_request_nonces" USING btree ("seen_at");--> statement-breakpoint
CREATE UNIQUE INDEX "cluster_cas_active_key" ON "cluster_cas" USING btree ("cluster_id") WHERE "cluster_cas"."status" = 'active';--> statement-breakpoint
CREATE INDEX "cluster_memberships_node_idx" ON "cluster_memberships" USING btree ("node_id");--> statement-breakpoint
CREATE INDEX "cluster_memberships_group_idx" ON "cluster_memberships" USING btree ("group_id");--> statement-breakpoint
CREATE UNIQUE INDEX "clusters_slug_key" ON "clusters" USING btree ("slug");--> statement-breakpoint
CREATE UNIQUE INDEX "node_groups_name_key" ON "node_groups" USING btree ("cluster_id",coalesce("parent_id", '00000000-0000-0000-0000-000000000000'::uuid),"name");--> statement-breakpoint
CREATE INDEX "node_heartbeats_node_idx" ON "node_heartbeats" USING btree ("node_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "node_identities_serial_key" ON "node_identities" USING btree ("cluster_id","certificate_serial");--> statement-breakpoint
CREATE UNIQUE INDEX "node_identities_key_key" ON "node_identities" USING btree ("key_fingerprint");--> statement-breakpoint
CREATE INDEX "node_identities_node_idx" ON "node_identities" USING btree ("node_id","issued_at");--> statement-breakpoint
CREATE INDEX "node_join_requests_status_idx" ON "node_join_requests" USING btree ("status","created_at","id");--> statement-breakpoint
CREATE INDEX "node_join_requests_cluster_idx" ON "node_join_requests" USING btree ("cluster_id","created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "node_join_requests_pending_key" ON "node_join_requests" USING btree ("key_fingerprint") WHERE "node_join_requests"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "node_join_tokens_cluster_idx" ON "node_join_tokens" USING btree ("cluster_id","created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "node_role_assignments_active_key" ON "node_role_assignments" USING btree ("cluster_id","node_id","role",coalesce("tenant_id", '00000000-0000-0000-0000-000000000000'::uuid)) WHERE "node_role_assignments"."status" = 'active';--> statement-breakpoint
CREATE INDEX "node_role_assignments_node_idx" ON "node_role_assignments" USING btree ("node_id","status");--> statement-breakpoint
CREATE INDEX "node_role_assignments_tenant_idx" ON "node_role_assignments" USING btree ("tenant_id") WHERE "node_role_assignments"."status" = 'active';--> statement-breakpoint
CREATE INDEX "node_role_assignments_cluster_idx" ON "node_role_assignments" USING btree ("cluster_id","assigned_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "node_service_instances_key" ON "node_service_instances" USING btree ("cluster_id","node_id","service_type");--> statement-breakpoint
CREATE INDEX "node_service_instances_node_idx" ON "node_service_instances" USING btree ("node_id");