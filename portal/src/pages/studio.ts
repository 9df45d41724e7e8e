// Seller studio: what the connected wallet sells. Its products (pause and resume sales), its income
// (released and releasable escrow, withdrawn in one click with a step per transaction), the
// subscribers of its products with each licence's end, its streams with a Rekey action
// (studio-streams.ts), and the forms that create a stream, an
// encrypted dataset and a product (studio-create.ts). Every state change is a transaction the
// seller's own wallet signs; the page only reads the chain and asks the wallet.
import { dataLicenseMarketAbi, withProtocolErrors } from "@datamarket/contracts";
import { Interface } from "ethers";
import { $, data, date, html, purposeName, short, words, type Html } from "../dom";
import { describeError } from "../errors";
import type { Product } from "../indexer";
import type { App, Page } from "../app";
import { decodeTerms } from "./studio-terms";
import { StepError, transactor } from "./studio-tx";
import { createForms } from "./studio-create";
import { streamsSection, wireRekey } from "./studio-streams";

const LICENSE_STATUS = ["none", "active", "disputed", "ended", "revoked in dispute"];

export interface Subscriber {
  productId: string;
  buyer: string;
  end: number;
  status: string;
  escrow: bigint;
  releasable: bigint;
}

const marketAbi = withProtocolErrors(dataLicenseMarketAbi);
const marketEvents = new Interface(dataLicenseMarketAbi);

/** Every (product, buyer) that ever bought one of `productIds`, from the market's LicensePurchased events. */
async function buyersOf(app: App, productIds: string[]): Promise<{ productId: string; buyer: string }[]> {
  if (productIds.length === 0) return [];
  const topic = marketEvents.getEvent("LicensePurchased")!.topicHash;
  const logs = await app.chain.request<{ topics: string[] }[]>("eth_getLogs", [
    {
      address: app.config.contracts.DataLicenseMarket,
      fromBlock: `0x${app.config.fromBlock.toString(16)}`,
      toBlock: `0x${app.indexer.head.toString(16)}`,
      topics: [topic, productIds],
    },
  ]);
  const seen = new Map<string, { productId: string; buyer: string }>();
  for (const log of logs) {
    const productId = log.topics[1].toLowerCase();
    const buyer = `0x${log.topics[2].slice(26)}`.toLowerCase();
    seen.set(`${productId}:${buyer}`, { productId, buyer });
  }
  return [...seen.values()];
}

function productName(app: App, p: Product): string {
  const first = app.indexer.resources.get(p.resources[0]);
  return `${first ? first.name : "Product"}${p.resources.length > 1 ? ` and ${p.resources.length - 1} more` : ""}`;
}

function criteriaLine(p: Product): Html {
  const purposes = [...p.purposes].map(purposeName);
  const terms = decodeTerms(p.termsUri)?.accessCriteria;
  const list = (label: string, values: string[] | undefined) => (values?.length ? html`<br /><small>${label}: ${values.map(words).join(", ")}</small>` : "");
  return html`${p.requiresConsent ? "consent required" : "no consent gate"}${purposes.length ? html`; sold for ${purposes.join(", ")}` : ""}${list(
    "buyer types",
    terms?.buyerTypes,
  )}${terms?.jurisdictions.length ? html`<br /><small>jurisdictions: ${terms.jurisdictions.join(", ")}</small>` : ""}${list("data categories", terms?.dataCategories)}`;
}

export const studio: Page = {
  title: "Seller studio",
  async render(main, app) {
    main.innerHTML = html`<h1>Seller studio</h1>
      <p>Create streams, datasets and products, and manage what you sell. Every change is a transaction your wallet signs.</p>
      <div id="studio"></div>`.text;
    const root = $("#studio", main);
    const market = app.chain.contract(app.config.contracts.DataLicenseMarket, marketAbi);
    const tx = transactor(app);
    let busy = false;

    /** Runs a sequence of transactions with the buttons disabled; a failure is shown in words. */
    const run = async (work: () => Promise<string>) => {
      if (busy) return;
      busy = true;
      for (const b of root.querySelectorAll<HTMLButtonElement>("button")) b.disabled = true;
      app.status("preparing…"); // replaces the last error, if any
      try {
        const done = await work();
        await draw();
        app.status(done);
      } catch (error) {
        app.alert(error instanceof StepError ? error.message : describeError(error));
        for (const b of root.querySelectorAll<HTMLButtonElement>("button")) b.disabled = false;
      } finally {
        busy = false;
      }
    };

    const draw = async (): Promise<void> => {
      const me = app.wallet.address;
      if (!me) {
        root.innerHTML = html`<p>Connect the wallet you sell from to see your products and income.</p>
          <button type="button" id="studio-connect">Connect wallet</button>`.text;
        $("#studio-connect", root).addEventListener("click", () => {
          // the wallet's change listener below redraws the studio for the connected account
          app.wallet.connect().catch((e) => app.alert(describeError(e)));
        });
        return;
      }
      app.status("reading your products, subscribers and income…");
      await app.indexer.sync();
      const products = [...app.indexer.products.values()].filter((p) => p.seller === me && p.state !== "deleted");
      const [claimable, pairs] = await Promise.all([
        market.view<bigint>("claimableOf", me),
        buyersOf(
          app,
          products.map((p) => p.id),
        ),
      ]);
      const subscribers: Subscriber[] = await Promise.all(
        pairs.map(async ({ productId, buyer }) => {
          const [licence, escrow, releasable] = await Promise.all([
            market.view<{ end: bigint; status: bigint }>("getLicense", productId, buyer),
            market.view<bigint>("escrowOf", productId, buyer),
            market.view<bigint>("releasable", productId, buyer),
          ]);
          return { productId, buyer, end: Number(licence.end), status: LICENSE_STATUS[Number(licence.status)] ?? "unknown", escrow, releasable };
        }),
      );
      const now = Number((await app.chain.request<{ timestamp: string }>("eth_getBlockByNumber", ["latest", false])).timestamp);
      const releasable = subscribers.reduce((sum, s) => sum + s.releasable, 0n);
      const owedToOthers = products.some((p) => p.beneficiary !== me);
      root.innerHTML = html`<section aria-labelledby="income-h">
          <h2 id="income-h">Income</h2>
          <dl class="facts">
            <dt>Withdrawable now</dt>
            <dd id="claimable">${data(claimable)}</dd>
            <dt>Earned, not yet released</dt>
            <dd id="releasable">${data(releasable)} from ${subscribers.filter((s) => s.releasable > 0n).length} licence(s)</dd>
            <dt>Escrow held for your licences</dt>
            <dd>${data(subscribers.reduce((sum, s) => sum + s.escrow, 0n))}</dd>
          </dl>
          <p>
            <small
              >Escrow is released as a licence's time passes; for a product with a stream, only as far as the network coordinator has proven delivery (finalized
              reporting rounds, when the market has a delivery oracle).</small
            >
          </p>
          ${owedToOthers ? html`<p><small>Escrow of a product whose beneficiary is another address is released to that address.</small></p>` : ""}
          <button type="button" id="withdraw" ${claimable === 0n && releasable === 0n ? "disabled" : ""}>Withdraw income</button>
        </section>
        <section aria-labelledby="mine-h">
          <h2 id="mine-h">Your products</h2>
          <div class="scroll" tabindex="0" role="region" aria-label="Your products table">
            <table id="my-products">
              <caption class="sr-only">
                Products you listed
              </caption>
              <thead>
                <tr>
                  <th scope="col">Product</th>
                  <th scope="col">Price per day</th>
                  <th scope="col">Access</th>
                  <th scope="col">Licences</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                ${
                  products.length
                    ? products.map(
                        (p) =>
                          html`<tr data-product="${p.id}">
                            <td>${productName(app, p)}<br /><small>${short(p.id)}</small></td>
                            <td>${data(p.pricePerSecond * 86_400n)}</td>
                            <td>${criteriaLine(p)}</td>
                            <td>${p.licences}</td>
                            <td>
                              <span class="state">${p.state}</span>
                              <button
                                type="button"
                                data-pause="${p.id}"
                                data-paused="${p.state === "paused"}"
                                aria-label="${p.state === "paused" ? "Resume" : "Pause"} sales of ${productName(app, p)}"
                              >
                                ${p.state === "paused" ? "Resume sales" : "Pause sales"}
                              </button>
                            </td>
                          </tr>`,
                      )
                    : html`<tr>
                        <td colspan="5">You have not listed a product yet.</td>
                      </tr>`
                }
              </tbody>
            </table>
          </div>
        </section>
        ${streamsSection(app, me)}
        <section aria-labelledby="subscribers-h">
          <h2 id="subscribers-h">Subscribers</h2>
          <div class="scroll" tabindex="0" role="region" aria-label="Subscribers table">
            <table id="subscribers">
              <caption class="sr-only">
                Buyers of your products and their licences
              </caption>
              <thead>
                <tr>
                  <th scope="col">Buyer</th>
                  <th scope="col">Product</th>
                  <th scope="col">Licence ends</th>
                  <th scope="col">Status</th>
                  <th scope="col">Escrow left</th>
                </tr>
              </thead>
              <tbody>
                ${
                  subscribers.length
                    ? subscribers.map((s) => {
                        const p = app.indexer.products.get(s.productId)!;
                        return html`<tr data-buyer="${s.buyer}">
                          <td>${short(s.buyer)}</td>
                          <td>${productName(app, p)}</td>
                          <td>${date(s.end)}</td>
                          <td>${s.status === "active" ? (s.end > now ? "active" : "expired") : s.status}</td>
                          <td>${data(s.escrow)}</td>
                        </tr>`;
                      })
                    : html`<tr>
                        <td colspan="5">Nobody has bought a licence of your products yet.</td>
                      </tr>`
                }
              </tbody>
            </table>
          </div>
        </section>
        <div id="create"></div>`.text;

      $("#withdraw", root).addEventListener("click", () =>
        run(async () => {
          const due = subscribers.filter((s) => s.releasable > 0n);
          const steps = due.length + 1;
          for (const [i, s] of due.entries()) {
            await tx.send(
              `Step ${i + 1} of ${steps}, release the escrow earned from ${s.buyer.slice(0, 8)}…`,
              app.config.contracts.DataLicenseMarket,
              marketAbi,
              "release",
              [s.productId, s.buyer],
            );
          }
          const amount = await market.view<bigint>("claimableOf", me);
          if (amount === 0n) return "nothing to withdraw: the released escrow went to your products' beneficiaries";
          await tx.send(`Step ${steps} of ${steps}, withdraw ${data(amount)}`, app.config.contracts.DataLicenseMarket, marketAbi, "withdraw", []);
          return `withdrew ${data(amount)} to ${me}`;
        }),
      );
      for (const button of root.querySelectorAll<HTMLButtonElement>("button[data-pause]")) {
        button.addEventListener("click", () =>
          run(async () => {
            const productId = button.dataset.pause!;
            const pause = button.dataset.paused !== "true";
            await tx.send(pause ? "Pause sales" : "Resume sales", app.config.contracts.DataLicenseMarket, marketAbi, "setPaused", [productId, pause]);
            await app.indexer.sync();
            return `sales of ${productId.slice(0, 10)}… ${pause ? "paused: licences sold keep running" : "resumed"}`;
          }),
        );
      }
      wireRekey(root, app, me, run);
      createForms($("#create", root), app, me, tx, run);
      app.status(`${products.length} product(s), ${subscribers.length} subscriber(s), ${data(claimable)} withdrawable, up to block ${app.indexer.head}`);
    };
    // connecting (or switching accounts) in the header redraws the studio for that wallet, while the page is shown
    let shown = true;
    app.wallet.onChange(() => {
      if (shown && !busy) draw().catch((error) => app.alert(describeError(error)));
    });
    await draw();
    return () => {
      shown = false;
    };
  },
};
