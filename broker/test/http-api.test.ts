// The HTTP API: OpenAPI generated from the routes, stream discovery, publish, history with an
// EIP-4361 session, health, Prometheus metrics, typed errors with HTTP statuses.

import { expect } from "chai";
import { buildSiweMessage } from "../src/wire";
import { personalMessageHash, signDigest, toHex } from "../src/wire";
import { eventHash } from "../src/wire";
import { StaticPartitionAssignment } from "../src/network/PartitionAssignment";
import { ALICE, ALICE_KEY, BOB, BOB_KEY, MALLORY, MALLORY_KEY, STREAM, TestBroker, TestPublisher, startTestBroker } from "./helpers";

describe("HTTP API", () => {
  let broker: TestBroker;
  type JsonResponse = { json(): Promise<any> } & Response; // eslint-disable-line @typescript-eslint/no-explicit-any
  const get = (path: string, headers: Record<string, string> = {}): Promise<JsonResponse> => fetch(broker.httpUrl + path, { headers });
  const postJson = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> =>
    fetch(broker.httpUrl + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

  async function session(key: Buffer, address: string): Promise<string> {
    const { nonce, domain, chainId } = await (await get("/auth/nonce")).json();
    const message = buildSiweMessage({ domain, address, uri: broker.httpUrl, chainId, nonce, issuedAt: new Date().toISOString() });
    const signature = toHex(signDigest(personalMessageHash(Buffer.from(message)), key));
    const res = await postJson("/auth/session", { message, signature });
    expect(res.status).to.equal(200);
    return (await res.json()).token;
  }

  beforeEach(async () => {
    broker = await startTestBroker();
    broker.gate.grantPublish(STREAM, ALICE).grantSubscribe(STREAM, BOB);
  });
  afterEach(() => broker.stop());

  it("serves an OpenAPI document generated from the route schemas", async () => {
    const doc = await (await get("/openapi.json")).json();
    expect(doc.openapi).to.match(/^3\./);
    expect(Object.keys(doc.paths)).to.include.members([
      "/streams",
      "/streams/{streamId}",
      "/streams/{streamId}/partitions/{partition}/events",
      "/health",
      "/metrics",
      "/auth/session",
    ]);
    expect(doc.paths["/streams/{streamId}/partitions/{partition}/events"].get.parameters.map((p: { name: string }) => p.name)).to.include.members([
      "last",
      "from",
      "to",
      "publisher",
    ]);
  });

  it("finds streams in the registry index and gets one with its routing", async () => {
    const found = await (await get("/streams?text=eth")).json();
    expect(found.total).to.equal(1);
    expect(found.streams[0]).to.include({ id: STREAM, creator: ALICE, path: "/prices/eth-usd", partitions: 2 });
    const one = await (await get(`/streams/${STREAM}`)).json();
    expect(one.routing).to.have.length(2);
    expect(one.routing[0]).to.include({ streamPartition: 0, servedHere: true });
  });

  it("answers 404 UNKNOWN_STREAM and 400 BAD_REQUEST with typed bodies", async () => {
    const res = await get(`/streams/0x${"99".repeat(32)}`);
    expect(res.status).to.equal(404);
    expect(await res.json()).to.include({ code: "UNKNOWN_STREAM" });
    const bad = await get("/streams/not-an-id");
    expect(bad.status).to.equal(400);
    expect(await bad.json()).to.include({ code: "BAD_REQUEST" });
  });

  it("publishes a frame (201 once durable) and serves it as history to a session with access", async () => {
    const p = new TestPublisher(ALICE_KEY);
    const e = p.next('{"price":7}');
    const res = await postJson(`/streams/${STREAM}/partitions/0/events`, { frame: e.frame.toString("base64") });
    expect(res.status).to.equal(201);
    expect((await res.json()).eventHash).to.equal("0x" + eventHash(e.canonical).toString("hex"));
    const raw = await fetch(`${broker.httpUrl}/streams/${STREAM}/partitions/0/events`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: p.next().frame,
    });
    expect(raw.status).to.equal(201);
    const token = await session(BOB_KEY, BOB);
    const hist = await (await get(`/streams/${STREAM}/partitions/0/events?last=10`, { authorization: `Bearer ${token}` })).json();
    expect(hist.events).to.have.length(2);
    expect(hist.events[0]).to.include({ publisher: ALICE, sequenceNumber: 0, frame: e.frame.toString("base64") });
    expect(Buffer.from(hist.events[0].content, "base64").toString()).to.equal('{"price":7}');
  });

  it("refuses history without a session (401) and to a session without access (403)", async () => {
    expect((await get(`/streams/${STREAM}/partitions/0/events?last=1`)).status).to.equal(401);
    const token = await session(MALLORY_KEY, MALLORY);
    const res = await get(`/streams/${STREAM}/partitions/0/events?last=1`, { authorization: `Bearer ${token}` });
    expect(res.status).to.equal(403);
    expect(await res.json()).to.include({ code: "SUBSCRIBE_NOT_ALLOWED" });
  });

  it("refuses a reused sign-in nonce with AUTHENTICATION_FAILED", async () => {
    const { nonce, domain, chainId } = await (await get("/auth/nonce")).json();
    const message = buildSiweMessage({ domain, address: BOB, uri: broker.httpUrl, chainId, nonce, issuedAt: new Date().toISOString() });
    const signature = toHex(signDigest(personalMessageHash(Buffer.from(message)), BOB_KEY));
    expect((await postJson("/auth/session", { message, signature })).status).to.equal(200);
    const again = await postJson("/auth/session", { message, signature });
    expect(again.status).to.equal(401);
    expect(await again.json()).to.include({ code: "AUTHENTICATION_FAILED" });
  });

  it("refuses bad publishes with typed errors and stores nothing", async () => {
    const p = new TestPublisher(ALICE_KEY);
    const tampered = Buffer.from(p.next('{"x":1}').frame);
    tampered[145] ^= 1;
    const cases: [unknown, number, string][] = [
      [{ frame: "***" }, 400, "BAD_REQUEST"],
      [{}, 400, "BAD_REQUEST"],
      [{ frame: tampered.toString("base64") }, 400, "INVALID_SIGNATURE"],
      [{ frame: new TestPublisher(BOB_KEY).next().frame.toString("base64") }, 403, "PUBLISH_NOT_ALLOWED"],
      [{ frame: new TestPublisher(ALICE_KEY, STREAM, 1).next().frame.toString("base64") }, 400, "BAD_REQUEST"], // URL says partition 0
    ];
    for (const [body, status, code] of cases) {
      const res = await postJson(`/streams/${STREAM}/partitions/0/events`, body);
      expect(res.status, code).to.equal(status);
      expect((await res.json()).code).to.equal(code);
    }
    expect(broker.node.store.count(STREAM, 0) + broker.node.store.count(STREAM, 1)).to.equal(0);
  });

  it("reports health and Prometheus metrics (ingress per stream, refusals, latency histograms)", async () => {
    await postJson(`/streams/${STREAM}/partitions/0/events`, { frame: new TestPublisher(ALICE_KEY).next().frame.toString("base64") });
    await postJson(`/streams/${STREAM}/partitions/0/events`, { frame: new TestPublisher(BOB_KEY).next().frame.toString("base64") });
    const health = await get("/health");
    expect(health.status).to.equal(200);
    expect(await health.json()).to.include({ status: "ok", crypto: "native" });
    const text = await (await get("/metrics")).text();
    expect(text).to.contain(`broker_ingress_events_total{stream="${STREAM}"} 1`);
    expect(text).to.contain('broker_refused_total{code="PUBLISH_NOT_ALLOWED"} 1');
    expect(text).to.match(/broker_publish_duration_seconds_count 1/);
  });

  it("filters streams by creator and answers 421 PARTITION_NOT_SERVED with the serving brokers", async () => {
    const byBob = await (await get(`/streams?creator=${BOB}`)).json();
    expect(byBob.streams.map((x: { creator: string }) => x.creator)).to.deep.equal([BOB]);
    await broker.stop();
    const others = new Map([[1, [{ address: BOB, ws: "ws://127.0.0.1:9", http: "http://127.0.0.1:9" }]]]);
    broker = await startTestBroker({}, new StaticPartitionAssignment((_id, part) => part, new Set([0]), others));
    broker.gate.grantPublish(STREAM, ALICE);
    const frame = new TestPublisher(ALICE_KEY, STREAM, 1).next().frame;
    const res = await postJson(`/streams/${STREAM}/partitions/1/events`, { frame: frame.toString("base64") });
    expect(res.status).to.equal(421);
    const body = await res.json();
    expect(body.code).to.equal("PARTITION_NOT_SERVED");
    expect(body.details.brokers).to.deep.equal(others.get(1));
  });
});
