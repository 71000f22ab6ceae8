-- The claim's plan no longer depends on the planner's guess of how many rows a claim takes (ADR 010). PL/pgSQL keeps
-- the claim's plan per connection (0019), and after five calls that is a generic plan, made without p_limit's value:
-- it expected one or two picked rows, and joined the CTEs of picked and deleted queue rows by a nested loop. With
-- 1,000 rows per claim that compared a million pairs (EXPLAIN: "Rows Removed by Join Filter: 999000"), 196 ms
-- instead of 17 for a custom plan. It showed when the tables' statistics were taken while they were small
-- (an ANALYZE of an empty queue, then a burst of jobs): a drain of 300,000 jobs ran at a fifth of its speed.
-- Changes from 0024, same signature and answer:
--   - the record update finds its jobs by id in an array of the deleted queue rows' ids (an index scan of jobs'
--     primary key), not by joining two CTEs;
--   - the answer's order (round robin over tenants, priority then readiness within one) is computed from the claimed
--     rows themselves, not joined back from the picks;
--   - nested loops are off for the claim, so the one join left (claimed rows to their authorization facts, per
--     distinct tenant, source and credential reference) is a hash join on all three whatever the estimates (a
--     missing source or reference compares as the zero uuid, which no row has). The picks and each key's source
--     lookup (one row by primary key; its LIMIT keeps it from being flattened into a join) are LATERAL, which stays a
--     nested loop: it has no other form, so turning nested loops off cannot make the lookup a scan of sources.
CREATE OR REPLACE FUNCTION cairn_queue_claim(p_worker text, p_limit int, p_lease_seconds int, p_types text[] DEFAULT NULL, p_tenants uuid[] DEFAULT NULL,
  p_done uuid[] DEFAULT '{}', p_done_leases bigint[] DEFAULT '{}')
RETURNS TABLE ("id" uuid, "tenantId" uuid, "sourceId" uuid, "runId" uuid, "jobType" text, "priority" int, "payload" jsonb, "scope" jsonb,
  "policyBindings" jsonb, "credentialRefId" uuid, "requestedBy" text, "traceId" text, "attempts" int, "maxAttempts" int,
  "timeBudgetSeconds" int, "cancelRequested" boolean, "leaseId" bigint,
  tenant_exists boolean, source_status text, source_deleted boolean, credential_ref_exists boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp SET enable_bitmapscan = off SET enable_nestloop = off AS $$
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
    UPDATE jobs j SET status = 'running', attempts = j.attempts + 1, lease_owner = p_worker,
      lease_expires_at = now() + make_interval(secs => p_lease_seconds), started_at = coalesce(j.started_at, now())
    WHERE j.id = ANY (ARRAY(SELECT d.job_id FROM popped d)) AND j.status = 'queued'
    RETURNING j.id, j.tenant_id, j.source_id, j.run_id, j.job_type, j.priority, j.payload, j.scope, j.policy_bindings,
      j.credential_ref_id, j.requested_by, j.trace_id, j.attempts, j.max_attempts, j.time_budget_seconds, j.cancel_requested, j.run_after
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
