// connectFabricGateway against a scripted Fabric Gateway gRPC service (test/fake-gateway.ts) through the
// real @hyperledger/fabric-gateway 1.11 client, and the in-process ledger, for what needs a live stream:
// close() ends an event stream cleanly, requests over a limit fail early or name the limit they hit.
import { expect } from "chai";
import { generateKeyPairSync } from "node:crypto";
import {
  ConsentClientError,
  DEFAULT_GATEWAY_TIMEOUTS,
  DEFAULT_GRPC_OPTIONS,
  InProcessConsentLedger,
  connectFabricGateway,
  fabric,
  type ConsentLedgerEventBatch,
  type FabricGatewayConfig,
  type FabricGatewayConnection,
} from "../src";
import { FakeGateway, FakeGatewayScript, startFakeGateway } from "./fake-gateway";

const eventPayload = (txId: string) =>
  JSON.stringify({
    events: [{ type: "ResourceRegistered", resourceId: "0x" + "44".repeat(32), kind: "stream", productIds: [], controllerMsp: "HospitalMSP" }],
    timestamp: 1_790_000_000,
    txId,
  });

async function expectClientError(promise: Promise<unknown>, code: string, ...parts: string[]): Promise<void> {
  const error = await promise.then(
    () => null,
    (failure: unknown) => failure,
  );
  expect(error, `expected ${code}`).to.be.instanceOf(ConsentClientError);
  expect((error as ConsentClientError).code, (error as Error).message).to.equal(code);
  for (const part of parts) {
    expect((error as Error).message).to.contain(part);
  }
}

describe("connectFabricGateway against a scripted gateway service", () => {
  let fake: FakeGateway | undefined;
  let connection: FabricGatewayConnection | undefined;
  let identity: Pick<FabricGatewayConfig, "mspId" | "certificate" | "privateKey">;

  before(async () => {
    const authority = await fabric.CertificateAuthority.create("AuditMSP");
    identity = {
      mspId: "AuditMSP",
      certificate: (await authority.enroll("bridge")).certificatePem,
      privateKey: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    };
  });

  afterEach(async () => {
    connection?.close();
    connection = undefined;
    await fake?.close();
    fake = undefined;
  });

  const connectTo = async (script: FakeGatewayScript, overrides: Partial<FabricGatewayConfig> = {}) => {
    fake = await startFakeGateway(script);
    connection = connectFabricGateway({
      endpoint: fake.endpoint,
      tlsCaCertificate: fake.tlsCaCertificate,
      hostnameOverride: "localhost",
      channelName: "consent",
      ...identity,
      ...overrides,
    });
    return connection.client;
  };

  it("ends the consumer's for-await cleanly when close() is called while it waits (no GatewayError CANCELLED)", async () => {
    const client = await connectTo({ events: { payloads: [eventPayload("tx1"), eventPayload("tx2")] } });
    const events = await client.events(1n);
    const received: ConsentLedgerEventBatch[] = [];
    const consumer = (async () => {
      for await (const batch of events) {
        received.push(batch);
      }
      return "ended";
    })();
    while (received.length < 2) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // the consumer now waits for a third event the peer never sends
    events.close();
    expect(await consumer).to.equal("ended");
    expect(received.map((batch) => [batch.blockNumber, batch.transactionId])).to.deep.equal([
      [1n, "tx1"],
      [2n, "tx2"],
    ]);
    // the cancellation reaches the peer over gRPC: a liveness bound (500 ms before), generous for a loaded machine
    for (const deadline = Date.now() + 10_000; fake!.cancelledStreams === 0 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(fake!.cancelledStreams).to.equal(1);
  });

  it("still reports a stream the peer breaks (not closed by the consumer) as an error", async () => {
    const client = await connectTo({ events: { payloads: [eventPayload("tx1")], thenFail: true } });
    const events = await client.events();
    const outcome = (async () => {
      for await (const _ of events) {
        /* one batch, then the failure */
      }
    })();
    await expectClientError(outcome, "ENDORSEMENT_FAILED", "the peer went away");
  });

  it("names the gRPC receive limit when a response exceeds it (RESOURCE_EXHAUSTED -> MESSAGE_TOO_LARGE)", async () => {
    const client = await connectTo({ evaluate: { payloadBytes: 64 * 1024 } }, { grpcOptions: { "grpc.max_receive_message_length": 16 * 1024 } });
    await expectClientError(client.getResource("0x" + "00".repeat(32)), "MESSAGE_TOO_LARGE", "16384 bytes received", "grpcOptions");
  });

  it("names the deadline a call ran past (DEADLINE_EXCEEDED)", async () => {
    const client = await connectTo({ evaluate: { delayMs: 2_000 } }, { timeouts: { evaluate: 200 } });
    await expectClientError(client.getResource("0x" + "00".repeat(32)), "DEADLINE_EXCEEDED", "evaluate 200 ms", "endorse 30000 ms");
  });

  it("refuses a request over a limit before sending it, naming the limit", async () => {
    const client = await connectTo({}, { grpcOptions: { "grpc.max_send_message_length": 1024 } });
    await expectClientError(
      client.addResourceSubjects(
        "0x" + "11".repeat(32),
        Array.from({ length: 1001 }, (_, i) => `s-${i}`),
      ),
      "INVALID_ARGUMENT",
      "MAX_SUBJECTS_PER_CALL of 1000",
    );
    await expectClientError(client.getConsent("0x" + "ab".repeat(300 * 1024)), "ARGUMENT_TOO_LARGE", "MAX_ARGUMENT_BYTES of 262144");
    await expectClientError(client.getConsent("0x" + "ab".repeat(1024)), "MESSAGE_TOO_LARGE", "grpc.max_send_message_length of 1024");
    expect(fake!.calls).to.deep.equal({});
  });

  it("defaults to limits that fit a 10,000-subject request", () => {
    expect(DEFAULT_GRPC_OPTIONS["grpc.max_receive_message_length"]).to.equal(16 * 1024 * 1024);
    expect(DEFAULT_GATEWAY_TIMEOUTS).to.deep.equal({ evaluate: 30_000, endorse: 30_000, submit: 10_000, commitStatus: 60_000 });
  });
});

describe("in-process event streams", () => {
  it("end the consumer's for-await cleanly when close() is called while it waits", async () => {
    const ledger = await InProcessConsentLedger.create();
    const custodian = ledger.client(await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" }));
    const auditor = ledger.client(await ledger.enroll("AuditMSP", "auditor", { "consent.role": "auditor" }));
    const events = await auditor.events();
    const received: string[] = [];
    const consumer = (async () => {
      for await (const batch of events) {
        received.push(batch.events[0].type);
      }
      return "ended";
    })();
    await custodian.registerResource("0x" + "44".repeat(32), "stream");
    while (received.length < 1) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    events.close();
    expect(await consumer).to.equal("ended");
    expect(received).to.deep.equal(["ResourceRegistered"]);
  });
});
