-- A claim takes a job out of the hot queue (ADR 007): it deletes the job's job_queue row and records the lease on
-- the job itself (one HOT update of `jobs`, which it needed anyway to say `running`). The reaper finds expired
-- leases through job_leases, one row per claim listing the jobs it took, instead of a lease row per job. Completing
-- a job is then a single HOT update of its record.
--
-- Why: a claim used to update the job's job_queue row (a non-HOT update writing two index entries) on top of the
-- record, and completion deleted that row too; measured on a drain of no-op jobs that was 40% of the database's work
-- per job.
--
-- Lock order, everywhere: job_queue or job_leases rows first, then jobs rows. Rows inserted into job_queue (a
-- requeue) are new rows, taken after the job's record. Code outside these functions never touches job_queue or
-- job_leases.
-- Room on every page of `jobs` for a new version of each of its rows: a claim updates a batch of jobs, often all
-- the rows of a page, in one statement, and a HOT update needs the new version on the same page (with 70% fill,
-- about half of a batch's updates moved to another page and wrote an entry in every index). Pages written before
-- this keep their fill.
ALTER TABLE jobs SET (fillfactor = 50);
--> statement-breakpoint
INSERT INTO job_leases (lease_owner, job_ids, expires_at)
SELECT j.lease_owner, array_agg(j.id), max(j.lease_expires_at) FROM jobs j
WHERE j.status = 'running' AND j.lease_owner IS NOT NULL GROUP BY j.lease_owner;
--> statement-breakpoint
DELETE FROM job_queue q USING jobs j WHERE j.id = q.job_id AND j.status <> 'queued';
--> statement-breakpoint
REVOKE ALL ON job_leases FROM cairn_app;
--> statement-breakpoint
ALTER TABLE job_leases ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION cairn_queue_on_insert() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO job_queue (job_id, tenant_id, job_type, priority, run_after)
  SELECT n.id, n.tenant_id, n.job_type, n.priority, n.run_after FROM new_jobs n WHERE n.status = 'queued';
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock_shared(7204118320);
  IF (SELECT CASE WHEN pg_try_advisory_lock(7204118321) THEN NOT pg_advisory_unlock(7204118321) ELSE true END) THEN
    PERFORM pg_notify('cairn_jobs', '');
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP FUNCTION IF EXISTS cairn_queue_complete_and_claim(text, uuid[], int, int, text[], uuid[]);
--> statement-breakpoint
DROP FUNCTION IF EXISTS cairn_queue_claim(text, int, int, text[], uuid[]);
--> statement-breakpoint
DROP FUNCTION IF EXISTS cairn_queue_complete(text, uuid[]);
--> statement-breakpoint
DROP FUNCTION IF EXISTS cairn_queue_job_facts(uuid, uuid, uuid);
--> statement-breakpoint
DROP FUNCTION IF EXISTS cairn_queue_job_context(uuid);
--> statement-breakpoint
-- Complete jobs finished without side effects to commit, and drop the worker's claim rows it reports done (every
-- job of that claim has left the worker: completed here or before, failed, or given back). Commits asynchronously
-- (0021's reasoning: a completion lost in a PostgreSQL crash re-runs the job when its lease ends).
CREATE FUNCTION cairn_queue_complete(p_worker text, p_ids uuid[], p_leases bigint[] DEFAULT '{}')
RETURNS SETOF uuid LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  IF cardinality(p_leases) > 0 THEN
    DELETE FROM job_leases l WHERE l.id = ANY (p_leases) AND l.lease_owner = p_worker;
  END IF;
  IF cardinality(p_ids) = 0 THEN
    RETURN;
  END IF;
  RETURN QUERY
  UPDATE jobs j SET status = 'succeeded', finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
  WHERE j.id = ANY (p_ids) AND j.lease_owner = p_worker AND j.status = 'running'
  RETURNING j.id;
END
$$;
--> statement-breakpoint
-- Claim: completes what the caller reports done (p_done, p_done_leases) in the same transaction, then picks as
-- before (fair share across tenants, priority then readiness within one, SKIP LOCKED, the fabric's reserved job
-- types of 0017), deletes the picked queue rows, marks the jobs running under the caller's lease and records the
-- claim in job_leases. Each row also carries what the worker re-checks before running the job (tenant, source,
-- credential reference: read once per distinct combination) and the claim's lease row id.
--
-- Bitmap scans are off for the claim: a bitmap scan of the claim index reads every ready row of a tenant and sorts
-- them, where an ordered index scan stops after the share it needs; with statistics taken while the queue was small
-- the planner picks the bitmap and a claim's cost grows with the queue.
CREATE FUNCTION cairn_queue_claim(p_worker text, p_limit int, p_lease_seconds int, p_types text[] DEFAULT NULL, p_tenants uuid[] DEFAULT NULL,
  p_done uuid[] DEFAULT '{}', p_done_leases bigint[] DEFAULT '{}')
RETURNS TABLE (id uuid, tenant_id uuid, source_id uuid, run_id uuid, job_type text, status text, priority int, payload jsonb, scope jsonb,
  policy_bindings jsonb, credential_ref_id uuid, requested_by text, trace_id text, idempotency_key text, attempts int, max_attempts int,
  run_after timestamptz, lease_owner text, lease_expires_at timestamptz, time_budget_seconds int, cancel_requested boolean, last_error text,
  result jsonb, created_at timestamptz, started_at timestamptz, finished_at timestamptz, lease_id bigint,
  fact_tenant_exists boolean, fact_source_status text, fact_source_deleted boolean, fact_credential_ref_exists boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp SET enable_bitmapscan = off AS $$
#variable_conflict use_column
DECLARE
  v_lease bigint := nextval('job_leases_id_seq');
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  IF cardinality(p_done) > 0 OR cardinality(p_done_leases) > 0 THEN
    PERFORM cairn_queue_complete(p_worker, p_done, p_done_leases);
  END IF;
  RETURN QUERY
  WITH RECURSIVE ready(tenant_id) AS (
    (SELECT q.tenant_id FROM job_queue q ORDER BY q.tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT q.tenant_id FROM job_queue q WHERE q.tenant_id > r.tenant_id ORDER BY q.tenant_id LIMIT 1)
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
        WHERE q.tenant_id = t.tenant_id AND q.run_after <= now()
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
  popped AS (
    DELETE FROM job_queue q USING picked p WHERE q.job_id = p.job_id RETURNING q.job_id, p.ord
  ),
  claimed AS MATERIALIZED (
    UPDATE jobs j SET status = 'running', attempts = j.attempts + 1, lease_owner = p_worker,
      lease_expires_at = now() + make_interval(secs => p_lease_seconds), started_at = coalesce(j.started_at, now())
    FROM popped p WHERE j.id = p.job_id AND j.status = 'queued'
    RETURNING j.*, p.ord
  ),
  leased AS (
    INSERT INTO job_leases (id, lease_owner, job_ids, expires_at)
    SELECT v_lease, p_worker, array_agg(c.id), now() + make_interval(secs => p_lease_seconds) FROM claimed c HAVING count(*) > 0
  ),
  keys AS (
    SELECT DISTINCT c.tenant_id, c.source_id, c.credential_ref_id FROM claimed c
  ),
  facts AS MATERIALIZED (
    SELECT k.tenant_id, k.source_id, k.credential_ref_id,
      EXISTS (SELECT 1 FROM tenants t WHERE t.id = k.tenant_id) AS tenant_exists,
      s.status AS source_status, s.deleted_at IS NOT NULL AS source_deleted,
      (k.credential_ref_id IS NULL OR EXISTS (SELECT 1 FROM credential_refs cr WHERE cr.id = k.credential_ref_id AND cr.tenant_id = k.tenant_id)) AS credential_ref_exists
    FROM keys k LEFT JOIN sources s ON s.id = k.source_id AND s.tenant_id = k.tenant_id
  )
  SELECT c.id, c.tenant_id, c.source_id, c.run_id, c.job_type, c.status, c.priority, c.payload, c.scope, c.policy_bindings, c.credential_ref_id,
    c.requested_by, c.trace_id, c.idempotency_key, c.attempts, c.max_attempts, c.run_after, c.lease_owner, c.lease_expires_at,
    c.time_budget_seconds, c.cancel_requested, c.last_error, c.result, c.created_at, c.started_at, c.finished_at, v_lease,
    f.tenant_exists, f.source_status, f.source_deleted, f.credential_ref_exists
  FROM claimed c JOIN facts f ON f.tenant_id = c.tenant_id AND f.source_id IS NOT DISTINCT FROM c.source_id
    AND f.credential_ref_id IS NOT DISTINCT FROM c.credential_ref_id
  ORDER BY c.ord;
END
$$;
--> statement-breakpoint
-- Side effects and completion in the caller's tenant transaction: lock the job's record while the lease is ours
-- (the caller then updates it); false when the lease is gone.
CREATE OR REPLACE FUNCTION cairn_queue_finish(p_worker text, p_id uuid)
RETURNS boolean LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM 1 FROM jobs j WHERE j.id = p_id AND j.lease_owner = p_worker AND j.status = 'running' FOR UPDATE;
  RETURN FOUND;
END
$$;
--> statement-breakpoint
-- Extend the leases the caller still holds (the claim rows first, then the records); answers which jobs are still
-- the caller's and whether a person asked to cancel them.
CREATE OR REPLACE FUNCTION cairn_queue_renew(p_worker text, p_ids uuid[], p_lease_seconds int)
RETURNS TABLE (id uuid, cancel_requested boolean) LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  UPDATE job_leases l SET expires_at = greatest(l.expires_at, now() + make_interval(secs => p_lease_seconds))
  WHERE l.lease_owner = p_worker AND l.job_ids && p_ids;
  RETURN QUERY
  UPDATE jobs j SET lease_expires_at = now() + make_interval(secs => p_lease_seconds)
  WHERE j.id = ANY (p_ids) AND j.lease_owner = p_worker AND j.status = 'running'
  RETURNING j.id, j.cancel_requested;
END
$$;
--> statement-breakpoint
-- A failed attempt: back to the queue after p_retry_seconds while attempts remain, else the final status.
CREATE OR REPLACE FUNCTION cairn_queue_fail(p_worker text, p_id uuid, p_error text, p_retry_seconds int, p_final_status text)
RETURNS TABLE (id uuid, tenant_id uuid, run_id uuid, status text, attempts int) LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH j AS (
    UPDATE jobs j SET
      status = CASE WHEN p_retry_seconds IS NOT NULL AND j.attempts < j.max_attempts THEN 'queued' ELSE p_final_status END,
      run_after = CASE WHEN p_retry_seconds IS NOT NULL AND j.attempts < j.max_attempts THEN now() + make_interval(secs => p_retry_seconds) ELSE j.run_after END,
      finished_at = CASE WHEN p_retry_seconds IS NOT NULL AND j.attempts < j.max_attempts THEN NULL ELSE now() END,
      last_error = left(p_error, 4000), lease_owner = NULL, lease_expires_at = NULL
    WHERE j.id = p_id AND j.lease_owner = p_worker AND j.status = 'running'
    RETURNING j.id, j.tenant_id, j.run_id, j.status, j.attempts, j.job_type, j.priority, j.run_after
  ),
  requeued AS (
    INSERT INTO job_queue (job_id, tenant_id, job_type, priority, run_after)
    SELECT j.id, j.tenant_id, j.job_type, j.priority, j.run_after FROM j WHERE j.status = 'queued'
    ON CONFLICT (job_id) DO UPDATE SET run_after = EXCLUDED.run_after
  )
  SELECT j.id, j.tenant_id, j.run_id, j.status, j.attempts FROM j
$$;
--> statement-breakpoint
-- Give back leases on shutdown without spending an attempt.
CREATE OR REPLACE FUNCTION cairn_queue_release(p_worker text, p_ids uuid[])
RETURNS SETOF uuid LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH j AS (
    UPDATE jobs j SET status = 'queued', attempts = greatest(0, j.attempts - 1), lease_owner = NULL, lease_expires_at = NULL, run_after = now()
    WHERE j.id = ANY (p_ids) AND j.lease_owner = p_worker AND j.status = 'running'
    RETURNING j.id, j.tenant_id, j.job_type, j.priority, j.run_after
  ),
  requeued AS (
    INSERT INTO job_queue (job_id, tenant_id, job_type, priority, run_after)
    SELECT j.id, j.tenant_id, j.job_type, j.priority, j.run_after FROM j
    ON CONFLICT (job_id) DO UPDATE SET run_after = EXCLUDED.run_after
  )
  SELECT j.id FROM j
$$;
--> statement-breakpoint
-- Expired leases (a worker died or stalled): claim rows past their expiry, and in them the jobs still running under
-- that owner with an expired lease. Requeue while attempts remain, else time the job out. A claim row goes once
-- nothing runs under it any more; one with a job whose lease was renewed meanwhile waits for that lease.
CREATE OR REPLACE FUNCTION cairn_queue_reap(p_limit int)
RETURNS TABLE (id uuid, tenant_id uuid, run_id uuid, status text, attempts int, max_attempts int, lease_owner text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH expired AS MATERIALIZED (
    SELECT l.id AS lease_id, l.lease_owner AS owner, l.job_ids FROM job_leases l
    WHERE l.expires_at < now() ORDER BY l.expires_at LIMIT p_limit FOR UPDATE SKIP LOCKED
  ),
  members AS MATERIALIZED (
    SELECT DISTINCT e.owner, u.job_id FROM expired e CROSS JOIN LATERAL unnest(e.job_ids) AS u(job_id)
  ),
  j AS (
    UPDATE jobs j SET
      status = CASE WHEN j.attempts < j.max_attempts THEN 'queued' ELSE 'timed_out' END,
      run_after = now(),
      finished_at = CASE WHEN j.attempts < j.max_attempts THEN NULL ELSE now() END,
      last_error = 'lease expired: worker ' || m.owner || ' stopped renewing it (attempt ' || j.attempts || ' of ' || j.max_attempts || ')',
      lease_owner = NULL, lease_expires_at = NULL
    FROM members m
    WHERE j.id = m.job_id AND j.lease_owner = m.owner AND j.status = 'running' AND j.lease_expires_at < now()
    RETURNING j.id, j.tenant_id, j.run_id, j.status, j.attempts, j.max_attempts, m.owner AS lease_owner, j.job_type, j.priority, j.run_after
  ),
  requeued AS (
    INSERT INTO job_queue (job_id, tenant_id, job_type, priority, run_after)
    SELECT j.id, j.tenant_id, j.job_type, j.priority, j.run_after FROM j WHERE j.status = 'queued'
    ON CONFLICT (job_id) DO UPDATE SET run_after = EXCLUDED.run_after
  ),
  live AS MATERIALIZED (
    SELECT e.lease_id, max(x.lease_expires_at) AS until FROM expired e
    JOIN jobs x ON x.id = ANY (e.job_ids) AND x.lease_owner = e.owner AND x.status = 'running' AND x.lease_expires_at >= now()
    GROUP BY e.lease_id
  ),
  kept AS (
    UPDATE job_leases l SET expires_at = live.until FROM live WHERE l.id = live.lease_id
  ),
  dropped AS (
    DELETE FROM job_leases l USING expired e WHERE l.id = e.lease_id AND NOT EXISTS (SELECT 1 FROM live WHERE live.lease_id = e.lease_id)
  )
  SELECT j.id, j.tenant_id, j.run_id, j.status, j.attempts, j.max_attempts, j.lease_owner FROM j
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_queue_claim(text, int, int, text[], uuid[], uuid[], bigint[]) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_queue_claim(text, int, int, text[], uuid[], uuid[], bigint[]) TO cairn_app;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_queue_complete(text, uuid[], bigint[]) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_queue_complete(text, uuid[], bigint[]) TO cairn_app;
--> statement-breakpoint
REVOKE ALL ON SEQUENCE job_leases_id_seq FROM cairn_app;
