// My licences (#/licences): every licence of the connected wallet on the market, read from the chain
// (getLicense of each product; LicensePurchased, ConsentRevoked and Refunded events of this buyer), with
// its end, an extension (one permit signature and one transaction, without a new attestation: the
// market extends under the licence's grant), the refunds after a consent revocation, and a withdrawal
// of what the market owes the wallet.
import { Interface, zeroPadValue } from "ethers";
import { dataLicenseMarketAbi } from "@datamarket/contracts";
import { $, data, date, duration, html, short, type Html } from "../dom";
import { describeError } from "../errors";
import type { Product } from "../indexer";
import type { App, Page } from "../app";

const DAY = 86_400;
const STATUS = ["none", "active", "disputed", "ended", "revoked in dispute"] as const;
const iface = new Interface(dataLicenseMarketAbi);

interface LicenceRow {
  product: Product;
  status: (typeof STATUS)[number];
  end: number;
  grantExpiry: number;
  escrow: bigint;
  refunded: bigint;
  revokedAt?: number;
}

interface Movement {
  kind: "purchase" | "revocation" | "refund" | "withdrawal";
  productId?: string;
  block: number;
  text: string;
}

async function readLicences(app: App, me: string): Promise<{ rows: LicenceRow[]; movements: Movement[]; claimable: bigint }> {
  const market = app.chain.contract(app.config.contracts.DataLicenseMarket, dataLicenseMarketAbi);
  await app.indexer.sync();
  const meTopic = zeroPadValue(me, 32);
  const topic = (name: string) => iface.getEvent(name)!.topicHash;
  const address = [app.config.contracts.DataLicenseMarket];
  const from = app.config.fromBlock;
  const [purchases, revocations, refunds, withdrawals, claimable, now] = await Promise.all([
    app.chain.getLogs(address, from, "latest", [topic("LicensePurchased"), null, meTopic]),
    app.chain.getLogs(address, from, "latest", [topic("ConsentRevoked"), null, null, meTopic]),
    app.chain.getLogs(address, from, "latest", [topic("Refunded"), null, meTopic]),
    app.chain.getLogs(address, from, "latest", [topic("Withdrawn"), meTopic]),
    market.view<bigint>("claimableOf", me),
    app.chain.request<{ timestamp: string }>("eth_getBlockByNumber", ["latest", false]).then((b) => Number(b.timestamp)),
  ]);
  const movements: Movement[] = [];
  const productIds = new Set<string>();
  const refunded = new Map<string, bigint>();
  const revokedAt = new Map<string, number>();
  for (const log of [...purchases, ...revocations, ...refunds, ...withdrawals]) {
    const e = market.parseLog(log);
    if (!e) continue;
    const block = Number(log.blockNumber);
    const productId = e.name === "Withdrawn" ? undefined : String(e.args.productId).toLowerCase();
    if (productId) productIds.add(productId);
    switch (e.name) {
      case "LicensePurchased":
        movements.push({
          kind: "purchase",
          productId,
          block,
          text: `paid ${data(e.args.cost)}; licence until ${date(Number(e.args.end))}`,
        });
        break;
      case "ConsentRevoked":
        revokedAt.set(productId!, Number(e.args.revokedAt));
        movements.push({
          kind: "revocation",
          productId,
          block,
          text: `a data subject withdrew consent at ${date(Number(e.args.revokedAt))}: the grant is revoked${e.args.licenseSuspended ? " and the licence ended" : ""}`,
        });
        break;
      case "Refunded":
        refunded.set(productId!, (refunded.get(productId!) ?? 0n) + BigInt(e.args.amount));
        movements.push({ kind: "refund", productId, block, text: `refunded ${data(e.args.amount)} of unused licence time` });
        break;
      case "Withdrawn":
        movements.push({ kind: "withdrawal", block, text: `withdrew ${data(e.args.amount)} to the wallet` });
        break;
    }
  }
  const rows: LicenceRow[] = [];
  for (const productId of productIds) {
    const product = app.indexer.products.get(productId);
    if (!product) continue;
    const [licence, escrow] = await Promise.all([
      market.view<{ end: bigint; grantExpiry: bigint; status: bigint }>("getLicense", productId, me),
      market.view<bigint>("escrowOf", productId, me),
    ]);
    let status = STATUS[Number(licence.status)] ?? "none";
    if (status === "active" && Number(licence.end) <= now) status = "ended";
    rows.push({
      product,
      status,
      end: Number(licence.end),
      grantExpiry: Number(licence.grantExpiry),
      escrow,
      refunded: refunded.get(productId) ?? 0n,
      revokedAt: revokedAt.get(productId),
    });
  }
  movements.sort((a, b) => b.block - a.block);
  return { rows, movements, claimable };
}

function licenceCard(app: App, r: LicenceRow): Html {
  const p = r.product;
  const name = app.indexer.resources.get(p.resources[0])?.name ?? "Product";
  const active = r.status === "active";
  const minDays = Math.max(1, Math.ceil(p.minSeconds / DAY));
  return html`<article class="card" data-licence="${p.id}" aria-labelledby="l-${p.id}">
    <h3 id="l-${p.id}"><a href="#/product/${p.id}">${name}</a></h3>
    <dl class="facts">
      <dt>Status</dt>
      <dd><span class="status ${active ? "ok" : "off"}" data-status>${r.status}</span></dd>
      <dt>${active ? "Valid until" : "Ended"}</dt>
      <dd data-end>${date(r.end)}</dd>
      ${
        active && r.grantExpiry
          ? html`<dt>Consent grant until</dt>
              <dd data-grant>${date(r.grantExpiry)} (an extension may not pass it)</dd>`
          : ""
      }
      ${
        r.revokedAt
          ? html`<dt>Consent withdrawn</dt>
              <dd data-revoked>${date(r.revokedAt)}: access revoked</dd>`
          : ""
      }
      <dt>In escrow</dt>
      <dd>${data(r.escrow)}</dd>
      ${
        r.refunded
          ? html`<dt>Refunded</dt>
              <dd data-refund>${data(r.refunded)}</dd>`
          : ""
      }
    </dl>
    <h4>Use</h4>
    <ul>
      ${p.resources.map((id) => {
        const res = app.indexer.resources.get(id);
        if (!res) return html`<li>${short(id)}</li>`;
        return res.kind === "stream"
          ? html`<li><a href="#/stream/${id}">Live view of ${res.name}</a></li>`
          : html`<li><a href="#/dataset/${id}">Download ${res.name}</a></li>`;
      })}
    </ul>
    ${
      active
        ? html`<form class="extend" data-extend="${p.id}">
            <label for="extend-${p.id}">Extend by days</label>
            <input id="extend-${p.id}" type="number" min="${minDays}" value="${Math.max(minDays, 7)}" required />
            <button type="submit">Extend</button>
          </form>`
        : ""
    }
  </article>`;
}

export const licences: Page = {
  title: "My licences",
  async render(main, app) {
    main.innerHTML = html`<h1>My licences</h1>
      <p>The licences your wallet holds on the market, read from the chain.</p>
      <p><button type="button" id="load">${app.wallet.address ? "Refresh" : "Connect wallet and show my licences"}</button></p>
      <section aria-labelledby="lic-h">
        <h2 id="lic-h">Licences</h2>
        <div id="licences" class="cards"></div>
      </section>
      <section aria-labelledby="money-h">
        <h2 id="money-h">Refunds and withdrawals</h2>
        <p id="claimable"></p>
        <p><button type="button" id="withdraw" hidden>Withdraw</button></p>
        <ul id="movements"></ul>
      </section>`.text;
    const load = async () => {
      const me = app.wallet.address ?? (await app.wallet.connect());
      app.status("reading your licences from the chain…");
      const { rows, movements, claimable } = await readLicences(app, me);
      $("#licences", main).innerHTML = rows.length ? rows.map((r) => licenceCard(app, r).text).join("") : html`<p>You hold no licence yet.</p>`.text;
      $("#claimable", main).textContent = claimable
        ? `The market owes you ${data(claimable)} (refunds of unused licence time): withdraw it to your wallet.`
        : "The market owes you nothing.";
      $("#withdraw", main).hidden = claimable === 0n;
      $("#withdraw", main).textContent = `Withdraw ${data(claimable)}`;
      $("#movements", main).innerHTML = movements
        .map((m) => {
          const name = m.productId ? (app.indexer.resources.get(app.indexer.products.get(m.productId)?.resources[0] ?? "")?.name ?? "a product") : "";
          return html`<li data-movement="${m.kind}">${name ? `${name}: ` : ""}${m.text}</li>`.text;
        })
        .join("");
      $("#load", main).textContent = "Refresh";
      app.status(`${rows.length} licence${rows.length === 1 ? "" : "s"}; up to block ${app.indexer.head}`);
    };
    const run = (button: HTMLButtonElement, action: () => Promise<void>) => {
      button.disabled = true;
      action()
        .catch((error) => app.alert(describeError(error)))
        .finally(() => {
          button.disabled = false;
        });
    };
    $("#load", main).addEventListener("click", (e) => run(e.currentTarget as HTMLButtonElement, load));
    $("#withdraw", main).addEventListener("click", (e) =>
      run(e.currentTarget as HTMLButtonElement, async () => {
        const { marketClient } = await import("../tx");
        const client = await marketClient(app);
        app.status("confirm the withdrawal in your wallet…");
        const receipt = await (await client.market.withdraw()).wait();
        await load();
        app.status(`withdrawn to your wallet (transaction ${receipt?.hash ?? ""})`);
      }),
    );
    main.addEventListener("submit", (event) => {
      const form = (event.target as HTMLElement).closest<HTMLFormElement>("form[data-extend]");
      if (!form) return;
      event.preventDefault();
      const productId = form.dataset.extend!;
      const seconds = Math.round(Number(form.querySelector<HTMLInputElement>("input")!.value) * DAY);
      run(form.querySelector("button")!, async () => {
        const { marketClient } = await import("../tx");
        const client = await marketClient(app);
        app.status(`sign the permit for ${duration(seconds)} more in your wallet, then confirm the transaction…`);
        const { cost } = await client.buyWithPermit({ productId, duration: seconds });
        await load();
        app.status(`licence extended by ${duration(seconds)} for ${data(cost)}`);
      });
    });
    if (app.wallet.address) await load();
  },
};
