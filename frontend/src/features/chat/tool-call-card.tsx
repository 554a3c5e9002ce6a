import type { ToolCallStatus, ToolCallView } from "../../lib/chat-messages";
import { todosFromArgs } from "../../lib/todos";
import { PlanList } from "./plan-list";
import type { ChatSubagent } from "./stream/chat-stream";
import { SubagentCard } from "./subagent-card";

const STATUS_LABEL: Record<ToolCallStatus, string> = {
  running: "Running…",
  approval: "Waiting for approval",
  waiting: "No result",
  done: "Done",
  failed: "Failed",
};

interface ToolCallCardProps {
  view: ToolCallView;
  subagent: ChatSubagent | undefined;
}

function formatArgs(args: Record<string, unknown>): string {
  return Object.keys(args).length === 0 ? "(no arguments)" : JSON.stringify(args, null, 2);
}

/**
 * One tool call and its result, collapsed to a single line until opened. A `task` call is the
 * deep agent delegating to a subagent; its card shows the subagent's progress as it happens. A
 * `write_todos` call shows the plan it wrote.
 */
export function ToolCallCard({ view, subagent }: ToolCallCardProps) {
  const { call, result, status } = view;
  const plan = call.name === "write_todos" ? todosFromArgs(call.args) : null;
  return (
    <div className="tool-call" data-testid="tool-call" data-status={status}>
      <details>
        <summary className="tool-call__summary">
          <span className="tool-call__icon" aria-hidden="true">
            ⚙
          </span>
          <span className="tool-call__name">{call.name}</span>
          <span className={`tool-call__status tool-call__status--${status}`}>{STATUS_LABEL[status]}</span>
        </summary>
        <div className="tool-call__body">
          <h4 className="tool-call__heading">Arguments</h4>
          <pre className="code-block">{formatArgs(call.args)}</pre>
          <h4 className="tool-call__heading">Result</h4>
          {result ? <pre className="code-block">{result.text || "(empty)"}</pre> : <p className="muted">No result yet.</p>}
        </div>
      </details>
      {plan ? <PlanList todos={plan} /> : null}
      {subagent ? <SubagentCard subagent={subagent} /> : null}
    </div>
  );
}
