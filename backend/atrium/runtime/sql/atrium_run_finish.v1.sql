-- atrium_run_finish, version 1: the worker's finish in one round trip (ADR 0016): the thread's lock, the
-- run's end (fenced) with the thread's state, and the thread's next pending run.
-- Loaded by migration runtime/0007; a test holds the installed function equal to the newest version.
CREATE OR REPLACE FUNCTION atrium_run_finish(
    p_run uuid, p_fence integer, p_thread uuid, p_erase boolean, p_status text, p_result jsonb,
    p_error jsonb, p_checkpoint_end jsonb, p_call_counts jsonb, p_values jsonb, p_next jsonb,
    p_interrupts jsonb, p_thread_error jsonb, p_thread_status text, p_busy text
) RETURNS TABLE (latency double precision, next_id uuid) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    ended_latency double precision;
    ended boolean := false;
    next_run uuid;
BEGIN
    -- The thread's lock first: the statements below see every run created before it was granted.
    PERFORM 1 FROM runtime_thread WHERE id = p_thread FOR UPDATE;
    IF p_erase THEN
        DELETE FROM runtime_run WHERE id = p_run AND fence = p_fence AND status = 'running';
        ended := FOUND;
    ELSE
        UPDATE runtime_run SET status = p_status, result = p_result, error = p_error, ended_at = now(),
            call_counts = p_call_counts,
            checkpoint_end = coalesce(p_checkpoint_end, (
                SELECT jsonb_build_object('thread_id', p_thread::text, 'checkpoint_ns', '',
                                          'checkpoint_id', max(c.checkpoint_id))
                FROM checkpoints c WHERE c.thread_id = p_thread::text AND c.checkpoint_ns = ''
                HAVING max(c.checkpoint_id) IS NOT NULL)),
            lease_owner = '', lease_expires_at = NULL, updated_at = now()
        WHERE id = p_run AND fence = p_fence AND status = 'running'
        RETURNING extract(epoch FROM now() - created_at)::float8 INTO ended_latency;
        ended := FOUND;
    END IF;
    IF NOT ended THEN
        RETURN;  -- fenced off: another worker owns the run now
    END IF;
    SELECT r.id INTO next_run FROM runtime_run r WHERE r.thread_id = p_thread AND r.status = 'pending'
    ORDER BY r.created_at LIMIT 1;
    UPDATE runtime_thread SET values = p_values, next = p_next, interrupts = p_interrupts,
        error = p_thread_error, state_updated_at = now(), updated_at = now(),
        status = CASE WHEN next_run IS NOT NULL THEN p_busy ELSE p_thread_status END
    WHERE id = p_thread;
    latency := ended_latency;
    next_id := next_run;
    RETURN NEXT;
END;
$$;
