// A scripted Fabric Gateway gRPC service (gateway.Gateway over TLS, on 127.0.0.1 port 0), so that the
// real @hyperledger/fabric-gateway client in connectFabricGateway can be tested where no peer runs: event
// streams a test closes, responses over the message size limit, calls past their deadline.
import * as grpc from "@grpc/grpc-js";
import * as x509 from "@peculiar/x509";
import { gateway, peer } from "@hyperledger/fabric-protos";
import { webcrypto } from "node:crypto";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { GatewayService } = require("@hyperledger/fabric-protos/lib/gateway/gateway_grpc_pb");

export interface FakeGatewayScript {
  /** answers Evaluate: a chaincode payload, or a delay in ms before answering */
  evaluate?: { payloadBytes?: number; delayMs?: number };
  /** ChaincodeEvents: these event payloads, one per block from 1, then the stream stays open (or fails) */
  events?: { payloads: string[]; thenFail?: boolean };
}

export interface FakeGateway {
  endpoint: string;
  tlsCaCertificate: string;
  /** calls received, by method name */
  calls: Record<string, number>;
  /** event streams the client cancelled */
  cancelledStreams: number;
  close(): Promise<void>;
}

async function tlsServerIdentity(): Promise<{ certificate: string; privateKey: string }> {
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=localhost, O=Fake Gateway",
    notBefore: new Date(Date.UTC(2020, 0, 1)),
    notAfter: new Date(Date.UTC(2099, 0, 1)),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.SubjectAlternativeNameExtension([
        { type: "ip", value: "127.0.0.1" },
        { type: "dns", value: "localhost" },
      ]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64");
  return {
    certificate: certificate.toString("pem"),
    privateKey: `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n`,
  };
}

export async function startFakeGateway(script: FakeGatewayScript): Promise<FakeGateway> {
  const tls = await tlsServerIdentity();
  const calls: Record<string, number> = {};
  const count = (method: string) => {
    calls[method] = (calls[method] ?? 0) + 1;
  };
  const state = { cancelledStreams: 0 };
  const timers = new Set<NodeJS.Timeout>();
  const unimplemented = (method: string) => (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
    count(method);
    callback({ code: grpc.status.UNIMPLEMENTED, details: `${method} is not scripted` });
  };
  const server = new grpc.Server();
  server.addService(GatewayService, {
    endorse: unimplemented("endorse"),
    submit: unimplemented("submit"),
    commitStatus: unimplemented("commitStatus"),
    evaluate: (_call: unknown, callback: grpc.sendUnaryData<gateway.EvaluateResponse>) => {
      count("evaluate");
      const response = new gateway.EvaluateResponse();
      const result = new peer.Response();
      result.setStatus(200);
      result.setPayload(Buffer.alloc(script.evaluate?.payloadBytes ?? 2, "{}"));
      response.setResult(result);
      const timer = setTimeout(() => callback(null, response), script.evaluate?.delayMs ?? 0);
      timers.add(timer);
    },
    chaincodeEvents: (call: grpc.ServerWritableStream<unknown, gateway.ChaincodeEventsResponse>) => {
      count("chaincodeEvents");
      call.on("cancelled", () => {
        state.cancelledStreams += 1;
      });
      (script.events?.payloads ?? []).forEach((payload, i) => {
        const event = new peer.ChaincodeEvent();
        event.setChaincodeId("consent");
        event.setTxId(`tx${i + 1}`);
        event.setEventName("ConsentLedgerEvents");
        event.setPayload(Buffer.from(payload, "utf8"));
        const response = new gateway.ChaincodeEventsResponse();
        response.setBlockNumber(i + 1);
        response.setEventsList([event]);
        call.write(response);
      });
      if (script.events?.thenFail) {
        call.emit("error", { code: grpc.status.UNAVAILABLE, details: "the peer went away" });
      }
      // otherwise the stream stays open, as a peer's does, until the client cancels it
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      "127.0.0.1:0",
      grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(tls.privateKey), cert_chain: Buffer.from(tls.certificate) }], false),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
  return {
    endpoint: `127.0.0.1:${port}`,
    tlsCaCertificate: tls.certificate,
    calls,
    get cancelledStreams() {
      return state.cancelledStreams;
    },
    close: () =>
      new Promise<void>((resolve) => {
        timers.forEach((timer) => clearTimeout(timer));
        server.tryShutdown(() => resolve());
        setTimeout(() => server.forceShutdown(), 1000).unref();
      }),
  };
}
