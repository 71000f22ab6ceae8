-- The fabric's tables are platform-scoped: only a platform transaction (db/tenant.ts withPlatform) may read or
-- write them, so a tenant transaction that forgets a filter sees nothing. RLS is enabled, not forced: the owner's
-- SECURITY DEFINER functions below read them on a tenant's behalf and return only that tenant's safe projection.
ALTER TABLE clusters ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY platform_only ON clusters USING (cairn_platform_context()) WITH CHECK (cairn_platform_context());
--> statement-breakpoint
ALTER TABLE cluster_cas ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY platform_only ON cluster_cas USING (cairn_platform_context()) WITH CHECK (cairn_platform_context());
--> statement-breakpoint
ALTER TABLE node_groups ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY platform_only ON node_groups USING (cairn_platform_context()) WITH CHECK (cairn_platform_context());
--> statement-breakpoint
ALTER TABLE cluster_memberships ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY platform_only ON cluster_memberships USING (cairn_platform_context()) WITH CHECK (cairn_platform_context());
--> statement-breakpoint
ALTER TABLE node_join_tokens ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY platform_only ON node_join_tokens USING (cairn_platform_context()) WITH CHECK (cairn_platform_context());
--> statement-breakpoint
ALTER TABLE node_join_requests ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY platform_only ON node_join_requests USING (cairn_platform_context()) WITH CHECK (cairn_platform_context());
--> statement-breakpoint
ALTER TABLE node_identities ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY platform_only ON node_identities USING (cairn_platform_context()) WITH CHECK (cairn_platform_context());
--> statement-breakpoint
ALTER TABLE node_capabilities ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY platform_only ON node_capabilities USING (cairn_platform_context()) WITH CHECK (cairn_platform_context());
--> statement-breakpoint
ALTER TABLE node_role_assignments ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY platform_only ON node_role_assignments USING (cairn_platform_context()) WITH CHECK (cairn_platform_context());
--> statement-breakpoint
ALTER TABLE node_service_instances ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY platform_only ON node_service_instances USING (cairn_platform_context()) WITH CHECK (cairn_platform_context());
--> statement-breakpoint
ALTER TABLE node_heartbeats ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY platform_only ON node_heartbeats USING (cairn_platform_context()) WITH CHECK (cairn_platform_context());
--> statement-breakpoint
ALTER TABLE agent_request_nonces ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY platform_only ON agent_request_nonces USING (cairn_platform_context()) WITH CHECK (cairn_platform_context());
--> statement-breakpoint
-- Audit-grade history is append-only for the app: heartbeat history is pruned by the owner-side function below.
REVOKE UPDATE ON node_heartbeats FROM cairn_app;
--> statement-breakpoint
-- What an organization may know about the fabric: the endpoints whose scan-worker (or other) role serves it, each
-- under an alias that is stable for this tenant and unlinkable across tenants, with a coarse status. Never node
-- names, addresses, clusters, keys, certificates or other tenants.
CREATE OR REPLACE FUNCTION cairn_fabric_tenant_endpoints()
RETURNS TABLE (endpoint text, workload text, shared boolean, status text, workload_state text, last_seen_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT DISTINCT ON (a.node_id, a.role)
    'endpoint-' || left(encode(sha256(convert_to(cairn_current_tenant()::text || ':' || a.node_id::text, 'UTF8')), 'hex'), 10),
    a.role,
    a.tenant_id IS NULL,
    CASE
      WHEN m.status IS DISTINCT FROM 'active' THEN 'unavailable'
      WHEN n.last_heartbeat_at < now() - interval '90 seconds' THEN 'offline'
      WHEN n.status = 'degraded' THEN 'degraded'
      ELSE 'healthy'
    END,
    coalesce(s.reported_state, 'unknown'),
    n.last_heartbeat_at
  FROM node_role_assignments a
  JOIN nodes n ON n.id = a.node_id
  LEFT JOIN cluster_memberships m ON m.cluster_id = a.cluster_id AND m.node_id = a.node_id
  LEFT JOIN node_service_instances s ON s.cluster_id = a.cluster_id AND s.node_id = a.node_id AND s.service_type = a.role
  WHERE cairn_current_tenant() IS NOT NULL AND a.status = 'active' AND (a.tenant_id = cairn_current_tenant() OR a.tenant_id IS NULL)
  ORDER BY a.node_id, a.role, a.tenant_id NULLS LAST
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_fabric_tenant_endpoints() FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_fabric_tenant_endpoints() TO cairn_app;
