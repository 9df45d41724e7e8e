// The buyer's story in headless Chromium against the stack `npm run portal` starts (the demo's embedded
// network, the KRAKEN product, the consent API, the hospital's release service, heart-rate publisher and
// key-request endpoint, the production build). Each persona is a browser context with its own test
// wallet: the university requests access for scientific research, sees the approval with the released
// subjects, waits for k of n attestations, buys with one permit signature and one transaction, sees the
// licence's end and extends it, watches the live heart-rate chart (events verified and decrypted in the
// browser) and downloads the consenting patients' records; the marketing company is denied with its
// reason shown; a patient withdraws consent in My consents and the university's live view shows access
// revoked, its licences page the refund, which it withdraws. Any console error fails the test; axe-core
// runs on every new page (desktop and 360 px); screenshots go to portal/test-output/buy-*.png.
import { expect } from "chai";
import { hardhatAccounts, waitFor } from "@datamarket/demo";
import { MARKETING_ACCOUNT, PATIENT_ACCOUNTS, PATIENTS, type PortalStack } from "../server/stack";
import { PortalInBrowser, describeInBrowser, expectAccessible, expectNoOverflow, type Persona } from "./browser";

const DAY = 86_400;

describeInBrowser("portal buy e2e")("the buyer's story in a browser (production build, headless Chromium)", function () {
  this.timeout(240_000);
  const t = PortalInBrowser.hooks();
  let stack: PortalStack;
  let university: Persona;
  let marketer: Persona;
  let patient: Persona;
  /** the university's wallet address, lowercase */
  let me: string;

  before(async () => {
    stack = t.stack;
    const { party } = hardhatAccounts(t.provider);
    university = await t.persona("university", party("university research group", 2).wallet);
    me = party("university research group", 2).address.toLowerCase();
    marketer = await t.persona("marketing company", party("marketing company", MARKETING_ACCOUNT).wallet);
    patient = await t.persona("patient kraken-p-001", party("patient kraken-p-001", PATIENT_ACCOUNTS[0]).wallet);
  });

  const shoot = (p: Persona, name: string) => t.shoot(p.page, `buy-${name}`);
  const open = (p: Persona, route: string, ready: string) => t.open(p.page, route, ready);

  it("the university requests access for scientific research, sees the decision and k of n attestations, and buys in one signature and one transaction", async () => {
    const { page } = university;
    await open(university, `product/${stack.productId}`, "#request");
    expect(await page.locator("#purpose option").allInnerTexts()).to.deep.equal(["scientific research"]);
    await page.fill("#days", "7");
    await page.locator("#quote").filter({ hasText: "7 days cost 60.48 DATA" }).waitFor({ timeout: 10_000 });
    await expectAccessible(page, "Product");
    await page.click("#request");
    await page.locator("#verdict.ok").waitFor({ timeout: 30_000 });
    expect(await page.locator("#released").innerText()).to.contain(`${PATIENTS} data subjects' records released of ${PATIENTS}`);
    // k of n: the progress reaches the market's threshold
    await page.locator("#buy").waitFor({ state: "visible", timeout: 60_000 });
    const threshold = Number(await stack.network.market.attestorThreshold());
    expect(await page.locator("#attest-text").innerText()).to.match(new RegExp(`^[${threshold}-3] of 3 bridges signed \\(${threshold} needed\\)$`));
    expect(await page.locator("#attest-progress").getAttribute("value")).to.equal(String(threshold));
    await shoot(university, "1-university-approved");
    await expectAccessible(page, "Product after the decision");

    const sentBefore = university.requests.filter((m) => m === "eth_sendTransaction").length;
    const signedBefore = university.requests.filter((m) => m === "eth_signTypedData_v4").length;
    await page.click("#buy");
    await page.locator("#licence-end, #status.error").first().waitFor({ timeout: 60_000 });
    expect(await page.locator("#status.error").count(), await page.locator("#status").innerText()).to.equal(0);
    expect(university.requests.filter((m) => m === "eth_signTypedData_v4").length - signedBefore, "one permit signature").to.equal(1);
    expect(university.requests.filter((m) => m === "eth_sendTransaction").length - sentBefore, "one transaction").to.equal(1);
    const licence = await stack.network.market.getLicense(stack.productId, me);
    expect(await page.locator("#licence-end").innerText()).to.contain(new Date(Number(licence.end) * 1000).toISOString().replace("T", " ").slice(0, 16));
    expect(await stack.network.market.hasValidLicense(me, stack.streamId)).to.equal(true);
    await shoot(university, "2-university-bought");
  });

  it("the university extends its licence by a day on My licences (one signature, one transaction)", async () => {
    const { page } = university;
    await open(university, "licences", "#load");
    await page.click("#load");
    const card = page.locator(`[data-licence="${stack.productId}"]`);
    await card.waitFor({ timeout: 30_000 });
    expect(await card.locator("[data-status]").innerText()).to.equal("active");
    const before = Number((await stack.network.market.getLicense(stack.productId, me)).end);
    await expectAccessible(page, "My licences");
    // a reverted transaction shows its custom error in words: 360 more days pass the product's 365-day bound
    await card.locator("input").fill("360");
    await card.locator("button").click();
    await page.locator("#status.error").waitFor({ timeout: 60_000 });
    expect(await page.locator("#status").innerText()).to.match(/^the contract refused: LicenseTooLong: remainingSeconds = \d+, maxSeconds = 31536000$/);
    await shoot(university, "3-university-revert");
    await card.locator("input").fill("1");
    await card.locator("button").click();
    await page.locator("#status").filter({ hasText: "licence extended by 1 day" }).waitFor({ timeout: 60_000 });
    const after = Number((await stack.network.market.getLicense(stack.productId, me)).end);
    expect(after - before).to.equal(DAY);
    expect(await page.locator(`[data-licence="${stack.productId}"] [data-end]`).innerText()).to.equal(
      new Date(after * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC",
    );
    await shoot(university, "3-university-extended");
  });

  it("the university watches the live heart rate, each event verified and decrypted in the browser", async () => {
    const { page } = university;
    await open(university, `stream/${stack.streamId}`, "#start");
    const signed = university.signedTexts.length;
    await page.click("#start");
    await waitFor(async () => (await page.locator("#events tbody tr[data-event]").count()) >= 3, "three live events in the university's view", 60_000).catch(
      async (error: Error) => {
        throw new Error(
          `${error.message}; the page says: ${await page.locator("#status").innerText()} | ${await page.locator("#access").innerText()} | ${await page.locator("#events tbody").innerText()}`,
        );
      },
    );
    const row = await page.locator("#events tbody tr[data-event]").first().innerText();
    expect(row).to.match(/"bpm":\d+/);
    expect(row).to.contain("signature valid");
    expect(row).to.contain("decrypted");
    expect(row).to.contain("(the stream's owner)");
    expect(await page.locator("#chart canvas").count()).to.be.greaterThan(0);
    // the broker admitted the wallet's EIP-4361 sign-in (the broker's own check; docs/protocol.md §6)
    const siwe = university.signedTexts.slice(signed).find((t) => t.includes("wants you to sign in with your Ethereum account:"));
    expect(siwe, "the wallet signed an EIP-4361 message for the broker").to.not.equal(undefined);
    expect(siwe!.split("\n")[1].toLowerCase()).to.equal(me);
    expect(await page.locator("#chart-caption").innerText()).to.match(/^bpm: latest \d+/);
    await shoot(university, "4-university-live");
    await expectAccessible(page, "Live stream");
  });

  it("the university downloads the consenting patients' records, decrypted in the browser", async () => {
    const page = await university.context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") university.errors.push(`university download tab: ${m.text()}`);
    });
    try {
      await page.goto(`${stack.portalUrl}#/dataset/${stack.datasetId}`);
      await page.click("#download");
      await page.locator("#opened").waitFor({ timeout: 30_000 });
      expect(await page.locator("#opened").innerText()).to.contain(`Decrypted ${PATIENTS} records of ${PATIENTS} consenting data subjects`);
      expect(await page.locator("#records tbody tr").count()).to.equal(PATIENTS);
      expect(await page.locator('[data-subject="kraken-p-001"]').innerText()).to.contain('"test":"HbA1c"');
      expect(await page.locator("#save").getAttribute("download")).to.equal("kraken-lab-results.jsonl");
      await t.shoot(page, "buy-5-university-download");
      await expectAccessible(page, "Dataset");
    } finally {
      await page.close();
    }
  });

  it("the marketing company is denied, with the reason shown, and cannot buy", async () => {
    const { page } = marketer;
    await open(marketer, `product/${stack.productId}`, "#request");
    await page.click("#request");
    await page.locator("#verdict.bad").waitFor({ timeout: 30_000 });
    expect(await page.locator("#verdict").innerText()).to.contain("Denied by the consent ledger");
    expect(await page.locator("#reasons").innerText()).to.contain("the consents do not allow buyers of your organisation's type (BUYER_TYPE_NOT_ALLOWED)");
    expect(await page.locator("#status").innerText()).to.match(/^access denied: .*BUYER_TYPE_NOT_ALLOWED/);
    expect(await page.locator("#buy").isHidden()).to.equal(true);
    await shoot(marketer, "6-marketing-denied");
    await expectAccessible(page, "Product after a denial");
  });

  it("a patient withdraws consent: the university's live view shows access revoked, My licences the refund, which it withdraws", async () => {
    await open(patient, "consent", "#load");
    await patient.page.click("#load");
    await patient.page.locator("button[data-withdraw]").first().waitFor({ timeout: 30_000 });
    await patient.page.locator("button[data-withdraw]").first().click();
    await patient.page.locator("[data-consent] .status.off").first().waitFor({ timeout: 30_000 });
    await shoot(patient, "7-patient-withdrew");

    // the live view, still open in the university's tab, shows the broker's cut
    await university.page.locator("#revoked").waitFor({ timeout: 30_000 });
    expect(await university.page.locator("#access").innerText()).to.match(/^Access revoked\. The broker ended your subscription \(ACCESS_REVOKED\): /);
    await shoot(university, "8-university-revoked");

    // the bridges relay the revocation to the market, which refunds the unused time
    await waitFor(async () => (await stack.network.market.claimableOf(me)) > 0n, "the market to refund the university", 60_000);
    const refund: bigint = await stack.network.market.claimableOf(me);
    const { page } = university;
    await open(university, "licences", "#load");
    await page.click("#load");
    await page.locator("[data-refund]").waitFor({ timeout: 30_000 });
    expect(await page.locator(`[data-licence="${stack.productId}"] [data-status]`).innerText()).to.equal("ended");
    expect(await page.locator("[data-revoked]").innerText()).to.contain("access revoked");
    expect(await page.locator('[data-movement="refund"]').count()).to.equal(1);
    await expectAccessible(page, "My licences after the refund");
    await shoot(university, "9-university-refund");
    const token = stack.network.token;
    const balance: bigint = await token.balanceOf(me);
    await page.click("#withdraw");
    await page.locator("#status").filter({ hasText: "withdrawn to your wallet" }).waitFor({ timeout: 60_000 });
    expect((await token.balanceOf(me)) - balance).to.equal(refund);
    expect(await stack.network.market.claimableOf(me)).to.equal(0n);
    expect(await page.locator("#claimable").innerText()).to.equal("The market owes you nothing.");
    await shoot(university, "10-university-withdrawn");
    // and the hospital's release service no longer answers the university
    await open(university, `dataset/${stack.datasetId}`, "#download");
    await page.click("#download");
    await page.locator("#status.error").waitFor({ timeout: 30_000 });
    expect(await page.locator("#status").innerText()).to.match(/^the release service refused \(NOT_LICENSED\): 0x[0-9a-f]{40} holds no valid licence/);
    // Chromium logs the refusal's 403 as a console error: that one, and only that one, is expected
    const refusal = university.errors.findIndex(
      (e) => e.includes("status of 403") && e.includes(`${stack.config.releaseUrls![stack.datasetId].replace(/\/+$/, "")}/v1/releases/`),
    );
    expect(refusal, `the 403 of the release service among ${JSON.stringify(university.errors)}`).to.be.at.least(0);
    university.errors.splice(refusal, 1);
  });

  it("the new pages work at 360 px with no serious accessibility violation, and load within the bar", async () => {
    await university.page.setViewportSize({ width: 360, height: 780 });
    for (const [route, ready] of [
      [`product/${stack.productId}`, "#request"],
      ["licences", "#load"],
      [`stream/${stack.streamId}`, "#start"],
      [`dataset/${stack.datasetId}`, "#download"],
    ] as const) {
      await open(university, route, ready);
      await expectNoOverflow(university.page, route);
      await expectAccessible(university.page, `${route} at 360 px`);
      await shoot(university, `11-${route.split("/")[0]}-360px`);
    }
    // first loads in fresh contexts (empty cache), and the JS each page fetched
    for (const [name, route, ready] of [
      ["product", `product/${stack.productId}`, "#request"],
      ["licences", "licences", "#load"],
      ["stream", `stream/${stack.streamId}`, "#start"],
      ["dataset", `dataset/${stack.datasetId}`, "#download"],
    ] as const) {
      // what the page fetched of the build by then: its scripts, gzip-compressed as a server would send them
      await t.firstLoad(name, route, ready);
    }
    expect(Object.keys(t.loadTimes)).to.have.length(4);
  });
});
