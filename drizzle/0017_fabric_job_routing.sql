-- Job placement for the fabric. An organization whose scans must run inside its own network has a scan-worker role
-- assigned to a node for it specifically (node_role_assignments.tenant_id = that organization): its jobs of the
-- role's job types are then claimed only by nodes (lease owners `node:<id>`), never by the control plane's own
-- workers, which would scan the wrong network. Assignments to every organization (tenant_id NULL) add capacity and
-- reserve nothing. The claim below is the queue's claim (drizzle/0010_queue_hot_table_functions.sql) with that one
-- condition added: `reserved` per ready tenant, and the job-type test against it.
CREATE OR REPLACE FUNCTION cairn_queue_claim(p_worker text, p_limit int, p_lease_seconds int, p_types text[] DEFAULT NULL, p_tenants uuid[] DEFAULT NULL)
RETURNS SETOF jobs LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
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
  SELECT claimed.* FROM claimed JOIN picked ON picked.job_id = claimed.id ORDER BY picked.ord
$$;
