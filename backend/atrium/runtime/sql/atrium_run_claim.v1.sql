-- atrium_run_claim, version 1: the worker's claim in one round trip (ADR 0016): the thread's row lock, the
-- org's cap lock, then the claim in a statement of its own, with the assistant and the org's workspace secrets.
-- Loaded by migration runtime/0007 (replaced by version 2 in runtime/0009); kept as it was installed.
CREATE OR REPLACE FUNCTION atrium_run_claim(
    p_run uuid, p_worker text, p_lease double precision, p_default_cap integer
) RETURNS TABLE (
    at_capacity boolean, thread_id uuid, thread_config jsonb, temporary boolean, thread_graph text,
    org_id uuid, user_id bigint, assistant_id uuid, attempt integer, fence integer, kwargs jsonb,
    cancel_action text, graph_id text, assistant_config jsonb, assistant_context jsonb, email text,
    role text, secret_names text[], secret_values bytea[]
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    t record;
    cap integer;
BEGIN
    SELECT th.id, th.config, th.temporary, th.graph_id, th.org_id INTO t FROM runtime_thread th
    WHERE th.id = (SELECT r.thread_id FROM runtime_run r WHERE r.id = p_run) FOR UPDATE OF th;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    -- The org's cap: its settings row, or the deployment's default where it leaves it blank.
    cap := coalesce((SELECT s.max_concurrent_runs FROM orgs_orgsettings s WHERE s.org_id = t.org_id),
                    p_default_cap);
    IF cap > 0 THEN
        -- Claims of one org are serialised (after the thread's lock: the one fixed order).
        PERFORM pg_advisory_xact_lock(hashtextextended(t.org_id::text, 7001));
    END IF;
    RETURN QUERY
    WITH busy AS (
        SELECT CASE WHEN cap > 0 THEN
            EXISTS (SELECT 1 FROM runtime_run r WHERE r.id = p_run AND r.status = 'pending')
            AND (SELECT count(*) FROM runtime_run r WHERE r.org_id = t.org_id AND r.status = 'running') >= cap
        ELSE false END AS at_capacity
    ), claimed AS (
        UPDATE runtime_run r SET status = 'running', attempt = r.attempt + 1, fence = r.fence + 1,
            lease_owner = p_worker, lease_expires_at = now() + make_interval(secs => p_lease),
            started_at = coalesce(r.started_at, now()), updated_at = now(),
            checkpoint_start = CASE WHEN r.attempt = 0 THEN coalesce(r.kwargs -> 'checkpoint', (
                SELECT jsonb_build_object('thread_id', r.thread_id::text, 'checkpoint_ns', '',
                                          'checkpoint_id', max(c.checkpoint_id))
                FROM checkpoints c WHERE c.thread_id = r.thread_id::text AND c.checkpoint_ns = ''
                HAVING max(c.checkpoint_id) IS NOT NULL)) ELSE r.checkpoint_start END
        WHERE r.id = p_run AND r.status = 'pending' AND (r.not_before IS NULL OR r.not_before <= now())
          AND NOT (SELECT b.at_capacity FROM busy b)
          AND NOT EXISTS (SELECT 1 FROM runtime_run o WHERE o.thread_id = r.thread_id AND o.id <> r.id
                          AND (o.status = 'running' OR (o.status = 'pending' AND o.created_at < r.created_at)))
        RETURNING r.org_id, r.user_id, r.assistant_id, r.attempt, r.fence, r.kwargs, r.cancel_action
    )
    SELECT busy.at_capacity, t.id, t.config, t.temporary, t.graph_id::text,
           c.org_id, c.user_id, c.assistant_id, c.attempt, c.fence, c.kwargs, c.cancel_action::text,
           a.graph_id::text, a.config, a.context, u.email::text, m.role::text,
           s.names, s.sealed
    FROM busy
    LEFT JOIN claimed c ON true
    LEFT JOIN assistants_assistant a ON a.id = c.assistant_id AND a.org_id = c.org_id
    LEFT JOIN accounts_user u ON u.id = c.user_id
    LEFT JOIN orgs_membership m ON m.org_id = c.org_id AND m.user_id = c.user_id
    -- The org's workspace secrets (sealed), for the run's graph and tools, read with the claim.
    LEFT JOIN LATERAL (
        SELECT array_agg(w.name::text) AS names, array_agg(w.sealed_value) AS sealed
        FROM credentials_workspacesecret w WHERE c.org_id IS NOT NULL AND w.org_id = c.org_id
    ) s ON true;
END;
$$;
