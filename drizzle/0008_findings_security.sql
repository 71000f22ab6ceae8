-- Row-level security on every findings table (the same policy as the other tenant tables), and the one cross-tenant
-- read the exception sweep needs: which tenants have approved exceptions past their expiry.
--> statement-breakpoint
ALTER TABLE assets ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE assets FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON assets USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
ALTER TABLE asset_relations ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE asset_relations FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON asset_relations USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
ALTER TABLE findings ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE findings FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON findings USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
ALTER TABLE finding_evidence ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE finding_evidence FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON finding_evidence USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
ALTER TABLE policies ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE policies FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON policies USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
ALTER TABLE policy_bindings ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE policy_bindings FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON policy_bindings USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
ALTER TABLE finding_exceptions ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE finding_exceptions FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON finding_exceptions USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO cairn_app;
--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO cairn_app;
--> statement-breakpoint
-- The blanket grant above must not undo the append-only rules: audit events and evidence are never rewritten.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM cairn_app;
--> statement-breakpoint
REVOKE UPDATE, DELETE ON installation FROM cairn_app;
--> statement-breakpoint
REVOKE UPDATE, DELETE, TRUNCATE ON evidence FROM cairn_app;
--> statement-breakpoint
-- Evidence links are history: a link is never rewritten or removed by the app.
REVOKE UPDATE, DELETE, TRUNCATE ON finding_evidence FROM cairn_app;
--> statement-breakpoint
-- Tenants with approved exceptions that ran out: the sweep expires them inside each tenant's own transaction.
CREATE OR REPLACE FUNCTION cairn_tenants_with_expired_exceptions(p_now timestamptz, p_limit int)
RETURNS TABLE (tenant_id uuid) LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT DISTINCT e.tenant_id FROM finding_exceptions e
  WHERE e.status = 'approved' AND e.expires_at <= p_now
  LIMIT greatest(p_limit, 0)
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_tenants_with_expired_exceptions(timestamptz, int) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_tenants_with_expired_exceptions(timestamptz, int) TO cairn_app;
