// The SDK against the real broker (broker package, in-process on 127.0.0.1): a private stream with
// one publisher and two subscribers, rekey on loss of licence, tampering, gaps, reconnection.
import { expect } from "chai";
import { AbstractSigner, Wallet, type Provider, type TransactionRequest, type TypedDataDomain, type TypedDataField } from "ethers";
import { signEvent, ZERO_HASH, ContentType, EncryptionType } from "@datamarket/broker";
import type { ReceivedMessage } from "../src/client/DataClient";
import { SdkError, SdkErrorCodes } from "../src/errors";
import { BrokerReplyError } from "../src/client/transport";
import { DataMarketError } from "@datamarket/protocol";
import { HttpKeyRequestChannel, serveKeyRequests } from "../src/client/keyRequestHttp";
import { createStream, makeClient, startTestNet, waitFor, type TestClient, type TestNet } from "./helpers";

/** A signer that is not a Wallet: only signMessage and friends, like a browser wallet behind a provider. */
class ExternalSigner extends AbstractSigner {
  constructor(private readonly wallet: Wallet) {
    super(null);
  }
  getAddress() {
    return this.wallet.getAddress();
  }
  connect(_provider: Provider | null): ExternalSigner {
    return this;
  }
  signTransaction(tx: TransactionRequest) {
    return this.wallet.signTransaction(tx);
  }
  signMessage(message: string | Uint8Array) {
    return this.wallet.signMessage(message);
  }
  signTypedData(d: TypedDataDomain, t: Record<string, TypedDataField[]>, v: Record<string, unknown>) {
    return this.wallet.signTypedData(d, t, v);
  }
}

describe("client on a live broker", function () {
  this.timeout(20_000);
  let net: TestNet;
  const clients: TestClient[] = [];
  const client = (opts: Parameters<typeof makeClient>[1] = {}) => {
    const c = makeClient(net, opts);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    net = await startTestNet();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.client.close();
    await net.stop();
  });

  function collector() {
    const messages: ReceivedMessage[] = [];
    const errors: SdkError[] = [];
    return {
      messages,
      errors,
      handler: (m: ReceivedMessage) => void messages.push(m),
      onError: (e: SdkError) => void errors.push(e),
      values: () => messages.map((m) => m.parsed()),
    };
  }

  it("a subscriber who loses its licence cannot decrypt events published after the rekey, while the other goes on", async () => {
    const publisher = client();
    const a = client();
    const b = client();
    const stream = createStream(net, publisher.address, "/health/heart-rate");
    net.gate.grantPublish(stream, publisher.address).grantSubscribe(stream, publisher.address);
    net.gate.grantSubscribe(stream, a.address);
    net.gate.setLicence(stream, b.address, { productId: "0x" + "0d".repeat(32), expiresAt: Math.floor(Date.now() / 1000) + 3600, consentGated: false });

    const ca = collector();
    const cb = collector();
    await a.client.subscribe(stream, ca.handler, { onError: ca.onError });
    await b.client.subscribe(stream, cb.handler, { onError: cb.onError });
    await publisher.client.shareGroupKey(stream, [a.address, b.address]);
    await publisher.client.publish(stream, { bpm: 61 });
    await publisher.client.publish(stream, { bpm: 62 });
    await waitFor(() => ca.messages.length === 2 && cb.messages.length === 2, "both subscribers to get the first two events");
    expect(ca.values()).to.deep.equal([{ bpm: 61 }, { bpm: 62 }]);
    expect(cb.values()).to.deep.equal([{ bpm: 61 }, { bpm: 62 }]);
    expect(ca.messages.every((m) => m.encrypted)).to.equal(true);

    // B's licence ends: the broker cuts its subscription; the publisher's check finds it and rekeys for A only.
    expect(await publisher.client.rekeyIfAccessLost(stream)).to.deep.equal([]);
    net.gate.endLicence(stream, b.address);
    expect(await publisher.client.rekeyIfAccessLost(stream)).to.deep.equal([b.address]);
    await publisher.client.publish(stream, { bpm: 63 });
    await publisher.client.publish(stream, { bpm: 64 });
    await waitFor(() => ca.messages.length === 4, "A to get the events after the rekey");
    expect(ca.values()).to.deep.equal([{ bpm: 61 }, { bpm: 62 }, { bpm: 63 }, { bpm: 64 }]);
    await waitFor(() => cb.errors.some((e) => e.details.brokerCode === "ACCESS_REVOKED"), "B's subscription to be cut");
    expect(cb.messages).to.have.length(2);

    // Even holding every frame (a leak, a colluding broker), B cannot read the events after the rekey.
    const raw = await publisher.transports[0].resend(stream, 0, { type: "last", count: 100 });
    const errors: SdkError[] = [];
    const opened = await b.client.open(stream, raw, { onError: (e) => void errors.push(e) });
    expect(opened.map((m) => m.parsed())).to.deep.equal([{ bpm: 61 }, { bpm: 62 }]);
    expect(errors.map((e) => [e.code, e.details.sequenceNumber])).to.deep.equal([
      [SdkErrorCodes.UNKNOWN_GROUP_KEY, ca.messages[2].sequenceNumber],
      [SdkErrorCodes.UNKNOWN_GROUP_KEY, ca.messages[3].sequenceNumber],
    ]);
    // ...and the broker only ever stored ciphertext.
    for (const f of raw) expect(Buffer.from(f).includes(Buffer.from("bpm"))).to.equal(false);
  });

  it("rejects an event altered in transit and one signed by an address without publish permission", async () => {
    const publisher = client();
    const sub = client({ mitm: true });
    const stream = createStream(net, publisher.address, "/prices/eth-usd");
    net.gate.grantPublish(stream, publisher.address);
    net.gate.makePublic(stream);
    const c = collector();
    await sub.client.subscribe(stream, c.handler, { onError: c.onError });
    sub.mitm!.tamper = (frame, i) => {
      if (i === 1) frame[frame.length - 66 - 2] ^= 0x01; // last content byte of the 2nd event
      return frame;
    };
    await publisher.client.publish(stream, { price: 1 }, { encrypt: false });
    await publisher.client.publish(stream, { price: 2 }, { encrypt: false });
    await waitFor(() => c.errors.length >= 1, "the tampered event to be refused");
    expect(c.errors[0].code).to.equal(SdkErrorCodes.INVALID_SIGNATURE);
    expect(c.values()).to.deep.equal([{ price: 1 }]);

    // A well-signed event from Mallory, who may not publish (a broker that skipped the check).
    const mallory = Wallet.createRandom();
    const forged = signEvent(
      {
        streamId: stream,
        streamPartition: 0,
        timestamp: Date.now(),
        sequenceNumber: 1,
        previousEventHash: ZERO_HASH,
        publisher: mallory.address.toLowerCase(),
        contentType: ContentType.JSON,
        encryptionType: EncryptionType.NONE,
        groupKeyId: ZERO_HASH,
        content: Buffer.from('{"price":0}'),
      },
      Buffer.from(mallory.privateKey.slice(2), "hex"),
    );
    sub.mitm!.onFrame(forged.frame);
    await waitFor(() => c.errors.length >= 2, "the unauthorised publisher's event to be refused");
    expect(c.errors[1].code).to.equal(SdkErrorCodes.PUBLISHER_NOT_ALLOWED);
    expect(c.values()).to.deep.equal([{ price: 1 }]);
  });

  it("fills a gap in a publisher's chain by resend and delivers in order", async () => {
    const publisher = client();
    const sub = client({ mitm: true });
    const stream = createStream(net, publisher.address, "/sensors/t");
    net.gate.grantPublish(stream, publisher.address);
    net.gate.grantSubscribe(stream, sub.address);
    const c = collector();
    const subscription = await sub.client.subscribe(stream, c.handler, { onError: c.onError });
    sub.mitm!.tamper = (frame, i) => (i === 1 || i === 2 ? null : frame); // lose two deliveries (after the key announcement)
    await publisher.client.shareGroupKey(stream, [sub.address]);
    for (let n = 1; n <= 5; n++) await publisher.client.publish(stream, { n });
    await waitFor(() => c.messages.length === 5, "all five events");
    expect(c.values()).to.deep.equal([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }]);
    expect(c.errors).to.deep.equal([]);
    const seqs = c.messages.map((m) => m.sequenceNumber);
    expect(seqs).to.deep.equal([...seqs].sort((x, y) => x - y));
    expect(subscription.stats.gapsFilled).to.equal(1);
  });

  it("a restarted publisher continues its chain from the broker's tip (chainTip), and an identical republish is acknowledged, not stored twice", async () => {
    const first = client();
    const sub = client();
    const stream = createStream(net, first.address, "/sensors/restart");
    net.gate.grantPublish(stream, first.address);
    net.gate.grantSubscribe(stream, sub.address);
    const c = collector();
    await sub.client.subscribe(stream, c.handler, { onError: c.onError });
    const a = await first.client.publish(stream, { n: 1 }, { encrypt: false });
    const b = await first.client.publish(stream, { n: 2 }, { encrypt: false });
    expect(b.sequenceNumber).to.equal(a.sequenceNumber + 1);
    await first.client.close();
    // the same wallet, a new client (a restarted process): it asks for the tip and links to it
    const again = client({ wallet: first.wallet });
    const next = await again.client.publish(stream, { n: 3 }, { encrypt: false });
    expect(next.sequenceNumber).to.equal(b.sequenceNumber + 1);
    await waitFor(() => c.messages.length === 3, "the three events");
    expect(c.values()).to.deep.equal([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(c.errors, "no gap: the restarted chain links to the stored one").to.deep.equal([]);
    // the last event again, byte for byte (a retry after a lost acknowledgement)
    const [frame] = await sub.transports[0].resend(stream, 0, { type: "last", count: 1 });
    expect((await again.transports[0].publish(frame)).eventHash).to.equal(next.eventHash);
    expect((await sub.transports[0].resend(stream, 0, { type: "from", fromTimestamp: 0 })).length).to.equal(3);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.messages.length, "not delivered twice").to.equal(3);
  });

  it("resumes after a reconnect without loss or duplicates", async () => {
    const publisher = client();
    const sub = client();
    const stream = createStream(net, publisher.address, "/sensors/u");
    net.gate.grantPublish(stream, publisher.address);
    net.gate.grantSubscribe(stream, sub.address);
    const c = collector();
    const subscription = await sub.client.subscribe(stream, c.handler, { onError: c.onError });
    await publisher.client.shareGroupKey(stream, [sub.address]);
    for (let n = 1; n <= 3; n++) await publisher.client.publish(stream, { n });
    await waitFor(() => c.messages.length === 3, "the first three events");
    sub.transports[0].terminate();
    for (let n = 4; n <= 8; n++) await publisher.client.publish(stream, { n });
    await waitFor(() => sub.transports.length === 2 && c.messages.length >= 8, "the events published while disconnected");
    for (let n = 9; n <= 10; n++) await publisher.client.publish(stream, { n });
    await waitFor(() => c.messages.length >= 10, "the events after the reconnect");
    await new Promise((r) => setTimeout(r, 100));
    expect(c.values()).to.deep.equal(Array.from({ length: 10 }, (_, i) => ({ n: i + 1 })));
    expect(c.errors).to.deep.equal([]);
    // The resume read back events it already had (1..3 and the key announcement) and dropped them.
    expect(subscription.stats.duplicates).to.be.at.least(3);
  });

  it("a subscriber granted access after the key announcement asks the publisher for the key", async () => {
    const publisher = client();
    // The application's channel to the publisher (in-process here; HTTP or an inbox in an app).
    const late = client({
      keyRequests: {
        request: (to, bytes) => (to === publisher.address ? publisher.client.answerKeyRequest(bytes) : Promise.reject(new Error("unknown publisher"))),
      },
    });
    let outsiderRequests = 0;
    const outsider = client({ keyRequests: { request: (_to, bytes) => (outsiderRequests++, publisher.client.answerKeyRequest(bytes)) } });
    const stream = createStream(net, publisher.address, "/sensors/late");
    net.gate.grantPublish(stream, publisher.address).grantSubscribe(stream, publisher.address);
    await publisher.client.publish(stream, { n: 1 }); // a key exists, announced to nobody
    net.gate.grantSubscribe(stream, late.address);
    const c = collector();
    await late.client.subscribe(stream, c.handler, { onError: c.onError });
    await publisher.client.publish(stream, { n: 2 });
    await waitFor(() => c.messages.length === 1, "the late subscriber to decrypt");
    expect(c.values()).to.deep.equal([{ n: 2 }]);
    // History under the same key, and a requester without access is refused by the publisher.
    expect((await late.client.resend(stream, { type: "last", count: 10 })).map((m) => m.parsed())).to.deep.equal([{ n: 1 }, { n: 2 }]);
    const raw = await publisher.transports[0].resend(stream, 0, { type: "last", count: 10 });
    const errors: SdkError[] = [];
    expect(await outsider.client.open(stream, raw, { onError: (e) => void errors.push(e) })).to.deep.equal([]);
    expect(errors.map((e) => e.code)).to.deep.equal([SdkErrorCodes.UNKNOWN_GROUP_KEY, SdkErrorCodes.UNKNOWN_GROUP_KEY]);
    expect(errors[0].message).to.match(/may not subscribe/);
    expect(outsiderRequests).to.equal(1); // the refusal is remembered, not asked again per event
  });

  it("a publisher watching access rekeys by itself when a subscriber's licence ends", async () => {
    const publisher = client();
    const a = client();
    const b = client();
    const stream = createStream(net, publisher.address, "/watched");
    net.gate.grantPublish(stream, publisher.address).grantSubscribe(stream, a.address);
    net.gate.setLicence(stream, b.address, { productId: "0x" + "0e".repeat(32), expiresAt: Math.floor(Date.now() / 1000) + 3600, consentGated: false });
    await publisher.client.shareGroupKey(stream, [a.address, b.address]);
    const rekeys: string[][] = [];
    publisher.client.watchAccess(stream, { intervalMs: 20, onRekey: (removed) => rekeys.push(removed) });
    await new Promise((r) => setTimeout(r, 100));
    expect(rekeys).to.deep.equal([]); // nobody lost access: no rekey
    net.gate.endLicence(stream, b.address);
    await waitFor(() => rekeys.length === 1, "the watcher's rekey");
    expect(rekeys).to.deep.equal([[b.address]]);
  });

  it("keeps the broker's refusal as the cause of the SdkError it raises", async () => {
    const outsider = client();
    const stream = createStream(net, outsider.address, "/no-permission");
    let caught: unknown;
    try {
      await outsider.client.publish(stream, { n: 1 }, { encrypt: false });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(SdkError).and.instanceOf(DataMarketError);
    const e = caught as SdkError;
    expect(e.code).to.equal(SdkErrorCodes.BROKER_ERROR);
    expect(e.details.brokerCode).to.equal("PUBLISH_NOT_ALLOWED");
    expect(e.cause).to.be.instanceOf(BrokerReplyError);
    expect((e.cause as BrokerReplyError).reply).to.include({ type: "error", code: "PUBLISH_NOT_ALLOWED" });
    expect(e.walk((x) => x instanceof BrokerReplyError)).to.equal(e.cause);
  });

  it("answers key requests over HTTP, where a forged request gets a typed refusal", async () => {
    const publisher = client();
    const endpoint = await serveKeyRequests(publisher.client);
    try {
      const late = client({ keyRequests: new HttpKeyRequestChannel((p) => (p === publisher.address ? endpoint.url : undefined)) });
      const stream = createStream(net, publisher.address, "/sensors/http");
      net.gate.grantPublish(stream, publisher.address).grantSubscribe(stream, late.address);
      const c = collector();
      await late.client.subscribe(stream, c.handler, { onError: c.onError });
      await publisher.client.publish(stream, { n: 1 }); // no key announced to anyone
      await waitFor(() => c.messages.length === 1, "the key fetched over HTTP");
      expect(c.values()).to.deep.equal([{ n: 1 }]);
      const res = await fetch(`${endpoint.url}/key-requests`, { method: "POST", body: Buffer.from("DMKX\x01\x01 not a request") });
      expect(res.status).to.equal(400);
      expect(((await res.json()) as { code: string }).code).to.equal(SdkErrorCodes.MALFORMED_MESSAGE);
    } finally {
      await endpoint.close();
    }
  });

  it("publishes through a signer that only offers signMessage (a browser wallet), and after a publisher restart", async () => {
    const wallet = Wallet.createRandom() as unknown as Wallet;
    const sub = client();
    const first = client({ wallet, signer: new ExternalSigner(wallet) });
    const stream = createStream(net, wallet.address, "/browser/x");
    net.gate.grantPublish(stream, wallet.address).grantSubscribe(stream, sub.address);
    const c = collector();
    await sub.client.subscribe(stream, c.handler, { onError: c.onError });
    await first.client.shareGroupKey(stream, [sub.address]);
    await first.client.publish(stream, { n: 1 });
    await first.client.close();
    // The same wallet in a new process: a new chain (previous hash zero), numbered on from the clock.
    const second = client({ wallet });
    await second.client.shareGroupKey(stream, [sub.address]);
    await second.client.publish(stream, { n: 2 });
    await waitFor(() => c.messages.length === 2, "both events");
    expect(c.values()).to.deep.equal([{ n: 1 }, { n: 2 }]);
    expect(c.messages.map((m) => m.publisher)).to.deep.equal([wallet.address.toLowerCase(), wallet.address.toLowerCase()]);
    expect(c.errors).to.deep.equal([]);
  });

  it("routes events with the same partition key to the same partition", async () => {
    const publisher = client({ partitionsOf: async () => 4 });
    const stream = createStream(net, publisher.address, "/fleet/gps", 4);
    net.gate.grantPublish(stream, publisher.address).grantSubscribe(stream, publisher.address);
    const r1 = await publisher.client.publish(stream, { lat: 1 }, { partitionKey: "truck-7", encrypt: false });
    const r2 = await publisher.client.publish(stream, { lat: 2 }, { partitionKey: "truck-7", encrypt: false });
    expect(r2.streamPartition).to.equal(r1.streamPartition);
    expect(r2.sequenceNumber).to.equal(r1.sequenceNumber + 1);
    const history = await publisher.client.resend(stream, { type: "last", count: 10 }, { partition: r1.streamPartition });
    expect(history.map((m) => m.parsed())).to.deep.equal([{ lat: 1 }, { lat: 2 }]);
  });

  it("continues a resend the broker truncated, without losing or repeating events", async () => {
    await net.stop();
    net = await startTestNet({ maxResendEvents: 4 });
    const publisher = client();
    const stream = createStream(net, publisher.address, "/paged");
    net.gate.grantPublish(stream, publisher.address).grantSubscribe(stream, publisher.address);
    for (let n = 1; n <= 11; n++) await publisher.client.publish(stream, { n }, { encrypt: false, timestamp: 1_000 * Math.ceil(n / 3) + Date.now() - 10_000 });
    const history = await publisher.client.resend(stream, { type: "from", fromTimestamp: 0 });
    expect(history.map((m) => m.parsed())).to.deep.equal(Array.from({ length: 11 }, (_, i) => ({ n: i + 1 })));
    // more events at one timestamp than one answer holds: the broker's cursor passes them
    const at = Date.now() - 5_000;
    for (let n = 12; n <= 17; n++) await publisher.client.publish(stream, { n }, { encrypt: false, timestamp: at });
    expect((await publisher.client.resend(stream, { type: "from", fromTimestamp: at })).map((m) => m.parsed())).to.deep.equal(
      Array.from({ length: 6 }, (_, i) => ({ n: i + 12 })),
    );
  });
});
