// My consents in headless Chromium (Debian's /usr/bin/chromium, playwright-core) against the stack of
// `npm run portal`, played by patient kraken-p-001 with a test wallet (an EIP-1193 provider whose key
// stays in this process): sign in once, narrow the consent (an earlier end), give a new consent with
// the form, withdraw it by keyboard; each change signed by the wallet and checked by the ledger (the
// test reads the ledger as an auditor). A refused form says why in words; the page works at 360 px;
// axe-core finds no serious or critical violation; any console error fails. Screenshots go to
// portal/test-output/. `after` stops the browser and everything the stack started, whatever happens.
// Its own mocha process (npm run test:e2e runs each e2e file alone): the demo's Hardhat runtime serves one node per
// process, so it cannot share a process with portal.e2e.test.ts's stack.
import { expect } from "chai";
import { hardhatAccounts } from "@datamarket/demo";
import { PATIENT_ACCOUNTS, type PortalStack } from "../server/stack";
import { PortalInBrowser, describeInBrowser, expectAccessible, type Persona } from "./browser";

const SUBJECT = "kraken-p-001";

describeInBrowser("consent e2e")("My consents in a browser: give, narrow, withdraw (headless Chromium)", function () {
  this.timeout(240_000);
  const t = PortalInBrowser.hooks();
  let stack: PortalStack;
  let patient: Persona;
  let tab: import("playwright-core").Page;
  let seededId = "";

  before(async () => {
    stack = t.stack;
    const wallet = hardhatAccounts(t.provider).party(`patient ${SUBJECT}`, PATIENT_ACCOUNTS[0]).wallet;
    patient = await t.persona(`patient ${SUBJECT}`, wallet, { methods: ["eth_requestAccounts", "eth_accounts", "eth_chainId", "personal_sign"] });
    tab = patient.page;
  });

  /** the first line of each text the wallet signed */
  const signed = () => patient.signedTexts.map((text) => text.split("\n")[0]);
  const axe = (name: string) => expectAccessible(tab, name);
  const shoot = (name: string) => t.shoot(tab, name);
  const consents = async () => (await stack.network.auditor.listSubjectConsents(SUBJECT)).records;

  it("signs in once, then narrows the consent to an earlier end: the ledger records version 2", async () => {
    await tab.goto(`${stack.portalUrl}#/consent`);
    await tab.click("#load");
    await tab.locator("[data-consent]").first().waitFor({ timeout: 30_000 });
    expect(signed()).to.deep.equal(["127.0.0.1:" + new URL(stack.portalUrl).port + " wants you to sign in with your Ethereum account:"]);
    const [seeded] = await consents();
    seededId = seeded.consentId;
    const card = tab.locator(`[data-consent="${seeded.consentId}"]`);
    await card.locator("button[data-narrow]").click();
    expect(await card.locator("button[data-narrow]").getAttribute("aria-expanded")).to.equal("true");
    // nothing changed: refused in words before the wallet is asked
    await card.locator('form button[type="submit"]').click();
    expect(await tab.locator("#status").innerText()).to.contain("nothing was narrowed");
    expect(await tab.locator("#status").getAttribute("role")).to.equal("alert");
    const earlier = new Date((seeded.validUntil - 30 * 86_400) * 1000).toISOString().slice(0, 10);
    await card.locator('input[name="validUntil"]').fill(earlier);
    await axe("My consents, narrowing");
    await card.locator('form button[type="submit"]').click();
    await tab.locator("#status", { hasText: "consent narrowed" }).waitFor({ timeout: 30_000 });
    const after = (await consents()).find((c) => c.consentId === seeded.consentId)!;
    expect(after.version).to.equal(2);
    expect(after.validUntil).to.equal(Math.floor(Date.parse(`${earlier}T23:59:59Z`) / 1000));
    expect(await card.locator("dl").innerText()).to.match(/Version\s+2, last changed/);
    expect(signed().at(-1)).to.equal("DataMarket consent ledger: I authorise this operation.");
    await shoot("consent-1-narrowed");
  });

  it("gives a new consent with the form and withdraws it by keyboard; the ledger agrees at each step", async () => {
    const form = tab.locator("#give");
    // no data ticked: refused in words
    await form.locator('button[type="submit"]').click();
    expect(await tab.locator("#status").innerText()).to.contain("choose at least one: the data this consent is for");
    await form.getByLabel(/KRAKEN heart rate/).check();
    await axe("My consents, giving");
    await form.locator('button[type="submit"]').click();
    await tab.locator("#status", { hasText: "consent given" }).waitFor({ timeout: 30_000 });
    const given = (await consents()).find((c) => c.consentId !== seededId)!;
    expect(given, "the new consent is on the ledger").to.not.equal(undefined);
    expect(given).to.deep.include({
      status: "ConsentGiven",
      subjectId: SUBJECT,
      purposes: ["ScientificResearch"],
      legalBasis: "A9-2-a",
      buyerTypes: ["PublicResearch"],
      jurisdictions: ["EU"],
    });
    await tab.locator(`[data-consent="${given.consentId}"]`).waitFor();
    await shoot("consent-2-given");

    // by keyboard: Tab reaches the new consent's withdraw button, Enter presses it
    await tab.locator("body").focus();
    let reached = false;
    for (let i = 0; i < 120 && !reached; i++) {
      await tab.keyboard.press("Tab");
      reached = await tab.evaluate((id) => document.activeElement?.getAttribute("data-withdraw") === id, given.consentId);
    }
    expect(reached, "the withdraw button is reachable with Tab").to.equal(true);
    await tab.keyboard.press("Enter");
    await tab.locator(`[data-consent="${given.consentId}"] .status.off`).waitFor({ timeout: 30_000 });
    expect((await stack.network.auditor.getConsent(given.consentId)).status).to.equal("ConsentWithdrawn");
    expect(await tab.locator("#status").innerText()).to.match(/^consent withdrawn/);
    await shoot("consent-3-withdrawn");
    await axe("My consents after withdrawal");
  });

  it("works at 360 px wide, forms open, with no serious accessibility violation", async () => {
    await tab.setViewportSize({ width: 360, height: 780 });
    await tab.locator("button[data-narrow]").first().click();
    const overflow = await tab.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, "My consents scrolls sideways at 360 px").to.be.at.most(0);
    await shoot("consent-4-360px");
    await axe("My consents at 360 px");
  });
});
