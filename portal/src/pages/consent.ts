// Consent: a data subject signs in with the wallet their hospital bound to their ledger identity,
// sees every consent recorded for them (the ISO/IEC TS 27560 fields in plain words) and the access log
// (who was granted or denied access, for which purpose, when), and withdraws a consent. Every request
// to the consent API is signed by the wallet; nothing is sent unsigned.
import { $, date, html, purposeName, short, words, type Html } from "../dom";
import { describeError } from "../errors";
import type { AccessLogEntry, ConsentRecord } from "../consent-client";
import type { App, Page } from "../app";

const LEGAL_BASES: Record<string, string> = { "A6-1-a": "consent (GDPR Art. 6(1)(a))", "A9-2-a": "explicit consent (GDPR Art. 9(2)(a))" };
const ACTIVE = new Set(["ConsentGiven", "RenewedConsentGiven"]);

function statusWords(status: string): string {
  return words(status.replace(/^Consent/, "").replace(/^RenewedConsentGiven$/, "RenewedGiven"));
}

function resourceName(app: App, id: string): Html {
  const r = app.indexer.resources.get(id.toLowerCase());
  return r ? html`${r.name} <small>(${r.kind})</small>` : short(id);
}

function consentCard(app: App, c: ConsentRecord): Html {
  const active = ACTIVE.has(c.status);
  return html`<article class="card" data-consent="${c.consentId}" aria-labelledby="c-${c.consentId}">
    <h3 id="c-${c.consentId}">Consent to ${c.controller} <span class="status ${active ? "ok" : "off"}">${statusWords(c.status)}</span></h3>
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
      <dd>${c.buyerTypes.map(words).join(", ")} in ${c.jurisdictions.join(", ")}</dd>
      <dt>Legal basis</dt>
      <dd>${LEGAL_BASES[c.legalBasis] ?? c.legalBasis}</dd>
      <dt>Valid</dt>
      <dd>${date(c.validFrom)} to ${date(c.validUntil)}</dd>
      <dt>Version</dt>
      <dd>${c.version}, last changed ${date(c.updatedAt)}</dd>
    </dl>
    ${active ? html`<button type="button" class="danger" data-withdraw="${c.consentId}">Withdraw this consent</button>` : ""}
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

export const consent: Page = {
  title: "My consents",
  async render(main, app) {
    main.innerHTML = html`<h1>My consents</h1>
      <p>
        See and withdraw the consents your hospital recorded for you on the consent ledger, and who was given access to your data. Your wallet signs every
        request; the consent API acts on nothing else.
      </p>
      <button type="button" id="load">${app.wallet.address ? "Show my consents" : "Connect wallet and show my consents"}</button>
      <div id="consent-body"></div>`.text;
    const body = $("#consent-body", main);
    let subjectId = "";
    const load = async () => {
      try {
        if (!app.wallet.address) await app.wallet.connect();
        app.status("sign the request in your wallet to list the identities bound to it…");
        const me = await app.consentApi.me();
        if (me.subjects.length === 0) {
          body.innerHTML = html`<p role="alert">
            No data subject on the consent ledger is bound to ${me.address}. Ask your hospital to bind this wallet to your record.
          </p>`.text;
          app.status("no subject bound to this wallet");
          return;
        }
        subjectId = me.subjects[0];
        await app.indexer.sync().catch(() => false); // names of the resources; ids are shown if the chain is unreachable
        app.status(`sign in your wallet to read the consents of ${subjectId}…`);
        const consents = await app.consentApi.consents(subjectId);
        app.status(`sign in your wallet to read the access log of ${subjectId}…`);
        const access = await app.consentApi.accessLog(subjectId);
        body.innerHTML = html` ${me.subjects.length > 1 ? html`<p>Your wallet is bound to ${me.subjects.length} records; showing ${subjectId}.</p>` : ""}
          <section aria-labelledby="consents-h">
            <h2 id="consents-h">Consents of ${subjectId}</h2>
            <div class="cards" id="consents">
              ${consents.records.length ? consents.records.map((c) => consentCard(app, c)) : html`<p>No consent is recorded for you.</p>`}
            </div>
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
          </section>`.text;
        $("#load", main).textContent = "Read my consents again";
        app.status(`${consents.records.length} consents and ${access.records.length} access decisions for ${subjectId}`);
      } catch (error) {
        app.alert(describeError(error));
      }
    };
    $("#load", main).addEventListener("click", () => void load());
    body.addEventListener("click", (event) => {
      const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-withdraw]");
      if (!button) return;
      const consentId = button.dataset.withdraw!;
      button.disabled = true;
      void (async () => {
        try {
          app.status("sign the withdrawal in your wallet; the ledger then records it and ends access built on it…");
          const record = await app.consentApi.withdraw(subjectId, consentId);
          const card = body.querySelector<HTMLElement>(`[data-consent="${consentId}"]`)!;
          card.outerHTML = consentCard(app, record).text;
          app.status(`consent withdrawn: its status is now ${statusWords(record.status)}; the ledger voided the access grants that relied on it`);
        } catch (error) {
          button.disabled = false;
          app.alert(describeError(error));
        }
      })();
    });
  },
};
