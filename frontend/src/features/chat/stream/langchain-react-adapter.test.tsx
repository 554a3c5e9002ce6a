import { act, render, waitFor } from "@testing-library/react";
import { useEffect, useState, type RefObject } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mockAgentFetch, type AgentCall } from "../../../test/fake-agent/fetch";
import { createFakeAgent, FAKE_ASSISTANTS } from "../../../test/fake-agent/server";
import { useChatStream, type ChatStream } from "./chat-stream";
import { ChatStreamProvider } from "./chat-stream-provider";

const ASSISTANT = FAKE_ASSISTANTS[0]?.assistant_id ?? "";

function Probe({ probeRef }: { probeRef: RefObject<ChatStream | null> }) {
  const stream = useChatStream();
  useEffect(() => {
    probeRef.current = stream;
  });
  return null;
}

interface HarnessProps {
  initialThreadId: string | null;
  probe: RefObject<ChatStream | null>;
  events: string[];
  /** The router applies a navigation a little later than the state update that asked for it. */
  urlDelayMs: number;
}

/** The provider as the chat screen uses it: the URL's thread id follows `onThreadId`. */
function Harness({ initialThreadId, probe, events, urlDelayMs }: HarnessProps) {
  const [threadId, setThreadId] = useState(initialThreadId);
  return (
    <ChatStreamProvider
      orgSlug="demo"
      assistantId={ASSISTANT}
      threadId={threadId}
      onThreadId={(id) => {
        events.push(`thread:${id}`);
        setTimeout(() => {
          setThreadId(id);
        }, urlDelayMs);
      }}
      onRunCreated={(id, firstText) => events.push(`created:${id}:${firstText ?? ""}`)}
      onRunFinished={() => events.push("finished")}
    >
      <Probe probeRef={probe} />
    </ChatStreamProvider>
  );
}

function setup(initialThreadId: string | null = null, urlDelayMs = 0) {
  const probe: RefObject<ChatStream | null> = { current: null };
  const events: string[] = [];
  const view = render(<Harness initialThreadId={initialThreadId} probe={probe} events={events} urlDelayMs={urlDelayMs} />);
  const stream = () => {
    if (!probe.current) throw new Error("the provider has not rendered");
    return probe.current;
  };
  return { ...view, stream, events };
}

const texts = (stream: ChatStream) => stream.messages.map((message) => `${message.role}:${message.text}`);
const commands = (calls: AgentCall[]) => calls.filter((call) => call.path.endsWith("/commands")).map((call) => call.body as { method: string; params: Record<string, unknown> });

async function untilIdle(stream: () => ChatStream) {
  await waitFor(() => {
    expect(stream().isLoading).toBe(false);
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe("the @langchain/react adapter", () => {
  it("starts a thread, streams the reply in several chunks and sends the session and org headers", async () => {
    document.cookie = "csrftoken=tok; path=/";
    const agent = createFakeAgent({ tokenDelayMs: 5 });
    const { calls } = mockAgentFetch(agent);
    // The address changes only after run.start has answered: the stream must not be re-read then.
    const { stream, events } = setup(null, 40);
    const seen = new Set<string>();
    const unsubscribe = setInterval(() => {
      const ai = stream().messages.find((message) => message.role === "ai");
      if (ai) seen.add(ai.text);
    }, 1);

    await act(() => stream().send("hello there, agent"));
    await waitFor(() => {
      expect(texts(stream())).toEqual(["human:hello there, agent", "ai:You said: hello there, agent"]);
    });
    clearInterval(unsubscribe);
    await untilIdle(stream);

    const threadId = stream().threadId ?? "";
    expect(events).toContain(`thread:${threadId}`);
    expect(events).toContain(`created:${threadId}:hello there, agent`);
    await waitFor(() => {
      expect(events).toContain("finished");
    });
    // Partial texts were rendered on the way: the reply streamed, it did not arrive whole.
    expect(seen.size).toBeGreaterThan(2);
    // The v2 protocol only: commands and event streams, no POST /threads, no v1 run endpoints.
    expect(new Set(calls.map((call) => `${call.method} ${call.path.replace(threadId, "T")}`))).toEqual(
      new Set(["POST /threads/T/commands", "POST /threads/T/stream/events"]),
    );
    const [start] = commands(calls);
    expect(start?.method).toBe("run.start");
    expect(start?.params).toMatchObject({ assistant_id: ASSISTANT, config: { recursion_limit: 1000, configurable: { thread_id: threadId } } });
    for (const call of calls) {
      expect(call.headers.get("X-Atrium-Org")).toBe("demo");
      expect(call.headers.get("X-CSRFToken")).toBe("tok");
      expect(call.credentials).toBe("same-origin");
    }
  });

  it("shows a returning user the whole conversation, without opening streams for an idle thread", async () => {
    const agent = createFakeAgent();
    mockAgentFetch(agent);
    const first = setup();
    await act(() => first.stream().send("hello again"));
    await waitFor(() => {
      expect(texts(first.stream())).toHaveLength(2);
    });
    await untilIdle(first.stream);
    const threadId = first.stream().threadId;
    first.unmount();

    const { calls } = mockAgentFetch(agent);
    const again = setup(threadId);

    await waitFor(() => {
      expect(texts(again.stream())).toEqual(["human:hello again", "ai:You said: hello again"]);
    });
    expect(calls.some((call) => call.path.endsWith("/stream/events"))).toBe(false);
  });

  it("rejoins a run after a remount and finishes it without duplicated or lost tokens", async () => {
    const agent = createFakeAgent({ tokenDelayMs: 15 });
    mockAgentFetch(agent);
    const first = setup();
    const words = "one two three four five six seven eight nine ten eleven twelve";
    // Not awaited: send() settles only when the run ends.
    act(() => {
      void first.stream().send(words);
    });
    await waitFor(() => {
      expect(first.stream().messages.find((message) => message.role === "ai")?.text.length ?? 0).toBeGreaterThan(12);
    });
    const threadId = first.stream().threadId;
    first.unmount();

    const again = setup(threadId);

    await waitFor(() => {
      expect(again.stream().isLoading).toBe(true);
    });
    await waitFor(
      () => {
        expect(texts(again.stream())).toEqual([`human:${words}`, `ai:You said: ${words}`]);
      },
      { timeout: 3000 },
    );
    await untilIdle(again.stream);
  });

  it("reconnects when the connection drops mid-answer, without duplicated or lost tokens", async () => {
    const agent = createFakeAgent({ tokenDelayMs: 15 });
    const { calls } = mockAgentFetch(agent);
    const { stream } = setup();
    const words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu";
    act(() => {
      void stream().send(words);
    });
    await waitFor(() => {
      expect(stream().messages.find((message) => message.role === "ai")?.text.length ?? 0).toBeGreaterThan(15);
    });
    const opened = calls.filter((call) => call.path.endsWith("/stream/events")).length;

    agent.threads.get(stream().threadId ?? "")?.log.dropConnections();

    await waitFor(
      () => {
        expect(texts(stream())).toEqual([`human:${words}`, `ai:You said: ${words}`]);
      },
      { timeout: 5000 },
    );
    await untilIdle(stream);
    expect(stream().error).toBeNull();
    expect(calls.filter((call) => call.path.endsWith("/stream/events")).length).toBeGreaterThan(opened);
  });

  it("surfaces an approval request and resumes with the decision", async () => {
    const agent = createFakeAgent();
    const { calls } = mockAgentFetch(agent);
    const { stream } = setup();

    await act(() => stream().send("write buy milk"));
    await waitFor(() => {
      expect(stream().interrupts).toHaveLength(1);
    });
    const interrupt = stream().interrupts[0];
    expect(interrupt?.value).toMatchObject({ action_requests: [{ name: "write_file", args: { content: "buy milk" } }] });

    await act(() => stream().respond({ decisions: [{ type: "approve" }] }, interrupt?.id ?? null));

    await waitFor(() => {
      expect(texts(stream()).at(-1)).toBe("ai:Done: the note is saved.");
    });
    await waitFor(() => {
      expect(stream().interrupts).toEqual([]);
    });
    const respond = commands(calls).find((command) => command.method === "input.respond");
    expect(respond?.params).toMatchObject({ interrupt_id: interrupt?.id, response: { decisions: [{ type: "approve" }] } });
  });

  it("reports a failed run, and retrying resumes it from its last checkpoint", async () => {
    const agent = createFakeAgent();
    const { calls } = mockAgentFetch(agent);
    const { stream } = setup();

    await act(() => stream().send("fail please"));
    await waitFor(() => {
      expect(stream().error).toBe("kaboom");
    });

    await act(() => stream().retry());

    await waitFor(() => {
      expect(commands(calls)).toHaveLength(2);
    });
    expect(commands(calls)[1]?.params).toMatchObject({ input: null });
  });

  it("forks from a checkpoint: the new run starts there", async () => {
    const agent = createFakeAgent();
    const { calls } = mockAgentFetch(agent);
    const { stream } = setup();
    await act(() => stream().send("first"));
    await untilIdle(stream);
    await waitFor(() => {
      expect(texts(stream())).toHaveLength(2);
    });
    const thread = agent.threads.get(stream().threadId ?? "");
    const root = thread?.checkpoints[0]?.id ?? "";

    await act(() => stream().send("second", { forkFrom: root }));

    await waitFor(() => {
      expect(texts(stream())).toEqual(["human:second", "ai:You said: second"]);
    });
    expect(commands(calls)[1]?.params).toMatchObject({ config: { configurable: { checkpoint_id: root } } });
  });

  it("stops the run it started by cancelling it on the server", async () => {
    const agent = createFakeAgent({ tokenDelayMs: 30 });
    const { calls } = mockAgentFetch(agent);
    const { stream } = setup();
    act(() => {
      void stream().send("a long answer with many words to stream slowly");
    });
    await waitFor(() => {
      expect(stream().isLoading).toBe(true);
    });

    await act(() => stream().stop());

    await untilIdle(stream);
    await waitFor(() => {
      expect(calls.some((call) => call.method === "POST" && /\/runs\/[^/]+\/cancel/.test(call.path))).toBe(true);
    });
  });
});
