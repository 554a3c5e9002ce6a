import { useId, useState } from "react";
import { Link } from "react-router";
import { deleteThread, renameThread } from "../../api/agent";
import type { AgentThread } from "../../api/agent-types";
import { toApiError } from "../../api/errors";
import { Button } from "../../components/ui/button";
import { formatDate } from "../../lib/format-date";
import { threadTitle } from "../../lib/threads";

interface ThreadItemProps {
  orgSlug: string;
  thread: AgentThread;
  active: boolean;
  readOnly: boolean;
  onChanged: () => void;
  onDeleted: (threadId: string) => void;
}

type Mode = "view" | "rename" | "confirm-delete";

export function ThreadItem({ orgSlug, thread, active, readOnly, onChanged, onDeleted }: ThreadItemProps) {
  const inputId = useId();
  const title = threadTitle(thread.metadata);
  const [mode, setMode] = useState<Mode>("view");
  const [draft, setDraft] = useState(title);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function run(action: () => Promise<unknown>, after: () => void) {
    setBusy(true);
    setError(null);
    try {
      await action();
      setMode("view");
      after();
    } catch (caught) {
      setError(toApiError(caught).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <li className="thread-item" data-testid="thread-item">
      {mode === "rename" ? (
        <form
          className="thread-item__form"
          onSubmit={(event) => {
            event.preventDefault();
            const next = draft.trim();
            if (next) void run(() => renameThread(orgSlug, thread.thread_id, next), onChanged);
          }}
        >
          <label className="visually-hidden" htmlFor={inputId}>
            New title
          </label>
          <input
            id={inputId}
            className="field__input"
            value={draft}
            maxLength={200}
            autoFocus
            onChange={(event) => {
              setDraft(event.target.value);
            }}
            onKeyDown={(event) => {
              if (event.key === "Escape") setMode("view");
            }}
          />
          <div className="thread-item__actions">
            <Button variant="ghost" disabled={busy} onClick={() => { setMode("view"); }}>
              Cancel
            </Button>
            <Button type="submit" variant="primary" disabled={busy || !draft.trim()}>
              Save
            </Button>
          </div>
        </form>
      ) : (
        <Link className="thread-item__link" to={`/o/${encodeURIComponent(orgSlug)}/t/${thread.thread_id}`} aria-current={active ? "page" : undefined}>
          <span className="thread-item__title">{title}</span>
          <time className="thread-item__date" dateTime={thread.updated_at}>
            {formatDate(thread.updated_at)}
          </time>
        </Link>
      )}
      {mode === "view" && !readOnly ? (
        <div className="thread-item__actions">
          <button type="button" className="link-button" aria-label={`Rename ${title}`} onClick={() => { setDraft(title); setMode("rename"); }}>
            Rename
          </button>
          <button type="button" className="link-button link-button--danger" aria-label={`Delete ${title}`} onClick={() => { setMode("confirm-delete"); }}>
            Delete
          </button>
        </div>
      ) : null}
      {mode === "confirm-delete" ? (
        <div className="thread-item__confirm" role="group" aria-label={`Delete ${title}?`}>
          <p>Delete this conversation for good?</p>
          <div className="thread-item__actions">
            <Button variant="ghost" disabled={busy} onClick={() => { setMode("view"); }}>
              Keep it
            </Button>
            <Button
              variant="danger"
              disabled={busy}
              onClick={() => void run(() => deleteThread(orgSlug, thread.thread_id), () => { onDeleted(thread.thread_id); })}
            >
              Delete
            </Button>
          </div>
        </div>
      ) : null}
      {error ? (
        <p className="field__error" role="alert">
          {error}
        </p>
      ) : null}
    </li>
  );
}
