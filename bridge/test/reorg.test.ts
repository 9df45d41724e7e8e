// The relayer on anvil (a separate node with real block hashes and reorgs): a revocation counts as
// relayed only once its transaction is `confirmations` deep; one a reorg removes before is relayed
// again, once, with the same nonce, and a restart waits for the transaction it sent instead of sending
// another. The anvil helper is the broker's (broker/test/anvil.ts), imported, not copied.
import { expect } from "chai";
import { HDNodeWallet, Mnemonic, Wallet, type Signer } from "ethers";
import { startAnvil, type Anvil } from "../../broker/test/anvil";
import type { ConsentBridge } from "../src/bridge";
import { collectAttestation, collectRevocation } from "../src/collect";
import { memoryLogger } from "../src/log";
import { RevocationRelayer } from "../src/relayer";
import { BridgeStore } from "../src/store";
import { deployMarket } from "./chain";
import { ATTESTOR_KEYS, ledgerFixture, startBridge, waitFor } from "./fixtures";

/** Anvil's (and Hardhat's) default accounts. */
const MNEMONIC = Mnemonic.fromPhrase("test test test test test test test test test test test junk");

describe("revocation relayer on anvil: confirmations and reorgs", function () {
  // Generous: anvil is a separate process on a shared 2-core machine.
  this.timeout(180_000);
  let anvil: Anvil;
  let chain: Awaited<ReturnType<typeof deployMarket>>;
  const stops: (() => Promise<void> | void)[] = [];

  before(async () => {
    anvil = await startAnvil();
    const [admin, seller, buyer] = [0, 1, 2].map((i) => HDNodeWallet.fromMnemonic(MNEMONIC, `m/44'/60'/0'/0/${i}`).connect(anvil.provider));
    chain = await deployMarket([admin, seller, buyer]);
  });
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });
  after(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await anvil?.stop();
  });

  const mine = (n = 1) => anvil.mine(n);
  const snapshot = () => anvil.snapshot();

  /** A grant withdrawn on a fresh ledger, signed by 3 bridges; a funded relayer wallet of its own. */
  async function withdrawnGrant() {
    const f = await ledgerFixture({ buyerAddress: chain.buyer.address, productId: chain.productId, resourceId: chain.datasetId });
    const bridges: ConsentBridge[] = [];
    stops.push(async () => {
      for (const bridge of bridges) await bridge.stop();
    });
    for (const key of ATTESTOR_KEYS)
      bridges.push((await startBridge(f.bridgeClient, key, { domain: { chainId: 31337n, market: chain.marketAddress } })).bridge);
    const grantId = await f.requestGrant();
    await f.custodian.withdrawConsent(f.consentId);
    for (const bridge of bridges) {
      await waitFor(async () => (await fetch(`${bridge.url}/v1/revocations/${grantId}`)).status === 200, "the revocation signed by each bridge");
    }
    // A block after the withdrawal's time (the ledger's clock): the market refuses a revocation later
    // than the chain's time, and anvil's clock lags the wall clock after an evm_revert.
    await anvil.send("evm_mine", [f.ledger.clock.nowSeconds() + 2]);
    const wallet = Wallet.createRandom().connect(anvil.provider);
    await (await anvil.admin.sendTransaction({ to: wallet.address, value: 10n ** 18n })).wait();
    return { grantId, urls: bridges.map((bridge) => bridge.url), wallet };
  }

  function relayerOf(wallet: Signer, urls: string[], store: BridgeStore, log = memoryLogger()) {
    const relayer = new RevocationRelayer({
      signer: wallet,
      domain: { chainId: 31337n, market: chain.marketAddress },
      bridgeUrls: urls,
      store,
      log,
      retryDelayMs: 50,
      confirmations: 2,
      confirmationPollMs: 50,
    });
    stops.push(() => relayer.stop());
    return { relayer, log };
  }

  const sent = (log: ReturnType<typeof memoryLogger>) => log.records.filter((r) => r.msg === "sent revokeConsent");
  const revokedLogs = (grantId: string) => chain.market.queryFilter(chain.market.filters.ConsentRevoked(grantId), 0, "latest");

  /** Mines a block at a time until `condition` holds (the relayer polls every 50 ms). */
  async function mineUntil(condition: () => boolean, what: string): Promise<void> {
    await waitFor(
      async () => {
        if (condition()) return true;
        await mine(1);
        return false;
      },
      what,
      30_000,
    );
  }

  for (const how of ["evm_revert", "anvil_reorg"] as const) {
    it(`at depth 2, counts a revocation relayed only 2 blocks deep, and relays once more one that ${how} removed before`, async () => {
      const { grantId, urls, wallet } = await withdrawnGrant();
      const store = BridgeStore.inMemory();
      const { relayer, log } = relayerOf(wallet, urls, store);
      const snapId = await snapshot();
      relayer.enqueue(grantId);
      await waitFor(() => sent(log).length === 1, "the first revokeConsent");
      const first = sent(log)[0];
      const receipt = (await anvil.provider.waitForTransaction(first.transactionHash as string))!;
      await mine(1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(store.relays.get(grantId), "1 block deep: sent, not relayed").to.include({ status: "sent", transactionHash: first.transactionHash, nonce: 0 });

      // The block holding the revocation (and the one on top) is reorganised away, before depth 2.
      if (how === "evm_revert") {
        await anvil.revert(snapId);
      } else {
        const head = await anvil.provider.getBlockNumber();
        await anvil.send("anvil_reorg", [head - receipt.blockNumber + 1, []]);
      }
      expect(await anvil.provider.getTransactionReceipt(first.transactionHash as string), "the transaction is gone").to.equal(null);
      await mineUntil(() => store.relays.get(grantId)?.status === "relayed", "the relay after the reorg");
      await relayer.idle();

      const relayed = store.relays.get(grantId)!;
      const onChain = await revokedLogs(grantId);
      expect(onChain, "one ConsentRevoked on the canonical chain: not lost").to.have.length(1);
      expect(relayed.transactionHash).to.equal(onChain[0].transactionHash);
      expect(sent(log), "sent once more after the reorg, and only once").to.have.length(2);
      expect(sent(log)[1].nonce, "with the removed transaction's nonce").to.equal(0);
      expect(log.records.filter((r) => r.msg === "a reorg removed the revocation's transaction before it was confirmed; relaying again")).to.have.length(1);
      expect(await anvil.provider.getTransactionCount(wallet.address), "one transaction of the relayer on chain").to.equal(1);
      const done = log.records.find((r) => r.msg === "revocation relayed")!;
      expect(done).to.include({ transactionHash: relayed.transactionHash, confirmations: 2 });
      expect(done.blockNumber).to.equal(onChain[0].blockNumber);

      // Nothing more is sent, however many blocks come.
      await mine(3);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(sent(log)).to.have.length(2);
      expect(await revokedLogs(grantId)).to.have.length(1);
      // Why the relayer's nonce matters: the market itself would take a second revokeConsent of the grant.
      const options = { urls, threshold: 2, domain: { chainId: 31337n, market: chain.marketAddress } };
      const [revocation, attestation] = [await collectRevocation(grantId, options), await collectAttestation(grantId, options)];
      await chain.market.getFunction("revokeConsent").staticCall(revocation.value, revocation.signatures, attestation.value, attestation.signatures);
    });
  }

  it("a restart while a revocation waits for its confirmations waits for the transaction it sent, and sends no other", async () => {
    const { grantId, urls, wallet } = await withdrawnGrant();
    const store = BridgeStore.inMemory();
    const first = relayerOf(wallet, urls, store);
    // what the bridge's follower stored: resume() takes up the revocations not relayed
    store.append({
      kind: "revocation",
      revocation: { grantId, revokedAt: 0 },
      cause: "ConsentWithdrawn",
      signature: "0x",
      blockNumber: "0",
      transactionId: "tx",
    });
    // The transaction stays in the node's pool (no block) while the relayer restarts.
    await anvil.send("evm_setAutomine", [false]);
    stops.push(() => anvil.send("evm_setAutomine", [true]));
    first.relayer.resume();
    await waitFor(() => sent(first.log).length === 1, "the revokeConsent").catch((error: Error) => {
      throw new Error(`${error.message}; relayer log: ${JSON.stringify(first.log.records)}`);
    });
    await first.relayer.stop();
    await first.relayer.idle();
    expect(store.relays.get(grantId)).to.include({ status: "sent" });
    expect(await anvil.provider.getTransactionReceipt(sent(first.log)[0].transactionHash as string), "not mined yet").to.equal(null);

    // A second relayer on the same state (a restart): no ConsentRevoked on chain yet, but the node
    // holds the transaction sent before: the relayer waits for it.
    const second = relayerOf(wallet, urls, store);
    second.relayer.resume();
    expect(second.relayer.pending).to.equal(1);
    await waitFor(() => second.log.records.some((r) => r.msg === "waiting for the revokeConsent sent before"), "the restarted relayer");
    await mineUntil(() => store.relays.get(grantId)?.status === "relayed", "the relay after the restart");
    await second.relayer.idle();
    expect(sent(second.log), "nothing sent after the restart").to.have.length(0);
    expect(store.relays.get(grantId)!.transactionHash).to.equal(sent(first.log)[0].transactionHash);
    expect(await anvil.provider.getTransactionCount(wallet.address)).to.equal(1);
    expect(await revokedLogs(grantId)).to.have.length(1);
  });
});
