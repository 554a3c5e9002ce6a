/**
 * The event side of a fake Agent Server that follows the thread-scoped (v2) protocol described in
 * docs/agent-protocol.md: one persistent, strictly increasing sequence per thread, stable event
 * ids, filtered replay from the latest run's first event, then live tailing. Used by unit tests
 * and by the contract server the e2e tests can run against.
 */

export type Namespace = string[];

export interface ProtocolEvent {
  type: "event";
  event_id: string;
  seq: number;
  method: string;
  params: { namespace: Namespace; timestamp: number; data: unknown };
}

export interface EventFilter {
  channels: string[];
  namespaces?: Namespace[];
  depth?: number;
  since?: number;
}

const CHANNEL_OF_METHOD: Record<string, string> = { "input.requested": "input" };

function channelOf(method: string): string {
  return CHANNEL_OF_METHOD[method] ?? method;
}

/** A prefix segment without ":" also matches "<segment>:<anything>". */
function segmentMatches(prefix: string, actual: string): boolean {
  return prefix.includes(":") ? prefix === actual : actual === prefix || actual.startsWith(`${prefix}:`);
}

export function matchesFilter(event: ProtocolEvent, filter: EventFilter): boolean {
  if (filter.since !== undefined && event.seq <= filter.since) return false;
  const channel = channelOf(event.method);
  const channelOk = filter.channels.some((wanted) =>
    wanted.startsWith("custom:") ? channel === "custom" && (event.params.data as { name?: string } | null)?.name === wanted.slice(7) : wanted === channel,
  );
  if (!channelOk) return false;
  if (!filter.namespaces) return true;
  const namespace = event.params.namespace;
  return filter.namespaces.some((prefix) => {
    if (prefix.length > namespace.length) return false;
    if (!prefix.every((segment, index) => segmentMatches(segment, namespace[index] ?? ""))) return false;
    return filter.depth === undefined || namespace.length - prefix.length <= filter.depth;
  });
}

/** One thread's event log: append, replay, and tell live listeners. */
export class EventLog {
  readonly events: ProtocolEvent[] = [];
  private readonly listeners = new Set<(event: ProtocolEvent) => void>();
  /** Open event streams, so a test can cut them like a dropped connection. */
  readonly connections = new Set<() => void>();
  private latestRunStart = 0;
  private seq = 0;

  constructor(private readonly threadId: string) {}

  get lastSeq(): number {
    return this.seq;
  }

  startRun(): void {
    this.latestRunStart = this.seq + 1;
  }

  append(method: string, namespace: Namespace, data: unknown): ProtocolEvent {
    this.seq += 1;
    const event: ProtocolEvent = {
      type: "event",
      event_id: `${this.threadId}:${String(this.seq)}`,
      seq: this.seq,
      method,
      params: { namespace, timestamp: Date.now(), data },
    };
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Events of the latest run that match, in order. */
  replay(filter: EventFilter): ProtocolEvent[] {
    return this.events.filter((event) => event.seq >= this.latestRunStart && matchesFilter(event, filter));
  }

  subscribe(listener: (event: ProtocolEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Ends every open stream from the server side; clients reconnect and replay. */
  dropConnections(): void {
    for (const drop of [...this.connections]) drop();
  }
}

const encoder = new TextEncoder();

function frame(event: ProtocolEvent): Uint8Array {
  return encoder.encode(`event: ${event.method}\r\ndata: ${JSON.stringify(event)}\r\nid: ${String(event.seq)}\r\n\r\n`);
}

/**
 * An SSE body: the replay, then live events, with a heartbeat comment; it stays open across runs
 * until the client goes away (`signal`) or the server drops it (`drop`, to test reconnects).
 */
export function eventStream(log: EventLog, filter: EventFilter, signal: AbortSignal | null, heartbeatMs: number): ReadableStream<Uint8Array> {
  let cleanup: () => void = () => undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let delivered = 0;
      const send = (event: ProtocolEvent) => {
        if (event.seq <= delivered || !matchesFilter(event, filter)) return;
        delivered = event.seq;
        try {
          controller.enqueue(frame(event));
        } catch {
          cleanup();
        }
      };
      for (const event of log.replay(filter)) send(event);
      const unsubscribe = log.subscribe(send);
      const heartbeat = setInterval(() => {
        try {
          controller.enqueue(encoder.encode(": heartbeat\r\n\r\n"));
        } catch {
          cleanup();
        }
      }, heartbeatMs);
      cleanup = () => {
        unsubscribe();
        clearInterval(heartbeat);
      };
      const close = () => {
        cleanup();
        log.connections.delete(close);
        try {
          controller.close();
        } catch {
          // Already closed by the reader.
        }
      };
      log.connections.add(close);
      if (signal?.aborted) close();
      signal?.addEventListener("abort", close);
    },
    cancel() {
      cleanup();
    },
  });
}
