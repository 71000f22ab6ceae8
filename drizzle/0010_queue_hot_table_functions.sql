-- The hot queue table (job_queue, created in 0009): claims, lease renewals and the reaper work on its narrow rows;
-- `jobs` stays the full record and the one source of truth for a job's status, attempts, lease and times.
--
-- Why: a job used to be claimed and completed by two updates of its wide `jobs` row, each writing an entry in
-- five indexes (status and lease columns were in partial-index predicates, so neither update could be HOT). Now
-- `jobs` has no index on any column a state change touches, so those updates are HOT (no index writes; the table
-- keeps free space on each page for them), and the claim index lives on a table of seven small columns whose rows
-- are deleted when the job finishes.
--
-- Lock order, everywhere: job_queue row first, then the jobs row. Code outside these functions never touches
-- job_queue: a person cancelling a queued job only updates `jobs`, and the next claim that picks the job drops its
-- stale queue row (the claim only takes jobs whose record still says `queued`).
ALTER TABLE jobs SET (fillfactor = 70);
--> statement-breakpoint
REVOKE ALL ON job_queue FROM cairn_app;
--> statement-breakpoint
ALTER TABLE job_queue ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
-- No policy: the application role has no access at all (the queue's functions run as the owner).
INSERT INTO job_queue (job_id, tenant_id, job_type, priority, run_after, lease_owner, lease_expires_at)
SELECT id, tenant_id, job_type, priority, run_after, lease_owner, lease_expires_at FROM jobs WHERE status IN ('queued', 'running');
--> statement-breakpoint
-- Enqueue: every inserted queued job gets its queue row in the same statement (one INSERT … SELECT per statement,
-- from the transition table), then the wake-up test of 0006 runs as before.
DROP TRIGGER IF EXISTS jobs_wake_workers ON jobs;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION cairn_queue_on_insert() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO job_queue (job_id, tenant_id, job_type, priority, run_after, lease_owner, lease_expires_at)
  SELECT n.id, n.tenant_id, n.job_type, n.priority, n.run_after, n.lease_owner, n.lease_expires_at
  FROM new_jobs n WHERE n.status IN ('queued', 'running');
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
CREATE TRIGGER jobs_enqueue AFTER INSERT ON jobs REFERENCING NEW TABLE AS new_jobs FOR EACH STATEMENT EXECUTE FUNCTION cairn_queue_on_insert();
--> statement-breakpoint
DROP FUNCTION IF EXISTS cairn_queue_wake_workers();
--> statement-breakpoint
-- Claim: the same picks as before (fair share across tenants, priority then readiness within one, SKIP LOCKED),
-- made on job_queue. A picked row whose job is no longer queued (cancelled, deleted) is dropped, not claimed.
CREATE OR REPLACE FUNCTION cairn_queue_claim(p_worker text, p_limit int, p_lease_seconds int, p_types text[] DEFAULT NULL, p_tenants uuid[] DEFAULT NULL)
RETURNS SETOF jobs LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH RECURSIVE ready(tenant_id) AS (
    (SELECT q.tenant_id FROM job_queue q WHERE q.lease_owner IS NULL ORDER BY q.tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT q.tenant_id FROM job_queue q WHERE q.lease_owner IS NULL AND q.tenant_id > r.tenant_id ORDER BY q.tenant_id LIMIT 1)
    FROM ready r WHERE r.tenant_id IS NOT NULL
  ),
  tenants_ready AS (
    SELECT tenant_id FROM ready WHERE tenant_id IS NOT NULL AND (p_tenants IS NULL OR tenant_id = ANY (p_tenants))
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
--> statement-breakpoint
-- Extend the leases this worker still holds (on the database clock); returns the ids it still owns.
CREATE OR REPLACE FUNCTION cairn_queue_renew(p_worker text, p_ids uuid[], p_lease_seconds int)
RETURNS TABLE (id uuid, cancel_requested boolean) LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH q AS (
    UPDATE job_queue q SET lease_expires_at = now() + make_interval(secs => p_lease_seconds)
    WHERE q.job_id = ANY (p_ids) AND q.lease_owner = p_worker
    RETURNING q.job_id
  )
  UPDATE jobs j SET lease_expires_at = now() + make_interval(secs => p_lease_seconds)
  WHERE j.id = ANY (ARRAY(SELECT job_id FROM q)) AND j.lease_owner = p_worker AND j.status = 'running'
  RETURNING j.id, j.cancel_requested
$$;
--> statement-breakpoint
-- Mark jobs this worker still owns as succeeded (batched); a job whose lease was lost is not touched.
CREATE OR REPLACE FUNCTION cairn_queue_complete(p_worker text, p_ids uuid[])
RETURNS SETOF uuid LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH q AS (
    DELETE FROM job_queue q WHERE q.job_id = ANY (p_ids) AND q.lease_owner = p_worker RETURNING q.job_id
  )
  UPDATE jobs j SET status = 'succeeded', finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
  WHERE j.id = ANY (ARRAY(SELECT job_id FROM q)) AND j.lease_owner = p_worker AND j.status = 'running'
  RETURNING j.id
$$;
--> statement-breakpoint
-- The first half of a completion that commits side effects in the job's tenant transaction: gives up the queue row
-- if this worker still holds its lease (true), before the caller updates the jobs row under row-level security.
CREATE OR REPLACE FUNCTION cairn_queue_finish(p_worker text, p_id uuid)
RETURNS boolean LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH q AS (DELETE FROM job_queue q WHERE q.job_id = p_id AND q.lease_owner = p_worker RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM q)
$$;
--> statement-breakpoint
-- A failed attempt: retry after p_retry_seconds while attempts remain, otherwise end in p_final_status.
CREATE OR REPLACE FUNCTION cairn_queue_fail(p_worker text, p_id uuid, p_error text, p_retry_seconds int, p_final_status text)
RETURNS TABLE (id uuid, tenant_id uuid, run_id uuid, status text, attempts int) LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH q AS (
    SELECT q.job_id FROM job_queue q WHERE q.job_id = p_id AND q.lease_owner = p_worker FOR UPDATE
  ),
  j AS (
    UPDATE jobs j SET
      status = CASE WHEN p_retry_seconds IS NOT NULL AND j.attempts < j.max_attempts THEN 'queued' ELSE p_final_status END,
      run_after = CASE WHEN p_retry_seconds IS NOT NULL AND j.attempts < j.max_attempts THEN now() + make_interval(secs => p_retry_seconds) ELSE j.run_after END,
      finished_at = CASE WHEN p_retry_seconds IS NOT NULL AND j.attempts < j.max_attempts THEN NULL ELSE now() END,
      last_error = left(p_error, 4000), lease_owner = NULL, lease_expires_at = NULL
    WHERE j.id = p_id AND j.id IN (SELECT job_id FROM q) AND j.lease_owner = p_worker AND j.status = 'running'
    RETURNING j.id, j.tenant_id, j.run_id, j.status, j.attempts, j.run_after
  ),
  requeued AS (
    UPDATE job_queue q SET lease_owner = NULL, lease_expires_at = NULL, run_after = j.run_after
    FROM j WHERE q.job_id = j.id AND j.status = 'queued'
  ),
  ended AS (
    DELETE FROM job_queue q USING j WHERE q.job_id = j.id AND j.status <> 'queued'
  )
  SELECT j.id, j.tenant_id, j.run_id, j.status, j.attempts FROM j
$$;
--> statement-breakpoint
-- Give back leases on shutdown without spending an attempt.
CREATE OR REPLACE FUNCTION cairn_queue_release(p_worker text, p_ids uuid[])
RETURNS SETOF uuid LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH q AS (
    UPDATE job_queue q SET lease_owner = NULL, lease_expires_at = NULL, run_after = now()
    WHERE q.job_id = ANY (p_ids) AND q.lease_owner = p_worker
    RETURNING q.job_id
  )
  UPDATE jobs j SET status = 'queued', attempts = greatest(0, j.attempts - 1), lease_owner = NULL, lease_expires_at = NULL, run_after = now()
  WHERE j.id = ANY (ARRAY(SELECT job_id FROM q)) AND j.lease_owner = p_worker AND j.status = 'running'
  RETURNING j.id
$$;
--> statement-breakpoint
-- Expired leases (a worker died or stalled): requeue while attempts remain, else time the job out. Queue rows
-- whose job is not running any more are dropped.
CREATE OR REPLACE FUNCTION cairn_queue_reap(p_limit int)
RETURNS TABLE (id uuid, tenant_id uuid, run_id uuid, status text, attempts int, max_attempts int, lease_owner text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH expired AS MATERIALIZED (
    SELECT q.job_id, q.lease_owner AS owner FROM job_queue q
    WHERE q.lease_owner IS NOT NULL AND q.lease_expires_at < now()
    ORDER BY q.lease_expires_at LIMIT p_limit FOR UPDATE SKIP LOCKED
  ),
  j AS (
    UPDATE jobs j SET
      status = CASE WHEN j.attempts < j.max_attempts THEN 'queued' ELSE 'timed_out' END,
      run_after = now(),
      finished_at = CASE WHEN j.attempts < j.max_attempts THEN NULL ELSE now() END,
      last_error = 'lease expired: worker ' || coalesce(expired.owner, '?') || ' stopped renewing it (attempt ' || j.attempts || ' of ' || j.max_attempts || ')',
      lease_owner = NULL, lease_expires_at = NULL
    FROM expired WHERE j.id = expired.job_id AND j.status = 'running'
    RETURNING j.id, j.tenant_id, j.run_id, j.status, j.attempts, j.max_attempts, expired.owner AS lease_owner
  ),
  requeued AS (
    UPDATE job_queue q SET lease_owner = NULL, lease_expires_at = NULL, run_after = now()
    FROM j WHERE q.job_id = j.id AND j.status = 'queued'
  ),
  dropped AS (
    DELETE FROM job_queue q USING expired
    WHERE q.job_id = expired.job_id AND NOT EXISTS (SELECT 1 FROM j WHERE j.id = expired.job_id AND j.status = 'queued')
  )
  SELECT * FROM j
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_queue_finish(text, uuid) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_queue_finish(text, uuid) TO cairn_app;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_queue_on_insert() FROM PUBLIC;
--> statement-breakpoint
-- A worker's usual round trip: complete the jobs it finished since its last claim, then claim the next batch, in
-- one call and one transaction (its completions never contend with its own claims, and half the round trips).
CREATE OR REPLACE FUNCTION cairn_queue_complete_and_claim(p_worker text, p_done uuid[], p_limit int, p_lease_seconds int, p_types text[] DEFAULT NULL, p_tenants uuid[] DEFAULT NULL)
RETURNS SETOF jobs LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT count(*) FROM cairn_queue_complete(p_worker, p_done);
  SELECT * FROM cairn_queue_claim(p_worker, p_limit, p_lease_seconds, p_types, p_tenants);
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_queue_complete_and_claim(text, uuid[], int, int, text[], uuid[]) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_queue_complete_and_claim(text, uuid[], int, int, text[], uuid[]) TO cairn_app;
