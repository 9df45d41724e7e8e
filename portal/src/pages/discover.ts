// Discover: every product on the market and every stream and dataset in the registry, from the
// indexer, with a search over names, descriptions, paths and sellers.
import { dataLicenseMarketAbi, karmaAbi } from "@datamarket/contracts";
import { $, data, duration, html, purposeName, short, type Html } from "../dom";
import type { Product, Resource } from "../indexer";
import type { Page } from "../app";

function resourceLine(r: Resource | undefined, resourceId: string): Html {
  if (!r) return html`<li>unknown resource ${short(resourceId)}</li>`;
  return html`<li>
    <span class="tag">${r.kind}</span> <strong>${r.name}</strong>
    <span class="mono">${r.owner.slice(0, 8)}…${r.path}</span
    >${r.kind === "stream" ? html` · ${r.partitions} partition${r.partitions === 1 ? "" : "s"}` : ""}${r.deleted ? html` · <em>deleted</em>` : ""}
  </li>`;
}

function productCard(p: Product, resources: Map<string, Resource>, karma: Map<string, bigint>): Html {
  const first = resources.get(p.resources[0]);
  const purposes = [...p.purposes].map(purposeName);
  return html`<article class="card" data-product="${p.id}" aria-labelledby="p-${p.id}">
    <h3 id="p-${p.id}">
      <a href="#/product/${p.id}">${first ? first.name : "Product"}${p.resources.length > 1 ? ` and ${p.resources.length - 1} more` : ""}</a>
    </h3>
    ${first?.description ? html`<p>${first.description}</p>` : ""}
    <dl class="facts">
      <dt>Seller</dt>
      <dd>
        ${short(p.seller)}${karma.has(p.seller) ? html`, karma ${data(karma.get(p.seller)!).replace(" DATA", "")} <small>(DATA exchanged, decayed)</small>` : ""}
      </dd>
      <dt>Price per day</dt>
      <dd class="price">${data(p.pricePerSecond * 86_400n)}</dd>
      <dt>Licence length</dt>
      <dd>${duration(p.minSeconds)} to ${duration(p.maxSeconds)}</dd>
      <dt>Consent</dt>
      <dd class="consent">
        ${
          p.requiresConsent
            ? `required: the data subjects' consent is checked on the consent ledger for the buyer's purpose${purposes.length ? ` (sold for ${purposes.join(", ")})` : ""}`
            : "not required"
        }
      </dd>
      ${
        p.requiresKyc
          ? html`<dt>KYC</dt>
              <dd>required</dd>`
          : ""
      }
      <dt>State</dt>
      <dd>${p.state}${p.licences ? html` · ${p.licences} licence${p.licences === 1 ? "" : "s"} sold` : ""}</dd>
      <dt>Open flags</dt>
      <dd class="flags">${p.openFlags.size === 0 ? "none" : `${p.openFlags.size} bad-data flag${p.openFlags.size === 1 ? "" : "s"} awaiting the arbiter`}</dd>
      <dt>Product id</dt>
      <dd>${short(p.id)}</dd>
    </dl>
    <h4>Resources</h4>
    <ul>
      ${p.resources.map((r) => resourceLine(resources.get(r), r))}
    </ul>
  </article>`;
}

function matches(query: string, ...texts: string[]): boolean {
  return query === "" || texts.some((t) => t.toLowerCase().includes(query));
}

export const discover: Page = {
  title: "Discover",
  async render(main, app) {
    main.innerHTML = html`<h1>Discover data</h1>
      <p>Products for sale and the streams and datasets of the registry, read from the chain by this page.</p>
      <label for="search">Search by name, description, path or seller</label>
      <input id="search" type="search" autocomplete="off" />
      <section aria-labelledby="products-h">
        <h2 id="products-h">Products</h2>
        <div id="products" class="cards"></div>
      </section>
      <section aria-labelledby="resources-h">
        <h2 id="resources-h">Streams and datasets</h2>
        <div class="scroll" tabindex="0" role="region" aria-label="Streams and datasets table">
          <table id="resources">
            <caption class="sr-only">
              Every stream and dataset in the registry
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Owner</th>
                <th scope="col">Path</th>
                <th scope="col">In products</th>
              </tr>
            </thead>
            <tbody></tbody>
          </table>
        </div>
      </section>`.text;
    const search = $<HTMLInputElement>("#search", main);
    const draw = () => {
      const q = search.value.trim().toLowerCase();
      const { products, resources } = app.indexer;
      const shown = [...products.values()].filter(
        (p) =>
          p.state !== "deleted" &&
          matches(
            q,
            p.seller,
            p.id,
            ...p.resources.flatMap((r) => {
              const res = resources.get(r);
              return res ? [res.name, res.description, res.path] : [];
            }),
          ),
      );
      $("#products", main).innerHTML = shown.length
        ? shown.map((p) => productCard(p, resources, karma).text).join("")
        : html`<p>No product ${q ? "matches the search" : "is listed yet"}.</p>`.text;
      const inProducts = (rid: string) => [...products.values()].filter((p) => p.resources.includes(rid)).length;
      const rows = [...resources.values()].filter((r) => !r.deleted && matches(q, r.name, r.description, r.path, r.owner));
      $("#resources tbody", main).innerHTML =
        rows
          .map(
            (r) =>
              html`<tr>
                <td>${r.name}${r.description ? html`<br /><small>${r.description}</small>` : ""}</td>
                <td>${r.kind}</td>
                <td>${short(r.owner)}</td>
                <td class="mono">${r.path}</td>
                <td>${inProducts(r.id)}</td>
              </tr>`.text,
          )
          .join("") ||
        html`<tr>
          <td colspan="5">No stream or dataset ${q ? "matches the search" : "yet"}.</td>
        </tr>`.text;
    };
    search.addEventListener("input", draw);
    // the sellers' karma, read from the market's Karma contract after each change of the catalogue
    const karma = new Map<string, bigint>();
    const market = app.chain.contract(app.config.contracts.DataLicenseMarket, dataLicenseMarketAbi);
    let karmaContract: ReturnType<typeof app.chain.contract> | undefined;
    const readKarma = async () => {
      karmaContract ??= app.chain.contract(await market.view<string>("karma"), karmaAbi);
      const sellers = [...new Set([...app.indexer.products.values()].map((p) => p.seller))];
      const values = await Promise.all(sellers.map((s) => karmaContract!.view<bigint>("karmaOf", s)));
      sellers.forEach((s, i) => karma.set(s, values[i]));
    };
    const refresh = async () => {
      try {
        if (await app.indexer.sync()) {
          await readKarma();
          draw();
        }
      } catch (error) {
        app.alert(`could not read the chain: ${(error as Error).message}`);
      }
    };
    app.status("reading the registry's and the market's events…");
    await app.indexer.sync();
    await readKarma();
    draw();
    const n = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;
    app.status(
      `${n(app.indexer.products.size, "product", "products")} and ${n(app.indexer.resources.size, "stream or dataset", "streams and datasets")}, up to block ${app.indexer.head}`,
    );
    const timer = setInterval(() => void refresh(), 4_000);
    return () => clearInterval(timer);
  },
};
