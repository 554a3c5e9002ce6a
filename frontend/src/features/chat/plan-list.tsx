import type { Todo, TodoStatus } from "../../lib/todos";

const STATUS: Record<TodoStatus, { mark: string; label: string }> = {
  pending: { mark: "○", label: "to do" },
  in_progress: { mark: "◐", label: "in progress" },
  completed: { mark: "✓", label: "done" },
};

/** The agent's plan (its `write_todos` list) as a checklist, each step with its status. */
export function PlanList({ todos, label = "Plan", testId = "plan" }: { todos: Todo[]; label?: string; testId?: string }) {
  return (
    <ol className="plan-list" aria-label={label} data-testid={testId}>
      {todos.map((todo, index) => (
        <li key={`${String(index)}-${todo.content}`} className={`plan-list__item plan-list__item--${todo.status}`} data-status={todo.status}>
          <span className="plan-list__mark" aria-hidden="true">
            {STATUS[todo.status].mark}
          </span>
          <span>{todo.content}</span>
          <span className="visually-hidden"> ({STATUS[todo.status].label})</span>
        </li>
      ))}
    </ol>
  );
}
