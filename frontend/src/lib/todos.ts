import { isRecord } from "./is-record";

export type TodoStatus = "pending" | "in_progress" | "completed";

export interface Todo {
  content: string;
  status: TodoStatus;
}

const STATUSES: ReadonlySet<string> = new Set<TodoStatus>(["pending", "in_progress", "completed"]);

/**
 * The plan in a `write_todos` call's arguments (the deep agent's todo list), or null when the
 * arguments hold none. Items without text are dropped; an unknown status reads as pending.
 */
export function todosFromArgs(args: Record<string, unknown>): Todo[] | null {
  const raw = args.todos;
  if (!Array.isArray(raw)) return null;
  const todos: Todo[] = [];
  for (const item of raw as unknown[]) {
    if (!isRecord(item) || typeof item.content !== "string" || item.content.trim() === "") continue;
    const status = typeof item.status === "string" && STATUSES.has(item.status) ? (item.status as TodoStatus) : "pending";
    todos.push({ content: item.content, status });
  }
  return todos.length > 0 ? todos : null;
}
