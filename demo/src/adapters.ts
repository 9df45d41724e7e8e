// The one piece of glue the demo still needs: a publisher transport that replicates each signed
// frame to every broker assigned to the stream's network partition (the SDK connects to one broker).
// The access gate, the coordinator reporter and the assignment are the broker package's own.
import type { BrokerTransport, ResendQuery } from "@datamarket/sdk";

/**
 * The publisher's transport to a replicated partition: each signed frame goes to every assigned
 * broker (all must make it durable), subscriptions and resends use the first one.
 */
export class ReplicatingTransport implements BrokerTransport {
  onFrame: (frame: Buffer) => void = () => undefined;
  onNotice: BrokerTransport["onNotice"] = () => undefined;
  onDisconnect: (reason: string) => void = () => undefined;

  constructor(private readonly transports: BrokerTransport[]) {
    const [primary] = transports;
    primary.onFrame = (f) => this.onFrame(f);
    primary.onNotice = (n) => this.onNotice(n);
    primary.onDisconnect = (r) => this.onDisconnect(r);
  }
  async publish(frame: Buffer): Promise<{ eventHash: string }> {
    const results = await Promise.all(this.transports.map((t) => t.publish(frame)));
    return results[0];
  }
  subscribe(streamId: string, streamPartition: number) { return this.transports[0].subscribe(streamId, streamPartition); }
  unsubscribe(streamId: string, streamPartition: number) { return this.transports[0].unsubscribe(streamId, streamPartition); }
  resend(streamId: string, streamPartition: number, query: ResendQuery) { return this.transports[0].resend(streamId, streamPartition, query); }
  async close(): Promise<void> {
    await Promise.all(this.transports.map((t) => t.close()));
  }
}

