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
}

/** The registry events the index consumes (shape of IStreamRegistry's events, decoded). */
export type RegistryEvent =
  | { type: "created"; stream: StreamInfo }
  | { type: "updated"; stream: StreamInfo }
  | { type: "deleted"; id: string };

export class InMemoryStreamIndex implements StreamIndex {
  private readonly streams = new Map<string, StreamInfo>();

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
      .filter((s) => !text || s.path.toLowerCase().includes(text) || String(s.metadata.description ?? "").toLowerCase().includes(text))
      .sort((a, b) => (a.creator + a.path < b.creator + b.path ? -1 : 1));
    return { streams: all.slice(q.offset, q.offset + q.limit), total: all.length };
  }
}
