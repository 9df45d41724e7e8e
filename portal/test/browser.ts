// The one harness of the portal's browser tests (portal.e2e, consent.e2e, studio.e2e, buy.e2e): Debian's
// Chromium through playwright-core with the fixed flags, the stack `npm run portal` starts, test wallets
// injected as EIP-1193 providers (the key stays in the test process; signing requests are answered with
// it, everything else is passed to the node as a wallet would), console-error capture that fails the
// test, axe-core, screenshots, the first load of a route in a fresh context and the gzip size of the
// JavaScript a page fetched, and a cleanup that stops everything whatever happens.
import { expect } from "chai";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { JsonRpcProvider, getBytes, toUtf8String, type Wallet } from "ethers";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { Cleanup } from "@datamarket/demo";
import { startPortalStack, type PortalStack } from "../server/stack";

export const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
/** where screenshots go */
export const OUT = path.join(__dirname, "..", "test-output");
/** the production build the stack serves (npm test builds it first) */
export const DIST = path.join(__dirname, "..", "dist");
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-gpu",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** describe, or describe.skip with a warning outside CI when Chromium is missing (in CI a missing browser fails). */
export function describeInBrowser(name: string): Mocha.SuiteFunction | Mocha.PendingSuiteFunction {
  if (!hasChromium && !process.env.CI) console.warn(`${name}: ${CHROMIUM} is missing (apt-get install -y chromium); the browser test is skipped`);
  return hasChromium || process.env.CI ? describe : describe.skip;
}

/** Whether 0x-hex bytes are UTF-8 text (a sign-in message) rather than a digest (a key request signs one). */
function isUtf8(hex: string): boolean {
  try {
    toUtf8String(hex);
    return true;
  } catch {
    return false;
  }
}

/** Runs a stack's cleanup actions, last first; a failing one is reported and the rest still run. */
async function runCleanup(cleanup: (() => unknown)[]): Promise<void> {
  for (const action of cleanup.reverse()) {
    try {
      await action();
    } catch (error) {
      console.error(`cleanup: ${(error as Error).message}`);
    }
  }
}

async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

interface RpcAnswer {
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

/** A JSON-RPC call to the node, answered as the node answered (errors with their revert data). */
async function passThrough(rpcUrl: string, method: string, params: unknown[]): Promise<RpcAnswer> {
  const response = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as RpcAnswer;
  return body.error ? { error: body.error } : { result: body.result };
}

export interface Persona {
  name: string;
  context: BrowserContext;
  page: Page;
  /** every console error and uncaught exception of the persona's pages */
  errors: string[];
  /** wallet methods the page asked for */
  requests: string[];
  /** those the wallet refused because they are not in the persona's `methods` (the fixture fails the test on any) */
  refused: string[];
  /** what the wallet signed with personal_sign: texts (consent API requests, EIP-4361 sign-ins) as text, digests as 0x hex */
  signedTexts: string[];
}

export interface PersonaOptions {
  rpcUrl: string;
  chainId: number;
  viewport?: { width: number; height: number };
  /** the only wallet methods the persona's pages may call; any other is refused (code 4200). Default: all the wallet serves. */
  methods?: readonly string[];
}

/**
 * A browser context whose window.ethereum is a wallet holding `wallet`'s key, on the node at `rpcUrl`:
 * a transaction without a gas limit gets the node's estimate, as a wallet's would.
 */
export async function persona(browser: Browser, name: string, wallet: Wallet, o: PersonaOptions): Promise<Persona> {
  const context = await browser.newContext({ viewport: o.viewport ?? { width: 1280, height: 900 } });
  const requests: string[] = [];
  const signedTexts: string[] = [];
  const refused: string[] = [];
  const address = wallet.address.toLowerCase();
  const own = (account: unknown) => {
    if (String(account).toLowerCase() !== address) throw new Error(`asked to sign for ${String(account)}, not the wallet's account ${address}`);
  };
  await context.exposeFunction("__testWallet", async (method: string, params: unknown[]): Promise<RpcAnswer> => {
    requests.push(method);
    if (o.methods && !o.methods.includes(method)) {
      refused.push(method);
      return { error: { code: 4200, message: `the test wallet does not support ${method}` } };
    }
    try {
      switch (method) {
        case "eth_requestAccounts":
        case "eth_accounts":
          return { result: [address] };
        case "eth_chainId":
          return { result: `0x${o.chainId.toString(16)}` };
        case "personal_sign": {
          const [message, account] = params as [string, string];
          own(account);
          signedTexts.push(isUtf8(message) ? toUtf8String(message) : message);
          return { result: await wallet.signMessage(getBytes(message)) };
        }
        case "eth_signTypedData_v4": {
          const [account, json] = params as [string, string];
          own(account);
          const { domain, types, message } = JSON.parse(json) as {
            domain: Record<string, unknown>;
            types: Record<string, { name: string; type: string }[]>;
            message: Record<string, unknown>;
          };
          delete types.EIP712Domain;
          return { result: await wallet.signTypedData(domain, types, message) };
        }
        case "eth_sendTransaction": {
          const [tx] = params as [{ from: string; to?: string; data?: string; value?: string; gas?: string; nonce?: string }];
          own(tx.from);
          const nonce = tx.nonce ?? ((await passThrough(o.rpcUrl, "eth_getTransactionCount", [address, "pending"])).result as string);
          const gasPrice = (await passThrough(o.rpcUrl, "eth_gasPrice", [])).result as string;
          let gas = tx.gas;
          if (gas === undefined) {
            const estimate = await passThrough(o.rpcUrl, "eth_estimateGas", [{ from: address, to: tx.to, data: tx.data, value: tx.value }]);
            if (estimate.error) return estimate;
            gas = estimate.result as string;
          }
          const signed = await wallet.signTransaction({
            type: 0,
            chainId: o.chainId,
            to: tx.to,
            data: tx.data ?? "0x",
            value: BigInt(tx.value ?? 0),
            gasLimit: BigInt(gas),
            gasPrice: BigInt(gasPrice),
            nonce: Number(nonce),
          });
          return passThrough(o.rpcUrl, "eth_sendRawTransaction", [signed]);
        }
        default:
          if (method.startsWith("wallet_") || method === "eth_sign" || method === "eth_signTransaction")
            return { error: { code: 4200, message: `the test wallet does not support ${method}` } };
          return passThrough(o.rpcUrl, method, params);
      }
    } catch (error) {
      return { error: { code: -32603, message: (error as Error).message } };
    }
  });
  await context.addInitScript(() => {
    const call = (globalThis as unknown as { __testWallet(method: string, params: unknown[]): Promise<RpcAnswer> }).__testWallet;
    (window as unknown as { ethereum: unknown }).ethereum = {
      request: async ({ method, params }: { method: string; params?: unknown[] }) => {
        const answer = await call(method, params ?? []);
        if (answer.error) throw Object.assign(new Error(answer.error.message), answer.error);
        return answer.result;
      },
      on: () => undefined,
    };
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${name}: ${m.text()}${m.location().url ? ` (${m.location().url})` : ""}`);
  });
  page.on("pageerror", (e) => errors.push(`${name}: uncaught ${e.message}`));
  return { name, context, page, errors, requests, refused, signedTexts };
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core on the page as it is: no serious or critical violation. */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ content: readFileSync(require.resolve("axe-core/axe.min.js"), "utf8") });
  const violations = await page.evaluate(
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

/** No sideways scrolling (the 360 px check). */
export async function expectNoOverflow(page: Page, name: string): Promise<void> {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${name} scrolls sideways at ${page.viewportSize()?.width} px`).to.be.at.most(0);
}

/** The JavaScript the page fetched from the build, gzip-compressed as a server would send it. */
async function jsGzipBytes(page: Page, distDir: string): Promise<number> {
  const scripts = await page.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .map((e) => e.name)
      .filter((n) => n.endsWith(".js")),
  );
  return scripts.reduce((sum, url) => sum + gzipSync(readFileSync(path.join(distDir, new URL(url).pathname))).length, 0);
}

/**
 * A page's first load in a fresh context (empty cache): ms from navigation until `ready` is visible, and
 * the JavaScript it fetched by then (gzip). Console errors go to `errors`; `ready` must show within `timeout` ms.
 */
async function firstLoad(
  browser: Browser,
  url: string,
  ready: string,
  distDir: string,
  errors: string[],
  timeout: number,
): Promise<{ ms: number; jsGzip: number }> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`${url}: ${m.text()}`);
    });
    const started = Date.now();
    await page.goto(url);
    await page.locator(ready).first().waitFor({ state: "visible", timeout });
    const ms = Date.now() - started;
    return { ms, jsGzip: await jsGzipBytes(page, distDir) };
  } finally {
    await context.close();
  }
}

/** What a browser test of the portal works with: the stack, the browser, a node provider, the personas, the first loads. */
export class PortalInBrowser {
  stack!: PortalStack;
  browser!: Browser;
  /** a provider on the stack's node, polling every 50 ms */
  provider!: JsonRpcProvider;
  /** what `after` runs, last first, whatever happened */
  readonly cleanup: Cleanup = [];
  /** every persona made with `persona`: a console error on any of its pages fails the test that caused it */
  readonly personas: Persona[] = [];
  /** console errors of the first-load contexts */
  readonly errors: string[] = [];
  /** ms until each measured page was ready */
  readonly loadTimes: Record<string, number> = {};
  /** gzip bytes of the JavaScript each first load fetched */
  readonly jsGzip: Record<string, number> = {};

  /** A browser context with `wallet` injected as its window.ethereum (see `persona` above). */
  async persona(name: string, wallet: Wallet, o: Omit<PersonaOptions, "rpcUrl" | "chainId"> = {}): Promise<Persona> {
    const p = await persona(this.browser, name, wallet, { ...o, rpcUrl: this.stack.rpcUrl, chainId: this.stack.config.chainId });
    this.personas.push(p);
    return p;
  }

  /** Opens a route in a new document (not a same-document hash change) and waits until `ready` is visible. */
  async open(page: Page, route: string, ready: string): Promise<void> {
    await page.goto("about:blank");
    await page.goto(`${this.stack.portalUrl}#/${route}`);
    await page.locator(ready).first().waitFor({ state: "visible", timeout: 30_000 });
  }

  /** A full-page screenshot to portal/test-output/`name`.png. */
  async shoot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
  }

  /** Measures the first load of `route` in a fresh context (empty cache) until `ready` shows, as `name` in the report `after` prints. */
  async firstLoad(name: string, route: string, ready: string, timeout = 30_000): Promise<void> {
    ({ ms: this.loadTimes[name], jsGzip: this.jsGzip[name] } = await firstLoad(
      this.browser,
      `${this.stack.portalUrl}#/${route}`,
      ready,
      DIST,
      this.errors,
      timeout,
    ));
  }

  private report(): void {
    if (!Object.keys(this.loadTimes).length) return;
    const list = <T>(record: Record<string, T>, show: (v: T) => string) =>
      Object.entries(record)
        .map(([page, v]) => `${page} ${show(v)}`)
        .join(", ");
    const load = loadavg()
      .map((l) => l.toFixed(2))
      .join(" ");
    console.log(`      first load (production build, localhost, empty cache): ${list(this.loadTimes, (ms) => `${ms} ms`)}; load ${load}`);
    console.log(`      JS fetched by each page, gzip: ${list(this.jsGzip, (b) => `${(b / 1024).toFixed(1)} KiB`)}`);
  }

  /**
   * Registers the suite's hooks: `before` starts the stack of `npm run portal` on the production build and
   * Chromium; `afterEach` fails a test that left a console error on any page or asked a wallet for a method
   * its persona may not use; `after` closes the browser, stops everything the stack started and prints the
   * first loads measured.
   */
  static hooks(): PortalInBrowser {
    const t = new PortalInBrowser();
    before(async () => {
      expect(existsSync(path.join(DIST, "index.html")), "portal/dist is built (npm test builds it first)").to.equal(true);
      mkdirSync(OUT, { recursive: true });
      t.stack = await startPortalStack({ cleanup: t.cleanup, distDir: DIST });
      const provider = new JsonRpcProvider(t.stack.rpcUrl, undefined, { pollingInterval: 50, cacheTimeout: -1 });
      t.cleanup.push(() => provider.destroy());
      t.provider = provider;
      const browser = await launchChromium();
      t.cleanup.push(() => browser.close());
      t.browser = browser;
    });
    after(async () => {
      await runCleanup(t.cleanup);
      t.report();
    });
    afterEach(() => {
      expect([...t.errors, ...t.personas.flatMap((p) => p.errors)], "console errors on the pages").to.deep.equal([]);
      expect(
        t.personas.flatMap((p) => p.refused.map((method) => `${p.name}: ${method}`)),
        "wallet methods the pages may not call",
      ).to.deep.equal([]);
    });
    return t;
  }
}
