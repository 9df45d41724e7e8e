// The portal's entry: loads the deployment's config, wires the chain reader, the indexer, the wallet
// and the consent API, and routes #/discover, #/audit, #/consent and the buyer's #/product/<id>,
// #/licences, #/stream/<id> and #/dataset/<id> (hash routes: any static server
// can host the build). Pages are loaded on demand so each route ships only its own code.
import { loadConfig } from "./config";
import { ConsentApiClient } from "./consent-client";
import { $, html, short } from "./dom";
import { describeError } from "./errors";
import { Indexer } from "./indexer";
import { ChainReader } from "./rpc";
import { Wallet } from "./wallet";
import type { App, Page } from "./app";
import "./style.css";

const ROUTES: Record<string, () => Promise<Page>> = {
  discover: async () => (await import("./pages/discover")).discover,
  audit: async () => (await import("./pages/audit")).audit,
  consent: async () => (await import("./pages/consent")).consent,
  studio: async () => (await import("./pages/studio")).studio,
  product: async () => (await import("./pages/product")).product,
  licences: async () => (await import("./pages/licences")).licences,
  stream: async () => (await import("./pages/stream-view")).streamView,
  dataset: async () => (await import("./pages/dataset")).dataset,
};

const statusLine = () => $("#status");

async function main(): Promise<void> {
  const config = await loadConfig();
  const chain = new ChainReader(config.rpcUrl);
  const wallet = new Wallet(config.chainId);
  const app: App = {
    config,
    chain,
    wallet,
    indexer: new Indexer(chain, config),
    consentApi: new ConsentApiClient(config.consentApiUrl, wallet, config.chainId),
    status: (message) => {
      const s = statusLine();
      s.className = "";
      s.setAttribute("role", "status");
      s.textContent = message;
    },
    alert: (message) => {
      const s = statusLine();
      s.className = "error";
      s.setAttribute("role", "alert");
      s.textContent = message;
    },
  };
  const connect = $<HTMLButtonElement>("#connect");
  const drawWallet = () => {
    connect.innerHTML = wallet.address ? html`Connected ${short(wallet.address)}`.text : "Connect wallet";
  };
  wallet.onChange(drawWallet);
  connect.addEventListener("click", () => {
    wallet.connect().then(
      (a) => app.status(`connected ${a}`),
      (e) => app.alert(describeError(e)),
    );
  });
  drawWallet();

  let stop: (() => void) | void;
  const route = async () => {
    // #/name or #/name/argument (#/product/0x…): the argument goes to the page
    const [first, ...args] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
    const name = first || "discover";
    const load = ROUTES[name];
    stop?.();
    stop = undefined;
    const main = $("#main");
    if (!load) {
      main.innerHTML = html`<h1>Not found</h1>
        <p>There is no page "${name}". Try <a href="#/discover">Discover</a>.</p>`.text;
      return;
    }
    for (const a of document.querySelectorAll<HTMLAnchorElement>("nav a")) {
      if (a.hash === `#/${name}`) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    const page = await load();
    document.title = `${page.title} · DataMarket portal`;
    main.setAttribute("aria-busy", "true");
    try {
      stop = await page.render(main, app, args);
    } catch (error) {
      app.alert(describeError(error));
    } finally {
      main.removeAttribute("aria-busy");
      main.focus({ preventScroll: true });
    }
  };
  window.addEventListener("hashchange", () => void route());
  await route();
}

main().catch((error) => {
  const s = document.getElementById("status");
  if (s) {
    s.className = "error";
    s.setAttribute("role", "alert");
    s.textContent = `The portal could not start: ${describeError(error)}`;
  }
  console.error(error);
});
