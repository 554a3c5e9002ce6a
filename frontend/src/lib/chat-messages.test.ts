import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { contentText, groupConversation, messagesOfValues, toChatMessage, toChatMessages, type ChatMessage } from "./chat-messages";

describe("toChatMessage", () => {
  it("reads a plain history dict", () => {
    expect(toChatMessage({ type: "human", id: "h1", content: "Hello" }, "x")).toEqual({
      id: "h1",
      role: "human",
      text: "Hello",
      toolCalls: [],
    });
  });

  it("reads @langchain/core class instances from the streaming hook", () => {
    const ai = new AIMessage({
      id: "a1",
      content: [{ type: "text", text: "Looking " }, { type: "text", text: "it up." }],
      tool_calls: [{ id: "c1", name: "ls", args: { path: "/" }, type: "tool_call" }],
    });
    const tool = new ToolMessage({ id: "t1", content: "boom", tool_call_id: "c1", name: "ls", status: "error" });

    expect(toChatMessages([new HumanMessage({ id: "h1", content: "hi" }), ai, tool])).toEqual([
      { id: "h1", role: "human", text: "hi", toolCalls: [] },
      { id: "a1", role: "ai", text: "Looking it up.", toolCalls: [{ id: "c1", name: "ls", args: { path: "/" } }] },
      { id: "t1", role: "tool", text: "boom", toolCalls: [], toolCallId: "c1", name: "ls", failed: true },
    ]);
  });

  it("accepts chunk type names, role names and tool calls in content blocks", () => {
    expect(toChatMessage({ type: "AIMessageChunk", id: "a", content: "x" }, "f")?.role).toBe("ai");
    expect(toChatMessage({ role: "user", content: "x" }, "f")).toMatchObject({ role: "human", id: "f" });
    expect(
      toChatMessage({ type: "ai", id: "a", content: [{ type: "tool_call", id: "c", name: "task", args: '{"description":"d"}' }] }, "f")
        ?.toolCalls,
    ).toEqual([{ id: "c", name: "task", args: { description: "d" } }]);
  });

  it("does not list a tool call twice when it is both a field and a content block", () => {
    const message = { type: "ai", id: "a", content: [{ type: "tool_call", id: "c", name: "ls", args: {} }], tool_calls: [{ id: "c", name: "ls", args: {} }] };
    expect(toChatMessage(message, "f")?.toolCalls).toHaveLength(1);
  });

  it("ignores what is not a message", () => {
    expect(toChatMessages([null, 3, "text", { type: "unknown", content: "" }, { content: "no type" }])).toEqual([]);
  });

  it("keeps only text blocks of a content list", () => {
    expect(contentText([{ type: "text", text: "a" }, { type: "reasoning", reasoning: "hidden" }, "b", { type: "image_url" }])).toBe("ab");
    expect(contentText(undefined)).toBe("");
  });

  it("treats unparsable streaming arguments as empty", () => {
    expect(toChatMessage({ type: "ai", id: "a", content: "", tool_calls: [{ id: "c", name: "ls", args: '{"pa' }] }, "f")?.toolCalls).toEqual([
      { id: "c", name: "ls", args: {} },
    ]);
  });
});

describe("messagesOfValues", () => {
  it("finds the messages list or nothing", () => {
    expect(messagesOfValues({ messages: [1] })).toEqual([1]);
    expect(messagesOfValues({ messages: "no" })).toEqual([]);
    expect(messagesOfValues(null)).toEqual([]);
  });
});

const human = (id: string, text = id): ChatMessage => ({ id, role: "human", text, toolCalls: [] });
const ai = (id: string, text: string, calls: string[] = []): ChatMessage => ({
  id,
  role: "ai",
  text,
  toolCalls: calls.map((call) => ({ id: call, name: call === "t-task" ? "task" : "ls", args: {} })),
});
const tool = (id: string, callId: string, failed = false): ChatMessage => ({ id, role: "tool", text: "result", toolCalls: [], toolCallId: callId, failed });

describe("groupConversation", () => {
  it("puts each tool result under the call it answers and hides it from the list", () => {
    const items = groupConversation([human("h"), ai("a1", "", ["t1", "t-task"]), tool("r1", "t1"), tool("r2", "t-task", true), ai("a2", "Done.")], {
      isLoading: false,
    });

    expect(items.map((item) => `${item.kind}:${item.message.id}`)).toEqual(["human:h", "ai:a1", "ai:a2"]);
    const first = items[1];
    expect(first?.kind === "ai" && first.toolCalls.map((view) => [view.call.id, view.status, view.result?.id])).toEqual([
      ["t1", "done", "r1"],
      ["t-task", "failed", "r2"],
    ]);
  });

  it("marks calls without a result as running, awaiting approval, or left without one", () => {
    const messages = [human("h"), ai("a", "", ["t1"])];
    const status = (options: { isLoading: boolean; interrupted?: boolean }) => {
      const item = groupConversation(messages, options)[1];
      return item?.kind === "ai" ? item.toolCalls[0]?.status : null;
    };

    expect(status({ isLoading: true })).toBe("running");
    expect(status({ isLoading: false, interrupted: true })).toBe("approval");
    expect(status({ isLoading: false })).toBe("waiting");
  });

  it("marks the last assistant message of each turn", () => {
    const items = groupConversation([human("h1"), ai("a1", "", ["t1"]), tool("r1", "t1"), ai("a2", "Answer"), human("h2"), ai("a3", "Second")], {
      isLoading: false,
    });

    expect(items.flatMap((item) => (item.kind === "ai" ? [`${item.message.id}:${String(item.turnEnd)}`] : []))).toEqual([
      "a1:false",
      "a2:true",
      "a3:true",
    ]);
  });

  it("drops system prompts and empty assistant messages, keeps orphan tool results", () => {
    const items = groupConversation(
      [{ id: "s", role: "system", text: "You are…", toolCalls: [] }, human("h"), ai("empty", "  "), tool("orphan", "nobody")],
      { isLoading: false },
    );

    expect(items.map((item) => `${item.kind}:${item.message.id}`)).toEqual(["human:h", "tool:orphan"]);
  });
});
