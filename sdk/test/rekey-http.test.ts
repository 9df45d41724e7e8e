// POST /rekey on a publisher's key server (serveKeyRequests' rekey option): the stream's owner, as the
// registry records it, rekeys by a personal_sign signature; everyone else, replays, expired or altered
// requests are refused with typed errors, and the endpoint does not exist unless asked for.
import { expect } from "chai";
import { Wallet } from "ethers";
import type { ReceivedMessage } from "../src/client/DataClient";
import { SdkErrorCodes } from "../src/errors";
import { rekeyRequestText, serveKeyRequests, signRekeyRequest, type RekeyResult, type SignedRekeyRequest } from "../src/client/keyRequestHttp";
import { createStream, makeClient, startTestNet, waitFor, type TestClient, type TestNet } from "./helpers";

describe("POST /rekey on the key server", function () {
  this.timeout(20_000);
  let net: TestNet;
  const clients: TestClient[] = [];
  const closers: (() => Promise<void>)[] = [];
  const client = () => {
    const c = makeClient(net);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    net = await startTestNet();
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    for (const c of clients.splice(0)) await c.client.close();
    await net.stop();
  });

  /** A publisher owning a stream with two subscribers holding its key, and its key server with POST /rekey. */
  async function setUp(opts: { now?: () => number } = {}) {
    const publisher = client();
    const a = client();
    const b = client();
    const stream = createStream(net, publisher.address, "/health/heart-rate");
    net.gate
      .grantPublish(stream, publisher.address)
      .grantSubscribe(stream, publisher.address)
      .grantSubscribe(stream, a.address)
      .grantSubscribe(stream, b.address);
    const owners = new Map([[stream, publisher.address]]);
    const server = await serveKeyRequests(publisher.client, { rekey: { ownerOf: async (id) => owners.get(id) ?? null, now: opts.now } });
    closers.push(() => server.close());
    const received: ReceivedMessage[] = [];
    await a.client.subscribe(stream, (m) => void received.push(m));
    await publisher.client.shareGroupKey(stream, [a.address, b.address]);
    await publisher.client.publish(stream, { bpm: 61 });
    await waitFor(() => received.length === 1, "A to get the first event");
    const post = async (body: unknown) => {
      const res = await fetch(`${server.url}/rekey`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    const sign = (wallet: Wallet, o: { streamId?: string; removed?: string[]; lifetimeSeconds?: number; now?: number; keyServerUrl?: string } = {}) =>
      signRekeyRequest((text) => wallet.signMessage(text), { keyServerUrl: server.url, streamId: stream, ...o });
    return { publisher, a, b, stream, server, received, post, sign };
  }

  it("is off by default: a key server without the rekey option has no /rekey", async () => {
    const publisher = client();
    const server = await serveKeyRequests(publisher.client);
    closers.push(() => server.close());
    const res = await fetch(`${server.url}/rekey`, { method: "POST", body: "{}" });
    expect(res.status).to.equal(404);
    expect(((await res.json()) as { code: string }).code).to.equal("NOT_FOUND");
  });

  it("rekeys for the stream's owner: a new key id, the remaining recipients, and A keeps receiving while B is cut off", async () => {
    const { publisher, b, stream, received, post, sign } = await setUp();
    const before = received[0].groupKeyId;
    const { status, json } = await post(await sign(publisher.wallet, { removed: [b.address] }));
    expect(status, JSON.stringify(json)).to.equal(200);
    const result = json as unknown as RekeyResult;
    expect(result.streamId).to.equal(stream);
    expect(result.recipients).to.equal(1);
    expect(result.groupKeyId)
      .to.match(/^0x[0-9a-f]{64}$/)
      .and.not.equal(before);
    await publisher.client.publish(stream, { bpm: 62 });
    await waitFor(() => received.length === 2, "A to get the event after the rekey");
    expect(received[1].parsed()).to.deep.equal({ bpm: 62 });
    expect(received[1].groupKeyId).to.equal(result.groupKeyId);
    // B, holding every frame, cannot read the event under the new key.
    const raw = await publisher.transports[0].resend(stream, 0, { type: "last", count: 10 });
    const errors: string[] = [];
    const opened = await b.client.open(stream, raw, { onError: (e) => void errors.push(e.code) });
    expect(opened.map((m) => m.parsed())).to.deep.equal([{ bpm: 61 }]);
    expect(errors).to.deep.equal([SdkErrorCodes.UNKNOWN_GROUP_KEY]);
  });

  it("refuses a request signed by anyone but the owner, and one whose body was altered after signing", async () => {
    const { a, b, post, sign, publisher } = await setUp();
    const byA = await post(await sign(a.wallet, { removed: [b.address] }));
    expect(byA.status).to.equal(403);
    expect(byA.json.code).to.equal(SdkErrorCodes.NOT_STREAM_OWNER);
    expect(byA.json.message).to.match(/not by the stream's owner/);
    const signed = await sign(publisher.wallet, { removed: [b.address] });
    const altered = await post({ ...signed, removed: [a.address] } satisfies SignedRekeyRequest);
    expect(altered.status).to.equal(403);
    expect(altered.json.code).to.equal(SdkErrorCodes.NOT_STREAM_OWNER);
    const sooner = await post({ ...signed, expires: signed.expires - 1 });
    expect(sooner.json.code).to.equal(SdkErrorCodes.NOT_STREAM_OWNER);
    // signed for another key server (origin): not valid here
    const elsewhere = await post(await sign(publisher.wallet, { keyServerUrl: "http://127.0.0.1:1" }));
    expect(elsewhere.json.code).to.equal(SdkErrorCodes.NOT_STREAM_OWNER);
    const garbled = await post({ ...signed, signature: "0x1234" });
    expect([garbled.status, garbled.json.code]).to.deep.equal([401, SdkErrorCodes.INVALID_SIGNATURE]);
    // the untouched request still works: none of the refusals used its nonce
    expect((await post(signed)).status).to.equal(200);
  });

  it("refuses a replayed request", async () => {
    const { post, sign, publisher } = await setUp();
    const signed = await sign(publisher.wallet);
    const first = await post(signed);
    expect(first.status).to.equal(200);
    expect(first.json.recipients).to.equal(2);
    const again = await post(signed);
    expect(again.status).to.equal(409);
    expect(again.json.code).to.equal(SdkErrorCodes.NONCE_REUSED);
  });

  it("refuses an expired request and one whose expiry is too far ahead", async () => {
    let now = Date.now();
    const { post, sign, publisher } = await setUp({ now: () => now });
    const signed = await sign(publisher.wallet, { lifetimeSeconds: 60, now });
    now += 61_000;
    const expired = await post(signed);
    expect(expired.status).to.equal(401);
    expect(expired.json.code).to.equal(SdkErrorCodes.REQUEST_EXPIRED);
    expect(expired.json.message).to.match(/expired at/);
    const far = await post(await sign(publisher.wallet, { lifetimeSeconds: 301, now }));
    expect(far.json.code).to.equal(SdkErrorCodes.REQUEST_EXPIRED);
    expect(far.json.message).to.match(/over 300 s ahead/);
  });

  it("refuses an unknown stream and a malformed request with clear errors", async () => {
    const { post, sign, publisher, server } = await setUp();
    const unknown = await post(await sign(publisher.wallet, { streamId: "0x" + "ab".repeat(32) }));
    expect(unknown.status).to.equal(404);
    expect(unknown.json.code).to.equal(SdkErrorCodes.UNKNOWN_STREAM);
    const signed = await sign(publisher.wallet);
    const badList = await post({ ...signed, removed: ["bob"] });
    expect([badList.status, badList.json.code]).to.deep.equal([400, SdkErrorCodes.INVALID_ARGUMENT]);
    expect(badList.json.message).to.match(/removed must be/);
    const noStream = await post({ ...signed, streamId: "heart-rate" });
    expect([noStream.status, noStream.json.code]).to.deep.equal([400, SdkErrorCodes.INVALID_ARGUMENT]);
    expect(noStream.json.message).to.match(/streamId must be/);
    const res = await fetch(`${server.url}/rekey`, { method: "POST", body: "not json" });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { message: string }).message).to.match(/not JSON/);
  });

  it("signs the exact text documented in docs/sdk.md", () => {
    expect(
      rekeyRequestText({
        origin: "http://127.0.0.1:8080",
        streamId: "0x" + "AB".repeat(32),
        removed: ["0x" + "22".repeat(20), "0x" + "11".repeat(20)],
        nonce: "00".repeat(16),
        expires: 1_800_000_000,
      }),
    ).to.equal(
      [
        "DataMarket: rekey a stream",
        "Key server: http://127.0.0.1:8080",
        `Stream: 0x${"ab".repeat(32)}`,
        `Remove: 0x${"11".repeat(20)},0x${"22".repeat(20)}`,
        `Nonce: ${"00".repeat(16)}`,
        "Expires: 1800000000",
      ].join("\n"),
    );
  });
});
