// A wallet that signs in this process (ethers' Wallet over JSON-RPC) buying on anvil, a separate node
// that estimates at its pending block when asked for no block: what the SDK asks the node for. Every
// estimate is made at the latest block, before the wallet's turn, even with purchases of the wallet in
// flight (the pending block costs the node an execution of its whole pool); the DATA the wallet holds
// must cover its purchases in flight; the purchase is sent as signed bytes and its receipt comes back
// with the market's events parsed, and a reverted transaction sent that way fails as ethers' own
// wait() does.
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
  /** Run once before the next estimate is sent (a block mined under it, say). */
  beforeEstimate?: () => Promise<void>;
  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const list = Array.isArray(payload) ? payload : [payload];
    for (const p of list) this.requests.push({ method: p.method, params: p.params as unknown[] });
    const before = this.beforeEstimate;
    if (before && list.some((p) => p.method === "eth_estimateGas")) {
      this.beforeEstimate = undefined;
      await before();
    }
    return super._send(payload);
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

  /** A new buyer with ETH and `data` DATA, on a provider of its own that records its requests. */
  async function buyer(data = 10n ** 21n): Promise<{ wallet: Wallet; provider: RecordingProvider }> {
    const provider = new RecordingProvider(anvil.url, undefined, { cacheTimeout: -1, pollingInterval: 50 });
    const wallet = new Wallet(Wallet.createRandom().privateKey, provider);
    await (await anvil.admin.sendTransaction({ to: wallet.address, value: ETH })).wait();
    await (await deployed.token.connect(anvil.admin).mint(wallet.address, data)).wait();
    return { wallet, provider };
  }
  /** Starts one purchase of each product by `wallet`, at once. */
  function buyAll(wallet: Wallet): Promise<Array<Awaited<ReturnType<MarketClient["buyWithPermit"]>>>> {
    const client = new MarketClient(deployed.addresses.market, deployed.addresses.token, wallet);
    const bought = Promise.all(products.map((productId) => client.buyWithPermit({ productId, duration: 3600 })));
    bought.catch(() => undefined);
    return bought;
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

  it("estimates a purchase made while the wallet's first is in the pool at the latest block, as the wallet's next one; both are mined in one block", async () => {
    const { wallet, provider } = await buyer();
    await anvil.send("evm_setAutomine", [false]);
    try {
      const bought = buyAll(wallet);
      await bothInThePool(bought);
      expect(estimates(provider), "each at the latest block, none at pending").to.deep.equal(["latest", "latest"]);
      await anvil.mine();
      const results = await bought;
      expect(results.map((r) => r.receipt.status)).to.deep.equal([1, 1]);
      expect(results[0].receipt.blockNumber).to.equal(results[1].receipt.blockNumber);
      expect(await deployed.token.nonces(wallet.address)).to.equal(2n);
      for (const { receipt } of results) {
        const sent = await provider.getTransaction(receipt.hash);
        expect(sent!.gasLimit > receipt.gasUsed, "the estimate at the latest block holds the purchase run after the first").to.equal(true);
      }
    } finally {
      await anvil.send("evm_setAutomine", [true]);
      provider.destroy();
    }
  });

  it("estimates again at the nonce a block moved under the estimate", async () => {
    const { wallet, provider } = await buyer();
    const client = new MarketClient(deployed.addresses.market, deployed.addresses.token, wallet);
    // the wallet's token nonce moves between the purchase's reads and its estimate, as when the
    // wallet's earlier purchase is mined then: a permit of the wallet's own, spent by another client
    const other = new MarketClient(deployed.addresses.market, deployed.addresses.token, new Wallet(wallet.privateKey, anvil.provider));
    provider.beforeEstimate = async () => void (await other.buyWithPermit({ productId: products[1], duration: 3600 }));
    try {
      const { receipt } = await client.buyWithPermit({ productId: products[0], duration: 3600 });
      expect(receipt.status).to.equal(1);
      expect(estimates(provider), "refused at the nonce read, then made at the nonce now").to.deep.equal(["latest", "latest"]);
      expect(await deployed.token.nonces(wallet.address)).to.equal(2n);
    } finally {
      provider.destroy();
    }
  });

  it("refuses, before sending it, a purchase the wallet's DATA does not cover together with its purchases in flight", async () => {
    const cost = (await deployed.market.quote(products[0], 3600)) + (await deployed.market.quote(products[1], 3600)) / 2n;
    const { wallet, provider } = await buyer(cost);
    await anvil.send("evm_setAutomine", [false]);
    try {
      const client = new MarketClient(deployed.addresses.market, deployed.addresses.token, wallet);
      const first = client.buyWithPermit({ productId: products[0], duration: 3600 });
      first.catch(() => undefined);
      const error = await client.buyWithPermit({ productId: products[1], duration: 3600 }).then(
        () => expect.fail("both purchases were made with DATA for one and a half"),
        (e: { code?: string; details?: { inFlight?: bigint } }) => e,
      );
      expect(error.code).to.equal("TRANSACTION_FAILED");
      expect(error.details?.inFlight).to.equal(await deployed.market.quote(products[0], 3600));
      expect(
        provider.requests.filter((r) => r.method === "eth_sendRawTransaction"),
        "only the first was sent",
      ).to.have.length(1);
      await anvil.mine();
      expect((await first).receipt.status, "the first, which the DATA covers, is mined").to.equal(1);
      expect(await deployed.market.hasValidLicense(wallet.address, streams[0])).to.equal(true);
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
