import type { Namespace } from "./events";
import { addCheckpoint, head, sortableId, type Checkpoint, type FakeMessage, type FakeRun, type FakeThread, type PendingInterrupt } from "./threads";

/**
 * A scripted agent, deterministic like the real offline model, that produces the v2 event
 * sequence of a LangGraph deep agent run. It understands a few phrases in the last human message:
 *
 *   write <text>     asks to approve `write_file` (a human-in-the-loop interrupt)
 *   remember <fact>  writes /memories/notes.md, like the offline model (after approval when the
 *                    assistant's `interrupt_on` names `write_file`)
 *   research <topic> delegates to a `researcher` subagent (events under ["tools:<id>"])
 *   plan <what>      writes a todo list (`write_todos`), then answers with the plan
 *   fail             the run fails with "kaboom"
 *   anything else    "You said: <text>", streamed a word at a time
 */

export interface RunEnv {
  thread: FakeThread;
  run: FakeRun;
  tokenDelayMs: number;
  /** Tools that wait for a human decision (the assistant's `context.interrupt_on`). */
  interruptOn: readonly string[];
  /** Called for `write_file`, so a test can see what was written. */
  onWrite: (path: string, content: string) => void;
}

class Cancelled extends Error {}

async function pause(env: RunEnv, ms = env.tokenDelayMs): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  if (env.run.cancelled) throw new Cancelled();
}

function lifecycle(env: RunEnv, namespace: Namespace, event: string, extra: Record<string, unknown> = {}) {
  env.thread.log.append("lifecycle", namespace, { event, graph_name: namespace.length === 0 ? "agent" : "researcher", ...extra });
}

function text(message: FakeMessage | undefined): string {
  return typeof message?.content === "string" ? message.content : "";
}

/** Streams an AI message token by token, then returns it as it will be stored. */
async function streamAi(env: RunEnv, namespace: Namespace, reply: string, toolCalls: { id: string; name: string; args: Record<string, unknown> }[] = []) {
  const log = env.thread.log;
  const id = `ai-${sortableId()}`;
  log.append("messages", namespace, { event: "message-start", role: "ai", id });
  if (reply) {
    log.append("messages", namespace, { event: "content-block-start", index: 0, content: { type: "text", text: "" } });
    for (const piece of reply.match(/\s*\S+/g) ?? []) {
      await pause(env);
      log.append("messages", namespace, { event: "content-block-delta", index: 0, delta: { type: "text-delta", text: piece } });
    }
    log.append("messages", namespace, { event: "content-block-finish", index: 0, content: { type: "text", text: reply } });
  }
  toolCalls.forEach((call, offset) => {
    const index = (reply ? 1 : 0) + offset;
    log.append("messages", namespace, { event: "content-block-start", index, content: { type: "tool_call_chunk", id: call.id, name: call.name, args: "" } });
    log.append("messages", namespace, { event: "content-block-finish", index, content: { type: "tool_call", ...call } });
  });
  log.append("messages", namespace, { event: "message-finish" });
  return { type: "ai", id, content: reply, tool_calls: toolCalls } satisfies FakeMessage;
}

function toolMessage(call: { id: string; name: string }, content: string, status = "success"): FakeMessage {
  return { type: "tool", id: `tool-${sortableId()}`, content, tool_call_id: call.id, name: call.name, status };
}

async function research(env: RunEnv, at: Checkpoint, topic: string): Promise<Checkpoint> {
  const call = { id: `call_${sortableId().slice(-8)}`, name: "task", args: { description: topic, subagent_type: "researcher" } };
  const ai = await streamAi(env, [], "", [call]);
  let cp = addCheckpoint(env.thread, at, [...at.messages, ai], { next: ["tools"] });
  const log = env.thread.log;
  const namespace = [`tools:${call.id}`];
  log.append("tools", [], { event: "tool-started", tool_call_id: call.id, tool_name: "task", input: call.args });
  lifecycle(env, namespace, "started", { trigger_call_id: call.id });
  const ask: FakeMessage = { type: "human", id: `sub-${sortableId()}`, content: topic };
  log.append("values", namespace, { messages: [ask] });
  const found = await streamAi(env, namespace, `Findings about ${topic}: three sources agree.`);
  log.append("values", namespace, { messages: [ask, found] });
  lifecycle(env, namespace, "completed");
  const report = text(found);
  log.append("tools", [], { event: "tool-finished", tool_call_id: call.id, output: report });
  cp = addCheckpoint(env.thread, cp, [...cp.messages, toolMessage(call, report)], { next: ["model"] });
  const answer = await streamAi(env, [], `The subagent reports: ${report}`);
  return addCheckpoint(env.thread, cp, [...cp.messages, answer]);
}

async function askToWrite(env: RunEnv, at: Checkpoint, path: string, content: string, intro: string, approvedAnswer: string): Promise<Checkpoint> {
  const call = { id: `call_${sortableId().slice(-8)}`, name: "write_file", args: { file_path: path, content } };
  const ai = await streamAi(env, [], intro, [call]);
  const interrupt: PendingInterrupt = {
    id: `interrupt-${sortableId()}`,
    toolCall: call,
    approvedAnswer,
    value: {
      action_requests: [{ name: call.name, args: call.args, description: "Tool execution requires approval" }],
      review_configs: [{ action_name: call.name, allowed_decisions: ["approve", "edit", "reject"] }],
    },
  };
  const cp = addCheckpoint(env.thread, at, [...at.messages, ai], { next: ["tools"], interrupt });
  env.thread.log.append("input.requested", [], { interrupt_id: interrupt.id, payload: interrupt.value });
  return cp;
}

async function remember(env: RunEnv, at: Checkpoint, fact: string): Promise<{ checkpoint: Checkpoint; interrupted: boolean }> {
  const answer = `I will remember that ${fact}.`;
  if (env.interruptOn.includes("write_file")) {
    return { checkpoint: await askToWrite(env, at, "/memories/notes.md", `- ${fact}\n`, "", answer), interrupted: true };
  }
  const call = { id: `call_${sortableId().slice(-8)}`, name: "write_file", args: { file_path: "/memories/notes.md", content: `- ${fact}\n` } };
  const ai = await streamAi(env, [], "", [call]);
  let cp = addCheckpoint(env.thread, at, [...at.messages, ai], { next: ["tools"] });
  env.onWrite(call.args.file_path, call.args.content);
  cp = addCheckpoint(env.thread, cp, [...cp.messages, toolMessage(call, "Updated file /memories/notes.md")], { next: ["model"] });
  const reply = await streamAi(env, [], answer);
  return { checkpoint: addCheckpoint(env.thread, cp, [...cp.messages, reply]), interrupted: false };
}

async function plan(env: RunEnv, at: Checkpoint, what: string): Promise<Checkpoint> {
  const steps = [`Gather what ${what} needs`, `Outline ${what} step by step`, "Check the plan and summarise it"];
  const todos = steps.map((content, index) => ({ content, status: index === 0 ? "completed" : index === 1 ? "in_progress" : "pending" }));
  const call = { id: `call_${sortableId().slice(-8)}`, name: "write_todos", args: { todos } };
  const ai = await streamAi(env, [], "", [call]);
  let cp = addCheckpoint(env.thread, at, [...at.messages, ai], { next: ["tools"] });
  cp = addCheckpoint(env.thread, cp, [...cp.messages, toolMessage(call, `Updated todo list to ${JSON.stringify(todos)}`)], { next: ["model"] });
  const answer = await streamAi(env, [], `Here is the plan for ${what}.`);
  return addCheckpoint(env.thread, cp, [...cp.messages, answer]);
}

async function reply(env: RunEnv, at: Checkpoint): Promise<{ checkpoint: Checkpoint; interrupted: boolean }> {
  const human = [...at.messages].reverse().find((message) => message.type === "human");
  const said = text(human).trim();
  // "fail" ends the run with an error; "fail: <message>" with that message (as a graph's public error).
  const failure = /^fail\b(?::\s*(\S.*))?/is.exec(said);
  if (failure) throw new Error(failure[1]?.trim() ?? "kaboom");
  const write = /^write\s+(.+)$/is.exec(said);
  if (write) return { checkpoint: await askToWrite(env, at, "/notes.md", write[1] ?? "", "I will save that.", "Done: the note is saved."), interrupted: true };
  const fact = /^remember(?:\s+that)?\s+(.+)$/is.exec(said)?.[1]?.trim().replace(/\.$/, "");
  if (fact) return remember(env, at, fact);
  const topic = /^research\s+(.+)$/is.exec(said);
  if (topic) return { checkpoint: await research(env, at, topic[1] ?? ""), interrupted: false };
  const goal = /^plan\s+(.+)$/is.exec(said);
  if (goal) return { checkpoint: await plan(env, at, goal[1] ?? ""), interrupted: false };
  const ai = await streamAi(env, [], `You said: ${said}`);
  return { checkpoint: addCheckpoint(env.thread, at, [...at.messages, ai]), interrupted: false };
}

/** Runs `step` as one run: lifecycle framing, status bookkeeping, cancellation, failure. */
async function asRun(env: RunEnv, step: () => Promise<{ interrupted: boolean }>): Promise<void> {
  const { thread, run } = env;
  thread.log.startRun();
  run.status = "running";
  lifecycle(env, [], "running");
  try {
    const { interrupted } = await step();
    run.status = "success";
    lifecycle(env, [], interrupted ? "interrupted" : "completed");
  } catch (error) {
    if (error instanceof Cancelled) {
      run.status = "interrupted";
      lifecycle(env, [], "interrupted");
    } else {
      run.status = "error";
      lifecycle(env, [], "failed", { error: error instanceof Error ? error.message : String(error) });
    }
  }
}

/** `run.start`: an input checkpoint, the human message, then the reply. */
export function startRun(env: RunEnv, base: Checkpoint | null, input: FakeMessage[] | null): Promise<void> {
  return asRun(env, async () => {
    // Mid-run checkpoints name the nodes still to run, which is how a reloaded page knows to rejoin.
    let at = addCheckpoint(env.thread, base, base?.messages ?? [], { next: ["__start__"] });
    if (input && input.length > 0) at = addCheckpoint(env.thread, at, [...at.messages, ...input], { next: ["model"] });
    await pause(env);
    return reply(env, at);
  });
}

/** `input.respond` to a `write_file` approval: run (or skip) the tool, then answer. */
export function resumeRun(env: RunEnv, pending: PendingInterrupt, response: unknown): Promise<void> {
  return asRun(env, async () => {
    const at = head(env.thread);
    if (!at) throw new Error("nothing to resume");
    const decision = (response as { decisions?: { type?: string; message?: string; edited_action?: { args?: Record<string, unknown> } }[] }).decisions?.[0];
    const call = pending.toolCall;
    let result: FakeMessage;
    if (decision?.type === "reject") {
      result = toolMessage(call, `Rejected: ${decision.message ?? "no reason given"}`, "error");
    } else {
      const args = decision?.type === "edit" ? (decision.edited_action?.args ?? call.args) : call.args;
      env.onWrite(String(args.file_path), String(args.content));
      result = toolMessage(call, `Updated file ${String(args.file_path)}`);
    }
    const cp = addCheckpoint(env.thread, at, [...at.messages, result], { next: ["model"] });
    const answer = await streamAi(env, [], decision?.type === "reject" ? "Understood, I did not write it." : pending.approvedAnswer);
    addCheckpoint(env.thread, cp, [...cp.messages, answer]);
    return { interrupted: false };
  });
}
