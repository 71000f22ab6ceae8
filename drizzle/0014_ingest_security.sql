-- Row-level security on the push-ingest tables (the same policy as every other tenant table) and the app role's grants.
ALTER TABLE ingest_receipts ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE ingest_receipts FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON ingest_receipts USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
ALTER TABLE ingest_receipt_findings ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE ingest_receipt_findings FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON ingest_receipt_findings USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
ALTER TABLE fleet_endpoints ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE fleet_endpoints FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON fleet_endpoints USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
-- Default privileges already grant the app role read and write; receipts are never deleted by the app, and what a
-- receipt produced (its finding links) is history: written once, never rewritten.
REVOKE DELETE, TRUNCATE ON ingest_receipts FROM cairn_app;
--> statement-breakpoint
REVOKE UPDATE, DELETE, TRUNCATE ON ingest_receipt_findings FROM cairn_app;
