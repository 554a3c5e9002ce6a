import type { Todo } from "../../lib/todos";
import { PlanList } from "./plan-list";

/**
 * The agent's current plan, pinned above the message box: the thread's `todos` as they stream, so
 * steps tick off while the agent works (each `write_todos` call in the conversation shows the plan
 * as it was then). Nothing is shown before the agent plans.
 */
export function PlanPanel({ todos }: { todos: Todo[] }) {
  if (todos.length === 0) return null;
  const done = todos.filter((todo) => todo.status === "completed").length;
  return (
    <section className="plan-panel" aria-labelledby="plan-panel-title">
      <h3 id="plan-panel-title" className="plan-panel__title">
        Plan <span className="muted">{`${done.toString()} of ${todos.length.toString()} done`}</span>
      </h3>
      <PlanList todos={todos} label="Current plan" testId="plan-panel" />
    </section>
  );
}
