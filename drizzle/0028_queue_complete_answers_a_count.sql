-- A completion answers how many jobs it completed, not their ids. The worker never read the ids, and a batch of 500
-- completions sent 500 rows back: PostgreSQL gathered them into a tuple store and wrote them out, and the worker
-- parsed each one into an object only to drop it (about one row per drained job, as many as the claims returned).
-- Same arguments and effect as 0023's; only the answer changed, so the function is dropped and created again (a
-- return type cannot be changed in place). The claim calls it with PERFORM and is unaffected.
DROP FUNCTION cairn_queue_complete(text, uuid[], bigint[]);
--> statement-breakpoint
CREATE FUNCTION cairn_queue_complete(p_worker text, p_ids uuid[], p_leases bigint[] DEFAULT '{}')
RETURNS int LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  v_done int;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  IF cardinality(p_leases) > 0 THEN
    DELETE FROM job_leases l WHERE l.id = ANY (p_leases) AND l.lease_owner = p_worker;
  END IF;
  IF cardinality(p_ids) = 0 THEN
    RETURN 0;
  END IF;
  UPDATE jobs j SET status = 'succeeded', finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
  WHERE j.id = ANY (p_ids) AND j.lease_owner = p_worker AND j.status = 'running';
  GET DIAGNOSTICS v_done = ROW_COUNT;
  RETURN v_done;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION cairn_queue_complete(text, uuid[], bigint[]) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION cairn_queue_complete(text, uuid[], bigint[]) TO cairn_app;
