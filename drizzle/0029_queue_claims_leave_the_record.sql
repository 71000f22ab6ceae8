-- A claim no longer writes the job's record (ADR 012). It takes the jobs out of job_queue and lists them in its
-- job_leases row, as before, but leaves each record `queued`; the worker marks a job `running` (cairn_queue_start)
-- when the job belongs to a run, runs longer than a moment, fails, or commits an outcome. A job that finishes
-- quickly without any of those goes from `queued` to `succeeded` in its completion: one HOT update of the record
-- per job instead of two. Measured on a drain of no-op jobs, PostgreSQL's CPU per job fell by about a quarter.
--
-- A claimed job that was not started is held only by its claim row. Its fencing token is the record's attempt
-- count at claim time: every write to an unstarted job (start, completion, release, the reaper) requires the record
-- still `queued` with that count, and the reaper's requeue of an unstarted job counts the attempt, so a worker that
-- lost the job (its claim row expired) can no longer start, complete or release it. A person cancelling it sees a
-- queued job and cancels it at once; the worker's next write for it finds it cancelled and lets it go.
--
-- Lock order stays: job_queue or job_leases rows first, then jobs rows.
--
-- JIT compilation is off for every queue function. On PostgreSQL 17 and older a plan that uses a disabled path
-- costs 10^10 more (the claim turns nested loops off, and its LATERAL picks can only be nested loops), far above
-- jit_above_cost, so on a server built with JIT (Debian's, most managed ones) every claim compiled its plan with
-- full optimization: about 0.8 s per claim, measured on PostgreSQL 15, whatever its size. PostgreSQL 18 counts
-- disabled paths apart from their cost, which is why the embedded server never showed it.
DROP FUNCTION cairn_queue_claim(text, int, int, text[], uuid[], uuid[], bigint[]);
--> statement-breakpoint
DROP FUNCTION cairn_queue_complete(text, uuid[], bigint[]);
--> statement-breakpoint
DROP FUNCTION cairn_queue_release(text, uuid[]);
--> statement-breakpoint
-- Complete jobs finished without side effects to commit: started ones (running under this worker's lease) and
-- unstarted ones (still `queued`, with the attempt count they were claimed at), and drop the claim rows the worker
-- reports done.
--
-- How the records are found, here and in the other functions that take fences: by an id array through the primary
-- key, one statement per distinct fence (nearly always one), never by joining an unnested array to `jobs`. Such a
-- join was planned as a nested loop over a sequential scan of `jobs` whenever the statistics said few rows were
-- `queued` (taken while every job had finished), while the claimed jobs look queued: measured, a two-process drain
-- fell to a sixth of its speed. Sequential scans of `jobs` are off here for the same reason: an id array is always
-- looked up through the index.
CREATE FUNCTION cairn_queue_complete(p_worker text, p_ids uuid[], p_leases bigint[] DEFAULT '{}', p_unstarted uuid[] DEFAULT '{}', p_fences int[] DEFAULT '{}')
RETURNS int LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp SET enable_seqscan = off SET jit = off AS $$
#variable_conflict use_column
DECLARE
  v_done int := 0;
  v_more int;
  v_group record;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  IF cardinality(p_leases) > 0 THEN
    DELETE FROM job_leases l WHERE l.id = ANY (p_leases) AND l.lease_owner = p_worker;
  END IF;
  IF cardinality(p_ids) > 0 THEN
    UPDATE jobs j SET status = 'succeeded', finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
    WHERE j.id = ANY (p_ids) AND j.lease_owner = p_worker AND j.status = 'running';
    GET DIAGNOSTICS v_done = ROW_COUNT;
  END IF;
  FOR v_group IN SELECT u.fence, array_agg(u.id) AS ids FROM unnest(p_unstarted, p_fences) AS u(id, fence) GROUP BY u.fence LOOP
    UPDATE jobs j SET status = 'succeeded', attempts = j.attempts + 1, started_at = coalesce(j.started_at, now()), finished_at = now()
    WHERE j.id = ANY (v_group.ids) AND j.status = 'queued' AND j.attempts = v_group.fence;
    GET DIAGNOSTICS v_more = ROW_COUNT;
    v_done := v_done + v_more;
  END LOOP;
  RETURN v_done;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_queue_complete(text, uuid[], bigint[], uuid[], int[]) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_queue_complete(text, uuid[], bigint[], uuid[], int[]) TO cairn_app;
--> statement-breakpoint
-- Start claimed jobs: mark each `running` under this worker's lease, spending its attempt, if its record is still
-- `queued` at the attempt count it was claimed at. Answers every job asked about: whether it started, and the
-- status it had (a job that did not start was cancelled, or requeued by the reaper after its claim row expired).
CREATE FUNCTION cairn_queue_start(p_worker text, p_ids uuid[], p_fences int[], p_lease_seconds int)
RETURNS TABLE (id uuid, started boolean, status text, cancel_requested boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp SET enable_seqscan = off SET jit = off AS $$
#variable_conflict use_column
DECLARE
  v_started int := 0;
  v_more int;
  v_group record;
BEGIN
  FOR v_group IN SELECT u.fence, array_agg(u.id) AS ids FROM unnest(p_ids, p_fences) AS u(id, fence) GROUP BY u.fence LOOP
    RETURN QUERY
    WITH s AS (
      UPDATE jobs j SET status = 'running', attempts = j.attempts + 1, lease_owner = p_worker,
        lease_expires_at = now() + make_interval(secs => p_lease_seconds), started_at = coalesce(j.started_at, now())
      WHERE j.id = ANY (v_group.ids) AND j.status = 'queued' AND j.attempts = v_group.fence
      RETURNING j.id, j.cancel_requested
    )
    SELECT s.id, true, 'running'::text, s.cancel_requested FROM s;
    GET DIAGNOSTICS v_more = ROW_COUNT;
    v_started := v_started + v_more;
  END LOOP;
  IF v_started < cardinality(p_ids) THEN
    -- The rest: a job already running under this worker's lease was started by an earlier call whose answer was
    -- lost; any other was cancelled or requeued. The jobs this call started are told apart by their lease, which
    -- ends at this transaction's now() plus the lease.
    RETURN QUERY
    SELECT j.id, j.status = 'running' AND j.lease_owner IS NOT DISTINCT FROM p_worker, j.status, j.cancel_requested FROM jobs j
    WHERE j.id = ANY (p_ids)
      AND NOT (j.status = 'running' AND j.lease_owner IS NOT DISTINCT FROM p_worker AND j.lease_expires_at = now() + make_interval(secs => p_lease_seconds));
  END IF;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_queue_start(text, uuid[], int[], int) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_queue_start(text, uuid[], int[], int) TO cairn_app;
--> statement-breakpoint
-- Give jobs back without spending an attempt: started ones (running under this worker's lease) go back to `queued`
-- with their attempt returned; unstarted ones keep their record as it is (only its readiness is touched, which locks
-- it against the reaper) if it is still at the attempt count they were claimed at. Both get a job_queue row again.
CREATE FUNCTION cairn_queue_release(p_worker text, p_ids uuid[], p_unstarted uuid[] DEFAULT '{}', p_fences int[] DEFAULT '{}')
RETURNS SETOF uuid LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp SET enable_seqscan = off SET jit = off AS $$
#variable_conflict use_column
DECLARE
  v_group record;
BEGIN
  RETURN QUERY
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
  SELECT j.id FROM j;
  FOR v_group IN SELECT u.fence, array_agg(u.id) AS ids FROM unnest(p_unstarted, p_fences) AS u(id, fence) GROUP BY u.fence LOOP
    RETURN QUERY
    WITH j AS (
      UPDATE jobs j SET run_after = now()
      WHERE j.id = ANY (v_group.ids) AND j.status = 'queued' AND j.attempts = v_group.fence
      RETURNING j.id, j.tenant_id, j.job_type, j.priority, j.run_after
    ),
    requeued AS (
      INSERT INTO job_queue (job_id, tenant_id, job_type, priority, run_after)
      SELECT j.id, j.tenant_id, j.job_type, j.priority, j.run_after FROM j
      ON CONFLICT (job_id) DO UPDATE SET run_after = EXCLUDED.run_after
    )
    SELECT j.id FROM j;
  END LOOP;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_queue_release(text, uuid[], uuid[], int[]) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_queue_release(text, uuid[], uuid[], int[]) TO cairn_app;
--> statement-breakpoint
-- The claim: as in 0026, except that it reads the claimed records instead of updating them (its answer says the
-- attempt the job would be on, as before) and passes unstarted completions on.
CREATE FUNCTION cairn_queue_claim(p_worker text, p_limit int, p_lease_seconds int, p_types text[] DEFAULT NULL, p_tenants uuid[] DEFAULT NULL,
  p_done uuid[] DEFAULT '{}', p_done_leases bigint[] DEFAULT '{}', p_done_unstarted uuid[] DEFAULT '{}', p_done_fences int[] DEFAULT '{}')
RETURNS TABLE ("id" uuid, "tenantId" uuid, "sourceId" uuid, "runId" uuid, "jobType" text, "priority" int, "payload" jsonb, "scope" jsonb,
  "policyBindings" jsonb, "credentialRefId" uuid, "requestedBy" text, "traceId" text, "attempts" int, "maxAttempts" int,
  "timeBudgetSeconds" int, "cancelRequested" boolean, "leaseId" bigint,
  tenant_exists boolean, source_status text, source_deleted boolean, credential_ref_exists boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp SET enable_bitmapscan = off SET enable_nestloop = off SET jit = off AS $$
#variable_conflict use_column
DECLARE
  v_lease bigint := nextval('job_leases_id_seq');
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  IF cardinality(p_done) > 0 OR cardinality(p_done_leases) > 0 OR cardinality(p_done_unstarted) > 0 THEN
    PERFORM cairn_queue_complete(p_worker, p_done, p_done_leases, p_done_unstarted, p_done_fences);
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
    SELECT c.job_id, c.qtid FROM tenants_ready t
    CROSS JOIN LATERAL (
      SELECT x.job_id, x.qtid, row_number() OVER () AS rn FROM (
        SELECT q.job_id, q.ctid AS qtid FROM job_queue q
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
    DELETE FROM job_queue q WHERE q.ctid = ANY (ARRAY(SELECT p.qtid FROM picked p)) RETURNING q.job_id
  ),
  claimed AS MATERIALIZED (
    SELECT j.id, j.tenant_id, j.source_id, j.run_id, j.job_type, j.priority, j.payload, j.scope, j.policy_bindings,
      j.credential_ref_id, j.requested_by, j.trace_id, j.attempts + 1 AS attempts, j.max_attempts, j.time_budget_seconds,
      j.cancel_requested, j.run_after
    FROM jobs j WHERE j.id = ANY (ARRAY(SELECT d.job_id FROM popped d)) AND j.status = 'queued'
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
    FROM keys k
    LEFT JOIN LATERAL (SELECT s.status, s.deleted_at FROM sources s WHERE s.id = k.source_id AND s.tenant_id = k.tenant_id LIMIT 1) s ON true
  )
  SELECT c.id, c.tenant_id, c.source_id, c.run_id, c.job_type, c.priority, c.payload, c.scope, c.policy_bindings, c.credential_ref_id,
    c.requested_by, c.trace_id, c.attempts, c.max_attempts, c.time_budget_seconds, c.cancel_requested, v_lease,
    f.tenant_exists, f.source_status, f.source_deleted, f.credential_ref_exists
  FROM claimed c JOIN facts f ON f.tenant_id = c.tenant_id
    AND coalesce(f.source_id, '00000000-0000-0000-0000-000000000000') = coalesce(c.source_id, '00000000-0000-0000-0000-000000000000')
    AND coalesce(f.credential_ref_id, '00000000-0000-0000-0000-000000000000') = coalesce(c.credential_ref_id, '00000000-0000-0000-0000-000000000000')
  ORDER BY row_number() OVER (PARTITION BY c.tenant_id ORDER BY c.priority DESC NULLS LAST, c.run_after, c.id), c.tenant_id;
END
$$;

--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_queue_claim(text, int, int, text[], uuid[], uuid[], bigint[], uuid[], int[]) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_queue_claim(text, int, int, text[], uuid[], uuid[], bigint[], uuid[], int[]) TO cairn_app;
--> statement-breakpoint
-- The reaper, for claim rows whose expiry passed (the worker stopped renewing them):
--   1. their unstarted jobs (record still `queued`, no job_queue row, in no claim row that is still live) go back to
--      the queue, spending the attempt the lost claim took, or time out once that was the last; their records are
--      locked first and the decision is taken in statements of their own (one per claim row, which names the
--      owner), on snapshots taken after those locks, so a release, start or completion of the same job either
--      committed before (and is seen) or waits and then finds the attempt count changed;
--   2. their started jobs whose own lease expired go back or time out, as in 0023;
--   3. a claim row with a started job still leased is kept until that lease ends; the others are dropped.
CREATE OR REPLACE FUNCTION cairn_queue_reap(p_limit int)
RETURNS TABLE (id uuid, tenant_id uuid, run_id uuid, status text, attempts int, max_attempts int, lease_owner text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp SET jit = off AS $$
#variable_conflict use_column
DECLARE
  v_leases bigint[];
  v_jobs uuid[];
  v_claim record;
BEGIN
  SELECT array_agg(x.id) INTO v_leases FROM (
    SELECT l.id FROM job_leases l WHERE l.expires_at < now() ORDER BY l.expires_at LIMIT p_limit FOR UPDATE SKIP LOCKED
  ) x;
  IF v_leases IS NULL THEN
    RETURN;
  END IF;
  SELECT array_agg(DISTINCT u.job_id) INTO v_jobs FROM job_leases l CROSS JOIN LATERAL unnest(l.job_ids) AS u(job_id) WHERE l.id = ANY (v_leases);
  PERFORM 1 FROM jobs j WHERE j.id = ANY (v_jobs) AND j.status = 'queued' ORDER BY j.id FOR UPDATE;
  FOR v_claim IN SELECT l.lease_owner, l.job_ids FROM job_leases l WHERE l.id = ANY (v_leases) ORDER BY l.id LOOP
    RETURN QUERY
    WITH j AS (
      UPDATE jobs j SET
        status = CASE WHEN j.attempts + 1 < j.max_attempts THEN 'queued' ELSE 'timed_out' END,
        attempts = j.attempts + 1,
        run_after = now(),
        finished_at = CASE WHEN j.attempts + 1 < j.max_attempts THEN NULL ELSE now() END,
        last_error = 'lease expired: worker ' || v_claim.lease_owner || ' stopped renewing its claim before the job started (attempt ' || (j.attempts + 1) || ' of ' || j.max_attempts || ')'
      WHERE j.id = ANY (v_claim.job_ids) AND j.status = 'queued'
        AND NOT EXISTS (SELECT 1 FROM job_queue q WHERE q.job_id = j.id)
        AND j.id NOT IN (SELECT x.job_id FROM job_leases l CROSS JOIN LATERAL unnest(l.job_ids) AS x(job_id) WHERE l.expires_at >= now())
      RETURNING j.id, j.tenant_id, j.run_id, j.status, j.attempts, j.max_attempts, j.job_type, j.priority, j.run_after
    ),
    requeued AS (
      INSERT INTO job_queue (job_id, tenant_id, job_type, priority, run_after)
      SELECT j.id, j.tenant_id, j.job_type, j.priority, j.run_after FROM j WHERE j.status = 'queued'
      ON CONFLICT (job_id) DO UPDATE SET run_after = EXCLUDED.run_after
    )
    SELECT j.id, j.tenant_id, j.run_id, j.status, j.attempts, j.max_attempts, v_claim.lease_owner FROM j;
  END LOOP;
  RETURN QUERY
  WITH expired AS MATERIALIZED (
    SELECT l.id AS lease_id, l.lease_owner AS owner, l.job_ids FROM job_leases l WHERE l.id = ANY (v_leases)
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
  SELECT j.id, j.tenant_id, j.run_id, j.status, j.attempts, j.max_attempts, j.lease_owner FROM j;
END
$$;
--> statement-breakpoint
ALTER FUNCTION cairn_queue_renew(text, uuid[], int) SET jit = off;
--> statement-breakpoint
ALTER FUNCTION cairn_queue_fail(text, uuid, text, int, text) SET jit = off;
--> statement-breakpoint
ALTER FUNCTION cairn_queue_finish(text, uuid) SET jit = off;
--> statement-breakpoint
ALTER FUNCTION cairn_enqueue_jobs(jsonb) SET jit = off;
