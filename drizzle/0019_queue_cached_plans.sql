-- The queue's hot functions in PL/pgSQL, with the same statements and answers as before (0010, 0017).
--
-- Why: a LANGUAGE sql function that cannot be inlined (these are SECURITY DEFINER) is parsed and planned again on
-- every call. The claim's statement takes about half a millisecond to plan, more than claiming a job costs, so
-- every claim paid it up front. PL/pgSQL keeps each statement's plan in the session's plan cache, so a worker's
-- connection plans its claim once.
CREATE OR REPLACE FUNCTION cairn_queue_claim(p_worker text, p_limit int, p_lease_seconds int, p_types text[] DEFAULT NULL, p_tenants uuid[] DEFAULT NULL)
RETURNS SETOF jobs LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH RECURSIVE ready(tenant_id) AS (
    (SELECT q.tenant_id FROM job_queue q WHERE q.lease_owner IS NULL ORDER BY q.tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT q.tenant_id FROM job_queue q WHERE q.lease_owner IS NULL AND q.tenant_id > r.tenant_id ORDER BY q.tenant_id LIMIT 1)
    FROM ready r WHERE r.tenant_id IS NOT NULL
  ),
  tenants_ready AS (
    SELECT r.tenant_id,
      CASE WHEN p_worker LIKE 'node:%' THEN NULL ELSE (
        SELECT array_agg(DISTINCT jt) FROM node_role_assignments a CROSS JOIN LATERAL unnest(a.job_types) AS jt
        WHERE a.status = 'active' AND a.tenant_id = r.tenant_id) END AS reserved
    FROM ready r WHERE r.tenant_id IS NOT NULL AND (p_tenants IS NULL OR r.tenant_id = ANY (p_tenants))
  ),
  share AS (
    SELECT greatest(1, ceil(p_limit::numeric / greatest(1, (SELECT count(*) FROM tenants_ready))))::int AS n
  ),
  picked AS MATERIALIZED (
    SELECT c.job_id, row_number() OVER (ORDER BY c.rn) AS ord FROM tenants_ready t
    CROSS JOIN LATERAL (
      SELECT x.job_id, row_number() OVER () AS rn FROM (
        SELECT q.job_id FROM job_queue q
        WHERE q.tenant_id = t.tenant_id AND q.lease_owner IS NULL AND q.run_after <= now()
          AND (p_types IS NULL OR q.job_type = ANY (p_types))
          AND (t.reserved IS NULL OR q.job_type <> ALL (t.reserved))
        ORDER BY q.priority DESC NULLS LAST, q.run_after
        LIMIT (SELECT n FROM share)
        FOR UPDATE SKIP LOCKED
      ) x
    ) c
    ORDER BY c.rn
    LIMIT p_limit
  ),
  claimed AS (
    UPDATE jobs j SET status = 'running', attempts = j.attempts + 1, lease_owner = p_worker,
      lease_expires_at = now() + make_interval(secs => p_lease_seconds), started_at = coalesce(j.started_at, now())
    WHERE j.id = ANY (ARRAY(SELECT job_id FROM picked)) AND j.status = 'queued'
    RETURNING j.*
  ),
  leased AS (
    UPDATE job_queue q SET lease_owner = p_worker, lease_expires_at = now() + make_interval(secs => p_lease_seconds)
    WHERE q.job_id = ANY (ARRAY(SELECT id FROM claimed))
  ),
  stale AS (
    DELETE FROM job_queue q WHERE q.job_id = ANY (ARRAY(SELECT job_id FROM picked EXCEPT SELECT id FROM claimed))
  )
  SELECT claimed.* FROM claimed JOIN picked ON picked.job_id = claimed.id ORDER BY picked.ord;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION cairn_queue_complete(p_worker text, p_ids uuid[])
RETURNS SETOF uuid LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  IF cardinality(p_ids) = 0 THEN
    RETURN;
  END IF;
  RETURN QUERY
  WITH q AS (
    DELETE FROM job_queue q WHERE q.job_id = ANY (p_ids) AND q.lease_owner = p_worker RETURNING q.job_id
  )
  UPDATE jobs j SET status = 'succeeded', finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
  WHERE j.id = ANY (ARRAY(SELECT job_id FROM q)) AND j.lease_owner = p_worker AND j.status = 'running'
  RETURNING j.id;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION cairn_queue_complete_and_claim(p_worker text, p_done uuid[], p_limit int, p_lease_seconds int, p_types text[] DEFAULT NULL, p_tenants uuid[] DEFAULT NULL)
RETURNS SETOF jobs LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM cairn_queue_complete(p_worker, p_done);
  RETURN QUERY SELECT * FROM cairn_queue_claim(p_worker, p_limit, p_lease_seconds, p_types, p_tenants);
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION cairn_queue_job_facts(p_tenant uuid, p_source uuid, p_credential_ref uuid)
RETURNS TABLE (tenant_exists boolean, source_status text, source_deleted boolean, credential_ref_exists boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT EXISTS (SELECT 1 FROM tenants t WHERE t.id = p_tenant),
         s.status, s.deleted_at IS NOT NULL,
         (p_credential_ref IS NULL OR EXISTS (SELECT 1 FROM credential_refs c WHERE c.id = p_credential_ref AND c.tenant_id = p_tenant))
  FROM (SELECT 1) AS one LEFT JOIN sources s ON s.id = p_source AND s.tenant_id = p_tenant;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION cairn_queue_finish(p_worker text, p_id uuid)
RETURNS boolean LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  DELETE FROM job_queue q WHERE q.job_id = p_id AND q.lease_owner = p_worker;
  RETURN FOUND;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION cairn_queue_renew(p_worker text, p_ids uuid[], p_lease_seconds int)
RETURNS TABLE (id uuid, cancel_requested boolean) LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH q AS (
    UPDATE job_queue q SET lease_expires_at = now() + make_interval(secs => p_lease_seconds)
    WHERE q.job_id = ANY (p_ids) AND q.lease_owner = p_worker
    RETURNING q.job_id
  )
  UPDATE jobs j SET lease_expires_at = now() + make_interval(secs => p_lease_seconds)
  WHERE j.id = ANY (ARRAY(SELECT job_id FROM q)) AND j.lease_owner = p_worker AND j.status = 'running'
  RETURNING j.id, j.cancel_requested;
END
$$;
