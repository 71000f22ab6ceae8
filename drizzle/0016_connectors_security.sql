-- The custom-connector allow-list is platform-scoped: only a platform transaction (withPlatform) may add or remove
-- entries. Tenants may read it (to name a connector in a `custom` source; the application selects only the name,
-- display name and description for them). Forced, so no connection but the owner's bypasses it. Entries are never
-- changed in place: the application role cannot UPDATE them.
ALTER TABLE custom_connectors ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE custom_connectors FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY platform_write ON custom_connectors USING (cairn_platform_context()) WITH CHECK (cairn_platform_context());
--> statement-breakpoint
CREATE POLICY tenant_read ON custom_connectors FOR SELECT USING (cairn_current_tenant() IS NOT NULL);
--> statement-breakpoint
REVOKE UPDATE, TRUNCATE ON custom_connectors FROM cairn_app;
