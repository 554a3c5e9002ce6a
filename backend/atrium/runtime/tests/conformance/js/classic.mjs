// Classic (run-scoped) rows with `@langchain/langgraph-sdk` 2.0.0: `Client` and the legacy `useStream`
// from `@langchain/langgraph-sdk/react` (agent-protocol.md §0, §1, §2, §4).
import { createElement as h, useState } from "react";
import { Client } from "@langchain/langgraph-sdk";
import { useStream } from "@langchain/langgraph-sdk/react";

import {
  API,
  KEY,
  assert,
  assertEqual,
  http,
  isUuid,
  render,
  requests,
  requestsSince,
  row,
  sleep,
  waitFor,
  waitRun,
} from "./lib.mjs";

const client = new Client({ apiUrl: API, apiKey: KEY });
const CHAT_INPUT = { messages: [{ type: "human", content: "hi" }] };
const REPLY = "hello there friend";

async function collect(stream) {
  const parts = [];
  for await (const part of stream) {
    if (part.event) parts.push(part);
  }
  return parts;
}

// The legacy hook, controlled the way an app must (onThreadId fed back into threadId, §4.1).
function LegacyHarness({ options, sink }) {
  const [threadId, setThreadId] = useState(options.threadId ?? null);
  const stream = useStream({
    apiUrl: API,
    apiKey: KEY,
    ...options,
    threadId,
    onThreadId: (id) => {
      setThreadId(id);
      options.onThreadId?.(id);
    },
  });
  void stream.values; // touch the getters a UI reads: they decide the stream modes requested
  void stream.messages;
  sink.current = stream;
  return null;
}

async function mountLegacy(options) {
  const sink = { current: null };
  const view = await render(h(LegacyHarness, { options, sink }));
  await waitFor(() => sink.current, { what: "the legacy hook to render" });
  return { sink, unmount: () => view.unmount() };
}

export async function classicRows() {
  await row("J1 client CRUD (threads, assistants, state, 204 deletes)", async () => {
    const thread = await client.threads.create({ metadata: { suite: "js" }, graphId: "simple" });
    assert(isUuid(thread.thread_id), "thread id");
    assertEqual(thread.status, "idle", "status");
    const got = await client.threads.get(thread.thread_id);
    assertEqual(got.metadata.suite, "js", "metadata");
    const updated = await client.threads.update(thread.thread_id, { metadata: { extra: 1 } });
    assertEqual(updated.metadata.extra, 1, "merged metadata");
    assertEqual(updated.metadata.suite, "js", "kept metadata");
    const found = await client.threads.search({ metadata: { suite: "js" }, limit: 100 });
    assert(found.some((t) => t.thread_id === thread.thread_id), "search finds it");
    const state = await client.threads.getState(thread.thread_id);
    assertEqual(state.checkpoint, null, "fresh thread has no checkpoint");
    assertEqual(state.next, [], "fresh thread next");
    const assistant = await client.assistants.create({ graphId: "simple", name: "js" });
    assertEqual((await client.assistants.get(assistant.assistant_id)).name, "js", "assistant get");
    await client.assistants.delete(assistant.assistant_id); // 204: must not be parsed as JSON
    await client.threads.delete(thread.thread_id); // 204
    const missing = await http("GET", `/threads/${thread.thread_id}`);
    assertEqual(missing.status, 404, "deleted thread");
  });

  await row("J11 patchState (204) patches the head checkpoint's metadata", async () => {
    const thread = await client.threads.create();
    await client.runs.wait(thread.thread_id, "simple", { input: { steps: [] } });
    await client.threads.patchState(thread.thread_id, { reviewed: true });
    assertEqual((await client.threads.getState(thread.thread_id)).metadata.reviewed, true, "patched metadata");
  });

  await row("J2 X-Pagination headers and includePagination", async () => {
    const tag = crypto.randomUUID();
    for (let i = 0; i < 3; i += 1) await client.assistants.create({ graphId: "simple", metadata: { tag } });
    const page = await client.assistants.search({ metadata: { tag }, limit: 2, includePagination: true });
    assertEqual(page.assistants.length, 2, "page size");
    assertEqual(page.next, "2", "X-Pagination-Next");
    const raw = await http("POST", "/threads/search", { limit: 1 });
    assert(raw.headers.get("x-pagination-total") !== null, "X-Pagination-Total on thread search");
  });

  await row("J3 runs.stream: Content-Location → onRunCreated, metadata first, messages-tuple as messages", async () => {
    const thread = await client.threads.create();
    let created;
    const parts = await collect(
      client.runs.stream(thread.thread_id, "chat", {
        input: CHAT_INPUT,
        streamMode: ["values", "messages-tuple"],
        onRunCreated: (meta) => {
          created = meta;
        },
      }),
    );
    assert(created && isUuid(created.run_id), "onRunCreated has the run id");
    assertEqual(created.thread_id, thread.thread_id, "onRunCreated thread id (from Content-Location)");
    assertEqual(parts[0].event, "metadata", "first event");
    assertEqual(parts[0].data.run_id, created.run_id, "metadata run id");
    const messages = parts.filter((p) => p.event === "messages");
    assert(messages.length > 0, "messages events");
    assertEqual(messages.map((p) => p.data[0].content).join(""), REPLY, "streamed tokens");
    assertEqual(parts.at(-1).data.messages.at(-1).content, REPLY, "final values");
  });

  await row("J4 joinStream with Last-Event-ID -1 replays the whole run", async () => {
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, "simple", {
      input: { steps: [] },
      streamResumable: true,
      streamMode: ["values", "updates"],
    });
    await client.runs.join(thread.thread_id, run.run_id);
    const parts = await collect(client.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: "-1" }));
    assertEqual(parts[0].event, "metadata", "replay starts with metadata");
    assert(parts.every((p) => p.id), "every replayed event has an id");
    assertEqual(parts.filter((p) => p.event === "updates").length, 3, "three updates");
    const values = await collect(
      client.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: "-1", streamMode: ["values"] }),
    );
    assert(values.every((p) => ["metadata", "values"].includes(p.event)), "stream_mode filter (JSON array)");
  });

  await row("J5 cancel: 202 with an empty body (wait=0), run interrupted", async () => {
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, "slow", { input: { n: 30, delay: 0.1 } });
    await waitRun(thread.thread_id, run.run_id, ["running"]);
    const mark = requests.length;
    await client.runs.cancel(thread.thread_id, run.run_id, false, "interrupt");
    const sent = requests.slice(mark).find((r) => r.path.includes("/cancel"));
    assertEqual(sent.status, 202, "cancel status");
    assert(sent.path.includes("wait=0") && sent.path.includes("action=interrupt"), `cancel query ${sent.path}`);
    assertEqual((await waitRun(thread.thread_id, run.run_id)).status, "interrupted", "run status");
  });

  await row("J6 useStream submit on a new thread: POST /threads then runs/stream; values and messages", async () => {
    const created = [];
    const finished = [];
    const { sink, unmount } = await mountLegacy({
      assistantId: "chat",
      onCreated: (meta) => created.push(meta),
      onFinish: (state) => finished.push(state),
    });
    const mark = requests.length;
    await sink.current.submit(CHAT_INPUT);
    await waitFor(() => finished.length === 1, { what: "onFinish" });
    const sequence = requestsSince(mark);
    assertEqual(sequence[0], "POST /threads", "first request");
    assert(/^POST \/threads\/[^/]+\/runs\/stream$/.test(sequence[1]), `second request ${sequence[1]}`);
    assert(created.length === 1 && isUuid(created[0].run_id), "onCreated");
    const stream = sink.current;
    assertEqual(stream.error, undefined, "no error");
    assertEqual(stream.messages.map((m) => m.content), ["hi", REPLY], "messages");
    assertEqual(finished[0].values.messages.at(-1).content, REPLY, "history head");
    unmount();
  });

  await row("J7 useStream interrupt and Command resume", async () => {
    const { sink, unmount } = await mountLegacy({ assistantId: "approver" });
    await sink.current.submit(CHAT_INPUT);
    await waitFor(() => !sink.current.isLoading && sink.current.interrupt, { what: "the interrupt" });
    assertEqual(sink.current.interrupt.value, { question: "approve?" }, "interrupt value");
    await sink.current.submit(undefined, { command: { resume: "yes" } });
    await waitFor(() => !sink.current.isLoading && sink.current.values?.messages?.at(-1)?.content === "approved=yes", {
      what: "resumed values",
    });
    unmount();
  });

  await row("J8 useStream reconnectOnMount: rejoin with Last-Event-ID -1 after a remount", async () => {
    let threadId;
    const first = await mountLegacy({ assistantId: "slow", reconnectOnMount: true, onThreadId: (id) => (threadId = id) });
    void first.sink.current.submit({ n: 12, delay: 0.15 }, { streamMode: ["values"] });
    await waitFor(() => (first.sink.current.values?.ticks?.length ?? 0) >= 2, { what: "a few ticks" });
    const runId = window.sessionStorage.getItem(`lg:stream:${threadId}`);
    assert(isUuid(runId), "the run id is kept in sessionStorage");
    first.unmount();
    await sleep(100);
    const mark = requests.length;
    const second = await mountLegacy({ assistantId: "slow", reconnectOnMount: true, threadId });
    await waitFor(() => second.sink.current.values?.ticks?.length === 12 && !second.sink.current.isLoading, {
      what: "the rejoined run to finish",
    });
    const join = requests.slice(mark).find((r) => r.path.includes(`/runs/${runId}/stream`));
    assert(join, `no join request in ${requestsSince(mark)}`);
    assertEqual(join.method, "GET", "join method");
    assertEqual(join.lastEventId, "-1", "Last-Event-ID");
    assert(join.path.includes("cancel_on_disconnect=0"), `join query ${join.path}`);
    assertEqual(window.sessionStorage.getItem(`lg:stream:${threadId}`), null, "key removed after a clean end");
    assertEqual((await http("GET", `/threads/${threadId}/runs/${runId}`)).json.status, "success", "run status");
    second.unmount();
  });

  await row("J9 useStream stop() with reconnectOnMount cancels the run (202)", async () => {
    let threadId;
    const { sink, unmount } = await mountLegacy({
      assistantId: "slow",
      reconnectOnMount: true,
      onThreadId: (id) => (threadId = id),
    });
    void sink.current.submit({ n: 40, delay: 0.1 }, { streamMode: ["values"] });
    await waitFor(() => (sink.current.values?.ticks?.length ?? 0) >= 1, { what: "a tick" });
    const runId = window.sessionStorage.getItem(`lg:stream:${threadId}`);
    const mark = requests.length;
    await sink.current.stop();
    const cancel = await waitFor(() => requests.slice(mark).find((r) => r.path.includes("/cancel") && r.status), {
      what: "the cancel request",
    });
    assertEqual(cancel.status, 202, "cancel status");
    assertEqual((await waitRun(threadId, runId)).status, "interrupted", "run status");
    unmount();
  });

  await row("J12 useStream fetchStateHistory: POST /history, then an edit forks a sibling branch", async () => {
    const { sink, unmount } = await mountLegacy({ assistantId: "chat", fetchStateHistory: true });
    const mark = requests.length;
    await sink.current.submit(CHAT_INPUT);
    await waitFor(() => !sink.current.isLoading && sink.current.messages.length === 2 && sink.current.history?.length, {
      what: "the first turn and its history",
    });
    const historyCall = requests.slice(mark).find((r) => r.path.endsWith("/history"));
    assert(historyCall && JSON.parse(historyCall.body).limit === 10, "POST /history {limit: 10}");
    const first = sink.current.messages[0];
    const parent = sink.current.getMessagesMetadata(first)?.firstSeenState?.parent_checkpoint;
    assert(parent?.checkpoint_id, "the first message's parent checkpoint");
    await sink.current.submit({ messages: [{ type: "human", content: "edited" }] }, { checkpoint: parent });
    await waitFor(
      () => !sink.current.isLoading && sink.current.messages.map((m) => m.content).join("|") === `edited|${REPLY}`,
      { what: "the edited branch" },
    );
    const meta = sink.current.getMessagesMetadata(sink.current.messages[0]);
    assertEqual(meta?.branchOptions?.length, 2, "two sibling branches");
    unmount();
  });

  await row("J10 useStream failing run surfaces the error", async () => {
    const errors = [];
    const { sink, unmount } = await mountLegacy({ assistantId: "failing", onError: (e) => errors.push(e) });
    await sink.current.submit({});
    await waitFor(() => errors.length === 1 && !sink.current.isLoading, { what: "onError" });
    assert(String(sink.current.error?.message ?? sink.current.error).includes("kaboom"), "error message");
    unmount();
  });
}
