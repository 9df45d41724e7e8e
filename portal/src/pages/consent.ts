// Consent: a data subject signs in with the wallet bound to their ledger identity, sees every consent
// recorded for them (the ISO/IEC TS 27560 fields in plain words) and the access log (who was granted or
// denied access, for which purpose, when); gives a new consent or answers a request, narrows a consent
// and withdraws one. Reads ride on one sign-in (EIP-4361); each change is one operation the wallet
// signs, which the consent ledger itself checks: the consent API acts on nothing else.
import { BUYER_TYPES, DATA_CATEGORIES, PURPOSE_PARENTS } from "@datamarket/consent-ledger/wallet";
import { $, date, html, purposeName, short, words, type Html } from "../dom";
import { describeError } from "../errors";
import type { AccessLogEntry, ConsentRecord, ConsentTerms, Narrowing } from "../consent-client";
import type { App, Page } from "../app";

const LEGAL_BASES: Record<string, string> = { "A6-1-a": "consent (GDPR Art. 6(1)(a))", "A9-2-a": "explicit consent (GDPR Art. 9(2)(a))" };
const ACTIVE = new Set(["ConsentGiven", "RenewedConsentGiven"]);
const PLACES: Record<string, string> = { EU: "the European Union", EEA: "the European Economic Area", ADEQUACY: "countries with an EU adequacy decision" };
const NOTICE =
  "I consent to the processing of the data named here, by the controller named here, for the purposes, recipients and places chosen here, until the date chosen here. I can narrow or withdraw this consent at any time on this page; a withdrawal ends access built on it.";

function statusWords(status: string): string {
  return words(status.replace(/^Consent/, "").replace(/^RenewedConsentGiven$/, "RenewedGiven"));
}

const place = (j: string) => PLACES[j] ?? j;

function resourceName(app: App, id: string): Html {
  const r = app.indexer.resources.get(id.toLowerCase());
  return r ? html`${r.name} <small>(${r.kind})</small>` : short(id);
}

function resourceText(app: App, id: string): string {
  const r = app.indexer.resources.get(id.toLowerCase());
  return r ? `${r.name} (${r.kind})` : `${id.slice(0, 10)}…`;
}

/** A group of checkboxes, all checked: unticking one narrows. One entry only: said in words, nothing to untick. */
function keepGroup(prefix: string, field: string, legend: string, values: string[], label: (v: string) => string): Html {
  if (values.length < 2) return html`<p>${legend}: only ${label(values[0] ?? "")}, which cannot be narrowed further (withdraw the consent instead).</p>`;
  return html`<fieldset>
    <legend>${legend}</legend>
    ${values.map(
      (v, i) =>
        html`<label for="${prefix}-${field}-${i}"
          ><input type="checkbox" id="${prefix}-${field}-${i}" name="${field}" value="${v}" checked /> ${label(v)}</label
        >`,
    )}
  </fieldset>`;
}

const isoDay = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);

function narrowForm(app: App, c: ConsentRecord): Html {
  const p = `n-${c.consentId.slice(2, 10)}`;
  return html`<form class="narrow" data-narrow-form="${c.consentId}" hidden>
    <p>Untick what you no longer allow, or choose an earlier end. Narrowing cannot add anything.</p>
    ${keepGroup(p, "purposes", "For", c.purposes, purposeName)} ${keepGroup(p, "buyerTypes", "Who may receive it", c.buyerTypes, words)}
    ${keepGroup(p, "jurisdictions", "Where", c.jurisdictions, place)}
    ${keepGroup(
      p,
      "dataCategories",
      "Kinds of data",
      c.dataCategories.map((d) => d.category),
      words,
    )}
    ${keepGroup(p, "resources", "Data", c.resources, (r) => resourceText(app, r))}
    <label for="${p}-until">Valid until (at the latest ${isoDay(c.validUntil)})</label>
    <input type="date" id="${p}-until" name="validUntil" value="${isoDay(c.validUntil)}" max="${isoDay(c.validUntil)}" />
    <div class="actions">
      <button type="submit">Sign and save the narrower consent</button>
      <button type="button" data-cancel>Cancel</button>
    </div>
  </form>`;
}

function consentCard(app: App, c: ConsentRecord): Html {
  const active = ACTIVE.has(c.status);
  const requested = c.status === "ConsentRequested";
  return html`<article class="card" data-consent="${c.consentId}" aria-labelledby="c-${c.consentId}">
    <h3 id="c-${c.consentId}">
      ${requested ? "Request for consent by" : "Consent to"} ${c.controller} <span class="status ${active ? "ok" : "off"}">${statusWords(c.status)}</span>
    </h3>
    <dl class="facts">
      <dt>Data</dt>
      <dd>
        <ul>
          ${c.resources.map((r) => html`<li>${resourceName(app, r)}</li>`)}
        </ul>
      </dd>
      <dt>For</dt>
      <dd>${c.purposes.map(purposeName).join(", ")}</dd>
      <dt>Kinds of data</dt>
      <dd>${c.dataCategories.map((d) => `${words(d.category)}${d.specialCategory ? " (special category)" : ""}`).join(", ")}</dd>
      <dt>Who may receive it</dt>
      <dd>${c.buyerTypes.map(words).join(", ")} in ${c.jurisdictions.map(place).join(", ")}</dd>
      <dt>Legal basis</dt>
      <dd>${LEGAL_BASES[c.legalBasis] ?? c.legalBasis}</dd>
      <dt>Valid</dt>
      <dd>${date(c.validFrom)} to ${date(c.validUntil)}</dd>
      <dt>Version</dt>
      <dd>${c.version}, last changed ${date(c.updatedAt)}</dd>
    </dl>
    ${
      active
        ? html`<div class="actions">
              <button type="button" data-narrow="${c.consentId}" aria-expanded="false">Narrow this consent</button>
              <button type="button" class="danger" data-withdraw="${c.consentId}">Withdraw this consent</button>
            </div>
            ${narrowForm(app, c)}`
        : ""
    }
    ${
      requested
        ? html`<div class="actions">
            <button type="button" data-give="${c.consentId}">Give this consent</button>
            <button type="button" data-refuse="${c.consentId}">Refuse</button>
          </div>`
        : ""
    }
  </article>`;
}

function accessRow(app: App, e: AccessLogEntry): Html {
  return html`<tr>
    <td>${date(e.timestamp)}</td>
    <td>${e.buyerMsp ?? html`buyer ${short(e.buyerKey)}`}</td>
    <td>${purposeName(e.purpose)}</td>
    <td>${resourceName(app, e.resourceId)}</td>
    <td>${e.decision === "approved" ? "granted" : "denied"}${e.reasons.length ? html`<br /><small>${e.reasons.map(words).join(", ")}</small>` : ""}</td>
  </tr>`;
}

/** Checkboxes and a select of the new-consent form. */
function choices(field: string, legend: string, values: readonly string[], label: (v: string) => string, checked: (v: string) => boolean): Html {
  return html`<fieldset>
    <legend>${legend}</legend>
    ${values.map(
      (v, i) =>
        html`<label for="g-${field}-${i}"
          ><input type="checkbox" id="g-${field}-${i}" name="${field}" value="${v}" ${checked(v) ? "checked" : ""} /> ${label(v)}</label
        >`,
    )}
  </fieldset>`;
}

function giveForm(app: App, consents: ConsentRecord[]): Html {
  const resources = [...new Set([...consents.flatMap((c) => c.resources), ...[...app.indexer.resources.keys()]])];
  const controllers = [...new Set(consents.map((c) => c.controller))];
  const purposes = Object.keys(PURPOSE_PARENTS).filter((p) => p !== "Purpose");
  const inAYear = isoDay(Math.floor(Date.now() / 1000) + 365 * 86_400);
  return html`<form id="give" aria-labelledby="give-h">
    <h2 id="give-h">Give a new consent</h2>
    <label for="g-controller">Who processes your data (the controller)</label>
    <input id="g-controller" name="controller" required value="${controllers[0] ?? ""}" list="g-controllers" />
    <datalist id="g-controllers">${controllers.map((c) => html`<option value="${c}"></option>`)}</datalist>
    ${choices(
      "resources",
      "Data",
      resources,
      (r) => resourceText(app, r),
      () => false,
    )}
    ${choices("purposes", "For", purposes, purposeName, (p) => p === "ScientificResearch")}
    ${choices("buyerTypes", "Who may receive it", BUYER_TYPES, words, (b) => b === "PublicResearch")}
    ${choices("jurisdictions", "Where", Object.keys(PLACES), place, (j) => j === "EU")}
    ${choices(
      "dataCategories",
      "Kinds of data",
      Object.keys(DATA_CATEGORIES),
      (d) => `${words(d)}${DATA_CATEGORIES[d] ? " (special category)" : ""}`,
      (d) => d === "HealthRecord",
    )}
    <label for="g-until">Valid until</label>
    <input type="date" id="g-until" name="validUntil" required value="${inAYear}" />
    <p id="g-notice">${NOTICE}</p>
    <button type="submit">Sign and give this consent</button>
  </form>`;
}

const checkedValues = (form: HTMLFormElement, field: string) =>
  [...form.querySelectorAll<HTMLInputElement>(`input[name="${field}"]:checked`)].map((i) => i.value);
const allValues = (form: HTMLFormElement, field: string) => [...form.querySelectorAll<HTMLInputElement>(`input[name="${field}"]`)].map((i) => i.value);
/** The end of a chosen day (YYYY-MM-DD, UTC) in unix seconds. */
const endOfDay = (day: string) => Math.floor(Date.parse(`${day}T23:59:59Z`) / 1000);

/** What the narrowing form changes: the lists with an unticked entry, and an earlier end. */
export function narrowingOf(form: HTMLFormElement, record: ConsentRecord): Narrowing {
  const n: Narrowing = {};
  for (const field of ["purposes", "buyerTypes", "jurisdictions", "dataCategories", "resources"] as const) {
    const kept = checkedValues(form, field);
    if (kept.length < allValues(form, field).length) {
      if (kept.length === 0) throw new Error(`keep at least one entry of each list: to allow nothing, withdraw the consent instead`);
      n[field] = kept;
    }
  }
  const day = form.querySelector<HTMLInputElement>('input[name="validUntil"]')!.value;
  if (day && day !== isoDay(record.validUntil)) {
    const until = endOfDay(day);
    if (until > record.validUntil) throw new Error(`the consent ends on ${isoDay(record.validUntil)}: a narrowing cannot extend it`);
    if (until <= Date.now() / 1000) throw new Error("choose an end after today, or withdraw the consent instead");
    n.validUntil = until;
  }
  if (Object.keys(n).length === 0) throw new Error("nothing was narrowed: untick what you no longer allow, or choose an earlier end");
  return n;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return "0x" + Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function termsOf(form: HTMLFormElement, subjectId: string): Promise<ConsentTerms> {
  const list = (field: string, what: string) => {
    const values = checkedValues(form, field);
    if (values.length === 0) throw new Error(`choose at least one: ${what}`);
    return values;
  };
  const dataCategories = list("dataCategories", "kinds of data");
  const day = form.querySelector<HTMLInputElement>('input[name="validUntil"]')!.value;
  const validUntil = endOfDay(day);
  if (!day || !(validUntil > Date.now() / 1000)) throw new Error("choose a date in the future for the consent to end");
  return {
    subjectId,
    controller: form.querySelector<HTMLInputElement>('input[name="controller"]')!.value.trim(),
    resources: list("resources", "the data this consent is for"),
    purposes: list("purposes", "a purpose"),
    dataCategories,
    buyerTypes: list("buyerTypes", "who may receive it"),
    jurisdictions: list("jurisdictions", "where"),
    // special categories (health, genetic, biometric) need explicit consent; this form gives explicit consent for those
    legalBasis: dataCategories.some((d) => DATA_CATEGORIES[d]) ? "A9-2-a" : "A6-1-a",
    validUntil,
    noticeHash: await sha256Hex(NOTICE),
  };
}

export const consent: Page = {
  title: "My consents",
  async render(main, app) {
    main.innerHTML = html`<h1>My consents</h1>
      <p>
        See, give, narrow and withdraw the consents recorded for you on the consent ledger, and who was given access to your data. You sign in once with your
        wallet to read; each change is signed by your wallet and checked by the ledger itself. The consent API acts on nothing else.
      </p>
      <button type="button" id="load">${app.wallet.address ? "Show my consents" : "Connect wallet and show my consents"}</button>
      <div id="consent-body"></div>`.text;
    const body = $("#consent-body", main);
    let subjectId = "";
    let records: ConsentRecord[] = [];
    const load = async () => {
      try {
        if (!app.wallet.address) await app.wallet.connect();
        app.status("sign in with your wallet (one signature) to read your consents…");
        const me = await app.consentApi.me();
        if (me.subjects.length === 0) {
          body.innerHTML = html`<p role="alert">
            No data subject on the consent ledger is bound to ${me.address}. Ask your hospital for your ledger identity and bind this wallet to it.
          </p>`.text;
          app.status("no subject bound to this wallet");
          return;
        }
        subjectId = me.subjects[0];
        await app.indexer.sync().catch(() => false); // names of the resources; ids are shown if the chain is unreachable
        app.status(`reading the consents and the access log of ${subjectId}…`);
        const [consents, access] = await Promise.all([app.consentApi.consents(subjectId), app.consentApi.accessLog(subjectId)]);
        records = consents.records;
        body.innerHTML = html` ${me.subjects.length > 1 ? html`<p>Your wallet is bound to ${me.subjects.length} records; showing ${subjectId}.</p>` : ""}
          <section aria-labelledby="consents-h">
            <h2 id="consents-h">Consents of ${subjectId}</h2>
            <div class="cards" id="consents">${records.length ? records.map((c) => consentCard(app, c)) : html`<p>No consent is recorded for you.</p>`}</div>
          </section>
          <section aria-labelledby="access-h">
            <h2 id="access-h">Who asked for access</h2>
            <div class="scroll" tabindex="0" role="region" aria-label="Access log">
              <table id="access">
                <caption class="sr-only">
                  Access decisions on data of ${subjectId}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">Purpose</th>
                    <th scope="col">Data</th>
                    <th scope="col">Decision</th>
                  </tr>
                </thead>
                <tbody>
                  ${
                    access.records.length
                      ? access.records.map((e) => accessRow(app, e))
                      : html`<tr>
                          <td colspan="5">Nobody has asked for access to your data.</td>
                        </tr>`
                  }
                </tbody>
              </table>
            </div>
          </section>
          ${giveForm(app, records)}`.text;
        $("#load", main).textContent = "Read my consents again";
        app.status(`${records.length} consents and ${access.records.length} access decisions for ${subjectId}`);
      } catch (error) {
        app.alert(describeError(error));
      }
    };

    /** Runs a change the wallet signs; on success replaces the card with the ledger's record. */
    const change = async (button: HTMLButtonElement, progress: string, work: () => Promise<ConsentRecord>, done: (r: ConsentRecord) => string) => {
      button.disabled = true;
      try {
        app.status(progress);
        const record = await work();
        const card = body.querySelector<HTMLElement>(`[data-consent="${record.consentId}"]`);
        if (card) card.outerHTML = consentCard(app, record).text;
        else $("#consents", body).insertAdjacentHTML("beforeend", consentCard(app, record).text);
        records = [...records.filter((r) => r.consentId !== record.consentId), record];
        app.status(done(record));
        body.querySelector<HTMLElement>(`[data-consent="${record.consentId}"] h3`)?.setAttribute("tabindex", "-1");
        body.querySelector<HTMLElement>(`[data-consent="${record.consentId}"] h3`)?.focus();
      } catch (error) {
        button.disabled = false;
        app.alert(describeError(error));
      }
    };

    $("#load", main).addEventListener("click", () => void load());
    body.addEventListener("click", (event) => {
      const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button");
      if (!button) return;
      const d = button.dataset;
      if (d.withdraw) {
        void change(
          button,
          "sign the withdrawal in your wallet; the ledger then records it and ends access built on it…",
          () => app.consentApi.withdraw(subjectId, d.withdraw!),
          (r) => `consent withdrawn: its status is now ${statusWords(r.status)}; the ledger voided the access grants that relied on it`,
        );
      } else if (d.narrow) {
        const form = body.querySelector<HTMLFormElement>(`form[data-narrow-form="${d.narrow}"]`)!;
        form.hidden = !form.hidden;
        button.setAttribute("aria-expanded", String(!form.hidden));
        if (!form.hidden) form.querySelector<HTMLElement>("input")?.focus();
      } else if (d.cancel !== undefined) {
        const form = button.closest<HTMLFormElement>("form")!;
        form.hidden = true;
        const opener = body.querySelector<HTMLButtonElement>(`button[data-narrow="${form.dataset.narrowForm}"]`);
        opener?.setAttribute("aria-expanded", "false");
        opener?.focus();
      } else if (d.give) {
        void change(
          button,
          "sign the consent in your wallet; the ledger then records it…",
          () => app.consentApi.give(subjectId, { consentId: d.give! }),
          () => "consent given",
        );
      } else if (d.refuse) {
        void change(
          button,
          "sign the refusal in your wallet…",
          () => app.consentApi.refuse(subjectId, d.refuse!),
          () => "request refused",
        );
      }
    });
    body.addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target as HTMLFormElement;
      const submit = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
      if (form.dataset.narrowForm) {
        const consentId = form.dataset.narrowForm;
        const record = records.find((r) => r.consentId === consentId)!;
        let narrowing: Narrowing;
        try {
          narrowing = narrowingOf(form, record);
        } catch (error) {
          app.alert((error as Error).message);
          return;
        }
        void change(
          submit,
          "sign the narrower consent in your wallet; the ledger then records it and ends access it no longer allows…",
          () => app.consentApi.narrow(subjectId, consentId, narrowing),
          (r) => `consent narrowed: version ${r.version} allows ${r.purposes.map(purposeName).join(", ")} until ${date(r.validUntil)}`,
        );
      } else if (form.id === "give") {
        void (async () => {
          let terms: ConsentTerms;
          try {
            terms = await termsOf(form, subjectId);
          } catch (error) {
            app.alert((error as Error).message);
            return;
          }
          await change(
            submit,
            "sign the new consent in your wallet; the ledger then records it…",
            () => app.consentApi.give(subjectId, terms),
            (r) => `consent given: ${r.purposes.map(purposeName).join(", ")} until ${date(r.validUntil)}`,
          );
        })();
      }
    });
  },
};
