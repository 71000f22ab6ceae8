-- The scheduler's one cross-tenant read: which schedules are due. Every web replica ticks and must find due schedules
-- of every tenant before it knows which tenant to act for; everything after discovery (locking the schedule, recording
-- the tick, creating the run) happens inside that schedule's tenant transaction, under row-level security.
-- Fair across tenants: each tenant's earliest due schedules come first, so one tenant's backlog cannot starve another.
CREATE OR REPLACE FUNCTION cairn_due_schedules(p_now timestamptz, p_limit int)
RETURNS TABLE (id uuid, tenant_id uuid) LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT d.id, d.tenant_id FROM (
    SELECT s.id, s.tenant_id, s.next_run_at,
           row_number() OVER (PARTITION BY s.tenant_id ORDER BY s.next_run_at, s.id) AS rn
    FROM schedules s
    WHERE s.enabled AND s.next_run_at <= p_now
  ) d
  ORDER BY d.rn, d.next_run_at, d.id
  LIMIT greatest(p_limit, 0)
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_due_schedules(timestamptz, int) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_due_schedules(timestamptz, int) TO cairn_app;
