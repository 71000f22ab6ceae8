-- Claims and batched completions commit without waiting for their WAL to reach disk (synchronous_commit off for
-- their transaction only). A claim or completion lost in a crash of PostgreSQL itself (not of a worker) puts the job
-- back to queued or running; the lease runs out and the job runs again, which is the queue's promise anyway for
-- work without committed side effects (at least once). Side effects committed with a job's completion (the
-- worker's tenant transaction), enqueues, cancellations and everything else stay synchronous: they are never lost
-- once acknowledged. The database stays consistent either way (PostgreSQL's asynchronous commit).
--
-- Why: a claim that waits for its flush waits for the disk, about a millisecond or more, which on a busy queue is
-- longer than the claim's own work; the worker's next claim waits behind it.
CREATE OR REPLACE FUNCTION cairn_queue_claim(p_worker text, p_limit int, p_lease_seconds int, p_types text[] DEFAULT NULL, p_tenants uuid[] DEFAULT NULL)
RETURNS SETOF jobs LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
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
  PERFORM set_config('synchronous_commit', 'off', true);
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
