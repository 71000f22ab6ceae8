-- Row-level security on every control-plane tenant table (the same policy as the identity tables).
--> statement-breakpoint
ALTER TABLE credential_refs ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE credential_refs FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON credential_refs USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
ALTER TABLE sources ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE sources FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON sources USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
ALTER TABLE schedules ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE schedules FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON schedules USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
ALTER TABLE schedule_ticks ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE schedule_ticks FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON schedule_ticks USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
ALTER TABLE runs ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE runs FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON runs USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON jobs USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
ALTER TABLE job_logs ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE job_logs FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON job_logs USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
--> statement-breakpoint
ALTER TABLE evidence ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE evidence FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON evidence USING (tenant_id = cairn_current_tenant()) WITH CHECK (tenant_id = cairn_current_tenant());
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
CREATE OR REPLACE FUNCTION cairn_evidence_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'evidence is immutable: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
--> statement-breakpoint
CREATE TRIGGER evidence_immutable BEFORE UPDATE OR DELETE ON evidence FOR EACH ROW EXECUTE FUNCTION cairn_evidence_immutable();
--> statement-breakpoint
-- The queue. All of its cross-tenant SQL lives here, as SECURITY DEFINER functions: workers serve every tenant,
-- so claiming, lease renewal, batch completion and reaping cannot run under one tenant's row-level security.
-- Everything a handler does with a job's data runs in that job's tenant transaction (db/tenant.ts).

-- Claim up to p_limit ready jobs, fairly across tenants: every tenant with ready work gets a share of the batch
-- (round-robin by position), so one tenant's flood cannot starve another's single job. Within a tenant: priority,
-- then readiness time. SKIP LOCKED lets any number of workers claim concurrently without waiting on each other.
CREATE OR REPLACE FUNCTION cairn_queue_claim(p_worker text, p_limit int, p_lease_seconds int, p_types text[] DEFAULT NULL, p_tenants uuid[] DEFAULT NULL)
RETURNS SETOF jobs LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH RECURSIVE ready(tenant_id) AS (
    (SELECT j.tenant_id FROM jobs j WHERE j.status = 'queued' ORDER BY j.tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT j.tenant_id FROM jobs j WHERE j.status = 'queued' AND j.tenant_id > r.tenant_id ORDER BY j.tenant_id LIMIT 1)
    FROM ready r WHERE r.tenant_id IS NOT NULL
  ),
  tenants_ready AS (
    SELECT tenant_id FROM ready WHERE tenant_id IS NOT NULL AND (p_tenants IS NULL OR tenant_id = ANY (p_tenants))
  ),
  share AS (
    SELECT greatest(1, ceil(p_limit::numeric / greatest(1, (SELECT count(*) FROM tenants_ready))))::int AS n
  ),
  picked AS (
    SELECT c.id FROM tenants_ready t
    CROSS JOIN LATERAL (
      SELECT x.id, row_number() OVER () AS rn FROM (
        SELECT j.id FROM jobs j
        WHERE j.tenant_id = t.tenant_id AND j.status = 'queued' AND j.run_after <= now()
          AND (p_types IS NULL OR j.job_type = ANY (p_types))
        ORDER BY j.priority DESC, j.run_after
        LIMIT (SELECT n FROM share)
        FOR UPDATE SKIP LOCKED
      ) x
    ) c
    ORDER BY c.rn
    LIMIT p_limit
  )
  UPDATE jobs j SET status = 'running', attempts = j.attempts + 1, lease_owner = p_worker,
    lease_expires_at = now() + make_interval(secs => p_lease_seconds), started_at = coalesce(j.started_at, now())
  FROM picked WHERE j.id = picked.id
  RETURNING j.*
$$;
--> statement-breakpoint
-- Extend the leases this worker still holds (on the database clock); returns the ids it still owns.
CREATE OR REPLACE FUNCTION cairn_queue_renew(p_worker text, p_ids uuid[], p_lease_seconds int)
RETURNS TABLE (id uuid, cancel_requested boolean) LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  UPDATE jobs j SET lease_expires_at = now() + make_interval(secs => p_lease_seconds)
  WHERE j.id = ANY (p_ids) AND j.lease_owner = p_worker AND j.status = 'running'
  RETURNING j.id, j.cancel_requested
$$;
--> statement-breakpoint
-- Mark jobs this worker still owns as succeeded (batched); a job whose lease was lost is not touched.
CREATE OR REPLACE FUNCTION cairn_queue_complete(p_worker text, p_ids uuid[])
RETURNS SETOF uuid LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  UPDATE jobs j SET status = 'succeeded', finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
  WHERE j.id = ANY (p_ids) AND j.lease_owner = p_worker AND j.status = 'running'
  RETURNING j.id
$$;
--> statement-breakpoint
-- A failed attempt: retry after p_retry_seconds while attempts remain, otherwise end in p_final_status.
CREATE OR REPLACE FUNCTION cairn_queue_fail(p_worker text, p_id uuid, p_error text, p_retry_seconds int, p_final_status text)
RETURNS TABLE (id uuid, tenant_id uuid, run_id uuid, status text, attempts int) LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  UPDATE jobs j SET
    status = CASE WHEN p_retry_seconds IS NOT NULL AND j.attempts < j.max_attempts THEN 'queued' ELSE p_final_status END,
    run_after = CASE WHEN p_retry_seconds IS NOT NULL AND j.attempts < j.max_attempts THEN now() + make_interval(secs => p_retry_seconds) ELSE j.run_after END,
    finished_at = CASE WHEN p_retry_seconds IS NOT NULL AND j.attempts < j.max_attempts THEN NULL ELSE now() END,
    last_error = left(p_error, 4000), lease_owner = NULL, lease_expires_at = NULL
  WHERE j.id = p_id AND j.lease_owner = p_worker AND j.status = 'running'
  RETURNING j.id, j.tenant_id, j.run_id, j.status, j.attempts
$$;
--> statement-breakpoint
-- Give back leases on shutdown without spending an attempt.
CREATE OR REPLACE FUNCTION cairn_queue_release(p_worker text, p_ids uuid[])
RETURNS SETOF uuid LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  UPDATE jobs j SET status = 'queued', attempts = greatest(0, j.attempts - 1), lease_owner = NULL, lease_expires_at = NULL, run_after = now()
  WHERE j.id = ANY (p_ids) AND j.lease_owner = p_worker AND j.status = 'running'
  RETURNING j.id
$$;
--> statement-breakpoint
-- Expired leases (a worker died or stalled): requeue while attempts remain, else time the job out.
CREATE OR REPLACE FUNCTION cairn_queue_reap(p_limit int)
RETURNS TABLE (id uuid, tenant_id uuid, run_id uuid, status text, attempts int, max_attempts int, lease_owner text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH expired AS (
    SELECT j.id, j.lease_owner AS owner FROM jobs j
    WHERE j.status = 'running' AND j.lease_expires_at < now()
    ORDER BY j.lease_expires_at LIMIT p_limit FOR UPDATE SKIP LOCKED
  )
  UPDATE jobs j SET
    status = CASE WHEN j.attempts < j.max_attempts THEN 'queued' ELSE 'timed_out' END,
    run_after = now(),
    finished_at = CASE WHEN j.attempts < j.max_attempts THEN NULL ELSE now() END,
    last_error = 'lease expired: worker ' || coalesce(expired.owner, '?') || ' stopped renewing it (attempt ' || j.attempts || ' of ' || j.max_attempts || ')',
    lease_owner = NULL, lease_expires_at = NULL
  FROM expired WHERE j.id = expired.id
  RETURNING j.id, j.tenant_id, j.run_id, j.status, j.attempts, j.max_attempts, expired.owner
$$;
--> statement-breakpoint
-- Read-only facts a worker needs to re-check authorization at claim time (source still active, ref still there).
CREATE OR REPLACE FUNCTION cairn_queue_job_context(p_id uuid)
RETURNS TABLE (tenant_exists boolean, source_status text, source_deleted boolean, credential_ref_exists boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM tenants t WHERE t.id = j.tenant_id),
         s.status, s.deleted_at IS NOT NULL,
         (j.credential_ref_id IS NULL OR EXISTS (SELECT 1 FROM credential_refs c WHERE c.id = j.credential_ref_id AND c.tenant_id = j.tenant_id))
  FROM jobs j LEFT JOIN sources s ON s.id = j.source_id AND s.tenant_id = j.tenant_id WHERE j.id = p_id
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_queue_claim(text, int, int, text[], uuid[]) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_queue_claim(text, int, int, text[], uuid[]) TO cairn_app;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_queue_renew(text, uuid[], int) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_queue_renew(text, uuid[], int) TO cairn_app;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_queue_complete(text, uuid[]) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_queue_complete(text, uuid[]) TO cairn_app;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_queue_fail(text, uuid, text, int, text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_queue_fail(text, uuid, text, int, text) TO cairn_app;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_queue_release(text, uuid[]) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_queue_release(text, uuid[]) TO cairn_app;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_queue_reap(int) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_queue_reap(int) TO cairn_app;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_queue_job_context(uuid) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_queue_job_context(uuid) TO cairn_app;
