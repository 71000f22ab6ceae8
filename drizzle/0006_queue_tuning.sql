-- Queue tuning: fewer round trips per job and no NOTIFY while no worker is waiting for one.
--
-- 0. The claim, with the same picks, made cheap to plan right whatever the batch size:
--    - its per-tenant ORDER BY now matches jobs_claim_idx exactly (priority DESC NULLS LAST; priority is NOT NULL,
--      so the order is the same): the planner walks that index and stops after the tenant's share instead of
--      sorting every queued job of the tenant;
--    - the UPDATE finds the picked rows by primary key (= ANY of the picked ids) instead of a join whose generic
--      plan (batch size unknown) scans the whole table; the rows come back in pick order (round-robin across
--      tenants, priority order within each), as before.
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
    SELECT c.id, row_number() OVER (ORDER BY c.rn) AS ord FROM tenants_ready t
    CROSS JOIN LATERAL (
      SELECT x.id, row_number() OVER () AS rn FROM (
        SELECT j.id FROM jobs j
        WHERE j.tenant_id = t.tenant_id AND j.status = 'queued' AND j.run_after <= now()
          AND (p_types IS NULL OR j.job_type = ANY (p_types))
        ORDER BY j.priority DESC NULLS LAST, j.run_after
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
    WHERE j.id = ANY (ARRAY(SELECT id FROM picked))
    RETURNING j.*
  )
  SELECT claimed.* FROM claimed JOIN picked ON picked.id = claimed.id ORDER BY picked.ord
$$;
--> statement-breakpoint
--
-- 1. The facts a worker re-checks when it claims a job (tenant still there, source still active, credential
--    reference still there), computed from the claimed row's own columns so the worker can fetch them in the claim
--    statement itself (`cairn_queue_claim(...) LEFT JOIN LATERAL cairn_queue_job_facts(...)`) instead of one more
--    query per job. Same answers as cairn_queue_job_context, which stays for callers that only have a job id.
CREATE OR REPLACE FUNCTION cairn_queue_job_facts(p_tenant uuid, p_source uuid, p_credential_ref uuid)
RETURNS TABLE (tenant_exists boolean, source_status text, source_deleted boolean, credential_ref_exists boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM tenants t WHERE t.id = p_tenant),
         s.status, s.deleted_at IS NOT NULL,
         (p_credential_ref IS NULL OR EXISTS (SELECT 1 FROM credential_refs c WHERE c.id = p_credential_ref AND c.tenant_id = p_tenant))
  FROM (SELECT 1) AS one LEFT JOIN sources s ON s.id = p_source AND s.tenant_id = p_tenant
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_queue_job_facts(uuid, uuid, uuid) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_queue_job_facts(uuid, uuid, uuid) TO cairn_app;
--> statement-breakpoint
-- 2. Waking workers. A transaction that NOTIFYs takes a database-wide lock at commit and holds it through its WAL
--    flush, so notifying enqueues commit one at a time. Enqueues therefore NOTIFY only while some worker is idle:
--
--    - an idle worker holds a shared session advisory lock on the IDLE key (7204118321) while it waits, and before
--      it may wait it must see the GATE key (7204118320) free once (try + release), then claim one last time;
--    - every INSERT into jobs (this statement trigger) takes GATE shared until its transaction ends, then tests
--      IDLE: if a worker holds it, the transaction NOTIFYs cairn_jobs (delivered at commit, as before).
--
--    No wake-up is lost: an enqueue that tested IDLE before a worker marked itself idle still holds GATE, so that
--    worker cannot pass the gate until the enqueue has committed, and its last claim then sees the job. Busy
--    workers do not hold IDLE (they claim again after every job), so under load enqueues skip the NOTIFY and
--    commit in parallel. The test takes IDLE exclusively and releases it in one expression, so a cancelled
--    statement cannot leave it held; a worker only ever tries IDLE (never waits for it).
CREATE OR REPLACE FUNCTION cairn_queue_wake_workers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(7204118320);
  IF (SELECT CASE WHEN pg_try_advisory_lock(7204118321) THEN NOT pg_advisory_unlock(7204118321) ELSE true END) THEN
    PERFORM pg_notify('cairn_jobs', '');
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER jobs_wake_workers AFTER INSERT ON jobs FOR EACH STATEMENT EXECUTE FUNCTION cairn_queue_wake_workers();
