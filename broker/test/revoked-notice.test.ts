// The `revoked` notice exactly as docs/protocol.md §6.3 lists it: every details.reason of an
// ACCESS_REVOKED cut, the cut of a re-check that itself failed, and the fail-closed notice's fields.

import { expect } from "chai";
import { BrokerClient, BrokerReply } from "../src/client/BrokerClient";
import { DEFAULT_CONFIG } from "../src/config";
import { BOB, BOB_KEY, STREAM, TestBroker, startTestBroker, waitFor } from "./helpers";

const PRODUCT = "0x" + "5a".repeat(32);

describe("the revoked notice (docs/protocol.md §6.3)", () => {
  let broker: TestBroker;
  let bob: BrokerClient;
  const notices: BrokerReply[] = [];

  beforeEach(async () => {
    broker = await startTestBroker({
      access: { ...DEFAULT_CONFIG.access, maxStalenessMs: 300, static: { publicStreams: [], publishers: {}, subscribers: {} } },
    });
    bob = await BrokerClient.connect(broker.wsUrl);
    await bob.signIn(BOB_KEY);
    notices.length = 0;
    bob.onNotice = (n) => notices.push(n);
  });
  afterEach(async () => {
    await bob.close();
    await broker.stop();
  });

  const cut = async () => {
    await waitFor(() => notices.length === 1, 15_000, "the revoked notice");
    const { message, ...rest } = notices[0];
    expect(message).to.be.a("string").and.not.equal("");
    return rest;
  };
  const revoked = (details: Record<string, unknown>) => ({
    type: "revoked",
    streamId: STREAM,
    streamPartition: 0,
    code: "ACCESS_REVOKED",
    details: { streamId: STREAM, streamPartition: 0, cause: "SUBSCRIBE_NOT_ALLOWED", subscriber: BOB, ...details },
  });

  it('reason "no-permission-or-licence": the permission is gone and there is no valid licence', async () => {
    broker.gate.grantSubscribe(STREAM, BOB);
    await bob.subscribe(STREAM);
    broker.gate.revokeSubscribe(STREAM, BOB);
    expect(await cut()).to.deep.equal(revoked({ reason: "no-permission-or-licence" }));
  });

  it('reason "licence-expired": the licence reached its end (unix seconds), with its product', async () => {
    // valid for 2..3 s: enough for a loaded machine to subscribe before it ends (1..2 s was less than a
    // second when taken just before a second boundary)
    const expiresAt = Math.floor(Date.now() / 1000) + 3;
    broker.gate.setLicence(STREAM, BOB, { productId: PRODUCT, expiresAt, consentGated: false });
    await bob.subscribe(STREAM);
    expect(await cut()).to.deep.equal(revoked({ reason: "licence-expired", productId: PRODUCT, expiresAt }));
  });

  it('reason "no-consent": the licence is consent-gated and its grant is no longer valid', async () => {
    broker.gate.setLicence(STREAM, BOB, { productId: PRODUCT, expiresAt: Math.floor(Date.now() / 1000) + 3600, consentGated: true });
    broker.gate.grantConsent(PRODUCT, BOB);
    await bob.subscribe(STREAM);
    broker.gate.withdrawConsent(PRODUCT, BOB);
    expect(await cut()).to.deep.equal(revoked({ reason: "no-consent", productId: PRODUCT }));
  });

  it("no cause and no reason: the re-check itself failed (a chain or ledger read threw), so the broker cuts", async () => {
    broker.gate.grantSubscribe(STREAM, BOB);
    await bob.subscribe(STREAM);
    broker.gate.canSubscribe = async () => {
      throw new Error("connection refused");
    };
    broker.gate.revokePublish(STREAM, BOB); // any change of the stream triggers the re-check
    const notice = await cut();
    expect(notice).to.deep.equal({
      type: "revoked",
      streamId: STREAM,
      streamPartition: 0,
      code: "ACCESS_REVOKED",
      details: { streamId: STREAM, streamPartition: 0 },
    });
  });

  it("fail closed: ACCESS_GATE_UNAVAILABLE with staleForMs and maxStalenessMs", async () => {
    broker.gate.grantSubscribe(STREAM, BOB);
    await bob.subscribe(STREAM);
    broker.gate.reachable = false;
    const notice = await cut();
    expect(Object.keys(notice.details as object).sort()).to.deep.equal(["maxStalenessMs", "staleForMs"]);
    const details = notice.details as { staleForMs: number; maxStalenessMs: number };
    expect(details.maxStalenessMs).to.equal(300);
    expect(details.staleForMs).to.be.greaterThan(300);
    expect(notice).to.deep.include({ type: "revoked", streamId: STREAM, streamPartition: 0, code: "ACCESS_GATE_UNAVAILABLE" });
  });
});
