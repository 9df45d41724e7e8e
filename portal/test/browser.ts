// What a browser test of the portal needs: Debian's Chromium through playwright-core, a test wallet
// injected as an EIP-1193 provider (the key stays in the test process; signing requests are answered
// with it, everything else is passed to the node as a wallet would), console-error capture, axe-core,
// screenshots and the gzip size of the JavaScript a page fetched.
import { expect } from "chai";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { getBytes, toUtf8String, type Wallet } from "ethers";
import type { Browser, BrowserContext, Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-gpu",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

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
export async function runCleanup(cleanup: (() => unknown)[]): Promise<void> {
  for (const action of cleanup.reverse()) {
    try {
      await action();
    } catch (error) {
      console.error(`cleanup: ${(error as Error).message}`);
    }
  }
}

export async function launchChromium(): Promise<Browser> {
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
  /** what the wallet signed with personal_sign: texts (consent API requests, EIP-4361 sign-ins) as text, digests as 0x hex */
  signedTexts: string[];
}

/** A browser context whose window.ethereum is a wallet holding `wallet`'s key, on the node at `rpcUrl`. */
export async function persona(
  browser: Browser,
  name: string,
  wallet: Wallet,
  o: { rpcUrl: string; chainId: number; viewport?: { width: number; height: number } },
): Promise<Persona> {
  const context = await browser.newContext({ viewport: o.viewport ?? { width: 1280, height: 900 } });
  const requests: string[] = [];
  const signedTexts: string[] = [];
  const address = wallet.address.toLowerCase();
  const own = (account: unknown) => {
    if (String(account).toLowerCase() !== address) throw new Error(`asked to sign for ${String(account)}, not the wallet's account ${address}`);
  };
  await context.exposeFunction("__testWallet", async (method: string, params: unknown[]): Promise<RpcAnswer> => {
    requests.push(method);
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
          const signed = await wallet.signTransaction({
            type: 0,
            chainId: o.chainId,
            to: tx.to,
            data: tx.data ?? "0x",
            value: BigInt(tx.value ?? 0),
            gasLimit: BigInt(tx.gas ?? 3_000_000),
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
  return { name, context, page, errors, requests, signedTexts };
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
export async function jsGzipBytes(page: Page, distDir: string): Promise<number> {
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
 * the JavaScript it fetched by then (gzip). Console errors go to `errors`.
 */
export async function firstLoad(browser: Browser, url: string, ready: string, distDir: string, errors: string[]): Promise<{ ms: number; jsGzip: number }> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`${url}: ${m.text()}`);
    });
    const started = Date.now();
    await page.goto(url);
    await page.locator(ready).first().waitFor({ state: "visible", timeout: 30_000 });
    const ms = Date.now() - started;
    return { ms, jsGzip: await jsGzipBytes(page, distDir) };
  } finally {
    await context.close();
  }
}
