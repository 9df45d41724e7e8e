// The portal in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) against the
// stack `npm run portal` starts: the demo's embedded network seeded with the KRAKEN product, the
// consent API and the production build. A test wallet (an EIP-1193 provider whose key stays in this
// process) plays patient kraken-p-002: Discover shows the seeded product, Audit the market's solvency,
// attestors and brokers, and My consents lists the patient's consent, which the patient withdraws and
// sees withdrawn (and the ledger agrees). Any console error fails the test; axe-core finds no serious or
// critical violation on each page (desktop and 360 px); screenshots go to portal/test-output/. Whatever
// happens, `after` stops the browser and everything the stack started.
import { expect } from "chai";
import { hardhatAccounts } from "@datamarket/demo";
import { PATIENT_ACCOUNTS, type PortalStack } from "../server/stack";
import { PortalInBrowser, describeInBrowser, expectAccessible } from "./browser";

describeInBrowser("portal e2e")("the portal in a browser (production build, headless Chromium)", function () {
  this.timeout(240_000);
  const t = PortalInBrowser.hooks();
  let stack: PortalStack;
  let tab: import("playwright-core").Page;
  let patient: import("ethers").Wallet;

  before(async () => {
    stack = t.stack;
    // the test wallet: window.ethereum forwards each request to this process, where the key is
    patient = hardhatAccounts(t.provider).party("patient kraken-p-002", PATIENT_ACCOUNTS[1]).wallet;
    tab = (await t.persona("patient kraken-p-002", patient, { methods: ["eth_requestAccounts", "eth_accounts", "eth_chainId", "personal_sign"] })).page;
  });

  /** axe-core on the page as it is: no serious or critical violation. */
  const axe = (name: string) => expectAccessible(tab, name);
  const shoot = (name: string) => t.shoot(tab, name);
  const open = (route: string, ready: string) => t.open(tab, route, ready);

  it("Discover shows the seeded consent-gated product with its seller, price per day and resources", async () => {
    await open("discover", `[data-product="${stack.productId}"]`);
    const card = tab.locator(`[data-product="${stack.productId}"]`);
    const text = await card.innerText();
    expect(text).to.contain("KRAKEN heart rate");
    expect(text).to.contain("Live heart rate (bpm)");
    expect(text).to.contain("8.64 DATA"); // 1e14 wei a second
    expect(text).to.match(/Consent\s+required/);
    expect(text).to.contain("scientific research");
    expect(text).to.contain("KRAKEN lab results");
    expect(text).to.match(/Open flags\s+none/);
    expect(text).to.match(/karma 0 \(DATA exchanged, decayed\)/); // no sale yet
    const seller = (await stack.network.market.getProduct(stack.productId)).seller.toLowerCase();
    expect(await card.locator(`[title="${seller}"]`).count()).to.equal(1);
    // search narrows to nothing and back
    await tab.fill("#search", "no such product");
    expect(await tab.locator("[data-product]").count()).to.equal(0);
    await tab.fill("#search", "lab results");
    expect(await tab.locator("[data-product]").count()).to.equal(1);
    await shoot("1-discover");
    await axe("Discover");
  });

  it("Audit shows the market solvent, 2 of 3 attestors, the coordinator's brokers and its rounds", async () => {
    await open("audit", "#solvency");
    const [balance, owed] = await Promise.all([stack.network.token.balanceOf(stack.config.contracts.DataLicenseMarket), stack.network.market.totalOwed()]);
    expect(balance >= owed).to.equal(true);
    expect(await tab.locator("#solvency").innerText()).to.match(/^Solvent: the market holds/);
    expect(await tab.locator("#threshold").innerText()).to.equal("2 of 3 attestors must sign a consent attestation.");
    expect(await tab.locator("#brokers tbody tr").count()).to.equal(stack.network.brokers.length);
    expect(await tab.locator("#partitions").innerText()).to.equal(String(await stack.network.coordinator.partitionCount()));
    // no event was published in this stack, so no broker has reported on a round yet (the indexer's rounds: test/indexer.test.ts)
    expect(await tab.locator("#rounds tbody").innerText()).to.equal("No broker has committed a report yet.");
    await shoot("2-audit");
    await axe("Audit");
  });

  it("My consents: connects the wallet, lists the patient's consent and the access log, withdraws the consent", async () => {
    await open("consent", "#load");
    await tab.click("#load");
    await tab.locator("[data-consent]").first().waitFor({ timeout: 30_000 });
    expect(await tab.locator("#connect").innerText()).to.equal(
      `Connected ${patient.address.toLowerCase().slice(0, 6)}…${patient.address.toLowerCase().slice(-4)}`,
    );
    const cards = tab.locator("[data-consent]");
    expect(await cards.count()).to.equal(1);
    const consentId = (await cards.first().getAttribute("data-consent"))!;
    expect(await cards.first().innerText()).to.contain("explicit consent (GDPR Art. 9(2)(a))");
    expect(await tab.locator("#access tbody").innerText()).to.match(
      /buyer 0x[0-9a-f]{4}…[0-9a-f]{4}\s+scientific research\s+KRAKEN lab results \(dataset\)\s+granted/,
    );
    await shoot("3-consent");
    await axe("My consents");

    // by keyboard: Tab from the top of the page reaches the withdraw button, Enter presses it
    await tab.locator("body").focus();
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await tab.keyboard.press("Tab");
      reached = await tab.evaluate((id) => document.activeElement?.getAttribute("data-withdraw") === id, consentId);
    }
    expect(reached, "the withdraw button is reachable with Tab").to.equal(true);
    await tab.keyboard.press("Enter");
    await tab.locator(`[data-consent="${consentId}"] .status.off`).waitFor({ timeout: 30_000 });
    expect(await tab.locator(`[data-consent="${consentId}"] .status`).innerText()).to.equal("withdrawn");
    expect(await tab.locator(`button[data-withdraw="${consentId}"]`).count()).to.equal(0);
    expect(await tab.locator("#status").innerText()).to.match(/^consent withdrawn/);
    expect((await stack.network.auditor.getConsent(consentId)).status).to.equal("ConsentWithdrawn");
    await shoot("4-consent-withdrawn");
    // the page read again from the ledger: still withdrawn, nothing left to withdraw
    await tab.click("#load");
    await tab.locator(`[data-consent="${consentId}"] .status.off`).waitFor({ timeout: 30_000 });
    expect(await tab.locator("button[data-withdraw]").count()).to.equal(0);
    await axe("My consents after withdrawal");
  });

  it("reports each page's first load (fresh browser context: empty cache) and the JS it ships, gzip", async () => {
    for (const [route, ready] of [
      ["discover", `[data-product="${stack.productId}"]`],
      ["audit", "#solvency"],
      ["consent", "#load"],
    ] as const) {
      // what the page fetched of the build by then: its scripts, gzip-compressed as a server would send them
      await t.firstLoad(route, route, ready);
    }
    expect(Object.keys(t.loadTimes)).to.have.length(3);
  });

  it("works at 360 px wide with no serious accessibility violation", async () => {
    await tab.setViewportSize({ width: 360, height: 780 });
    for (const [route, ready] of [
      ["discover", "[data-product]"],
      ["audit", "#solvency"],
    ] as const) {
      await tab.goto(`${stack.portalUrl}#/${route}`);
      await tab.locator(ready).first().waitFor({ timeout: 30_000 });
      const overflow = await tab.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${route} scrolls sideways at 360 px`).to.be.at.most(0);
      await shoot(`5-${route}-360px`);
      await axe(`${route} at 360 px`);
    }
  });
});
