// The KRAKEN health pilot, end to end (issue 8, steps 1-6), on a running local JSON-RPC node:
// deploys the protocol with the Ignition modules, starts the in-process consent ledger, three consent
// bridges (2 of 3 attestors) and three brokers, and plays the story, checking each step.
import { JsonRpcProvider, id, keccak256, toUtf8Bytes } from "ethers";
import {
  DataClient,
  MarketClient,
  StreamRegistryClient,
  createRelease,
  encryptDataset,
  generateKeyPair,
  openRelease,
  type ReceivedMessage,
  type SdkError,
} from "@datamarket/sdk";
import { runAnalyticsStep } from "./analytics";
import { Narrator } from "./narrator";
import { DAY, fmt, hardhatAccounts, sleep, startNetwork, waitFor } from "./network";
import { INetworkCoordinator__factory } from "../../typechain-types";
import type { Cleanup } from "./node";

const PRICE_PER_SECOND = 10n ** 14n; // 0.0001 DATA/s = 8.64 DATA a day
const LICENSE_SECONDS = 7 * DAY;
const PATIENTS = 45;
const HEART_RATE_EVENTS = 12;
const LICENSE_ENDED = 3n;
const ROUND_AGREED = 1n;

export async function runKraken(rpcUrl: string, cleanup: Cleanup): Promise<Narrator> {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { pollingInterval: 50, cacheTimeout: -1 });
  cleanup.push(() => provider.destroy());
  const say = new Narrator(provider, 9);
  const chainId = (await provider.getNetwork()).chainId;

  const { party } = hardhatAccounts(provider);
  const deployer = party("deployer (governance)", 0);
  const hospital = party("University Hospital (custodian)", 1);
  const university = party("university research group", 2);
  const pharma = party("pharma R&D lab", 3);
  const marketer = party("marketing company", 4);
  const operators = [party("broker A", 10), party("broker B", 11), party("broker C", 12)];
  const relayer = party("bridge relayer", 13);

  // ------------------------------------------------------------------------------------------------
  const setup = await say.step("setup", "deploy with Ignition, start ledger, 3 bridges, 3 brokers", async () => {
    const network = await startNetwork({
      say,
      provider,
      rpcUrl,
      cleanup,
      deployer,
      relayer,
      name: "kraken",
      brokerOperators: operators,
      custodianMspIds: ["HospitalMSP"],
      otherMspIds: ["UniversityMSP", "PharmaMSP", "AdsMSP"],
      mint: [...[university, pharma, marketer].map((p) => ({ party: p, tokens: 1_000n })), ...operators.map((o) => ({ party: o, tokens: 2_000n }))],
    });
    const { ledger } = network;
    const custodian = ledger.client(await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" }));
    const buyerIdentity = async (msp: string, name: string, buyerType: string, jurisdiction: string, address: string) =>
      ledger.client(
        await ledger.enroll(msp, name, {
          "consent.role": "buyer",
          "consent.buyerType": buyerType,
          "consent.jurisdiction": jurisdiction,
          "consent.ethAddress": address,
        }),
      );
    const ledgers = {
      university: await buyerIdentity("UniversityMSP", "cardio-lab", "PublicResearch", "NL", university.address),
      pharma: await buyerIdentity("PharmaMSP", "rnd", "PrivateCompany", "DE", pharma.address),
      marketer: await buyerIdentity("AdsMSP", "campaigns", "PrivateCompany", "NL", marketer.address),
    };
    return { ...network, custodian, ledgers };
  });
  const { a, token, market, registry, coordinator, adapter, ledger, custodian, ledgers, bridgeUrls, bridgeLogs, bridgeStores, brokers, genesis, epochLength } =
    setup;

  // ------------------------------------------------------------------------------------------------
  const hospitalRegistry = new StreamRegistryClient(a.StreamRegistry, hospital.signer);
  const hospitalMarket = new MarketClient(a.DataLicenseMarket, a.DATAToken, hospital.signer);
  const productSalt = id("kraken/cardiology-research/v1");
  const productId = (await market.productIdOf(hospital.address, productSalt)).toLowerCase() as string;
  const subjects = Array.from({ length: PATIENTS }, (_, i) => `kraken-p-${String(i + 1).padStart(3, "0")}`);
  // i % 3: 1 -> scientific + commercial research, 2 -> scientific research only, 0 -> no consent
  const group = (i: number) => ((i + 1) % 3 === 1 ? "both" : (i + 1) % 3 === 2 ? "scientific" : "none");
  const scientificSubjects = subjects.filter((_, i) => group(i) !== "none");
  const commercialSubjects = subjects.filter((_, i) => group(i) === "both");
  const streamPatient = subjects[0]; // consents to both
  const withdrawingPatient = subjects[1]; // scientific research only
  const consentIds = new Map<string, string>();

  const one = await say.step("1", "hospital registers a heart-rate stream and a lab-results dataset; patients consent on Fabric", async () => {
    const { streamId } = await hospitalRegistry.createStream(`/kraken/heart-rate/${streamPatient}`, 1);
    const records = subjects.flatMap((subjectId, i) =>
      ["HbA1c", "LDL", "CRP"].map((test, j) => ({
        subjectId,
        data: toUtf8Bytes(JSON.stringify({ subjectId, test, value: 4 + ((i * 7 + j * 3) % 50) / 10, takenAt: "2026-11-0" + (1 + j) })),
      })),
    );
    const datasetPath = "/kraken/lab-results/2026-11";
    const datasetId = StreamRegistryClient.resourceId(hospital.address, datasetPath);
    const dataset = encryptDataset(datasetId, records);
    await hospitalRegistry.createDataset(datasetPath, dataset.contentHash, "https://hospital.example/kraken/lab-results-2026-11.dmds");
    say.say(
      `stream ${hospital.address}/kraken/heart-rate/${streamPatient} and dataset of ${records.length} lab results of ${PATIENTS} pseudonymous patients (${dataset.file.length} bytes, encrypted per patient)`,
    );
    say.expect(
      (await registry.datasetContentHash(datasetId)).toLowerCase() === dataset.contentHash.toLowerCase(),
      "the registry holds the dataset's content hash",
    );
    // every broker learns the stream from the registry's ResourceCreated event (RegistryStreamFeeder)
    await waitFor(() => brokers.every((b) => b.index.get(streamId) !== undefined), "the three brokers' stream index to hold the stream").catch(() => undefined);
    const indexed = brokers.map((b) => b.index.get(streamId));
    say.expect(
      indexed.every((info) => info?.creator.toLowerCase() === hospital.address && info.partitions === 1),
      "the three brokers indexed the stream from the registry's event (creator, 1 partition)",
      JSON.stringify(indexed),
    );

    const started = performance.now();
    await custodian.registerResource(datasetId, "dataset", [productId]);
    for (const [i, subjectId] of subjects.entries()) {
      const kind = group(i);
      if (kind === "none") continue;
      const consent = await custodian.giveConsent({
        subjectId,
        controller: "University Hospital",
        resources: subjectId === streamPatient ? [datasetId, streamId] : [datasetId],
        purposes: kind === "both" ? ["CommercialResearch", "ScientificResearch"] : ["ScientificResearch"],
        dataCategories: ["PhysicalHealth"],
        buyerTypes: kind === "both" ? ["PrivateCompany", "PublicResearch"] : ["PublicResearch"],
        jurisdictions: ["EU"],
        legalBasis: "A9-2-a",
        validUntil: ledger.clock.nowSeconds() + 365 * DAY,
        noticeHash: keccak256(toUtf8Bytes("KRAKEN notice v1")),
      });
      consentIds.set(subjectId, consent.consentId);
    }
    await custodian.addResourceSubjects(datasetId, subjects);
    say.say(
      `Fabric: ${consentIds.size} consents recorded in ${((performance.now() - started) / 1000).toFixed(2)} s — ${commercialSubjects.length} scientific + commercial research, ${scientificSubjects.length - commercialSubjects.length} scientific research only, ${PATIENTS - scientificSubjects.length} none`,
    );
    say.expect(consentIds.size === scientificSubjects.length, `${scientificSubjects.length} consents on the ledger`, `${consentIds.size}`);
    return { streamId: streamId.toLowerCase(), datasetId: datasetId.toLowerCase(), dataset, records };
  });
  const { streamId, datasetId, dataset, records } = one;

  // ------------------------------------------------------------------------------------------------
  await say.step("2", "hospital lists a consent-gated product (stream + dataset)", async () => {
    await hospitalRegistry.setSubscribeDelegate(streamId, a.DataLicenseMarket);
    await hospitalRegistry.setSubscribeDelegate(datasetId, a.DataLicenseMarket);
    const listed = await hospitalMarket.listProduct(productSalt, {
      beneficiary: hospital.address,
      pricePerSecond: PRICE_PER_SECOND,
      minSeconds: 3_600,
      maxSeconds: 365 * DAY,
      requiresConsent: true,
      requiresKyc: false,
      termsHash: keccak256(toUtf8Bytes("KRAKEN data use terms v1")),
      termsUri: "https://hospital.example/kraken/terms",
      resources: [streamId, datasetId],
    });
    say.expect(listed.productId.toLowerCase() === productId, "the product id is productIdOf(hospital, salt), as registered on Fabric");
    // The purposes it is sold for (the market refuses an attestation for any other).
    await (await hospitalMarket.market.setPurposes(productId, [id("ScientificResearch"), id("CommercialResearch")], true)).wait();
    const product = await market.getProduct(productId);
    say.expect(product.requiresConsent === true, "the product requires a consent attestation");
    say.say(`product ${productId}: ${fmt(PRICE_PER_SECOND * 86_400n)} a day, resources [stream, dataset]`);
  });

  // Clients of the live stream reach the brokers through the coordinator (the SDK's default): the
  // hospital publishes to one of the three assigned brokers, which replicates to the other two.
  const np = Number(await coordinator.networkPartitionOf(streamId, 0));
  const assignees: string[] = (await coordinator.assigneesOf(np)).map((x: string) => x.toLowerCase());
  const brokerOf = (address: string) => brokers.find((b) => b.operator.address === address)!;
  const hospitalEncryption = generateKeyPair();
  const coordinatorView = INetworkCoordinator__factory.connect(a.NetworkCoordinator, provider);
  const publisher = new DataClient({
    signer: hospital.wallet,
    access: new StreamRegistryClient(a.StreamRegistry, provider),
    encryptionPrivateKey: hospitalEncryption.privateKey,
    coordinator: coordinatorView,
    publishTimeoutMs: 15_000,
  });
  cleanup.push(() => publisher.close());
  const publishBeats = async (n: number, from: number) => {
    for (let i = 0; i < n; i++) await publisher.publish(streamId, { patient: streamPatient, bpm: 60 + (((from + i) * 7) % 40), seq: from + i });
  };

  // ------------------------------------------------------------------------------------------------
  const universityEncryption = generateKeyPair();
  const received: ReceivedMessage[] = [];
  const notices: SdkError[] = [];
  let universityClient!: DataClient;
  const universityBuy = await say.step("3", "university: approved for ScientificResearch, buys with permit, streams and downloads", async () => {
    // each broker's CoordinatorAssignment routes the stream as the contract does and serves its partition
    await waitFor(
      () => assignees.every((x) => brokerOf(x).assignment.serves(np)),
      `the assigned brokers to follow the assignment of network partition ${np}`,
    ).catch(() => undefined);
    say.expect(
      assignees.length === 3 && brokers.every((b) => b.assignment.networkPartitionOf(streamId, 0) === np && b.assignment.serves(np)),
      `the three brokers route the stream to network partition ${np} as the coordinator does, and serve it`,
      assignees.join(", "),
    );
    const decision = await ledgers.university.requestAccess({ productId, purpose: "ScientificResearch", ethAddress: university.address, ttlSeconds: 30 * DAY });
    say.expect(
      decision.decision === "approved" && decision.grant !== null,
      "Fabric approves the university's ScientificResearch request and writes a grant",
      decision.reasons.join(", "),
    );
    say.expect(
      decision.approvedSubjects.length === scientificSubjects.length,
      `${scientificSubjects.length} of ${PATIENTS} patients released (scientific research consents)`,
      `${decision.approvedSubjects.length}`,
    );
    say.say(`left out by reason: ${JSON.stringify(decision.deniedByReason)}`);
    const grantId = decision.grant!.grantId;
    await waitFor(() => bridgeStores.every((store) => store.attestations.has(grantId)), "all three bridges to sign the grant");
    say.say(`grant ${grantId.slice(0, 18)}… signed by 3 bridges; buying with 2 of them`);

    const buyer = new MarketClient(a.DataLicenseMarket, a.DATAToken, university.signer, bridgeUrls);
    const balanceBefore: bigint = await token.balanceOf(university.address);
    const { cost, receipt } = await buyer.buyWithPermit({ productId, duration: LICENSE_SECONDS, grantId, encryptionKey: universityEncryption.publicKey });
    say.expect(receipt.status === 1, "permit + attested purchase + key registration in one transaction", `gas ${receipt.gasUsed}`);
    say.expect(
      cost === PRICE_PER_SECOND * BigInt(LICENSE_SECONDS) && (await token.balanceOf(university.address)) === balanceBefore - cost,
      `the university paid ${fmt(cost)} into escrow`,
    );
    say.expect(
      (await market.hasValidLicense(university.address, streamId)) && (await registry.canSubscribe(streamId, university.address)),
      "license valid, registry grants subscribe until the license ends",
    );
    // The broker's dual gateway: the registry's permission is the market's shadow of the licence, so
    // each broker answers by the licence (market) and, the product being consent-gated, by the grant
    // the licence runs under (consent ledger).
    const admitted = async (b: (typeof brokers)[number]) => {
      const licence = await b.gate.licenceOf(streamId, university.address);
      return (
        licence !== null && licence.productId.toLowerCase() === productId && licence.consentGated && (await b.gate.consentValid(productId, university.address))
      );
    };
    await waitFor(async () => (await Promise.all(brokers.map(admitted))).every(Boolean), "the three brokers' gates to see the licence and the grant").catch(
      () => undefined,
    );
    const admissions = await Promise.all(brokers.map(admitted));
    say.expect(
      admissions.every(Boolean),
      "each broker's ContractAccessGate finds the consent-gated licence on the market and the valid grant on the consent ledger",
      JSON.stringify(admissions),
    );

    universityClient = new DataClient({
      signer: university.wallet,
      access: new StreamRegistryClient(a.StreamRegistry, provider),
      encryptionPrivateKey: universityEncryption.privateKey,
      coordinator: coordinatorView,
    });
    cleanup.push(async () => {
      await universityClient.close();
    });
    await universityClient.subscribe(
      streamId,
      (m) => {
        received.push(m);
      },
      {
        onError: (e) => {
          notices.push(e);
        },
      },
    );
    await publisher.shareGroupKey(streamId, [university.address]);
    const t0 = performance.now();
    await publishBeats(HEART_RATE_EVENTS, 0);
    await waitFor(() => received.length >= HEART_RATE_EVENTS, `${HEART_RATE_EVENTS} live events at the university`);
    say.say(
      `${HEART_RATE_EVENTS} heart-rate events published (through one broker, replicated to the ${assignees.length - 1} others) and received in ${(performance.now() - t0).toFixed(0)} ms`,
    );
    const held = () => assignees.map((x) => brokerOf(x).running.node.store.count(streamId, 0));
    await waitFor(() => held().every((c) => c === held()[0]), "the three brokers to hold the same events").catch(() => undefined);
    say.expect(
      held().every((c) => c >= HEART_RATE_EVENTS && c === held()[0]),
      "each of the three brokers holds every event (broker-to-broker replication)",
      JSON.stringify(held()),
    );
    say.expect(
      received.every((m) => m.encrypted && m.publisher === hospital.address),
      "every event arrived encrypted, signed by the hospital",
    );
    say.expect(
      received.every((m, i) => (m.parsed() as { seq: number }).seq === i),
      "the university decrypted every event, in order",
      JSON.stringify(received.map((m) => m.parsed())).slice(0, 120),
    );

    // the hospital's download service: per-subject release of the consenting patients only
    const registered = await hospitalRegistry.encryptionKeyOf(university.address);
    const release = createRelease(dataset, decision, { address: university.address, publicKey: registered! });
    const opened = openRelease(release, await hospitalRegistry.datasetContentHash(datasetId), universityEncryption.privateKey);
    const got = opened.subjects.map((s) => s.subjectId).sort();
    say.expect(
      JSON.stringify(got) === JSON.stringify([...scientificSubjects].sort()),
      `the download decrypts exactly the ${scientificSubjects.length} consenting patients' records`,
      `${got.length} subjects`,
    );
    say.expect(
      opened.leftOut.total === PATIENTS - scientificSubjects.length,
      `${PATIENTS - scientificSubjects.length} patients left out`,
      JSON.stringify(opened.leftOut),
    );
    return { grantId, cost };
  });

  // ------------------------------------------------------------------------------------------------
  const pharmaEncryption = generateKeyPair();
  await say.step("3b", "pharma lab: approved for CommercialResearch on fewer patients, buys", async () => {
    const decision = await ledgers.pharma.requestAccess({ productId, purpose: "CommercialResearch", ethAddress: pharma.address, ttlSeconds: 30 * DAY });
    say.expect(
      decision.decision === "approved" && decision.approvedSubjects.length === commercialSubjects.length,
      `Fabric releases only the ${commercialSubjects.length} patients who consented to commercial research`,
      `${decision.decision} ${decision.approvedSubjects.length}`,
    );
    const grantId = decision.grant!.grantId;
    await waitFor(() => bridgeStores.filter((store) => store.attestations.has(grantId)).length >= 2, "two bridges to sign the grant");
    const buyer = new MarketClient(a.DataLicenseMarket, a.DATAToken, pharma.signer, bridgeUrls);
    const { receipt } = await buyer.buyWithPermit({ productId, duration: LICENSE_SECONDS, grantId, encryptionKey: pharmaEncryption.publicKey });
    say.expect(receipt.status === 1 && (await market.hasValidLicense(pharma.address, streamId)), "pharma holds a license (one transaction)");
    await publisher.shareGroupKey(streamId, [pharma.address]);
    const release = createRelease(dataset, decision, { address: pharma.address, publicKey: (await hospitalRegistry.encryptionKeyOf(pharma.address))! });
    const opened = openRelease(release, await hospitalRegistry.datasetContentHash(datasetId), pharmaEncryption.privateKey);
    say.expect(
      opened.subjects.length === commercialSubjects.length,
      `pharma's download holds ${commercialSubjects.length} patients`,
      `${opened.subjects.length}`,
    );
  });

  // ------------------------------------------------------------------------------------------------
  await say.step("4", "marketing company asks for Marketing: denied on Fabric, cannot buy", async () => {
    const decision = await ledgers.marketer.requestAccess({ productId, purpose: "Marketing", ethAddress: marketer.address, ttlSeconds: 30 * DAY });
    say.say(`Fabric decision: ${decision.decision}, reasons ${decision.reasons.join(", ")}; ${JSON.stringify(decision.deniedByReason)}`);
    say.expect(decision.decision === "denied" && decision.grant === null, "Fabric denies the request and writes no grant");
    say.expect(decision.reasons.includes("PURPOSE_NOT_COVERED"), "the reason names the purpose not covered by any consent", decision.reasons.join(", "));
    const wouldBeGrant = "0x" + Buffer.from(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(decision.txId))).toString("hex");
    const buyer = new MarketClient(a.DataLicenseMarket, a.DATAToken, marketer.signer, bridgeUrls);
    let refusal: { code?: string; details?: { failures?: unknown[] } } | undefined;
    try {
      await buyer.buyWithPermit({ productId, duration: LICENSE_SECONDS, grantId: wouldBeGrant });
    } catch (error) {
      refusal = error as typeof refusal;
    }
    say.expect(
      refusal?.code === "NOT_LICENSED",
      "the SDK refuses to buy: no bridge attests a denied request (NOT_LICENSED)",
      refusal ? JSON.stringify(refusal.details?.failures) : "it bought",
    );
    // and the contract refuses an unattested purchase by itself
    let reverted = "";
    try {
      await market
        .connect(marketer.signer)
        .getFunction("buy")
        .staticCall(
          {
            productId,
            duration: LICENSE_SECONDS,
            attestation: {
              grantId: wouldBeGrant,
              buyer: marketer.address,
              productId,
              purpose: id("Marketing"),
              expiresAt: BigInt((await provider.getBlock("latest"))!.timestamp + DAY),
            },
            signatures: "0x",
            encryptionKey: "0x",
          },
          PRICE_PER_SECOND,
        );
    } catch (error) {
      const data = (error as { data?: string }).data;
      const parsed = data ? market.interface.parseError(data) : null;
      reverted = parsed ? `${parsed.name}(${parsed.args.join(", ")})` : String((error as Error).message).slice(0, 80);
    }
    say.expect(
      reverted.startsWith("PurposeNotAllowed"),
      "the market itself reverts the purchase: the product is not sold for Marketing",
      reverted || "it did not revert",
    );
    say.say(`market revert: ${reverted}`);
    say.expect(!(await market.hasValidLicense(marketer.address, streamId)), "the marketing company holds no license");
  });

  // ------------------------------------------------------------------------------------------------
  await say.step("5", "a patient withdraws: revocation relayed, license suspended, refund, rekey, live feed stops", async () => {
    // Ten minutes of licensed use pass: both the ledger's clock and the chain's move forward (the chain
    // with evm_mine at a timestamp), and they agree, as two real networks' clocks do within seconds.
    const chainNow = (await provider.getBlock("latest"))!.timestamp;
    const target = Math.max(chainNow, ledger.clock.nowSeconds()) + 600;
    ledger.clock.advance(target - ledger.clock.nowSeconds());
    await provider.send("evm_mine", [target]);
    say.say("10 minutes of use pass (ledger clock advanced, chain clock moved with evm_mine)");
    const licenseBefore = await market.getLicense(productId, university.address);
    const withdrawnAt = performance.now();
    await custodian.withdrawConsent(consentIds.get(withdrawingPatient)!);
    say.say(`${withdrawingPatient} withdrew consent on Fabric: the chaincode invalidates the university's grant (GrantsInvalidated)`);

    // The broker's gate follows the ledger itself: the cut needs no chain transaction.
    const cutNotice = () => notices.find((n) => (n.details as { brokerCode?: string } | undefined)?.brokerCode === "ACCESS_REVOKED");
    await waitFor(() => cutNotice() !== undefined, "the broker to cut the university's live subscription", 10_000).catch(() => undefined);
    const cutMs = performance.now() - withdrawnAt;
    const statusAtCut: bigint = (await market.getLicense(productId, university.address)).status;
    const relayedAtCut = bridgeLogs[0].records.some((r) => r.msg === "revocation relayed" && r.grantId === universityBuy.grantId);
    say.expect(
      cutNotice() !== undefined,
      "the broker cut the university's subscription (ACCESS_REVOKED notice)",
      `notices: ${notices.map((n) => n.code).join(", ") || "none"}`,
    );
    // the SDK error carries the broker's `revoked` notice; its details name the gate's refusal
    const cutDetails = (cutNotice()!.details as { notice?: { details?: { cause?: string; reason?: string; productId?: string } } }).notice?.details ?? {};
    // Two independent paths close access: the gate's consent follower (ledger event, no transaction)
    // and the relayed revocation on chain. Which one the broker sees first is a race; when the licence
    // still stood on the market after the cut, the cut can only have come from the ledger.
    const consentCut = cutDetails.cause === "SUBSCRIBE_NOT_ALLOWED" && cutDetails.reason === "no-consent" && cutDetails.productId?.toLowerCase() === productId;
    if (statusAtCut === 1n) {
      say.expect(
        consentCut,
        "the cut came from the consent ledger's GrantsInvalidated event: the licence still stood on the market, its grant did not",
        JSON.stringify(cutDetails),
      );
    } else {
      say.expect(
        cutDetails.cause === "SUBSCRIBE_NOT_ALLOWED",
        `the gate refused the subscription (${cutDetails.reason}; the chain revocation landed first)`,
        JSON.stringify(cutDetails),
      );
    }
    say.say(
      `cut ${cutMs.toFixed(0)} ms after the withdrawal; the license on chain was then ${statusAtCut === 1n ? "still active" : `status ${statusAtCut}`} and the revocation ${relayedAtCut ? "already" : "not yet"} relayed`,
    );
    say.say("waiting for the bridges (2 of 3) and the relayer to end the license on chain");
    try {
      await waitFor(
        () => bridgeLogs[0].records.some((r) => r.msg === "revocation relayed" && r.grantId === universityBuy.grantId),
        "the bridge to relay the revocation",
        30_000,
      );
    } catch (error) {
      const trail = bridgeLogs.flatMap((log, i) =>
        log.records.filter((r) => /revocation|relay|refus/i.test(String(r.msg))).map((r) => `bridge ${i + 1}: ${JSON.stringify(r)}`),
      );
      throw new Error(`${(error as Error).message}; the bridges' revocation log:\n${trail.slice(-20).join("\n")}`);
    }
    say.say(`the relayer's revocation seen ${(performance.now() - withdrawnAt).toFixed(0)} ms after the withdrawal`);
    const relayed = bridgeLogs[0].records.find((r) => r.msg === "revocation relayed")!;
    say.expect(relayed.licenseSuspended === true, "the relayed revocation suspended the university's license", JSON.stringify(relayed));
    const license = await market.getLicense(productId, university.address);
    say.expect(
      license.status === LICENSE_ENDED && !(await market.hasValidLicense(university.address, streamId)),
      "the license has ended",
      `status ${license.status}`,
    );
    say.expect(!(await registry.canSubscribe(streamId, university.address)), "the registry no longer lets the university subscribe");
    const refund: bigint = await market.claimableOf(university.address);
    say.expect(refund > 0n && refund < universityBuy.cost, `the unearned ${fmt(refund)} of ${fmt(universityBuy.cost)} is refundable to the university`);
    const before: bigint = await token.balanceOf(university.address);
    await (await market.connect(university.signer).getFunction("withdraw")()).wait();
    say.expect((await token.balanceOf(university.address)) === before + refund, "the university withdrew its refund");
    say.say(
      `earned before the cut-off (released to the hospital by time): ${fmt(universityBuy.cost - refund)}; license was ${licenseBefore.status === 1n ? "active" : licenseBefore.status}`,
    );

    // and the market half of the gate now refuses on its own: no licence left
    const licencesLeft = async () => Promise.all(brokers.map((b) => b.gate.licenceOf(streamId, university.address)));
    await waitFor(async () => (await licencesLeft()).every((l) => l === null), "the brokers' gates to see the licence end").catch(() => undefined);
    say.expect(
      (await licencesLeft()).every((l) => l === null),
      "each broker's gate now also finds no licence on the market",
      JSON.stringify(await licencesLeft()),
    );
    const removed = await publisher.rekeyIfAccessLost(streamId);
    say.expect(
      removed.map((x) => x.toLowerCase()).join() === university.address,
      "the hospital rekeyed the stream without the university",
      JSON.stringify(removed),
    );
    say.expect(await market.hasValidLicense(pharma.address, streamId), "pharma's license is untouched (its patients did not withdraw)");
    const seen = received.length;
    await publishBeats(4, HEART_RATE_EVENTS);
    await sleep(500);
    say.expect(received.length === seen, "no event published after the withdrawal reaches the university", `${received.length - seen} arrived`);
  });

  // ------------------------------------------------------------------------------------------------
  await say.step("6", "brokers report checksums (commit-reveal), epoch finalizes, escrow released, rewards claimed", async () => {
    const epoch = Math.floor((received[0].timestamp - genesis * 1000) / (epochLength * 1000));
    const reports = assignees.map((x) => brokerOf(x).running.epochs.report(epoch, np));
    const events = HEART_RATE_EVENTS + 4;
    say.say(`epoch ${epoch}, network partition ${np}: ${reports.map((r) => `${r.count} events ${r.checksum.slice(0, 10)}…`).join(" | ")}`);
    say.expect(
      reports.every((r) => r.count >= events && r.checksum === reports[0].checksum && r.count === reports[0].count),
      "the three brokers hold the same count and checksum",
      JSON.stringify(reports),
    );
    const params = await coordinator.parameters();
    const end = genesis + (epoch + 1) * epochLength;
    const at = async (timestamp: number) => {
      const now = (await provider.getBlock("latest"))!.timestamp;
      if (timestamp > now) await provider.send("evm_setNextBlockTimestamp", [timestamp]);
      await provider.send("evm_mine", []);
    };
    say.say(
      `advancing the local chain's clock (evm_setNextBlockTimestamp + evm_mine) to the epoch's end, then through the ${params.commitWindow} s commit and ${params.revealWindow} s reveal windows`,
    );
    await at(end + 1);
    // Each broker's EpochReporter hands its ContractCoordinatorReporter the report once the wall clock
    // closes the epoch; the demo moves only the chain's clock, so it hands the same report over itself.
    for (const [i, x] of assignees.entries()) await brokerOf(x).reporter.report(reports[i]);
    const states = () =>
      assignees.map((x) =>
        brokerOf(x)
          .reporter.outstanding.map((r) => `${r.epoch}/${r.partition}:${r.state}`)
          .join(),
      );
    say.expect(
      states().every((st) => st === `${epoch}/${np}:committed`),
      "each broker's reporter committed its report (salt kept for the reveal)",
      states().join(" | "),
    );
    await at(end + Number(params.commitWindow) + 1);
    for (const x of assignees) await brokerOf(x).reporter.tick();
    say.expect(
      states().every((st) => st === `${epoch}/${np}:revealed`),
      "in the reveal phase each reporter's tick() revealed it",
      states().join(" | "),
    );
    await at(end + Number(params.commitWindow) + Number(params.revealWindow) + 1);
    // after the reveal phase a tick finalizes the round (the first broker to get there) and claims the rewards
    const operatorBalances: bigint[] = await Promise.all(assignees.map((x) => token.balanceOf(x)));
    for (const x of assignees) await brokerOf(x).reporter.tick();
    const round = await coordinator.roundState(epoch, np);
    say.expect(
      round.outcome === ROUND_AGREED && Number(round.leaderVotes) === 3,
      "the round is Agreed by 3 of 3 brokers",
      `outcome ${round.outcome}, votes ${round.leaderVotes}`,
    );
    const [finalized, count] = await coordinator.finalizedEventCount(epoch, np);
    say.expect(finalized && Number(count) === reports[0].count, `the coordinator records ${reports[0].count} delivered events`);
    const deliveredUntil = Number(await adapter.deliveredUntil(productId));
    say.expect(deliveredUntil === end, "the delivery adapter proves the product delivered until the epoch's end", `${deliveredUntil} vs ${end}`);

    const claimableBefore: bigint = await market.claimableOf(hospital.address);
    const releasable: bigint = await market.releasable(productId, pharma.address);
    // On a chain with block times the transaction lands in a later block than the one estimateGas ran
    // against, and release's cost moves with the block's time: send it with a margin, as wallets do
    // (anvil: an exact estimate ran out of gas by 70).
    const release = market.connect(deployer.signer).getFunction("release");
    const releaseGas = await release.estimateGas(productId, pharma.address);
    await (await release(productId, pharma.address, { gasLimit: (releaseGas * 12n) / 10n })).wait();
    const credited = (await market.claimableOf(hospital.address)) - claimableBefore;
    const license = await market.getLicense(productId, pharma.address);
    say.expect(
      releasable > 0n && credited > 0n && Number(license.releasedUntil) === deliveredUntil,
      `pharma's escrow released up to the delivered time: ${fmt(credited)} to the hospital (after the protocol fee)`,
      `releasable ${releasable}, releasedUntil ${license.releasedUntil}`,
    );
    const hospitalBefore: bigint = await token.balanceOf(hospital.address);
    const owed: bigint = await market.claimableOf(hospital.address);
    await (await market.connect(hospital.signer).getFunction("withdraw")()).wait();
    say.expect((await token.balanceOf(hospital.address)) === hospitalBefore + owed, `the hospital withdrew ${fmt(owed)} (both licenses' earned escrow)`);
    for (const [i, x] of assignees.entries()) {
      const { operator, reporter } = brokerOf(x);
      const gained = (await token.balanceOf(operator.address)) - operatorBalances[i];
      const left: bigint = await coordinator.claimable(operator.address);
      say.expect(
        reporter.claimed > 0n && gained === reporter.claimed && left === 0n && reporter.outstanding.length === 0,
        `${operator.name}'s reporter claimed ${fmt(reporter.claimed)} of rewards`,
        `gained ${gained}, claimed ${reporter.claimed}, left ${left}, outstanding ${reporter.outstanding.length}`,
      );
    }
  });

  await runAnalyticsStep({
    say,
    cleanup,
    provider,
    chainId,
    addresses: { market: a.DataLicenseMarket, registry: a.StreamRegistry, token: a.DATAToken },
    ledger,
    custodian,
    pharmaLedger: ledgers.pharma,
    hospital: { signer: hospital.signer, address: hospital.address },
    pharma: { signer: pharma.signer, address: pharma.address },
    bridgeUrls,
    bridgeStores,
    records,
    researchSubjects: scientificSubjects.filter((s) => s !== withdrawingPatient),
    allSubjects: subjects,
  });
  return say;
}
