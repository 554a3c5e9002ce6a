import { useState } from "react";
import { Link } from "react-router";
import { toApiError } from "../../api/errors";
import { Alert } from "../../components/ui/alert";
import { Button } from "../../components/ui/button";
import { Loading } from "../../components/ui/loading";
import { ArtifactsPanel } from "./artifacts-panel";
import { Composer } from "./composer";
import { Conversation } from "./conversation";
import { FilesPanel } from "./files-panel";
import { InterruptPanel } from "./interrupt-panel";
import { PlanPanel } from "./plan-panel";
import { SuggestedPrompts } from "./suggested-prompts";
import { useChatStream } from "./stream/chat-stream";
import { useBranches } from "./use-branches";
import { useBudgetSpent } from "./use-budget-spent";

interface ChatPanelProps {
  orgSlug: string;
  readOnly: boolean;
  /** Bumped after every run, so history-based views read the thread again. */
  runVersion: number;
  assistantName: string;
}

/** The open conversation: messages, a pending approval, errors, and the message box. */
export function ChatPanel({ orgSlug, readOnly, runVersion, assistantName }: ChatPanelProps) {
  const stream = useChatStream();
  const idle = !stream.isLoading && !stream.isThreadLoading;
  const branches = useBranches(orgSlug, stream.threadId, idle, runVersion);
  const [actionError, setActionError] = useState<string | null>(null);
  const onBranch = branches.branchMessages !== null && !stream.isLoading;
  const messages = onBranch ? (branches.branchMessages ?? []) : stream.messages;
  const interrupt = stream.interrupts[0];
  const canChange = !readOnly && idle && !interrupt;
  const budgetSpent = useBudgetSpent(orgSlug, stream.error && stream.errorReason === null ? stream.error : null);

  function act(run: () => Promise<void>) {
    setActionError(null);
    run().catch((error: unknown) => {
      setActionError(toApiError(error).message);
    });
  }

  if (stream.isThreadLoading && stream.messages.length === 0) return <Loading label="Loading the conversation…" />;

  return (
    <div className="chat-panel">
      {messages.length === 0 && !stream.isLoading ? (
        <div className="chat-panel__intro">
          <h2 className="chat-panel__intro-title">Chat with {assistantName}</h2>
          <p className="muted">{readOnly ? "There are no messages in this conversation." : "Ask anything to start a conversation, or try one of these."}</p>
          {readOnly ? null : (
            <SuggestedPrompts
              disabled={interrupt !== undefined}
              onPick={(text) => {
                act(() => stream.send(text, { forkFrom: null }));
              }}
            />
          )}
        </div>
      ) : (
        <Conversation
          messages={messages}
          isLoading={stream.isLoading}
          interrupted={interrupt !== undefined}
          branches={branches.view}
          canChange={canChange}
          subagents={stream.subagents}
          onEdit={(text, forkFrom) => {
            act(() => stream.send(text, { forkFrom }));
          }}
          onRegenerate={(forkFrom) => {
            act(() => stream.regenerate(forkFrom));
          }}
          onChooseBranch={branches.choose}
        />
      )}

      {onBranch ? null : <PlanPanel todos={stream.todos} />}
      {onBranch ? null : <FilesPanel orgSlug={orgSlug} threadId={stream.threadId} agentFiles={stream.agentFiles} runVersion={runVersion} />}
      {stream.isLoading ? null : <ArtifactsPanel orgSlug={orgSlug} threadId={stream.threadId} runVersion={runVersion} />}

      {interrupt && !stream.isLoading ? (
        <InterruptPanel key={interrupt.id ?? "interrupt"} interrupt={interrupt} readOnly={readOnly} onRespond={stream.respond} />
      ) : null}

      {stream.error && (stream.errorReason === "budget_exceeded" || budgetSpent) ? (
        // Trying again would be refused again until the period ends: say who can change that.
        <div className="chat-panel__error">
          <Alert>{stream.error}</Alert>
          <p className="muted">
            An admin of the organisation can raise the budget on the <Link to={`/o/${encodeURIComponent(orgSlug)}/usage`}>Usage page</Link>.
          </p>
        </div>
      ) : stream.error ? (
        <div className="chat-panel__error">
          <Alert>{stream.error}</Alert>
          <Button
            onClick={() => {
              act(stream.retry);
            }}
          >
            Try again
          </Button>
        </div>
      ) : null}
      {actionError ? (
        <div className="chat-panel__error">
          <Alert>{actionError}</Alert>
          <Button
            variant="ghost"
            onClick={() => {
              setActionError(null);
            }}
          >
            Dismiss
          </Button>
        </div>
      ) : null}

      {onBranch ? (
        <Alert tone="info">
          You are looking at an earlier version of this conversation.{" "}
          {readOnly ? null : "Sending a message continues from here. "}
          <button type="button" className="link-button" onClick={branches.showLatest}>
            Show the latest version
          </button>
        </Alert>
      ) : null}

      {readOnly ? (
        <p className="read-only-note" data-testid="read-only-note">
          You have view-only access in this organisation, so you can read conversations but not send messages. Ask an
          admin for a role that may chat.
        </p>
      ) : (
        <Composer
          isLoading={stream.isLoading}
          blockedReason={interrupt ? "Answer the request above first." : null}
          placeholder={`Message ${assistantName}`}
          onSend={(text, files) => {
            const forkFrom = onBranch ? (branches.view?.leaf?.id ?? null) : null;
            act(() => stream.send(text, { forkFrom, files }));
          }}
          onStop={() => {
            act(stream.stop);
          }}
        />
      )}
    </div>
  );
}
