// A product and its purchase (#/product/<productId>): the buyer picks one of the purposes the product
// is sold for and a licence length, asks the consent ledger for access through the consent API (signed
// by the wallet), sees the decision with its reasons (and, for a dataset, the released and left-out
// subjects), waits for k of the n consent bridges to sign the grant's attestation, then pays with one
// permit signature and one transaction (the SDK's MarketClient.buyWithPermit, which also registers this
// browser's encryption key).
import { dataLicenseMarketAbi } from "@datamarket/contracts";
import { $, data, date, duration, html, purposeName, purposeTerm, short, type Html } from "../dom";
import { decisionHtml } from "../decision";
import { describeError } from "../errors";
import type { Product, Resource } from "../indexer";
import type { App, Page } from "../app";

const DAY = 86_400;
/** the longest grant the consent API asks the ledger for (docs/portal.md, buyers' access requests) */
const MAX_GRANT_SECONDS = 30 * DAY;
/**
 * A consent-gated licence may not outlive its grant (the market's LicenseOutlivesConsent). The page asks
 * for the longest grant, so that the licence can be extended under it (My licences) without a new
 * request; the longest licence leaves this margin for the time between the decision and the purchase.
 */
const GRANT_MARGIN_SECONDS = 3_600;

function resourceItem(r: Resource | undefined, id: string): Html {
  if (!r) return html`<li>unknown resource ${short(id)}</li>`;
  const link = r.kind === "stream" ? `#/stream/${r.id}` : `#/dataset/${r.id}`;
  return html`<li><span class="tag">${r.kind}</span> <a href="${link}">${r.name}</a> <span class="mono">${r.path}</span></li>`;
}

export const product: Page = {
  title: "Product",
  async render(main, app, args) {
    const productId = (args[0] ?? "").toLowerCase();
    if (!/^0x[0-9a-f]{64}$/.test(productId)) {
      main.innerHTML = html`<h1>Product</h1>
        <p>The address must name a product id (0x and 64 hex digits). Find one on <a href="#/discover">Discover</a>.</p>`.text;
      return;
    }
    app.status("reading the product from the chain…");
    await app.indexer.sync();
    const p: Product | undefined = app.indexer.products.get(productId);
    if (!p) {
      main.innerHTML = html`<h1>Unknown product</h1>
        <p>No product ${productId} on this market. Find one on <a href="#/discover">Discover</a>.</p>`.text;
      app.status("");
      return;
    }
    const first = app.indexer.resources.get(p.resources[0]);
    const purposes = [...p.purposes].map((id) => ({ id, term: purposeTerm(id) })).filter((x): x is { id: string; term: string } => x.term !== undefined);
    const market = app.chain.contract(app.config.contracts.DataLicenseMarket, dataLicenseMarketAbi);
    const minDays = Math.max(1, Math.ceil(p.minSeconds / DAY));
    const maxDays = Math.floor((p.requiresConsent ? Math.min(p.maxSeconds, MAX_GRANT_SECONDS - GRANT_MARGIN_SECONDS) : p.maxSeconds) / DAY);
    main.innerHTML = html`<h1>${first ? first.name : "Product"}</h1>
      ${first?.description ? html`<p>${first.description}</p>` : ""}
      <dl class="facts" data-product="${p.id}">
        <dt>Seller</dt>
        <dd>${short(p.seller)}</dd>
        <dt>Price per day</dt>
        <dd>${data(p.pricePerSecond * 86_400n)}</dd>
        <dt>Licence length</dt>
        <dd>${duration(p.minSeconds)} to ${duration(p.maxSeconds)}</dd>
        <dt>Consent</dt>
        <dd>${p.requiresConsent ? "required: the consent ledger decides each request for its purpose" : "not required"}</dd>
        <dt>Sold for</dt>
        <dd>${purposes.length ? purposes.map((x) => purposeName(x.term)).join(", ") : "any purpose"}</dd>
        <dt>State</dt>
        <dd>${p.state}</dd>
        <dt>Terms</dt>
        <dd class="mono">${p.termsUri}</dd>
      </dl>
      <h2>Resources</h2>
      <ul>
        ${p.resources.map((r) => resourceItem(app.indexer.resources.get(r), r))}
      </ul>
      <section aria-labelledby="buy-h">
        <h2 id="buy-h">Buy a licence</h2>
        <form id="buy-form">
          ${
            p.requiresConsent
              ? html`<label for="purpose">Purpose of use</label>
                  <select id="purpose" required>
                    ${purposes.map((x) => html`<option value="${x.term}">${purposeName(x.term)}</option>`)}
                  </select>`
              : ""
          }
          <label for="days"
            >Licence length, days (${minDays} to
            ${maxDays}${p.requiresConsent && maxDays * DAY < p.maxSeconds ? ": a consent grant lasts 30 days at most" : ""})</label
          >
          <input id="days" type="number" min="${minDays}" max="${maxDays}" value="${Math.min(maxDays, Math.max(minDays, 7))}" required />
          <p id="quote" aria-live="polite"></p>
          <button type="submit" id="request" ${p.state !== "on sale" ? "disabled" : ""}>${p.requiresConsent ? "Request access" : "Buy"}</button>
        </form>
        <div id="decision" aria-live="polite"></div>
        <div id="attestations" hidden>
          <label for="attest-progress">Consent bridges' attestations</label>
          <progress id="attest-progress" max="1" value="0"></progress>
          <p id="attest-text"></p>
        </div>
        <p><button type="button" id="buy" hidden>Buy</button></p>
        <div id="bought" aria-live="polite"></div>
      </section>`.text;
    app.status("");
    if (p.state !== "on sale") app.status(`this product is ${p.state}: it cannot be bought now`);

    const days = $<HTMLInputElement>("#days", main);
    const seconds = () => Math.round(Number(days.value) * DAY);
    const quote = async () => {
      const s = seconds();
      if (!(s >= p.minSeconds && s <= p.maxSeconds)) {
        $("#quote", main).textContent = `Choose between ${minDays} and ${maxDays} days.`;
        return undefined;
      }
      const cost = await market.view<bigint>("quote", p.id, s);
      $("#quote", main).textContent = `${duration(s)} cost ${data(cost)}.`;
      return cost;
    };
    days.addEventListener("input", () => void quote().catch((e) => app.alert(describeError(e))));
    await quote();

    let grantId: string | null = null;
    const buyButton = $<HTMLButtonElement>("#buy", main);
    const showBuy = async () => {
      const cost = await quote();
      buyButton.textContent = `Buy ${duration(seconds())} for ${cost === undefined ? "…" : data(cost)}`;
      buyButton.hidden = false;
      buyButton.focus();
    };
    const abort = new AbortController();

    $<HTMLFormElement>("#buy-form", main).addEventListener("submit", (event) => {
      event.preventDefault();
      const button = $<HTMLButtonElement>("#request", main);
      button.disabled = true;
      void (async () => {
        try {
          if (!p.requiresConsent) {
            await showBuy();
            return;
          }
          const purpose = $<HTMLSelectElement>("#purpose", main).value;
          if (!app.wallet.address) await app.wallet.connect();
          app.status(`asking the consent ledger for access for ${purposeName(purpose)} (sign the request in your wallet)…`);
          const decision = await app.consentApi.requestAccess({ productId: p.id, purpose, ttlSeconds: MAX_GRANT_SECONDS });
          $("#decision", main).innerHTML = decisionHtml(decision).text;
          if (decision.decision !== "approved" || !decision.grantId) {
            app.alert(`access denied: ${decision.reasons.join(", ") || "no reason given"}`);
            return;
          }
          grantId = decision.grantId;
          const urls = app.config.bridgeUrls ?? [];
          const needed = Number(await market.view<bigint>("attestorThreshold"));
          const box = $("#attestations", main);
          box.hidden = false;
          const bar = $<HTMLProgressElement>("#attest-progress", main);
          bar.max = needed;
          app.status(`access approved; waiting for ${needed} of ${urls.length} consent bridges to attest the grant…`);
          const { awaitAttestations } = await import("../tx");
          await awaitAttestations(
            urls,
            grantId,
            needed,
            (progress) => {
              bar.value = Math.min(progress.signed, needed);
              $("#attest-text", main).textContent = `${progress.signed} of ${progress.bridges} bridges signed (${needed} needed)`;
            },
            { signal: abort.signal },
          );
          app.status(`${needed} attestations collected: you can buy`);
          await showBuy();
        } catch (error) {
          app.alert(describeError(error));
        } finally {
          button.disabled = false;
        }
      })();
    });

    buyButton.addEventListener("click", () => {
      buyButton.disabled = true;
      void (async () => {
        try {
          const { marketClient, encryptionKey, registeredEncryptionKey } = await import("../tx");
          const client = await marketClient(app);
          const me = app.wallet.address!;
          // the key is registered in the purchase's own transaction unless this browser's key already is
          const registered = await registeredEncryptionKey(app, me);
          app.status("sign the permit in your wallet, then confirm the purchase transaction…");
          const result = await client.buyWithPermit({
            productId: p.id,
            duration: seconds(),
            ...(grantId ? { grantId } : {}),
            ...(registered ? {} : { encryptionKey: encryptionKey(app, me).publicKey }),
          });
          const licence = await market.view<{ end: bigint }>("getLicense", p.id, me);
          $("#bought", main).innerHTML = html`<p class="verdict ok" id="licence-end">
              Licence bought for ${data(result.cost)}: valid until ${date(Number(licence.end))}.
            </p>
            <p>Transaction <span class="mono">${result.receipt.hash}</span>. See <a href="#/licences">My licences</a>.</p>`.text;
          app.status(`licence bought, valid until ${date(Number(licence.end))}`);
          buyButton.hidden = true;
        } catch (error) {
          app.alert(describeError(error));
        } finally {
          buyButton.disabled = false;
        }
      })();
    });
    return () => abort.abort();
  },
};
