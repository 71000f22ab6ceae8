-- Single enqueues of several tenants share one statement, one round trip and one commit (ADR 009). Each tenant's
-- jobs are still written by a statement of their own under that tenant's scope: before a group's INSERT the
-- function sets the same two transaction-local settings as withTenant (db/tenant.ts), so row-level security checks
-- every row against the group's tenant exactly as it does in a tenant transaction. SECURITY INVOKER (the default):
-- the caller's role, so its row-level security applies; nothing here is run as the owner. The caller's own settings
-- are put back at the end, so a call inside a tenant transaction leaves that transaction's scope as it was.
-- p_groups: [{ "tenant": uuid, "rows": [{ ord, id, job_type, … }] }], built by tenantGroups() in db/tenant.ts.
CREATE FUNCTION cairn_enqueue_jobs(p_groups jsonb) RETURNS SETOF jobs
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = public, pg_temp AS $$
DECLARE
  v_group jsonb;
  v_tenant_before text := current_setting('app.tenant_id', true);
  v_platform_before text := current_setting('app.platform', true);
BEGIN
  FOR v_group IN SELECT g FROM jsonb_array_elements(p_groups) AS g LOOP
    PERFORM set_config('app.tenant_id', (v_group->>'tenant')::uuid::text, true), set_config('app.platform', '', true);
    RETURN QUERY
      INSERT INTO jobs (id, tenant_id, job_type, requested_by, source_id, run_id, payload, scope, policy_bindings, credential_ref_id,
                        trace_id, idempotency_key, priority, max_attempts, time_budget_seconds, run_after)
      SELECT u.id, (v_group->>'tenant')::uuid, u.job_type, u.requested_by, u.source_id, u.run_id, u.payload, u.scope, u.policy_bindings,
             u.credential_ref_id, u.trace_id, u.idempotency_key, u.priority, u.max_attempts, u.time_budget_seconds, u.run_after
      FROM jsonb_to_recordset(v_group->'rows') AS u(ord int, id uuid, job_type text, requested_by text, source_id uuid,
        run_id uuid, payload jsonb, scope jsonb, policy_bindings jsonb, credential_ref_id uuid, trace_id text, idempotency_key text,
        priority int, max_attempts int, time_budget_seconds int, run_after timestamptz)
      ORDER BY u.ord
      ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
      RETURNING *;
  END LOOP;
  PERFORM set_config('app.tenant_id', coalesce(v_tenant_before, ''), true), set_config('app.platform', coalesce(v_platform_before, ''), true);
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_enqueue_jobs(jsonb) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_enqueue_jobs(jsonb) TO cairn_app;
