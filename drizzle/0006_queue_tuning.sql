-- Queue tuning: fewer round trips per job and no NOTIFY while no worker is waiting for one.
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
