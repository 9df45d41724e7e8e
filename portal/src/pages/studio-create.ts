// The studio's three creation forms: a stream (StreamRegistry.createStream), an encrypted dataset
// (the records are encrypted per data subject in the browser by @datamarket/sdk's encryptDataset; the
// registry gets the content hash and where the seller hosts the file; the encrypted file and the master
// key are handed to the seller, never sent anywhere), and a product on the market with its price per
// day, licence lengths, beneficiary, resources and access criteria (studio-terms.ts), optionally
// registered on the consent ledger with its data subjects, signed by the seller's wallet when it is bound
// to a custodian identity (the consent API relays it; the ledger checks the signature, docs/consent.md §4c).
import { dataLicenseMarketAbi, streamRegistryAbi, withProtocolErrors } from "@datamarket/contracts";
import { encryptDataset, type DatasetRecord } from "@datamarket/sdk";
import { hexlify, id, isAddress, parseUnits, toUtf8Bytes, zeroPadValue } from "ethers";
import { $, data, html, words, type Html } from "../dom";
import type { App } from "../app";
import { BUYER_TYPES, COUNTRIES, DATA_CATEGORIES, JURISDICTION_GROUPS, PURPOSES } from "../vocabulary";
import { encodeTerms, TERMS_FORMAT } from "./studio-terms";
import { StepError, type Transactor } from "./studio-tx";
import { describeError } from "../errors";

const registryAbi = withProtocolErrors(streamRegistryAbi);
const marketAbi = withProtocolErrors(dataLicenseMarketAbi);
const PATH = /^\/[A-Za-z0-9._~/-]{1,127}$/;
/** Subjects one AddResourceSubjects operation adds, at most (the ledger's MAX_SUBJECTS_PER_CALL). */
const SUBJECTS_PER_OPERATION = 1_000;

/** A form's problem with one field: the field is marked invalid and focused, the message names it. */
class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const checkboxes = (name: string, values: readonly string[], label: (v: string) => string, checked: readonly string[] = []) =>
  values.map(
    (v) => html`<label class="check"><input type="checkbox" name="${name}" value="${v}" ${checked.includes(v) ? "checked" : ""} /> ${label(v)}</label>`,
  );

const checked = (form: HTMLFormElement, name: string) => [...form.querySelectorAll<HTMLInputElement>(`input[name="${name}"]:checked`)].map((i) => i.value);
const value = (form: HTMLFormElement, name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();

function metadata(form: HTMLFormElement): string {
  return JSON.stringify({ name: value(form, "name"), description: value(form, "description") });
}

function checkPath(form: HTMLFormElement): string {
  const path = value(form, "path");
  if (!PATH.test(path)) throw new FieldError("path", `the path "${path}" must start with / and hold only letters, digits and . _ ~ / - (2 to 128 characters)`);
  if (!value(form, "name")) throw new FieldError("name", "give a name buyers will see");
  return path;
}

/** Dataset records from JSON Lines or a JSON array: each record an object with a string `subjectId` (the pseudonymous id the consent ledger knows). */
export function parseRecords(text: string): DatasetRecord[] {
  const trimmed = text.trim();
  const items: unknown[] = trimmed.startsWith("[")
    ? (JSON.parse(trimmed) as unknown[])
    : trimmed.split(/\r?\n/).flatMap((line, i) => {
        if (!line.trim()) return [];
        try {
          return [JSON.parse(line)];
        } catch {
          throw new Error(`line ${i + 1} is not JSON`);
        }
      });
  if (items.length === 0) throw new Error("the file holds no record");
  return items.map((item, i) => {
    const subjectId = (item as { subjectId?: unknown })?.subjectId;
    if (typeof subjectId !== "string" || !subjectId) throw new Error(`record ${i + 1} has no "subjectId" string`);
    return { subjectId, data: toUtf8Bytes(JSON.stringify(item)) };
  });
}

function download(name: string, bytes: Uint8Array | string, type: string, label: string) {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  return html`<a href="${url}" download="${name}">${label}</a>`;
}

export function createForms(root: HTMLElement, app: App, me: string, tx: Transactor, run: (work: () => Promise<string>) => Promise<void>): void {
  const { StreamRegistry, DataLicenseMarket } = app.config.contracts;
  const registry = app.chain.contract(StreamRegistry, registryAbi);
  const mine = [...app.indexer.resources.values()].filter((r) => r.owner === me && !r.deleted);
  root.innerHTML = html`<section aria-labelledby="new-stream-h">
      <h2 id="new-stream-h">New stream</h2>
      <form id="new-stream" novalidate>
        <label for="s-path">Path (under your address)</label>
        <input id="s-path" name="path" required placeholder="/clinic/heart-rate" />
        <label for="s-partitions">Partitions</label>
        <input id="s-partitions" name="partitions" type="number" min="1" max="100" value="1" required />
        <label for="s-name">Name</label>
        <input id="s-name" name="name" required />
        <label for="s-description">Description</label>
        <textarea id="s-description" name="description" rows="2"></textarea>
        <p><button type="submit">Create the stream</button></p>
      </form>
    </section>
    <section aria-labelledby="new-dataset-h">
      <h2 id="new-dataset-h">New dataset</h2>
      <p>
        The records are encrypted in this browser, one key per data subject, so that a buyer receives only the records of the subjects whose consent the consent
        ledger approved. The registry stores the encrypted file's content hash and where you host it.
      </p>
      <form id="new-dataset" novalidate>
        <label for="d-path">Path (under your address)</label>
        <input id="d-path" name="path" required placeholder="/clinic/lab-results-2026" />
        <label for="d-name">Name</label>
        <input id="d-name" name="name" required />
        <label for="d-description">Description</label>
        <textarea id="d-description" name="description" rows="2"></textarea>
        <label for="d-file">Records (JSON Lines or a JSON array; each record an object with a "subjectId")</label>
        <input id="d-file" name="file" type="file" accept=".json,.jsonl,application/json" required />
        <label for="d-location">Where you will host the encrypted file (URL)</label>
        <input id="d-location" name="location" type="url" required placeholder="https://example.org/lab-results.dmds" />
        <p><button type="submit">Encrypt and register the dataset</button></p>
      </form>
      <div id="dataset-files" aria-live="polite"></div>
    </section>
    <section aria-labelledby="new-product-h">
      <h2 id="new-product-h">New product</h2>
      <form id="new-product" novalidate>
        <fieldset>
          <legend>Resources sold</legend>
          ${
            mine.length
              ? mine.map((r) => html`<label class="check"><input type="checkbox" name="resource" value="${r.id}" /> ${r.name} (${r.kind})</label>`)
              : html`<p>Create a stream or a dataset first.</p>`
          }
        </fieldset>
        <label for="p-price">Price per day (DATA)</label>
        <input id="p-price" name="price" inputmode="decimal" required value="8.64" />
        <label for="p-min">Shortest licence (hours)</label>
        <input id="p-min" name="minHours" type="number" min="1" value="1" required />
        <label for="p-max">Longest licence (days)</label>
        <input id="p-max" name="maxDays" type="number" min="1" value="365" required />
        <label for="p-beneficiary">Beneficiary (receives the income)</label>
        <input id="p-beneficiary" name="beneficiary" class="mono" required value="${me}" />
        <div>
          <label class="check"
            ><input type="checkbox" id="p-consent" name="consent" checked /> Personal data: every purchase needs the data subjects' consent</label
          >
        </div>
        <div>
          <label class="check"><input type="checkbox" id="p-kyc" name="kyc" /> Buyers must be KYC-verified</label>
        </div>
        <fieldset>
          <legend>Purposes it is sold for (the market refuses any other)</legend>
          ${checkboxes("purpose", PURPOSES, words)}
        </fieldset>
        <fieldset>
          <legend>Buyer types</legend>
          ${checkboxes("buyerType", BUYER_TYPES, words)}
        </fieldset>
        <fieldset>
          <legend>Jurisdictions</legend>
          ${checkboxes("jurisdiction", JURISDICTION_GROUPS, (j) => (j === "ADEQUACY" ? "countries with an EU adequacy decision" : j))}
          <label for="p-countries">Other countries (ISO codes, comma separated)</label>
          <input id="p-countries" name="countries" placeholder="CH, GB" />
        </fieldset>
        <fieldset>
          <legend>Data categories</legend>
          ${checkboxes("dataCategory", Object.keys(DATA_CATEGORIES), (c) => `${words(c)}${DATA_CATEGORIES[c] ? " (special category)" : ""}`)}
        </fieldset>
        <label for="p-terms">Terms of use</label>
        <textarea id="p-terms" name="terms" rows="3"></textarea>
        <fieldset>
          <legend>Consent ledger</legend>
          <p>
            Buyers' requests are decided on the consent ledger. If this wallet is bound to your organisation's custodian identity there, the studio registers
            the resource with this product and its data subjects, each step signed by this wallet.
          </p>
          <label class="check"><input type="checkbox" id="p-ledger" name="ledger" /> Register on the consent ledger</label>
          <label for="p-subjects">Data subjects of the resource (pseudonymous ids, separated by commas or spaces)</label>
          <textarea id="p-subjects" name="subjects" rows="2">${lastDataset?.seller === me ? lastDataset.subjectIds.join(", ") : ""}</textarea>
        </fieldset>
        <p><button type="submit">List the product</button></p>
      </form>
    </section>`.text;

  /** Wires a form: validation problems mark the field; the work runs as one `run` (buttons disabled, errors in words). */
  const onSubmit = (formId: string, work: (form: HTMLFormElement) => Promise<string>) => {
    const form = $<HTMLFormElement>(`#${formId}`, root);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
      void run(async () => {
        try {
          return await work(form);
        } catch (error) {
          if (error instanceof FieldError) {
            // a group of checkboxes is a RadioNodeList: mark and focus its first box
            const named = form.elements.namedItem(error.field);
            const field = (named instanceof RadioNodeList ? named[0] : named) as HTMLElement | null;
            field?.setAttribute("aria-invalid", "true");
            field?.focus();
          }
          throw error;
        }
      });
    });
  };

  onSubmit("new-stream", async (form) => {
    const path = checkPath(form);
    const partitions = Number(value(form, "partitions"));
    if (!Number.isInteger(partitions) || partitions < 1) throw new FieldError("partitions", "partitions must be a whole number from 1");
    await tx.send("Create the stream", StreamRegistry, registryAbi, "createStream", [path, partitions, metadata(form)]);
    return `stream ${path} created`;
  });

  onSubmit("new-dataset", async (form) => {
    const path = checkPath(form);
    const file = (form.elements.namedItem("file") as HTMLInputElement).files?.[0];
    if (!file) throw new FieldError("file", "choose the file of records");
    const location = value(form, "location");
    if (!/^https?:\/\/\S+$/.test(location)) throw new FieldError("location", "the location must be an http(s) URL");
    app.status(`Step 1 of 2, reading ${file.name} (${file.size.toLocaleString("en-US")} bytes)…`);
    let records: DatasetRecord[];
    try {
      records = parseRecords(await file.text());
    } catch (error) {
      throw new FieldError("file", `${file.name}: ${(error as Error).message}`);
    }
    const datasetId = await registry.view<string>("resourceId", me, path);
    const subjects = new Set(records.map((r) => r.subjectId)).size;
    app.status(`Step 1 of 2, encrypting ${records.length} records of ${subjects} data subjects…`);
    await new Promise((resolve) => setTimeout(resolve, 0)); // let the status paint before the CPU work
    const encrypted = encryptDataset(datasetId, records);
    await tx.send("Step 2 of 2, register the dataset", StreamRegistry, registryAbi, "createDataset", [path, encrypted.contentHash, location, metadata(form)]);
    const base = path.split("/").filter(Boolean).join("-");
    lastDataset = {
      seller: me,
      subjectIds: [...new Set(records.map((r) => r.subjectId))],
      note: html`<p>
          Dataset ${path} registered (content hash <span class="mono">${encrypted.contentHash.slice(0, 18)}…</span>). Host the encrypted file at ${location} and
          keep the master key: it is needed to release records to buyers and is stored nowhere else.
        </p>
        <p id="dataset-downloads">
          ${download(`${base}.dmds`, encrypted.file, "application/octet-stream", `Encrypted file (${encrypted.file.length.toLocaleString("en-US")} bytes)`)} ·
          ${download(`${base}.key.json`, JSON.stringify({ datasetId, masterKey: hexlify(encrypted.masterKey) }), "application/json", "Master key")}
        </p>`,
    };
    return `dataset ${path} registered: ${records.length} records of ${subjects} subjects, ${encrypted.file.length.toLocaleString("en-US")} bytes encrypted`;
  });

  onSubmit("new-product", async (form) => {
    const resources = checked(form, "resource");
    if (resources.length === 0) throw new FieldError("resource", "choose at least one stream or dataset to sell");
    let perDay: bigint;
    try {
      perDay = parseUnits(value(form, "price"), 18);
    } catch {
      throw new FieldError("price", `the price "${value(form, "price")}" is not a DATA amount`);
    }
    const pricePerSecond = perDay / 86_400n;
    if (pricePerSecond < 1n) throw new FieldError("price", "the price must be at least 86,400 DATA wei a day (1 wei a second)");
    const minSeconds = Number(value(form, "minHours")) * 3_600;
    const maxSeconds = Number(value(form, "maxDays")) * 86_400;
    if (!Number.isInteger(minSeconds) || minSeconds < 3_600) throw new FieldError("minHours", "the shortest licence must be a whole number of hours from 1");
    if (!Number.isInteger(maxSeconds) || maxSeconds < minSeconds || maxSeconds > 2 ** 32 - 1)
      throw new FieldError("maxDays", "the longest licence must be a whole number of days, at least the shortest");
    const beneficiary = value(form, "beneficiary");
    if (!isAddress(beneficiary)) throw new FieldError("beneficiary", `the beneficiary "${beneficiary}" is not a 0x address`);
    const requiresConsent = (form.elements.namedItem("consent") as HTMLInputElement).checked;
    const purposes = checked(form, "purpose");
    if (requiresConsent && purposes.length === 0)
      throw new FieldError("purpose", "a consent-gated product needs at least one purpose: the market sells it for no other");
    const countries = value(form, "countries")
      .split(",")
      .map((c) => c.trim().toUpperCase())
      .filter(Boolean);
    const wrong = countries.filter((c) => !COUNTRIES.includes(c) && !JURISDICTION_GROUPS.includes(c));
    if (wrong.length) throw new FieldError("countries", `${wrong.join(", ")}: not an EEA country nor one with an EU adequacy decision`);
    const { termsUri, termsHash } = encodeTerms({
      format: TERMS_FORMAT,
      accessCriteria: {
        purposes,
        buyerTypes: checked(form, "buyerType"),
        jurisdictions: [...checked(form, "jurisdiction"), ...countries],
        dataCategories: checked(form, "dataCategory"),
      },
      text: value(form, "terms"),
    });
    const onLedger = (form.elements.namedItem("ledger") as HTMLInputElement).checked;
    const subjectIds = [
      ...new Set(
        value(form, "subjects")
          .split(/[\s,]+/)
          .filter(Boolean),
      ),
    ];
    if (onLedger) {
      if (resources.length !== 1)
        throw new FieldError(
          "ledger",
          "the consent ledger decides a product's requests on one stream or dataset: choose one resource, or list without registering",
        );
      // checked before any transaction: a wallet that cannot register lists nothing half-way
      app.status("Checking this wallet's binding on the consent ledger: sign in with your wallet…");
      if (!(await app.consentApi.isCustodian()))
        throw new FieldError(
          "ledger",
          "this wallet is bound to no custodian identity on the consent ledger: ask your organisation's ledger operator to bind it, or list without registering",
        );
    }
    // the market writes each buyer's subscribe permission: it must be the resources' subscribe delegate
    const needDelegate: string[] = [];
    for (const r of resources) {
      const permission = await registry.view<{ canGrantSubscribe: boolean }>("getPermission", r, DataLicenseMarket);
      if (!permission.canGrantSubscribe) needDelegate.push(r);
    }
    const ledgerSteps = onLedger ? 1 + Math.ceil(subjectIds.length / SUBJECTS_PER_OPERATION) : 0;
    const steps = needDelegate.length + 1 + (purposes.length ? 1 : 0) + ledgerSteps;
    let step = 0;
    for (const r of needDelegate) {
      step += 1;
      await tx.send(
        `Step ${step} of ${steps}, let the market grant licences of ${app.indexer.resources.get(r)?.name ?? r}`,
        StreamRegistry,
        registryAbi,
        "setSubscribeDelegate",
        [r, DataLicenseMarket, true],
      );
    }
    const salt = zeroPadValue(hexlify(crypto.getRandomValues(new Uint8Array(32))), 32);
    const market = app.chain.contract(DataLicenseMarket, marketAbi);
    const productId = (await market.view<string>("productIdOf", me, salt)).toLowerCase();
    step += 1;
    await tx.send(`Step ${step} of ${steps}, list the product at ${data(pricePerSecond * 86_400n)} a day`, DataLicenseMarket, marketAbi, "createProduct", [
      salt,
      {
        beneficiary,
        pricePerSecond,
        minSeconds,
        maxSeconds,
        requiresConsent,
        requiresKyc: (form.elements.namedItem("kyc") as HTMLInputElement).checked,
        termsHash,
        termsUri,
        resources,
      },
    ]);
    if (purposes.length) {
      step += 1;
      await tx.send(`Step ${step} of ${steps}, declare the purposes`, DataLicenseMarket, marketAbi, "setPurposes", [
        productId,
        purposes.map((p) => id(p)),
        true,
      ]);
    }
    if (!onLedger) return `product ${productId} listed`;
    const resource = app.indexer.resources.get(resources[0]);
    const name = resource?.name ?? resources[0];
    /** One operation the wallet signs and the consent API relays; a refusal names the step and says the product is listed. */
    const ledgerStep = async (what: string, work: () => Promise<unknown>) => {
      step += 1;
      const label = `Step ${step} of ${steps}, ${what}`;
      app.status(`${label}: sign it in your wallet…`);
      try {
        await work();
      } catch (error) {
        throw new StepError(
          label,
          `${describeError(error)} (product ${productId} is listed on the market; the consent ledger holds the steps before this one only)`,
        );
      }
    };
    await ledgerStep(`register ${name} with the product on the consent ledger`, () =>
      app.consentApi.registerResource(resources[0], resource?.kind ?? "dataset", [productId]),
    );
    for (let i = 0; i < subjectIds.length; i += SUBJECTS_PER_OPERATION) {
      const chunk = subjectIds.slice(i, i + SUBJECTS_PER_OPERATION);
      await ledgerStep(`add ${chunk.length} data subject(s) of ${name} on the consent ledger`, () => app.consentApi.addResourceSubjects(resources[0], chunk));
    }
    return `product ${productId} listed and registered on the consent ledger with ${subjectIds.length} data subject(s)`;
  });

  if (lastDataset?.seller === me) $("#dataset-files", root).innerHTML = lastDataset.note.text;
}

/** The last dataset this page registered, with its download links: shown again each time the studio redraws. */
let lastDataset: { seller: string; subjectIds: string[]; note: Html } | undefined;
