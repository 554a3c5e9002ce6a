// Protocol v2 rows (agent-protocol.md V2.10): C1-C15 with the SDK 1.11.0 classes `@langchain/react`
// ships with (plus raw requests where the wire itself is checked), H1-H3 with the real
// `@langchain/react` 1.1.0 `useStream` rendered headless.
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createElement as h, useState } from "react";
import { useStream } from "@langchain/react";

import {
  API,
  KEY,
  ROOT_PUMP,
  assert,
  assertEqual,
  command,
  eventStream,
  http,
  isUuid,
  loggingFetch,
  render,
  requests,
  requestsSince,
  rootLifecycle,
  row,
  runStart,
  sleep,
  waitFor,
  waitRun,
  warn,
} from "./lib.mjs";

// The SDK version @langchain/react itself depends on (1.11.0), not the top-level 2.0.0.
const reactRequire = createRequire(createRequire(import.meta.url).resolve("@langchain/react"));
const sdkPackage = reactRequire.resolve("@langchain/langgraph-sdk/package.json");
const sdk = await import(pathToFileURL(path.join(path.dirname(sdkPackage), "dist", "index.js")).href);
const client = new sdk.Client({ apiUrl: API, apiKey: KEY });

const CHAT_INPUT = { messages: [{ type: "human", content: "hi" }] };
const newId = () => crypto.randomUUID();
// Message content as text: a string, or the content blocks the hook assembles from `messages` events.
const text = (content) =>
  typeof content === "string" ? content : (content ?? []).map((block) => block.text ?? "").join("");

function checkEnvelope(event) {
  assertEqual(event.type, "event", "envelope type");
  assert(Number.isInteger(event.seq), `seq ${event.seq}`);
  assert(typeof event.event_id === "string" && event.event_id, "event_id");
  assert(typeof event.method === "string", "method");
  assert(Array.isArray(event.params?.namespace), "params.namespace");
  assert(typeof event.params.timestamp === "number", "params.timestamp");
  assert("data" in event.params, "params.data");
}

async function finishedThread(graph = "simple", input = { steps: [] }) {
  const tid = newId();
  const runId = await runStart(tid, graph, input);
  await waitRun(tid, runId);
  return { tid, runId };
}

async function interruptedApprover() {
  const tid = newId();
  const runId = await runStart(tid, "approver", CHAT_INPUT);
  await waitRun(tid, runId);
  return { tid, runId };
}

function HookHarness({ options, sink }) {
  const [threadId, setThreadId] = useState(options.threadId ?? null);
  const stream = useStream({
    apiUrl: API,
    apiKey: KEY,
    fetch: loggingFetch,
    ...options,
    threadId,
    onThreadId: (id) => {
      setThreadId(id);
      options.onThreadId?.(id);
    },
  });
  sink.current = stream;
  return null;
}

async function mountHook(options) {
  const sink = { current: null };
  const view = await render(h(HookHarness, { options, sink }));
  await waitFor(() => sink.current, { what: "the hook to render" });
  return { sink, unmount: () => view.unmount() };
}

export async function v2Rows() {
  // C15 holds a stream idle for 15 s: it runs beside every other row.
  const idle = (async () => {
    const { tid } = await finishedThread();
    const conn = eventStream(tid, { channels: ["custom"] });
    await sleep(15500);
    await conn.close();
    return conn;
  })();

  let first;
  await row("C1 run.start on a new thread id", async () => {
    const tid = newId();
    const response = await command(tid, {
      id: 7,
      method: "run.start",
      params: { assistant_id: "simple", input: { steps: [] }, config: { configurable: { thread_id: tid } } },
    });
    assertEqual(response.status, 200, "status");
    assertEqual(response.json.type, "success", "type");
    assertEqual(response.json.id, 7, "id echoed");
    assert(isUuid(response.json.result.run_id), "run_id");
    if (response.json.meta && "applied_through_seq" in response.json.meta) {
      assert(typeof response.json.meta.applied_through_seq === "number", "applied_through_seq is a number");
    }
    assertEqual((await http("GET", `/threads/${tid}`)).status, 200, "the thread exists");
    assertEqual((await waitRun(tid, response.json.result.run_id)).status, "success", "the run completes");
    first = { tid, runId: response.json.result.run_id };
  });

  await row("C2 stream/events framing", async () => {
    const { tid } = first ?? (await finishedThread());
    const conn = eventStream(tid, { channels: ["lifecycle", "values"] });
    await conn.ready;
    assertEqual(conn.status, 200, "status");
    assert(conn.contentType.startsWith("text/event-stream"), `content-type ${conn.contentType}`);
    await conn.until((events) => rootLifecycle(events, "completed").length > 0);
    await conn.close();
    for (const [i, event] of conn.events.entries()) {
      checkEnvelope(event);
      assertEqual(conn.blocks[i].dataLines.length, 1, "one data line per event");
      if (conn.blocks[i].event !== event.method) warn(`C2 event: ${conn.blocks[i].event} != method ${event.method}`);
      if (conn.blocks[i].id !== String(event.seq)) warn(`C2 id: ${conn.blocks[i].id} != seq ${event.seq}`);
    }
  });

  await row("C3 replay of a finished thread; the stream stays open", async () => {
    const { tid } = first ?? (await finishedThread());
    const conn = eventStream(tid, ROOT_PUMP);
    await conn.until((events) => rootLifecycle(events, "completed").length > 0);
    const lifecycle = rootLifecycle(conn.events).map((e) => e.params.data.event);
    assertEqual(lifecycle, ["running", "completed"], "root lifecycle");
    const firstRunning = conn.events.indexOf(rootLifecycle(conn.events, "running")[0]);
    const values = conn.events.findIndex((e) => e.method === "values" && e.params.namespace.length === 0);
    assert(firstRunning >= 0 && values > firstRunning, "running, then values");
    const seqs = conn.events.map((e) => e.seq);
    assert(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), `seq strictly increasing: ${seqs}`);
    assertEqual(new Set(conn.events.map((e) => e.event_id)).size, conn.events.length, "unique event ids");
    await sleep(1000);
    assert(!conn.closed, "the server closed the stream after completed");
    await conn.close();
  });

  let approver;
  await row("C4 channel, namespace and depth filters", async () => {
    approver = await interruptedApprover();
    const { tid } = approver;
    const all = ["values", "updates", "messages", "tools", "custom", "lifecycle", "input", "tasks", "checkpoints"];
    const lifecycleOnly = eventStream(tid, { channels: ["lifecycle"] });
    const withInput = eventStream(tid, { channels: ["lifecycle", "input"] });
    const rootOnly = eventStream(tid, { channels: all, namespaces: [[]], depth: 0 });
    const everything = eventStream(tid, { channels: all });
    for (const conn of [lifecycleOnly, withInput, rootOnly, everything]) {
      await conn.until((events) => rootLifecycle(events, "interrupted").length > 0);
    }
    await sleep(200);
    await Promise.all([lifecycleOnly, withInput, rootOnly, everything].map((c) => c.close()));
    assert(lifecycleOnly.events.every((e) => e.method === "lifecycle"), "lifecycle channel only");
    assert(withInput.events.some((e) => e.method === "input.requested"), "input channel delivers input.requested");
    assert(rootOnly.events.every((e) => e.params.namespace.length === 0), "root namespace only");
    assert(
      everything.events.some((e) => e.params.namespace.length === 1 && e.params.namespace[0].startsWith("tools:")),
      "nested tools:… events exist without a namespace filter",
    );
  });

  await row("C5 since replays only the tail", async () => {
    const { tid } = approver ?? (await interruptedApprover());
    const filter = { channels: ["lifecycle", "input", "values"] };
    const full = eventStream(tid, filter);
    await full.until((events) => rootLifecycle(events, "interrupted").length > 0);
    await full.close();
    const middle = full.events[Math.floor(full.events.length / 2)];
    const tail = eventStream(tid, { ...filter, since: middle.seq });
    const expected = full.events.filter((e) => e.seq > middle.seq).map((e) => e.event_id);
    await tail.until((events) => events.length >= expected.length);
    await sleep(200);
    await tail.close();
    assert(tail.events.every((e) => e.seq > middle.seq), "only seq > since");
    assertEqual(tail.events.map((e) => e.event_id), expected, "the tail of the full replay");
  });

  await row("C6 an open stream sees the next run (SDK submitRun)", async () => {
    const { tid, runId } = first ?? (await finishedThread());
    const conn = eventStream(tid, { channels: ["lifecycle"] });
    await conn.until((events) => rootLifecycle(events, "completed").length > 0);
    const before = conn.events.length;
    const thread = client.threads.stream(tid, { assistantId: "simple" });
    const result = await thread.submitRun({ input: { steps: [] } });
    const newRun = result?.run_id ?? result?.runId;
    if (newRun !== undefined) assert(newRun !== runId, "a new run id");
    await conn.until((events) => rootLifecycle(events.slice(before), "completed").length > 0);
    const fresh = rootLifecycle(conn.events.slice(before)).map((e) => e.params.data.event);
    assertEqual(fresh, ["running", "completed"], "the new run's lifecycle on the same connection");
    await conn.close();
    await thread.close();
  });

  let interruptId;
  let respondThread;
  await row("C7 input.requested before root lifecycle interrupted; state shows the interrupt", async () => {
    const tid = newId();
    await runStart(tid, "approver", CHAT_INPUT);
    const conn = eventStream(tid, { channels: ["lifecycle", "input"] }); // replays from the run's start
    await conn.until((events) => rootLifecycle(events, "interrupted").length > 0);
    await conn.close();
    const requested = conn.events.findIndex((e) => e.method === "input.requested");
    const interrupted = conn.events.indexOf(rootLifecycle(conn.events, "interrupted")[0]);
    assert(requested >= 0 && requested < interrupted, "input.requested comes first");
    const data = conn.events[requested].params.data;
    assertEqual(conn.events[requested].params.namespace, [], "root namespace");
    assert(typeof data.interrupt_id === "string" && data.interrupt_id, "interrupt_id");
    assertEqual(data.payload, { question: "approve?" }, "payload");
    const state = (await http("GET", `/threads/${tid}/state`)).json;
    assert(state.next.length > 0, "next is non-empty");
    assert(
      state.tasks.some((t) => t.interrupts.some((i) => i.id === data.interrupt_id)),
      "tasks[].interrupts[].id has it",
    );
    interruptId = data.interrupt_id;
    respondThread = tid;
  });

  await row("C8 input.respond resumes (SDK respondInput)", async () => {
    assert(interruptId, "needs C7");
    const conn = eventStream(respondThread, { channels: ["lifecycle"] });
    await conn.until((events) => rootLifecycle(events, "interrupted").length > 0);
    const before = conn.events.length;
    const thread = client.threads.stream(respondThread, { assistantId: "approver" });
    await thread.respondInput({ namespace: [], interrupt_id: interruptId, response: "yes" });
    await conn.until((events) => rootLifecycle(events.slice(before), "completed").length > 0);
    assertEqual(
      rootLifecycle(conn.events.slice(before)).map((e) => e.params.data.event),
      ["running", "completed"],
      "resumed lifecycle",
    );
    await conn.close();
    await thread.close();
    const state = (await http("GET", `/threads/${respondThread}/state`)).json;
    assertEqual(state.next, [], "next");
    assert(state.tasks.every((t) => !t.interrupts?.length), "no pending interrupts");
    assertEqual(state.values.messages.at(-1).content, "approved=yes", "last message");
  });

  await row("C9 input.respond for an unknown interrupt: ProtocolError no_such_interrupt", async () => {
    const { tid } = await interruptedApprover();
    const thread = client.threads.stream(tid, { assistantId: "approver" });
    try {
      await thread.respondInput({ namespace: [], interrupt_id: "does-not-exist", response: "x" });
      throw new Error("respondInput did not throw");
    } catch (error) {
      assert(error instanceof sdk.ProtocolError, `not a ProtocolError: ${error}`);
      if (error.code !== "no_such_interrupt") warn(`C9 code ${error.code}`);
    } finally {
      await thread.close();
    }
  });

  await row("C10 command errors", async () => {
    const tid = newId();
    const unknown = await command(tid, { id: 1, method: "bogus.method" });
    assertEqual(unknown.json?.type, "error", "unknown command type");
    assertEqual(unknown.json.error, "unknown_command", "unknown command code");
    assertEqual(unknown.json.id, 1, "id echoed");
    const noAssistant = await command(tid, { id: 2, method: "run.start", params: { input: {} } });
    assertEqual(noAssistant.json?.type, "error", "missing assistant type");
    assertEqual(noAssistant.json.error, "invalid_argument", "missing assistant code");
    const noId = await command(tid, { method: "run.start", params: { assistant_id: "simple" } });
    assert((noId.status >= 400 && noId.status < 500) || noId.json?.type === "error", `no id: ${noId.status}`);
  });

  await row("C11 cancel (SDK runs.cancel) → root lifecycle interrupted, run interrupted", async () => {
    const tid = newId();
    const runId = await runStart(tid, "slow", { n: 40, delay: 0.1 });
    const conn = eventStream(tid, { channels: ["lifecycle"] });
    await conn.until((events) => rootLifecycle(events, "running").length > 0);
    await client.runs.cancel(tid, runId, false, "interrupt");
    await conn.until((events) => rootLifecycle(events, "interrupted").length > 0);
    await conn.close();
    assertEqual((await waitRun(tid, runId)).status, "interrupted", "run status");
  });

  await row("C12 fork from a checkpoint of the first run", async () => {
    const { tid } = await finishedThread("chat", CHAT_INPUT);
    const history = (await http("POST", `/threads/${tid}/history`, { limit: 20 })).json;
    const oldHead = history[0].checkpoint.checkpoint_id;
    const fork = history.at(-1).checkpoint.checkpoint_id;
    const thread = client.threads.stream(tid, { assistantId: "chat" });
    await thread.submitRun({ input: { messages: [{ type: "human", content: "edited" }] }, forkFrom: fork });
    await thread.close();
    await waitFor(async () => (await http("GET", `/threads/${tid}`)).json.status === "idle", { what: "idle" });
    const chain = (await http("POST", `/threads/${tid}/history`, { limit: 50 })).json;
    const byId = new Map(chain.map((s) => [s.checkpoint.checkpoint_id, s]));
    const state = (await http("GET", `/threads/${tid}/state`)).json;
    const parents = [];
    for (let s = state; s?.parent_checkpoint; s = byId.get(s.parent_checkpoint.checkpoint_id)) {
      parents.push(s.parent_checkpoint.checkpoint_id);
    }
    assert(parents.includes(fork), "the new head descends from the fork checkpoint");
    assert(!parents.includes(oldHead) && state.checkpoint.checkpoint_id !== oldHead, "and not from the old head");
  });

  await row("C13 hydrate reads: unknown state 404, history bodies, state shape", async () => {
    assertEqual((await http("GET", `/threads/${newId()}/state`)).status, 404, "unknown thread state");
    const { tid } = await finishedThread("tooler", CHAT_INPUT);
    const all = await http("POST", `/threads/${tid}/history`, { limit: 20 });
    const ns = await http("POST", `/threads/${tid}/history`, { limit: 1, checkpoint: { checkpoint_ns: "tools:x" } });
    const before = await http("POST", `/threads/${tid}/history`, {
      limit: 20,
      before: { configurable: { checkpoint_id: all.json[0].checkpoint.checkpoint_id } },
    });
    for (const [name, response] of [["all", all], ["ns", ns], ["before", before]]) {
      assertEqual(response.status, 200, `${name} status`);
      assert(Array.isArray(response.json), `${name} is an array`);
      for (const s of response.json) assert("checkpoint" in s && "parent_checkpoint" in s, `${name} shape`);
    }
    assertEqual(before.json.length, all.json.length - 1, "before skips the head");
    const state = (await http("GET", `/threads/${tid}/state`)).json;
    assert(state.values && Array.isArray(state.next) && Array.isArray(state.tasks), "state shape");
  });

  await row("C14 failing run → root lifecycle failed with an error", async () => {
    const tid = newId();
    await runStart(tid, "failing", {});
    const conn = eventStream(tid, { channels: ["lifecycle"] });
    const failed = await conn.until((events) => rootLifecycle(events, "failed")[0]);
    await conn.close();
    assert(typeof failed.params.data.error === "string" && failed.params.data.error, "data.error");
  });

  await row("H1 hook submit on a new thread: only commands and stream/events", async () => {
    const created = [];
    const completed = [];
    const mark = requests.length;
    const { sink, unmount } = await mountHook({
      assistantId: "chat",
      onCreated: (info) => created.push(info),
      onCompleted: (info) => completed.push(info),
    });
    await sink.current.submit(CHAT_INPUT);
    await waitFor(() => completed.length > 0 && !sink.current.isLoading, { what: "onCompleted" });
    assert(created.length === 1 && isUuid(created[0].runId), "onCreated runId");
    assertEqual(completed[0].reason, "success", "onCompleted reason");
    assertEqual(sink.current.error ?? null, null, "no error");
    await waitFor(() => sink.current.values?.messages?.length === 2, { what: "values" });
    assertEqual(text(sink.current.values.messages.at(-1).content), "hello there friend", "values");
    const used = new Set(requestsSince(mark).map((r) => r.replace(/\/threads\/[^/]+\//, "/threads/T/")));
    assertEqual([...used].sort(), ["POST /threads/T/commands", "POST /threads/T/stream/events"], "requests");
    unmount();
  });

  await row("H2 hook interrupt then respond", async () => {
    const { sink, unmount } = await mountHook({ assistantId: "approver" });
    await sink.current.submit(CHAT_INPUT);
    await waitFor(() => sink.current.interrupts?.length > 0 && !sink.current.isLoading, { what: "the interrupt" });
    assertEqual(sink.current.interrupts[0].value, { question: "approve?" }, "interrupt value");
    await sink.current.respond("yes");
    await waitFor(
      () =>
        !sink.current.isLoading &&
        (sink.current.interrupts?.length ?? 0) === 0 &&
        text(sink.current.values?.messages?.at(-1)?.content) === "approved=yes",
      { what: "the resumed values" },
    );
    unmount();
  });

  await row("H3 hook remount mid-run: replayed lifecycle drives isLoading; values match GET /state", async () => {
    let threadId;
    const first = await mountHook({ assistantId: "slow", onThreadId: (id) => (threadId = id) });
    void first.sink.current.submit({ n: 15, delay: 0.12 });
    await waitFor(() => (first.sink.current.values?.ticks?.length ?? 0) >= 2, { what: "a few ticks" });
    first.unmount();
    const mark = requests.length;
    const loading = [];
    const second = await mountHook({ assistantId: "slow", threadId });
    await waitFor(
      () => {
        loading.push(second.sink.current.isLoading);
        return loading.includes(true) && !second.sink.current.isLoading && second.sink.current.values?.ticks?.length === 15;
      },
      { what: "the remounted hook to finish", interval: 10 },
    );
    const state = (await http("GET", `/threads/${threadId}/state`)).json;
    assertEqual(second.sink.current.values.ticks, state.values.ticks, "hook values equal GET /state");
    const used = new Set(requestsSince(mark).map((r) => r.replace(/\/threads\/[^/]+\//, "/threads/T/")));
    for (const expected of ["GET /threads/T/state", "POST /threads/T/history", "POST /threads/T/stream/events"]) {
      assert(used.has(expected), `${expected} in ${[...used]}`);
    }
    second.unmount();
  });

  await row("C15 an idle stream gets heartbeat comments", async () => {
    const conn = await idle;
    assertEqual(conn.status, 200, "status");
    assert(conn.comments >= 1, `comments: ${conn.comments}`);
  }, { timeout: 90000 });
}
