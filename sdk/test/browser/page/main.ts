// The page of sdk/test/browser/browser.test.ts: what an integrator's web app does with the SDK's
// browser build. Signs in to the broker with a wallet, subscribes to an encrypted stream, asks
// the publisher for the group key over HTTP and decrypts what it receives. Parameters come in
// the query string; results go to window.__sdk for the test to read.
import { getBytes, Wallet } from "ethers";
import { DataClient, HttpKeyRequestChannel, WsTransport, cryptoBackend, type ReceivedMessage, type StreamAccess } from "@datamarket/sdk";

interface PageState {
  subscribed: boolean;
  received: { sequenceNumber: number; encrypted: boolean; value: unknown }[];
  errors: string[];
  backend: string;
  done?: boolean;
}

const state: PageState = { subscribed: false, received: [], errors: [], backend: `${cryptoBackend.backend}/${cryptoBackend.platform}` };
(window as unknown as { __sdk: PageState }).__sdk = state;

async function main(): Promise<void> {
  const q = new URLSearchParams(location.search);
  const wallet = new Wallet(q.get("walletKey")!);
  const publisher = q.get("publisher")!.toLowerCase();
  const streamId = q.get("stream")!;
  // The registry's answers as the test's in-memory gate has them (no chain in this test).
  const access: StreamAccess = {
    canPublish: async (_s, a) => a.toLowerCase() === publisher,
    canSubscribe: async () => true,
    encryptionKeyOf: async () => null,
  };
  const client = new DataClient({
    signer: wallet,
    access,
    encryptionPrivateKey: getBytes(q.get("encryptionKey")!),
    keyRequests: new HttpKeyRequestChannel((p) => (p === publisher ? q.get("keyUrl")! : undefined)),
    connect: () => WsTransport.connect({ url: q.get("broker")!, signer: wallet }),
  });
  await client.subscribe(
    streamId,
    (m: ReceivedMessage) => {
      state.received.push({ sequenceNumber: m.sequenceNumber, encrypted: m.encrypted, value: m.parsed() });
    },
    { onError: (e) => state.errors.push(`${e.code}: ${e.shortMessage}`) },
  );
  state.subscribed = true;
  document.getElementById("status")!.textContent = "subscribed";
}

main().catch((err: Error) => {
  state.errors.push(`${err.name}: ${err.message}`);
  console.error(err);
});
