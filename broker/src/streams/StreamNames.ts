// ENS names of streams for the broker (docs/contracts.md §7): `GET /names/{name}` resolves a name to
// its stream id with the StreamNames contract, which checks ENS and the registry on chain. Answers are
// kept a few seconds (a name's record can go stale at any block, so not longer).

import { namehash, type Provider } from "ethers";
import type { FastifyInstance } from "fastify";
import { IStreamNames__factory, type IStreamNames } from "@datamarket/contracts/typechain";
import { normalizeStreamName } from "@datamarket/protocol";
import { BrokerError, ErrorCodes } from "../errors";

export { normalizeStreamName };

export interface ResolvedName {
  name: string;
  node: string;
  streamId: string;
}

export class StreamNameResolver {
  readonly contract: IStreamNames;
  private readonly cache = new Map<string, { at: number; answer: Promise<ResolvedName> }>();

  constructor(
    address: string,
    provider: Provider,
    private readonly ttlMs = 5000,
    private readonly maxCached = 10_000,
  ) {
    this.contract = IStreamNames__factory.connect(address, provider);
  }

  /** The stream a name resolves to now; BrokerError BAD_REQUEST (not a name) or UNKNOWN_STREAM (no valid record). */
  resolve(name: string): Promise<ResolvedName> {
    let normalized: string;
    try {
      normalized = normalizeStreamName(name);
    } catch (err) {
      return Promise.reject(new BrokerError(ErrorCodes.BAD_REQUEST, (err as Error).message, { field: "name" }));
    }
    const hit = this.cache.get(normalized);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.answer;
    const node = namehash(normalized);
    const answer = this.contract.resolve(node).then(
      (streamId) => ({ name: normalized, node, streamId: streamId.toLowerCase() }),
      (err: unknown) => {
        this.cache.delete(normalized);
        const data = (err as { data?: string }).data;
        const parsed = data ? this.contract.interface.parseError(data) : null;
        if (!parsed) throw err;
        throw new BrokerError(
          ErrorCodes.UNKNOWN_STREAM,
          `${normalized} names no stream${parsed.name === "NameStale" ? " any more (the name or the stream changed hands)" : ""}`,
          {
            name: normalized,
            node,
            reason: parsed.name,
          },
        );
      },
    );
    if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(normalized, { at: Date.now(), answer });
    return answer;
  }
}

export function registerNameRoutes(app: FastifyInstance, resolver: StreamNameResolver): void {
  app.get(
    "/names/:name",
    {
      schema: {
        summary: "Resolve an ENS name of a stream (heart-rate.kraken.eth) to its stream id (StreamNames, docs/contracts.md §7)",
        params: { type: "object", properties: { name: { type: "string", minLength: 1, maxLength: 1024 } }, required: ["name"] },
        response: { 200: { type: "object", properties: { name: { type: "string" }, node: { type: "string" }, streamId: { type: "string" } } } },
      },
    },
    async (req) => resolver.resolve((req.params as { name: string }).name),
  );
}
