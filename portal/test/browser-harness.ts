// What a browser test of the portal needs: Debian's Chromium through playwright-core with a test
// wallet injected as window.ethereum (an EIP-1193 provider whose every request is answered by a
// function in the test process, where the key stays), console errors collected, axe-core, and the
// first-load measurement of a route in a fresh context (empty cache) with the JS it fetched, gzip.
import { expect } from "chai";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

export const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-gpu",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** describe, or describe.skip with a warning outside CI when Chromium is missing. */
export function describeInBrowser(name: string): Mocha.SuiteFunction | Mocha.PendingSuiteFunction {
  const present = existsSync(CHROMIUM);
  if (!present && !process.env.CI) console.warn(`${name}: ${CHROMIUM} is missing (apt-get install -y chromium); the browser test is skipped`);
  return present || process.env.CI ? describe : describe.skip;
}

export type WalletHandler = (method: string, params: unknown[]) => Promise<unknown>;

export interface BrowserSession {
  browser: import("playwright-core").Browser;
  tab: import("playwright-core").Page;
  /** console errors and uncaught exceptions of every page opened through the session */
  consoleErrors: string[];
}

export async function openBrowser(wallet: WalletHandler): Promise<BrowserSession> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.exposeFunction("__testWallet", wallet);
  await context.addInitScript(() => {
    const call = (globalThis as unknown as { __testWallet(method: string, params: unknown[]): Promise<unknown> }).__testWallet;
    (window as unknown as { ethereum: unknown }).ethereum = {
      request: ({ method, params }: { method: string; params?: unknown[] }) => call(method, params ?? []),
      on: () => undefined,
    };
  });
  const tab = await context.newPage();
  const consoleErrors: string[] = [];
  tab.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  tab.on("pageerror", (e) => consoleErrors.push(`uncaught: ${e.message}`));
  return { browser, tab, consoleErrors };
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core on the page as it is: no serious or critical violation. */
export async function expectAccessible(tab: import("playwright-core").Page, name: string): Promise<void> {
  if (!(await tab.evaluate(() => "axe" in window))) await tab.addScriptTag({ content: readFileSync(require.resolve("axe-core/axe.min.js"), "utf8") });
  const violations = await tab.evaluate(
    async () =>
      (
        await (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: AxeViolation[] }> } }).axe.run(document, {
          resultTypes: ["violations"],
        })
      ).violations,
  );
  const grave = violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join("; ")}`);
  expect(grave, `axe-core on ${name}`).to.deep.equal([]);
}

/** Opens `url` in a fresh context (no wallet, empty cache) and times it until `ready` shows; returns the ms and the gzip bytes of the JS it fetched from `dist`. */
export async function firstLoad(session: BrowserSession, url: string, ready: string, dist: string): Promise<{ ms: number; jsGzip: number }> {
  const context = await session.browser.newContext();
  try {
    const page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") session.consoleErrors.push(`${url}: ${m.text()}`);
    });
    const started = Date.now();
    await page.goto(url);
    await page.locator(ready).first().waitFor({ state: "visible", timeout: 60_000 });
    const ms = Date.now() - started;
    const scripts = await page.evaluate(() =>
      performance
        .getEntriesByType("resource")
        .map((e) => e.name)
        .filter((n) => n.endsWith(".js")),
    );
    return { ms, jsGzip: scripts.reduce((sum, u) => sum + gzipSync(readFileSync(path.join(dist, new URL(u).pathname))).length, 0) };
  } finally {
    await context.close();
  }
}
