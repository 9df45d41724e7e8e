// The seller studio and the Audit page's verification table in headless Chromium (Debian's
// /usr/bin/chromium through playwright-core), production build, against the stack `npm run portal`
// starts. The injected test wallet (an EIP-1193 provider whose key stays in this process; it signs and
// sends the page's eth_sendTransaction) is the University Hospital's, the seller of the seeded KRAKEN
// product. The KRAKEN story's first step through the pages: the hospital creates a stream and an
// encrypted dataset, lists a consent-gated product with its purposes and access criteria (a first try
// with a zero beneficiary shows the market's custom error in words), pauses and resumes its sales; the
// university buys the seeded product in this process (the SDK, a real consent grant and the bridges'
// attestations); the hospital sees the subscriber and its licence's end, and withdraws the income;
// the university, given access, watches the heart-rate stream in this process and the hospital rekeys it from the
// studio (its wallet signs the key server's POST /rekey): the university reads on under the new key.
// Any console error fails the test; axe-core finds no serious or critical violation on each page
// (desktop and 360 px); screenshots go to portal/test-output/studio-*.png. `after` stops everything.
import { expect } from "chai";
import { JsonRpcProvider, id, parseUnits, sha256, type Wallet } from "ethers";
import {
  DataClient,
  HttpKeyRequestChannel,
  MarketClient,
  StreamRegistryClient,
  coordinatorAt,
  decodeManifest,
  generateKeyPair,
  NEVER,
  type ReceivedMessage,
} from "@datamarket/sdk";
import { DAY, hardhatAccounts } from "@datamarket/demo";
import type { PortalStack } from "../server/stack";
import { PortalInBrowser, describeInBrowser, expectAccessible } from "./browser";

const HOSPITAL_ACCOUNT = 1; // the seeded product's seller (server/stack.ts)
const UNIVERSITY_ACCOUNT = 2;
const SUBJECTS = ["kraken-p-101", "kraken-p-102", "kraken-p-103"];

describeInBrowser("studio e2e")("the seller studio and the deployment's verification in a browser", function () {
  this.timeout(240_000);
  const t = PortalInBrowser.hooks();
  let stack: PortalStack;
  let tab: import("playwright-core").Page;
  let provider: JsonRpcProvider;
  let hospital: Wallet;
  let hospitalSigner: import("ethers").Signer;
  let newProductId = "";
  let datasetId = "";
  let signedTexts: string[] = [];

  before(async () => {
    stack = t.stack;
    provider = t.provider;
    hospital = hardhatAccounts(provider).party("University Hospital", HOSPITAL_ACCOUNT).wallet;
    hospitalSigner = hardhatAccounts(provider).party("University Hospital", HOSPITAL_ACCOUNT).signer;
    const seller = await t.persona("University Hospital", hospital, {
      methods: ["eth_requestAccounts", "eth_accounts", "eth_chainId", "eth_sendTransaction", "personal_sign"],
    });
    tab = seller.page;
    signedTexts = seller.signedTexts;
  });

  const axe = (name: string) => expectAccessible(tab, name);
  const shoot = (name: string) => t.shoot(tab, `studio-${name}`);

  /** The status line once it matches `pattern` (an error shown instead fails with its text). */
  async function statusMatching(pattern: RegExp): Promise<string> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const text = await tab.locator("#status").innerText();
      if (pattern.test(text)) return text;
      if ((await tab.locator("#status.error").count()) > 0) throw new Error(`the page reported an error: ${text}`);
      if (Date.now() > deadline) throw new Error(`the status line never matched ${pattern}: "${text}"`);
      await tab.waitForTimeout(100);
    }
  }

  it("opens the studio with the seller's wallet: the seeded product, no subscriber, no income yet", async () => {
    const started = Date.now();
    await tab.goto(`${stack.portalUrl}#/studio`);
    await tab.click("#studio-connect");
    await tab.locator(`#my-products tr[data-product="${stack.productId}"]`).waitFor({ timeout: 30_000 });
    t.loadTimes["studio with the wallet connected, until its products show (warm cache)"] = Date.now() - started;
    const row = await tab.locator(`#my-products tr[data-product="${stack.productId}"]`).innerText();
    expect(row).to.contain("KRAKEN heart rate");
    expect(row).to.contain("8.64 DATA");
    expect(row).to.contain("scientific research");
    expect(await tab.locator("#subscribers tbody").innerText()).to.equal("Nobody has bought a licence of your products yet.");
    expect(await tab.locator("#claimable").innerText()).to.equal("0 DATA");
    expect(await tab.locator("#withdraw").isDisabled()).to.equal(true);
    await shoot("1-open");
    await axe("Studio");
  });

  it("creates a stream and an encrypted dataset", async () => {
    await tab.fill("#s-path", "/kraken/ecg");
    await tab.fill("#s-name", "KRAKEN ECG");
    await tab.fill("#s-description", "Live ECG of consenting cardiology patients.");
    await tab.click("#new-stream button[type=submit]");
    await statusMatching(/^stream \/kraken\/ecg created/);
    const streamId = StreamRegistryClient.resourceId(hospital.address, "/kraken/ecg");
    expect((await stack.network.registry.getResource(streamId)).owner).to.equal(hospital.address);

    const records = SUBJECTS.map((subjectId, i) => JSON.stringify({ subjectId, test: "LDL", value: 2.5 + i / 10 }));
    await tab.fill("#d-path", "/kraken/ldl-2026");
    await tab.fill("#d-name", "KRAKEN LDL results");
    await tab.fill("#d-location", "https://hospital.example/kraken/ldl-2026.dmds");
    await tab.setInputFiles("#d-file", { name: "ldl.jsonl", mimeType: "application/json", buffer: Buffer.from(records.join("\n")) });
    await tab.click("#new-dataset button[type=submit]");
    await statusMatching(/^dataset \/kraken\/ldl-2026 registered: 3 records of 3 subjects/);
    datasetId = StreamRegistryClient.resourceId(hospital.address, "/kraken/ldl-2026");
    // the encrypted file the page hands over is the one whose manifest hash the registry holds, with no plaintext in it
    const href = await tab.locator("#dataset-downloads a").first().getAttribute("href");
    const file = Buffer.from(await tab.evaluate(async (url) => [...new Uint8Array(await (await fetch(url)).arrayBuffer())], href!));
    const manifest = decodeManifest(file);
    expect(manifest.datasetId.toLowerCase()).to.equal(datasetId.toLowerCase());
    expect(manifest.rows).to.have.length(3);
    expect(sha256(file.subarray(0, manifest.length))).to.equal((await stack.network.registry.datasetContentHash(datasetId)).toLowerCase());
    expect(file.includes(Buffer.from("kraken-p-101"))).to.equal(false);
    await shoot("2-created");
  });

  it("lists a consent-gated product; a revert shows the market's custom error in words", async () => {
    await tab.locator(`#new-product input[name=resource][value="${datasetId.toLowerCase()}"]`).check();
    await tab.fill("#p-price", "1.728"); // 2e13 wei a second
    await tab.fill("#p-min", "2");
    await tab.fill("#p-max", "30");
    await tab.fill("#p-beneficiary", "0x0000000000000000000000000000000000000000");
    // a consent-gated product without a purpose is refused by the form, naming the field
    await tab.click("#new-product button[type=submit]");
    await tab.locator("#status.error").waitFor({ timeout: 30_000 });
    expect(await tab.locator("#status").innerText()).to.equal("a consent-gated product needs at least one purpose: the market sells it for no other");
    expect(await tab.locator("#new-product input[name=purpose]").first().getAttribute("aria-invalid")).to.equal("true");
    for (const [name, v] of [
      ["purpose", "ScientificResearch"],
      ["buyerType", "PublicResearch"],
      ["jurisdiction", "EU"],
      ["dataCategory", "PhysicalHealth"],
    ])
      await tab.locator(`#new-product input[name=${name}][value=${v}]`).check();
    await tab.fill("#p-countries", "ch, GB");
    await tab.fill("#p-terms", "Research use only; no re-identification.");
    await tab.click("#new-product button[type=submit]");
    await tab.locator("#status.error").waitFor({ timeout: 60_000 });
    expect(await tab.locator("#status").innerText()).to.match(/list the product .* failed: the contract refused: ZeroBeneficiary$/);
    await shoot("3-revert");

    await tab.fill("#p-beneficiary", hospital.address);
    // registered on the consent ledger too, signed by the hospital's wallet (bound to its custodian identity
    // by the stack): the subjects are those of the dataset just created
    await tab.check("#p-ledger");
    expect((await tab.inputValue("#p-subjects")).split(", ")).to.deep.equal(SUBJECTS);
    await tab.click("#new-product button[type=submit]");
    const done = await statusMatching(/^product 0x[0-9a-f]{64} listed and registered on the consent ledger with 3 data subject\(s\)$/);
    newProductId = done.split(" ")[1];
    const onLedger = await stack.network.auditor.getResource(datasetId.toLowerCase());
    expect(onLedger).to.deep.include({ kind: "dataset", controllerMsp: "HospitalMSP", productIds: [newProductId], subjectCount: 3 });
    const p = await stack.network.market.getProduct(newProductId);
    expect(p.requiresConsent).to.equal(true);
    expect(p.pricePerSecond).to.equal(parseUnits("1.728", 18) / 86_400n);
    expect([p.minSeconds, p.maxSeconds].map(Number)).to.deep.equal([2 * 3_600, 30 * DAY]);
    expect(await stack.network.market.isPurposeAllowed(newProductId, id("ScientificResearch"))).to.equal(true);
    expect(await stack.network.market.isPurposeAllowed(newProductId, id("Marketing"))).to.equal(false);
    const row = tab.locator(`#my-products tr[data-product="${newProductId}"]`);
    await row.waitFor({ timeout: 30_000 });
    const text = await row.innerText();
    expect(text).to.contain("KRAKEN LDL results");
    expect(text).to.contain("1.728 DATA");
    expect(text).to.match(/consent required; sold for scientific research/);
    expect(text).to.contain("buyer types: public research");
    expect(text).to.contain("jurisdictions: EU, CH, GB");
    expect(text).to.contain("data categories: physical health");
    await shoot("4-listed");
    await axe("Studio with a new product");
  });

  it("pauses and resumes the product's sales", async () => {
    const state = async () => Number((await stack.network.market.getProduct(newProductId)).state);
    await tab.click(`button[data-pause="${newProductId}"]`);
    await statusMatching(/paused: licences sold keep running$/);
    expect(await state()).to.equal(2); // Paused
    expect(await tab.locator(`#my-products tr[data-product="${newProductId}"] .state`).innerText()).to.equal("paused");
    await shoot("5-paused");
    await tab.click(`button[data-pause="${newProductId}"]`);
    await statusMatching(/resumed$/);
    expect(await state()).to.equal(1); // Active
    expect(await tab.locator(`#my-products tr[data-product="${newProductId}"] .state`).innerText()).to.equal("on sale");
  });

  it("sees the university's licence after its purchase and withdraws the income", async () => {
    // The studio registered the dataset and the product on the consent ledger (above); the three patients
    // consent, recorded here by the hospital's custodian identity on Fabric (the consent pages are tested in consent.e2e).
    const { ledger } = stack.network;
    const custodian = ledger.client(await ledger.enroll("HospitalMSP", "registrar-studio", { "consent.role": "custodian" }));
    const dataset = datasetId.toLowerCase();
    for (const subjectId of SUBJECTS) {
      await custodian.giveConsent({
        subjectId,
        controller: "University Hospital",
        resources: [dataset],
        purposes: ["ScientificResearch"],
        dataCategories: ["PhysicalHealth"],
        buyerTypes: ["PublicResearch"],
        jurisdictions: ["EU"],
        legalBasis: "A9-2-a",
        validUntil: ledger.clock.nowSeconds() + 365 * DAY,
        noticeHash: id("KRAKEN notice v1"),
      });
    }
    // the university buys the new product in this process: a consent grant on the ledger, 2 of 3 bridges' attestations, permit and buy
    const university = hardhatAccounts(provider).party("university research group", UNIVERSITY_ACCOUNT);
    const ledgerBuyer = ledger.client(
      await ledger.enroll("UniversityMSP", "cardio-lab-studio", {
        "consent.role": "buyer",
        "consent.buyerType": "PublicResearch",
        "consent.jurisdiction": "NL",
        "consent.ethAddress": university.address,
      }),
    );
    const decision = await ledgerBuyer.requestAccess({
      productId: newProductId,
      purpose: "ScientificResearch",
      ethAddress: university.address,
      ttlSeconds: 30 * DAY,
    });
    expect(decision.decision, decision.reasons.join(", ")).to.equal("approved");
    const buyer = new MarketClient(stack.config.contracts.DataLicenseMarket, stack.config.contracts.DATAToken, university.signer, stack.network.bridgeUrls);
    let bought: Awaited<ReturnType<MarketClient["buyWithPermit"]>> | undefined;
    for (let attempt = 0; !bought; attempt++) {
      try {
        bought = await buyer.buyWithPermit({ productId: newProductId, duration: 2 * DAY, grantId: decision.grant!.grantId });
      } catch (error) {
        if (attempt >= 50) throw error; // the bridges sign a grant a moment after the ledger commits it
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    const licence = await stack.network.market.getLicense(newProductId, university.address);
    // a day passes: half the escrow is earned
    await provider.send("evm_increaseTime", [DAY]);
    await provider.send("evm_mine", []);

    await tab.goto("about:blank");
    await tab.goto(`${stack.portalUrl}#/studio`);
    await tab.click("#studio-connect");
    const row = tab.locator(`#subscribers tr[data-buyer="${university.address}"]`);
    await row.waitFor({ timeout: 30_000 });
    const end = new Date(Number(licence.end) * 1000).toISOString().replace("T", " ").slice(0, 16);
    expect(await row.innerText()).to.match(new RegExp(`KRAKEN LDL results\\s+${end} UTC\\s+active`));
    expect(await tab.locator("#releasable").innerText()).to.match(/^[1-9][\d.,]* DATA from 1 licence/);
    await shoot("6-subscriber");
    await axe("Studio with a subscriber");

    const before = await stack.network.token.balanceOf(hospital.address);
    await tab.click("#withdraw");
    const done = await statusMatching(/^withdrew [\d.,]+ DATA to /);
    const after = await stack.network.token.balanceOf(hospital.address);
    const received = after - before;
    expect(received > 0n).to.equal(true);
    // a day of the licence at 1.728 DATA a day (a few seconds more for the blocks since), less the 1 % protocol fee
    const day = (parseUnits("1.728", 18) / 86_400n) * 86_400n;
    expect(received >= (day * 99n) / 100n && received <= (day * 101n) / 100n, `received ${received}`).to.equal(true);
    expect(await stack.network.market.claimableOf(hospital.address)).to.equal(0n);
    expect(done).to.contain(hospital.address.toLowerCase());
    expect(await tab.locator("#claimable").innerText()).to.equal("0 DATA");
    await shoot("7-withdrawn");
    expect(bought.cost > 0n).to.equal(true);
  });

  it("rekeys the heart-rate stream from the studio: the university, with access, keeps receiving under the new key", async () => {
    // the hospital lets the university read its heart-rate stream (a subscribe permission), and the university
    // watches it in this process (the SDK), the group key fetched from the hospital's key server
    const university = hardhatAccounts(provider).party("university research group", UNIVERSITY_ACCOUNT);
    await new StreamRegistryClient(stack.config.contracts.StreamRegistry, hospitalSigner).setPermission(stack.streamId, university.address, {
      subscribeExpiry: NEVER,
    });
    const encryption = generateKeyPair();
    await new StreamRegistryClient(stack.config.contracts.StreamRegistry, university.signer).registerEncryptionKey(encryption.publicKey);
    const watcher = new DataClient({
      signer: university.wallet,
      access: new StreamRegistryClient(stack.config.contracts.StreamRegistry, provider),
      encryptionPrivateKey: encryption.privateKey,
      coordinator: coordinatorAt(stack.config.contracts.NetworkCoordinator, provider),
      keyRequests: new HttpKeyRequestChannel((publisher) => stack.config.keyRequestUrls?.[publisher]),
    });
    t.cleanup.push(() => watcher.close());
    const received: ReceivedMessage[] = [];
    await watcher.subscribe(stack.streamId, (m) => void received.push(m));
    const until = async (what: string, cond: () => boolean) => {
      for (const deadline = Date.now() + 60_000; !cond(); await new Promise((r) => setTimeout(r, 100)))
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    };
    await until("a heart-rate event before the rekey", () => received.length > 0);
    const oldKey = received[0].groupKeyId;

    await tab.goto("about:blank");
    await tab.goto(`${stack.portalUrl}#/studio`);
    await tab.click("#studio-connect");
    const row = tab.locator(`#my-streams tr[data-stream="${stack.streamId}"]`);
    await row.waitFor({ timeout: 30_000 });
    expect(await row.innerText()).to.contain("KRAKEN heart rate");
    await tab.click(`button[data-rekey="${stack.streamId}"]`);
    const done = await statusMatching(
      /^KRAKEN heart rate rekeyed: new group key (0x[0-9a-f]{64}), announced to (\d+) subscriber\(s\); others with access get it from your key server$/,
    );
    const [, newKey, recipients] = /new group key (0x[0-9a-f]{64}), announced to (\d+)/.exec(done)!;
    expect(newKey).to.not.equal(oldKey);
    // the portal's publisher announces keys to nobody in advance: every subscriber asks its key server (which checks the licence)
    expect(Number(recipients)).to.equal(0);
    expect(signedTexts.some((text) => text.startsWith("DataMarket: rekey a stream\n") && text.includes(`Stream: ${stack.streamId}`))).to.equal(true);
    await shoot("7b-rekeyed");
    // the university, with access, reads the events published under the new key
    await until("a heart-rate event under the new key", () => received.some((m) => m.groupKeyId === newKey));
    expect(received.filter((m) => m.groupKeyId === newKey).every((m) => typeof (m.parsed() as { bpm: number }).bpm === "number")).to.equal(true);
  });

  it("Audit shows the deployment's verification table: every check passes", async () => {
    await tab.goto("about:blank");
    await tab.goto(`${stack.portalUrl}#/audit`);
    await tab.locator("#verify-summary").waitFor({ timeout: 60_000 });
    const summary = await tab.locator("#verify-summary").innerText();
    expect(
      summary,
      await tab
        .locator("#checks tr.fail")
        .allInnerTexts()
        .then((rows) => rows.join("\n")),
    ).to.match(/^All \d+ checks pass/);
    const rows = await tab.locator("#checks tbody tr").allInnerTexts();
    expect(summary).to.contain(`All ${rows.length} checks pass`);
    console.log(`      the verification table: ${rows.length} checks`);
    const codeRows = rows.filter((r) => /\bcode\b/.test(r) && /identical/.test(r));
    expect(codeRows.length, "a code check for each of the record's contracts").to.be.at.least(Object.keys(stack.network.record.contracts).length - 2);
    expect(rows.some((r) => /role\s+DataLicenseMarket\s+ARBITER_ROLE/.test(r))).to.equal(true);
    expect(rows.some((r) => /link\s+DataLicenseMarket\s+token/.test(r))).to.equal(true);
    await shoot("8-verification");
    await axe("Audit with the verification table");
  });

  it("works at 360 px wide with no serious accessibility violation", async () => {
    await tab.setViewportSize({ width: 360, height: 780 });
    await tab.goto("about:blank");
    await tab.goto(`${stack.portalUrl}#/studio`);
    await tab.click("#studio-connect");
    await tab.locator("#my-products").waitFor({ timeout: 30_000 });
    const overflow = await tab.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, "the studio scrolls sideways at 360 px").to.be.at.most(0);
    await shoot("9-360px");
    await axe("Studio at 360 px");
    await tab.goto("about:blank");
    await tab.goto(`${stack.portalUrl}#/audit`);
    await tab.locator("#verify-summary").waitFor({ timeout: 60_000 });
    expect(
      await tab.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth),
      "Audit scrolls sideways at 360 px",
    ).to.be.at.most(0);
    await shoot("10-audit-360px");
    await axe("Audit at 360 px");
    await tab.setViewportSize({ width: 1280, height: 900 });
  });

  it("reports the studio's first load (fresh browser context: empty cache) and the JS it ships, gzip", async () => {
    for (const [name, route, ready] of [
      ["studio", "studio", "#studio-connect"],
      ["audit's verification table", "audit", "#verify-summary"],
    ] as const) {
      await t.firstLoad(name, route, ready, 60_000);
    }
    expect(Object.keys(t.loadTimes)).to.have.length(3);
  });
});
