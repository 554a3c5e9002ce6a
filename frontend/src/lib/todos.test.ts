import { describe, expect, it } from "vitest";
import { todosFromArgs } from "./todos";

describe("todosFromArgs", () => {
  it("reads the deep agent's todo list", () => {
    expect(
      todosFromArgs({
        todos: [
          { content: "Gather what a trip needs", status: "completed" },
          { content: "Outline the trip", status: "in_progress" },
          { content: "Summarise", status: "pending" },
        ],
      }),
    ).toEqual([
      { content: "Gather what a trip needs", status: "completed" },
      { content: "Outline the trip", status: "in_progress" },
      { content: "Summarise", status: "pending" },
    ]);
  });

  it("drops items without text and reads an unknown status as pending", () => {
    expect(todosFromArgs({ todos: [{ content: "" }, "text", { content: "Step", status: "doing" }] })).toEqual([
      { content: "Step", status: "pending" },
    ]);
  });

  it("is null for arguments without a list", () => {
    expect(todosFromArgs({})).toBeNull();
    expect(todosFromArgs({ todos: "none" })).toBeNull();
    expect(todosFromArgs({ todos: [] })).toBeNull();
  });
});
