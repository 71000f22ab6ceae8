-- The application role: no ownership, no BYPASSRLS. Migrations run as the owner; the app connects as cairn_app.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cairn_app') THEN
    CREATE ROLE cairn_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END $$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO cairn_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO cairn_app;
--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO cairn_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO cairn_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO cairn_app;
--> statement-breakpoint
-- The installation row and signing keys are written only by migrations/owner-side start-up code paths.
REVOKE UPDATE, DELETE ON installation FROM cairn_app;
--> statement-breakpoint
-- Audit is append-only: no UPDATE/DELETE/TRUNCATE for the app, and a trigger refuses them for everyone.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM cairn_app;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION cairn_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION cairn_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION cairn_audit_append_only();
--> statement-breakpoint
-- Tenant context: set per transaction by the tenant helper (db/tenant.ts); unset means "no tenant".
CREATE OR REPLACE FUNCTION cairn_current_tenant() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('app.tenant_id', true), '')::uuid
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION cairn_platform_context() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('app.platform', true), '') = 'on'
$$;
--> statement-breakpoint
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON memberships USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
ALTER TABLE tenant_settings ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE tenant_settings FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON tenant_settings USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON api_keys
  USING (tenant_id = cairn_current_tenant() OR (tenant_id IS NULL AND cairn_platform_context()))
  WITH CHECK (tenant_id = cairn_current_tenant() OR (tenant_id IS NULL AND cairn_platform_context()));
--> statement-breakpoint
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON audit_events
  USING (tenant_id = cairn_current_tenant() OR (tenant_id IS NULL AND cairn_platform_context()))
  WITH CHECK (tenant_id = cairn_current_tenant() OR (tenant_id IS NULL AND cairn_platform_context()));
--> statement-breakpoint
ALTER TABLE audit_chain_heads ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE audit_chain_heads FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON audit_chain_heads
  USING (tenant_id = cairn_current_tenant() OR (tenant_id IS NULL AND cairn_platform_context()))
  WITH CHECK (tenant_id = cairn_current_tenant() OR (tenant_id IS NULL AND cairn_platform_context()));
--> statement-breakpoint
-- Narrow cross-tenant lookups the app needs before it knows the tenant. SECURITY DEFINER runs as the owner,
-- so each returns only what its caller is entitled to.
CREATE OR REPLACE FUNCTION cairn_api_key_for_auth(p_id text)
RETURNS TABLE (id text, tenant_id uuid, tenant_slug text, name text, secret_hash bytea, role text, high_risk boolean,
               expires_at timestamptz, revoked_at timestamptz, grace_until timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT k.id, k.tenant_id, t.slug, k.name, k.secret_hash, k.role, k.high_risk, k.expires_at, k.revoked_at, k.grace_until
  FROM api_keys k LEFT JOIN tenants t ON t.id = k.tenant_id WHERE k.id = p_id
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION cairn_api_key_touch(p_id text) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  UPDATE api_keys SET last_used_at = now() WHERE id = p_id AND (last_used_at IS NULL OR last_used_at < now() - interval '30 seconds')
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION cairn_user_memberships(p_user uuid)
RETURNS TABLE (tenant_id uuid, tenant_slug text, tenant_name text, role text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT m.tenant_id, t.slug, t.name, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id
  WHERE m.user_id = p_user ORDER BY t.slug
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_api_key_for_auth(text) FROM PUBLIC;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_api_key_touch(text) FROM PUBLIC;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_user_memberships(uuid) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_api_key_for_auth(text), cairn_api_key_touch(text), cairn_user_memberships(uuid) TO cairn_app;
--> statement-breakpoint
-- /readyz asks the app role whether migrations are current.
GRANT USAGE ON SCHEMA drizzle TO cairn_app;
--> statement-breakpoint
GRANT SELECT ON ALL TABLES IN SCHEMA drizzle TO cairn_app;
