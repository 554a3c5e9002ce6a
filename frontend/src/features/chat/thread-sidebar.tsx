import { useId, useState } from "react";
import { Link } from "react-router";
import type { AgentAssistant, AgentThread } from "../../api/agent-types";
import type { QueryState } from "../../api/use-api-query";
import { Alert } from "../../components/ui/alert";
import { Button } from "../../components/ui/button";
import { Loading } from "../../components/ui/loading";
import { matchesQuery, threadTitle } from "../../lib/threads";
import { ThreadItem } from "./thread-item";

interface ThreadSidebarProps {
  orgSlug: string;
  threads: QueryState<AgentThread[]> & { reload: () => void };
  activeThreadId: string | null;
  readOnly: boolean;
  assistants: readonly AgentAssistant[];
  assistantFilter: string;
  onFilter: (assistantId: string) => void;
  canShowMore: boolean;
  onShowMore: () => void;
  onDeleted: (threadId: string) => void;
}

/** The user's conversations: search by title, filter by assistant, rename, delete. */
export function ThreadSidebar(props: ThreadSidebarProps) {
  const { orgSlug, threads, activeThreadId, readOnly, assistants, assistantFilter } = props;
  const searchId = useId();
  const filterId = useId();
  const [query, setQuery] = useState("");
  const [open, setOpen] = useState(false);
  const shown = threads.status === "success" ? threads.data.filter((thread) => matchesQuery(threadTitle(thread.metadata), query)) : [];

  return (
    <nav className="thread-sidebar" aria-label="Conversations">
      <div className="thread-sidebar__top">
        {readOnly ? null : (
          <Link className="button button--primary thread-sidebar__new" to={`/o/${encodeURIComponent(orgSlug)}/chat`}>
            New chat
          </Link>
        )}
        <button
          type="button"
          className="button button--secondary thread-sidebar__toggle"
          aria-expanded={open}
          aria-controls={`${searchId}-panel`}
          onClick={() => {
            setOpen((value) => !value);
          }}
        >
          {open ? "Hide conversations" : "Conversations"}
        </button>
      </div>
      <div id={`${searchId}-panel`} className="thread-sidebar__panel" data-open={open}>
        <div className="field">
          <label className="field__label" htmlFor={searchId}>
            Search conversations
          </label>
          <input id={searchId} type="search" className="field__input" value={query} onChange={(event) => { setQuery(event.target.value); }} />
        </div>
        {assistants.length > 1 ? (
          <div className="field">
            <label className="field__label" htmlFor={filterId}>
              Show conversations with
            </label>
            <select id={filterId} className="select" value={assistantFilter} onChange={(event) => { props.onFilter(event.target.value); }}>
              <option value="">All assistants</option>
              {assistants.map((assistant) => (
                <option key={assistant.assistant_id} value={assistant.assistant_id}>
                  {assistant.name}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        {threads.status === "loading" ? <Loading label="Loading conversations…" /> : null}
        {threads.status === "error" ? (
          <div className="stack-sm">
            <Alert>{threads.error.message}</Alert>
            <Button onClick={threads.reload}>Try again</Button>
          </div>
        ) : null}
        {threads.status === "success" && shown.length === 0 ? (
          <p className="muted">{query.trim() ? "No conversation matches." : "No conversations yet."}</p>
        ) : null}
        {shown.length > 0 ? (
          <ul className="thread-list" aria-label="Your conversations">
            {shown.map((thread) => (
              <ThreadItem
                key={thread.thread_id}
                orgSlug={orgSlug}
                thread={thread}
                active={thread.thread_id === activeThreadId}
                readOnly={readOnly}
                onChanged={threads.reload}
                onDeleted={props.onDeleted}
              />
            ))}
          </ul>
        ) : null}
        {props.canShowMore ? (
          <Button variant="ghost" onClick={props.onShowMore}>
            Show older conversations
          </Button>
        ) : null}
      </div>
    </nav>
  );
}
