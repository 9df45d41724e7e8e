// The broker's index of streams, built from the StreamRegistry's events (created, updated,
// deleted). The registry-following feeder is wired in by the integration; tests and static
// configurations feed InMemoryStreamIndex directly.

export interface StreamInfo {
  /** 0x bytes32 resource id. */
  id: string;
  /** Creator address (lowercase 0x). */
  creator: string;
  /** Path, starting with "/". */
  path: string;
  /** Number of partitions (>= 1). */
  partitions: number;
  /** Free-form metadata from the registry (description, schema URI, ...). */
  metadata: Record<string, unknown>;
}

export interface StreamQuery {
  /** Case-insensitive substring of the path or the metadata description. */
  text?: string;
  creator?: string;
  limit: number;
  offset: number;
}

export interface StreamIndex {
  get(streamId: string): StreamInfo | undefined;
  find(query: StreamQuery): { streams: StreamInfo[]; total: number };
  /**
   * Brings the index up to the chain's head now (the registry-following index; absent for static
   * ones). The broker calls it when a stream is missing, so that a stream created a moment ago
   * is found without waiting for the next poll.
   */
  sync?(): Promise<void>;
}

/**
 * `poll` on demand, at most once per `minIntervalMs` (a flood of unknown stream ids costs the
 * node at most 1000 / minIntervalMs polls a second). Each caller gets a run that starts after its
 * call: callers that arrive while a run is waiting share it.
 */
export function throttledSync(poll: () => Promise<void>, minIntervalMs = 100): () => Promise<void> {
  let pending: Promise<void> | undefined;
  let lastStart = -Infinity;
  return () => {
    if (pending) return pending;
    const wait = Math.max(0, lastStart + minIntervalMs - Date.now());
    pending = new Promise<void>((resolve) => setTimeout(resolve, wait).unref()).then(() => {
      pending = undefined;
      lastStart = Date.now();
      return poll();
    });
    return pending;
  };
}

/** The registry events the index consumes (shape of IStreamRegistry's events, decoded). */
export type RegistryEvent = { type: "created"; stream: StreamInfo } | { type: "updated"; stream: StreamInfo } | { type: "deleted"; id: string };

export class InMemoryStreamIndex implements StreamIndex {
  private readonly streams = new Map<string, StreamInfo>();
  /** Set by a feeder that follows the chain (RegistryStreamFeeder). */
  sync?: () => Promise<void>;

  apply(event: RegistryEvent): void {
    if (event.type === "deleted") this.streams.delete(event.id.toLowerCase());
    else this.streams.set(event.stream.id.toLowerCase(), { ...event.stream, id: event.stream.id.toLowerCase(), creator: event.stream.creator.toLowerCase() });
  }

  get(streamId: string): StreamInfo | undefined {
    return this.streams.get(streamId.toLowerCase());
  }

  find(q: StreamQuery): { streams: StreamInfo[]; total: number } {
    const text = q.text?.toLowerCase();
    const creator = q.creator?.toLowerCase();
    const all = [...this.streams.values()]
      .filter((s) => !creator || s.creator === creator)
      .filter(
        (s) =>
          !text ||
          s.path.toLowerCase().includes(text) ||
          String(s.metadata.description ?? "")
            .toLowerCase()
            .includes(text),
      )
      .sort((a, b) => (a.creator + a.path < b.creator + b.path ? -1 : 1));
    return { streams: all.slice(q.offset, q.offset + q.limit), total: all.length };
  }
}
