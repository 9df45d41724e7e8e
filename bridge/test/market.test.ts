// End to end on the Hardhat network (in process, the repository's contracts): a grant committed on the
// in-process consent ledger becomes, through 2 of 3 bridges, an attestation the deployed
// DataLicenseMarket accepts in a buyWithPermit; a withdrawal on the ledger becomes a revocation the
// bridge relays, which suspends the license on chain.
import { expect } from "chai";
import hre from "hardhat";
import "@nomicfoundation/hardhat-ethers/internal/type-extensions"; // types of hre.ethers (the root config loads the plugin)
import { Contract, Signature, Wallet, id } from "ethers";
import type { ConsentBridge } from "../src/bridge";
import { collectAttestation } from "../src/collect";
import { memoryLogger } from "../src/log";
import { RevocationRelayer } from "../src/relayer";
import { BridgeStore } from "../src/store";
import { PRICE, deployMarket } from "./chain";
import { ATTESTOR_KEYS, ledgerFixture, startBridge, waitFor, type LedgerFixture } from "./fixtures";

const { ethers } = hre;
const DAY = 86_400n;
const UNIT = 10n ** 18n;
const LICENSE_ENDED = 3n;

describe("consent bridge on the market (Hardhat network)", () => {
  let chain: Awaited<ReturnType<typeof deployMarket>>;
  let f: LedgerFixture;
  let bridges: ConsentBridge[];
  let relayerWallet: Wallet;
  let grantId: string;

  before(async () => {
    chain = await deployMarket();
    f = await ledgerFixture({ buyerAddress: chain.buyer.address, productId: chain.productId, resourceId: chain.datasetId });
    const domain = { chainId: (await ethers.provider.getNetwork()).chainId, market: chain.marketAddress };
    relayerWallet = new Wallet(Wallet.createRandom().privateKey, ethers.provider);
    await ethers.provider.send("hardhat_setBalance", [relayerWallet.address, "0x" + (10n ** 18n).toString(16)]);
    bridges = [];
    for (const key of ATTESTOR_KEYS) {
      bridges.push((await startBridge(f.bridgeClient, key, { domain })).bridge);
    }
  });

  after(async () => {
    for (const bridge of bridges) await bridge.stop();
  });

  it("sells a license on an attestation signed by 2 of 3 bridges (the third one down), with permit + buy in one transaction", async () => {
    await bridges[2].stop();
    grantId = await f.requestGrant(7 * Number(DAY));
    const domain = { chainId: 31337n, market: chain.marketAddress };
    const urls = bridges.map((bridge) => bridge.url);
    await waitFor(() => bridges.slice(0, 2).every((bridge) => bridge.follower.processed >= 4), "the grant on two bridges");
    const attestors: string[] = await chain.market.getFunction("attestors")();
    const collected = await collectAttestation(grantId, { urls, threshold: Number(await chain.market.getFunction("attestorThreshold")()), domain, attestors });
    expect(collected.failures.map((failure) => failure.code)).to.deep.equal(["UNREACHABLE"]);
    expect(await chain.market.getFunction("consentAttestationDigest")(collected.value)).to.equal(
      ethers.TypedDataEncoder.hash(
        { name: "DataLicenseMarket", version: "1", chainId: 31337n, verifyingContract: chain.marketAddress },
        {
          ConsentAttestation: [
            { name: "grantId", type: "bytes32" },
            { name: "buyer", type: "address" },
            { name: "productId", type: "bytes32" },
            { name: "purpose", type: "bytes32" },
            { name: "expiresAt", type: "uint64" },
          ],
        },
        collected.value,
      ),
    );

    const duration = DAY;
    const cost = duration * PRICE;
    const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 3_600n;
    const permitSignature = Signature.from(
      await chain.buyer.signTypedData(
        { name: await chain.token.getFunction("name")(), version: "1", chainId: 31337n, verifyingContract: await chain.token.getAddress() },
        {
          Permit: [
            { name: "owner", type: "address" },
            { name: "spender", type: "address" },
            { name: "value", type: "uint256" },
            { name: "nonce", type: "uint256" },
            { name: "deadline", type: "uint256" },
          ],
        },
        {
          owner: chain.buyer.address,
          spender: chain.marketAddress,
          value: cost,
          nonce: await chain.token.getFunction("nonces")(chain.buyer.address),
          deadline,
        },
      ),
    );
    const order = { productId: chain.productId, duration, attestation: collected.value, signatures: collected.signatures, encryptionKey: "0x" };
    const tx = await chain.market.connect(chain.buyer).getFunction("buyWithPermit")(order, PRICE, {
      value: cost,
      deadline,
      v: permitSignature.v,
      r: permitSignature.r,
      s: permitSignature.s,
    });
    const receipt = await tx.wait();
    const purchased = receipt.logs
      .map((log: { topics: string[]; data: string }) => chain.market.interface.parseLog(log))
      .find((log: { name: string } | null) => log?.name === "LicensePurchased");
    expect(purchased.args.grantId).to.equal(grantId);
    expect(purchased.args.cost).to.equal(cost);
    expect(await chain.market.getFunction("hasValidLicense")(chain.buyer.address, chain.datasetId)).to.equal(true);
  });

  it("relays the revocation of a withdrawn consent with k signatures, suspending the license and the permission", async () => {
    const relaying = await startBridge(f.bridgeClient, ATTESTOR_KEYS[2], {
      domain: { chainId: 31337n, market: chain.marketAddress },
      relayer: { signer: relayerWallet, peers: [bridges[0].url, bridges[1].url], retryDelayMs: 200, maxAttempts: 5 },
    });
    bridges[2] = relaying.bridge;
    await waitFor(() => relaying.bridge.follower.processed >= 4, "the restarted bridge to catch up");
    // The withdrawal is stamped 3 s ahead of the chain's last block, and no block is mined while the
    // relayer works: a node that mines on demand (Hardhat, anvil, a quiet L2) only moves its clock in
    // the block it would mine next. The relayer must wait for that clock, not for a block that never
    // comes (the market refuses a revocation in its future: RevocationInFuture).
    const chainNow = (await ethers.provider.getBlock("latest"))!.timestamp;
    if (f.ledger.clock.nowSeconds() > chainNow + 3) await ethers.provider.send("evm_mine", [f.ledger.clock.nowSeconds() - 3]);
    const lastBlock = (await ethers.provider.getBlock("latest"))!;
    f.ledger.clock.advance(lastBlock.timestamp + 3 - f.ledger.clock.nowSeconds());
    await f.custodian.withdrawConsent(f.consentId);
    await waitFor(() => relaying.bridge.relayer!.pending === 0 && relaying.log.records.some((r) => r.msg === "revocation relayed"), "the relay", 20_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}; bridge log: ${JSON.stringify(relaying.log.records.filter((r) => (r.level as number) > 20))}`);
      },
    );

    const relayed = relaying.log.records.find((r) => r.msg === "revocation relayed")!;
    expect(relayed).to.include({ grantId, licenseSuspended: true });
    const signed = relaying.log.records.find((r) => r.msg === "signed revocation" && r.grantId === grantId)!;
    expect(signed.revokedAt as number, "the revocation was stamped after the chain's last block").to.be.greaterThan(lastBlock.timestamp);
    expect(relayed.blockNumber, "the revocation's own transaction is the next block").to.equal(lastBlock.number + 1);
    const license = await chain.market.getFunction("getLicense")(chain.productId, chain.buyer.address);
    expect(license.status).to.equal(LICENSE_ENDED);
    expect(await chain.market.getFunction("hasValidLicense")(chain.buyer.address, chain.datasetId)).to.equal(false);
    expect(await chain.registry.getFunction("canSubscribe")(chain.datasetId, chain.buyer.address)).to.equal(false);
    const refund: bigint = await chain.market.getFunction("claimableOf")(chain.buyer.address);
    expect(refund > 0n, "the unearned escrow is refundable to the buyer").to.equal(true);

    // idempotent: another relayer finds the grant revoked on chain and sends nothing
    const late = new Wallet(Wallet.createRandom().privateKey, ethers.provider);
    const store = BridgeStore.inMemory();
    const second = new RevocationRelayer({
      signer: late,
      domain: { chainId: 31337n, market: chain.marketAddress },
      bridgeUrls: bridges.map((b) => b.url),
      store,
      log: relaying.log,
    });
    second.enqueue(grantId);
    await second.idle();
    expect(store.relays.get(grantId)).to.deep.equal({ kind: "relay", grantId, status: "relayed", transactionHash: relayed.transactionHash });
    expect(await ethers.provider.getTransactionCount(late.address)).to.equal(0);
  });

  it("gives up after maxAttempts when fewer than k bridges can sign, records the failure, and tries again on resume", async () => {
    const unknownGrant = "0x" + "5a".repeat(32);
    const store = BridgeStore.inMemory();
    store.append({
      kind: "revocation",
      revocation: { grantId: unknownGrant, revokedAt: 1 },
      cause: "ConsentWithdrawn",
      signature: "0x" + "00".repeat(65),
      blockNumber: "9",
      transactionId: "tx",
    });
    const log = memoryLogger();
    const options = {
      signer: new Wallet(Wallet.createRandom().privateKey, ethers.provider),
      domain: { chainId: 31337n, market: chain.marketAddress },
      bridgeUrls: [bridges[0].url],
      store,
      log,
      maxAttempts: 2,
      retryDelayMs: 10,
    };
    const relayer = new RevocationRelayer(options);
    relayer.resume();
    await relayer.idle();
    expect(store.relays.get(unknownGrant)).to.include({ status: "failed" });
    expect(store.relays.get(unknownGrant)!.detail).to.match(/^INSUFFICIENT_SIGNATURES: 0 of the 2 required attestor signatures/);
    expect(log.records.filter((r) => r.msg === "revocation relay failed; retrying")).to.have.length(1);
    expect(log.records.filter((r) => r.msg === "gave up relaying a revocation")).to.have.length(1);

    const again = new RevocationRelayer(options);
    again.resume();
    expect(again.pending).to.equal(1);
    await again.idle();
    expect(log.records.filter((r) => r.msg === "gave up relaying a revocation")).to.have.length(2);
  });
});
