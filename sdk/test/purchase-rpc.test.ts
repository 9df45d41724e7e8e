// A wallet that signs in this process (ethers' Wallet over JSON-RPC) buying on anvil, a separate node
// that estimates at its pending block when asked for no block: what the SDK asks the node for. The
// estimate names its block (latest with none of the wallet's purchases in flight: the pending block
// costs the node an execution of its pool; pending with one in flight), the purchase is sent as
// signed bytes and its receipt comes back with the market's events parsed, and a reverted
// transaction sent that way fails as ethers' own wait() does.
import { expect } from "chai";
import {
  ContractTransactionReceipt,
  EventLog,
  id as keccakUtf8,
  JsonRpcProvider,
  keccak256,
  toUtf8Bytes,
  Wallet,
  type JsonRpcPayload,
  type JsonRpcResult,
} from "ethers";
import { startAnvil, type Anvil } from "@datamarket/broker/test/anvil";
import { deployMarket, type Deployed } from "@datamarket/broker/test/chain-fixture";
import { MarketClient } from "../src/wallet/MarketClient";
import { StreamRegistryClient } from "../src/wallet/StreamRegistryClient";
import { sendSignedHere } from "../src/wallet/transactions";

const ETH = 10n ** 18n;

/** A JSON-RPC provider that records every request it sends (method and params). */
class RecordingProvider extends JsonRpcProvider {
  readonly requests: Array<{ method: string; params: unknown[] }> = [];
  /** Answer an estimate at the pending block with an error, as a node whose pending block lags may. */
  refusePendingEstimates = false;
  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const list = Array.isArray(payload) ? payload : [payload];
    for (const p of list) this.requests.push({ method: p.method, params: p.params as unknown[] });
    const refused = (p: JsonRpcPayload) => this.refusePendingEstimates && p.method === "eth_estimateGas" && (p.params as unknown[])[1] === "pending";
    const forward = list.filter((p) => !refused(p));
    const answers = forward.length > 0 ? await super._send(forward) : [];
    return [
      ...answers,
      ...list
        .filter(refused)
        .map((p) => ({ id: p.id, error: { code: -32000, message: "execution reverted: the pending block is behind" } }) as unknown as JsonRpcResult),
    ];
  }
}

describe("a wallet's purchase over JSON-RPC on anvil: what the SDK asks the node", function () {
  this.timeout(120_000);
  let anvil: Anvil;
  let deployed: Deployed;
  const products: string[] = [];
  const streams: string[] = [];

  before(async () => {
    anvil = await startAnvil();
    deployed = await deployMarket(anvil.admin);
    const seller = Wallet.createRandom().connect(anvil.provider);
    await (await anvil.admin.sendTransaction({ to: seller.address, value: ETH })).wait();
    const registry = new StreamRegistryClient(deployed.addresses.registry, seller);
    const market = new MarketClient(deployed.addresses.market, deployed.addresses.token, seller);
    for (const name of ["steps", "sleep"]) {
      const { streamId } = await registry.createStream(`/rpc/${name}`, 1);
      await registry.setSubscribeDelegate(streamId, deployed.addresses.market);
      const { productId } = await market.listProduct(keccakUtf8(`rpc-${name}`), {
        beneficiary: seller.address,
        pricePerSecond: 10n ** 12n,
        minSeconds: 60,
        maxSeconds: 30 * 24 * 3600,
        requiresConsent: false,
        requiresKyc: false,
        termsHash: keccak256(toUtf8Bytes("terms")),
        termsUri: "https://example.org/terms",
        resources: [streamId],
      });
      products.push(productId);
      streams.push(streamId);
    }
  });
  afterEach(async () => {
    // a test that stops the chain's automining gives it back even when it fails or times out
    await anvil?.send("evm_setAutomine", [true]);
  });
  after(async () => {
    await anvil?.stop();
  });

  /** A new buyer with ETH and DATA, on a provider of its own that records its requests. */
  async function buyer(): Promise<{ wallet: Wallet; provider: RecordingProvider }> {
    const provider = new RecordingProvider(anvil.url, undefined, { cacheTimeout: -1, pollingInterval: 50 });
    const wallet = new Wallet(Wallet.createRandom().privateKey, provider);
    await (await anvil.admin.sendTransaction({ to: wallet.address, value: ETH })).wait();
    await (await deployed.token.connect(anvil.admin).mint(wallet.address, 10n ** 21n)).wait();
    return { wallet, provider };
  }
  /** Waits until anvil's pool holds the two purchases (a request sent is not yet a transaction the node holds). */
  async function bothInThePool(bought: Promise<unknown>): Promise<void> {
    let failed: unknown;
    bought.catch((e) => (failed = e));
    for (const deadline = Date.now() + 20_000; ;) {
      const { pending } = await anvil.send<{ pending: string }>("txpool_status");
      if (Number(pending) >= 2) return;
      if (failed) throw failed;
      if (Date.now() > deadline) throw new Error(`the two purchases did not both reach the pool (${Number(pending)} there)`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const estimates = (p: RecordingProvider) => p.requests.filter((r) => r.method === "eth_estimateGas").map((r) => r.params[1]);

  it("estimates a purchase at the latest block, sends it signed, and parses the market's events in its receipt", async () => {
    const { wallet, provider } = await buyer();
    try {
      const { receipt } = await new MarketClient(deployed.addresses.market, deployed.addresses.token, wallet).buyWithPermit({
        productId: products[0],
        duration: 3600,
      });
      expect(receipt.status).to.equal(1);
      expect(estimates(provider), "one estimate, at the latest block").to.deep.equal(["latest"]);
      expect(provider.requests.filter((r) => r.method === "eth_sendRawTransaction")).to.have.length(1);
      expect(receipt).to.be.instanceOf(ContractTransactionReceipt);
      const events = receipt.logs.filter((l): l is EventLog => l instanceof EventLog).map((l) => l.eventName);
      expect(events, "the market's own events, parsed").to.include("LicensePurchased");
      expect(await deployed.market.hasValidLicense(wallet.address, streams[0])).to.equal(true);
    } finally {
      provider.destroy();
    }
  });

  it("estimates a purchase sent while the wallet's first is in the pool at the pending block, and both are mined in one block", async () => {
    const { wallet, provider } = await buyer();
    await anvil.send("evm_setAutomine", [false]);
    try {
      const client = new MarketClient(deployed.addresses.market, deployed.addresses.token, wallet);
      const bought = Promise.all(products.map((productId) => client.buyWithPermit({ productId, duration: 3600 })));
      bought.catch(() => undefined);
      await bothInThePool(bought);
      expect(estimates(provider), "the second, behind the first in the pool, at pending").to.deep.equal(["latest", "pending"]);
      await anvil.mine();
      const results = await bought;
      expect(results.map((r) => r.receipt.status)).to.deep.equal([1, 1]);
      expect(results[0].receipt.blockNumber).to.equal(results[1].receipt.blockNumber);
      expect(await deployed.token.nonces(wallet.address)).to.equal(2n);
    } finally {
      await anvil.send("evm_setAutomine", [true]);
      provider.destroy();
    }
  });

  it("estimates at the latest block with the chain's permit, plus a fifth, when the node's pending block does not hold the wallet's first purchase", async () => {
    const { wallet, provider } = await buyer();
    provider.refusePendingEstimates = true;
    await anvil.send("evm_setAutomine", [false]);
    try {
      const client = new MarketClient(deployed.addresses.market, deployed.addresses.token, wallet);
      const bought = Promise.all(products.map((productId) => client.buyWithPermit({ productId, duration: 3600 })));
      bought.catch(() => undefined);
      await bothInThePool(bought);
      expect(estimates(provider), "latest; pending (refused); latest with the chain's permit").to.deep.equal(["latest", "pending", "latest"]);
      await anvil.mine();
      const results = await bought;
      expect(results.map((r) => r.receipt.status)).to.deep.equal([1, 1]);
      expect(await deployed.token.nonces(wallet.address)).to.equal(2n);
      const second = await provider.getTransaction(results[1].receipt.hash);
      expect(second!.gasLimit > results[1].receipt.gasUsed, "the bound holds the purchase").to.equal(true);
    } finally {
      await anvil.send("evm_setAutomine", [true]);
      provider.destroy();
    }
  });

  it("fails a reverted transaction sent as signed bytes with ethers' CALL_EXCEPTION, its receipt attached", async () => {
    const { wallet, provider } = await buyer();
    try {
      // a purchase of a product that does not exist, with a gas limit given so that no estimate refuses it first
      const call = await deployed.market.buyWithPermit.populateTransaction(
        {
          productId: keccakUtf8("no such product"),
          duration: 3600,
          attestation: { grantId: keccakUtf8("g"), buyer: wallet.address, productId: keccakUtf8("p"), purpose: keccakUtf8("x"), expiresAt: 0 },
          signatures: "0x",
          encryptionKey: "0x",
        },
        1n,
        { value: 0n, deadline: 0n, v: 27, r: keccakUtf8("r"), s: keccakUtf8("s") },
      );
      const sent = await sendSignedHere(wallet, provider, { ...call, nonce: 0, gasLimit: 500_000n }, deployed.market.interface);
      const error = await sent.wait().then(
        () => expect.fail("a reverted transaction was taken as mined"),
        (e: { code?: string; receipt?: { status: number; hash: string } }) => e,
      );
      expect(error.code).to.equal("CALL_EXCEPTION");
      expect(error.receipt?.status).to.equal(0);
      expect(error.receipt?.hash).to.equal(sent.hash);
    } finally {
      provider.destroy();
    }
  });
});
