import { useCallback, useState } from "react";
import { useMatch, useNavigate, useSearchParams } from "react-router";
import { renameThread } from "../../api/agent";
import { Alert } from "../../components/ui/alert";
import { Button } from "../../components/ui/button";
import { EmptyState } from "../../components/ui/empty-state";
import { Loading } from "../../components/ui/loading";
import { NotFound } from "../../components/ui/not-found";
import { runsOfflineModel, titleFromText } from "../../lib/threads";
import { useCurrentMembership } from "../orgs/current-org-context";
import { can } from "../orgs/permissions";
import { ChatHeader } from "./chat-header";
import { ChatPanel } from "./chat-panel";
import { ChatStreamProvider } from "./stream/chat-stream-provider";
import { ThreadSidebar } from "./thread-sidebar";
import { resolveAssistant, THREAD_PAGE, useAgentAssistants, useServerModelInfo, useThreadAssistant, useThreadList } from "./use-chat-data";

function LoadError({ message, onRetry }: { message: string; onRetry: () => void }) {
  return (
    <div className="stack">
      <Alert>{message}</Alert>
      <div>
        <Button onClick={onRetry}>Try again</Button>
      </div>
    </div>
  );
}

/**
 * `/o/:slug/chat` (a new conversation, `?assistant=<id>`) and `/o/:slug/t/:threadId` (an open
 * one). Both render this same element, so the stream survives the URL change that happens when
 * the first message of a new chat gives it an id.
 */
export function ChatLayout() {
  const membership = useCurrentMembership();
  const { org } = membership;
  const navigate = useNavigate();
  const [searchParams, setSearchParams] = useSearchParams();
  const threadId = useMatch("/o/:slug/t/:threadId")?.params.threadId ?? null;
  const readOnly = !can(membership, "use_agents");

  const [known, setKnown] = useState<Record<string, string>>({});
  const [assistantFilter, setAssistantFilter] = useState("");
  const [limit, setLimit] = useState(THREAD_PAGE);
  const [runVersion, setRunVersion] = useState(0);
  const assistants = useAgentAssistants(org.slug);
  const serverModel = useServerModelInfo(org.slug);
  const threads = useThreadList(org.slug, assistantFilter, limit);
  const threadAssistant = useThreadAssistant(org.slug, threadId, known);
  const reloadThreads = threads.reload;

  const list = assistants.status === "success" ? assistants.data : [];
  const { assistant, assistantId } = resolveAssistant(list, searchParams.get("assistant"), threadAssistant);

  const onRunCreated = useCallback(
    (createdId: string, firstText: string | null) => {
      if (firstText === null) return;
      renameThread(org.slug, createdId, titleFromText(firstText)).then(reloadThreads, reloadThreads);
    },
    [org.slug, reloadThreads],
  );

  let body;
  if (threadAssistant.status === "not-found") {
    body = <NotFound title="Conversation not found" />;
  } else if (threadAssistant.status === "error") {
    body = <LoadError message={threadAssistant.message} onRetry={threadAssistant.reload} />;
  } else if (assistants.status === "error") {
    body = <LoadError message={assistants.error.message} onRetry={assistants.reload} />;
  } else if (assistants.status === "loading" || threadAssistant.status === "loading") {
    body = <Loading label="Loading the chat…" />;
  } else if (!assistantId) {
    body = (
      <EmptyState title="No assistant to chat with">
        <p>This organisation has no assistants yet.</p>
      </EmptyState>
    );
  } else {
    const name = assistant?.name ?? "the assistant";
    body = (
      <>
        <ChatHeader
          assistants={list}
          assistant={assistant}
          canChoose={threadId === null && !readOnly}
          offline={runsOfflineModel(assistant?.context, serverModel)}
          settingsHref={
            assistant && can(membership, "configure_agents")
              ? `/o/${encodeURIComponent(org.slug)}/assistants/${encodeURIComponent(assistant.assistant_id)}/settings`
              : null
          }
          onChoose={(id) => {
            setSearchParams({ assistant: id });
          }}
        />
        <ChatStreamProvider
          orgSlug={org.slug}
          assistantId={assistantId}
          threadId={threadId}
          onThreadId={(id) => {
            setKnown((previous) => ({ ...previous, [id]: assistantId }));
            void navigate(`/o/${encodeURIComponent(org.slug)}/t/${id}`, { replace: true });
          }}
          onRunCreated={onRunCreated}
          onRunFinished={() => {
            setRunVersion((n) => n + 1);
            reloadThreads();
          }}
        >
          <ChatPanel orgSlug={org.slug} readOnly={readOnly} runVersion={runVersion} assistantName={name} />
        </ChatStreamProvider>
      </>
    );
  }

  return (
    <div className="chat-layout">
      <title>{`Chat · ${org.name} · Atrium`}</title>
      <ThreadSidebar
        orgSlug={org.slug}
        threads={threads}
        activeThreadId={threadId}
        readOnly={readOnly}
        assistants={list}
        assistantFilter={assistantFilter}
        onFilter={setAssistantFilter}
        canShowMore={threads.status === "success" && threads.data.length >= limit}
        onShowMore={() => {
          setLimit((n) => n + THREAD_PAGE);
          reloadThreads();
        }}
        onDeleted={(deletedId) => {
          reloadThreads();
          if (deletedId === threadId) void navigate(`/o/${encodeURIComponent(org.slug)}/chat`, { replace: true });
        }}
      />
      <section className="chat-layout__main" aria-label="Chat">
        <h1 className="visually-hidden">Chat</h1>
        {body}
      </section>
    </div>
  );
}
