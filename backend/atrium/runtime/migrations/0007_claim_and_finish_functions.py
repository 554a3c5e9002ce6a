"""The worker's claim and finish as Postgres functions: each is one round trip, committed with it.

A claim is a thread row lock, the org's cap lock (when it has a cap), then the claim itself in a
statement of its own (it must see every claim committed before the locks were granted); a finish is
the thread lock, then the run's end with the thread's state. Sent one by one, with BEGIN and COMMIT,
that was five and four round trips, and a worker busy with other runs answers each only after it gets
the interpreter back, so the org lock was held across several of them. In a function each statement
still takes its own snapshot (READ COMMITTED, VOLATILE), the locks are held only while Postgres
works, and the caller pays one round trip. ADR 0016.
"""

from django.db import migrations

CLAIM = r"""
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
"""

FINISH = r"""
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
"""


class Migration(migrations.Migration):
    dependencies = [("runtime", "0006_run_call_counts")]

    operations = [
        migrations.RunSQL(CLAIM, "DROP FUNCTION IF EXISTS atrium_run_claim(uuid, text, double precision, integer)"),
        migrations.RunSQL(
            FINISH,
            "DROP FUNCTION IF EXISTS atrium_run_finish(uuid, integer, uuid, boolean, text, jsonb, jsonb, "
            "jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, text, text)",
        ),
    ]
