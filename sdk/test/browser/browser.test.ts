// The SDK's browser build, proven in a browser: a page bundled by Vite from `@datamarket/sdk`
// (the package's `browser` export) runs in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core), signs in to a real broker on 127.0.0.1 (EIP-4361), subscribes to an encrypted
// stream, requests the group key from the publisher over HTTP (CORS) and decrypts the events a
// Node publisher sends. Any console error or uncaught exception on the page fails the test; the
// broker, the key-request server and the browser are stopped in `after` whatever happens.
// The bundle's size (raw and gzip) is printed.

import { expect } from "chai";
import { createServer, type Server } from "node:http";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { Wallet } from "ethers";
import { generateKeyPair, toHex } from "@datamarket/protocol";
import { serveKeyRequests } from "../../src/client/keyRequestHttp";
import { createStream, makeClient, startTestNet, type TestNet } from "../helpers";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-gpu",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const EVENTS = 5;

/** Bundles page/ with Vite into `outDir`; returns the JS assets' total size, raw and gzip. */
async function bundlePage(outDir: string): Promise<{ raw: number; gzip: number; files: string[] }> {
  const { build } = await import("vite");
  await build({
    root: path.join(__dirname, "page"),
    logLevel: "warn",
    configFile: false,
    build: { outDir, emptyOutDir: true, reportCompressedSize: false, chunkSizeWarningLimit: 2048 },
  });
  const assets = path.join(outDir, "assets");
  const files = readdirSync(assets).filter((f) => f.endsWith(".js"));
  let raw = 0;
  let gzip = 0;
  for (const f of files) {
    const bytes = readFileSync(path.join(assets, f));
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { raw, gzip, files };
}

/** Serves the built page (GET only) on 127.0.0.1, port 0. */
function servePage(dir: string): Promise<{ url: string; server: Server }> {
  const types: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".map": "application/json" };
  const server = createServer((req, res) => {
    const file = path.join(dir, decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    const target = file.endsWith("/") ? path.join(file, "index.html") : file;
    if (!target.startsWith(dir) || !existsSync(target) || !statSync(target).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": types[path.extname(target)] ?? "application/octet-stream" }).end(readFileSync(target));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server })));
}

// CI (.ci/run) installs Debian's chromium and must run this; elsewhere it is skipped, saying why.
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && !process.env.CI) console.warn(`sdk/test/browser: ${CHROMIUM} is missing (apt-get install -y chromium); the browser test is skipped`);

(hasChromium || process.env.CI ? describe : describe.skip)("the SDK in a browser (Vite bundle, headless Chromium)", function () {
  this.timeout(180_000);
  let net: TestNet | undefined;
  let keyServer: { close(): Promise<void> } | undefined;
  let pageServer: Server | undefined;
  let context: import("playwright-core").BrowserContext | undefined;
  const workDir = mkdtempSync(path.join(tmpdir(), "sdk-browser-"));

  after(async () => {
    await context?.close().catch(() => undefined);
    await keyServer?.close().catch(() => undefined);
    await new Promise<void>((r) => (pageServer ? pageServer.close(() => r()) : r()));
    await net?.stop().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  });

  it("signs in, subscribes, requests the group key and decrypts events, with no console error", async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} (Debian's chromium; .ci/run installs it)`).to.equal(true);
    const size = await bundlePage(path.join(workDir, "page"));
    console.log(`      browser page bundle: ${size.raw} bytes raw, ${size.gzip} bytes gzip (${size.files.join(", ")})`);

    net = await startTestNet();
    const publisher = makeClient(net);
    const subscriberWallet = new Wallet(Wallet.createRandom().privateKey);
    const subscriberAddress = subscriberWallet.address.toLowerCase();
    const encryption = generateKeyPair();
    net.registeredKeys.set(subscriberAddress, encryption.publicKey);
    const stream = createStream(net, publisher.address, "/browser/heart-rate");
    net.gate.grantPublish(stream, publisher.address).grantSubscribe(stream, subscriberAddress);
    const keys = await serveKeyRequests(publisher.client, { allowOrigin: "*" });
    keyServer = keys;
    const page = await servePage(path.join(workDir, "page"));
    pageServer = page.server;

    const { chromium } = await import("playwright-core");
    context = await chromium.launchPersistentContext(path.join(workDir, "profile"), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const tab = await context.newPage();
    const consoleErrors: string[] = [];
    tab.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    tab.on("pageerror", (e) => consoleErrors.push(`uncaught: ${e.message}`));
    const query = new URLSearchParams({
      broker: net.url,
      keyUrl: keys.url,
      stream,
      publisher: publisher.address,
      walletKey: subscriberWallet.privateKey,
      encryptionKey: toHex(encryption.privateKey),
    });
    await tab.goto(`${page.url}?${query}`);
    const read = () =>
      tab.evaluate(
        () =>
          (
            globalThis as unknown as {
              __sdk?: { subscribed: boolean; received: { sequenceNumber: number; encrypted: boolean; value: unknown }[]; errors: string[]; backend: string };
            }
          ).__sdk,
      );
    await waitForAsync(async () => (await read())?.subscribed === true || (await read())?.errors.length !== 0, "the page to subscribe", 30_000);
    expect((await read())!.errors).to.deep.equal([]);

    for (let i = 0; i < EVENTS; i++) await publisher.client.publish(stream, { bpm: 60 + i }); // encrypted, no key announced to the page
    await waitForAsync(
      async () => ((await read())?.received.length ?? 0) >= EVENTS || ((await read())?.errors.length ?? 0) > 0,
      "the page to decrypt every event",
      30_000,
    );
    const state = (await read())!;
    expect(state.errors).to.deep.equal([]);
    expect(state.backend).to.equal("noble/browser");
    expect(state.received.map((m) => ({ encrypted: m.encrypted, value: m.value }))).to.deep.equal(
      Array.from({ length: EVENTS }, (_, i) => ({ encrypted: true, value: { bpm: 60 + i } })),
    );
    // One chain, in order: consecutive sequence numbers (a new chain starts from the clock, docs/protocol.md).
    expect(state.received.map((m) => m.sequenceNumber - state.received[0].sequenceNumber)).to.deep.equal(Array.from({ length: EVENTS }, (_, i) => i));
    expect(consoleErrors).to.deep.equal([]);
  });
});

async function waitForAsync(cond: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
