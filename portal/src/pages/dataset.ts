// A licensed dataset, decrypted in the browser (#/dataset/<datasetId>): the seller's release service
// (config.releaseUrls) answers a licensed buyer whose consent grant is open with the released subjects'
// chunks and their keys wrapped for the buyer's registered encryption key; the SDK's openRelease checks
// the manifest against the content hash in the registry and decrypts with this browser's key. The
// records are offered as a JSON Lines file made in the page: the plaintext never leaves the browser.
import { streamRegistryAbi } from "@datamarket/contracts";
import { $, html, short } from "../dom";
import { describeError } from "../errors";
import { reasonInWords } from "../decision";
import type { ReleaseJson } from "../release-codec";
import { resourceOrNotFound } from "./resource";
import type { Page } from "../app";

export const dataset: Page = {
  title: "Dataset",
  async render(main, app, args) {
    const datasetId = (args[0] ?? "").toLowerCase();
    const resource = await resourceOrNotFound(main, app, datasetId, "dataset");
    if (!resource) return;
    const service = app.config.releaseUrls?.[datasetId];
    main.innerHTML = html`<h1>${resource.name}</h1>
      ${resource.description ? html`<p>${resource.description}</p>` : ""}
      <p>Seller ${short(resource.owner)} · <span class="mono">${resource.path}</span></p>
      ${
        service
          ? html`<p><button type="button" id="download">Connect wallet and decrypt my release</button></p>`
          : html`<p>The seller publishes no release service for this dataset in this deployment's configuration.</p>`
      }
      <div id="result" aria-live="polite"></div>`.text;
    if (!service) return;
    let url: string | undefined;
    const button = $<HTMLButtonElement>("#download", main);
    button.addEventListener("click", () => {
      button.disabled = true;
      void (async () => {
        try {
          const me = app.wallet.address ?? (await app.wallet.connect());
          const [{ openRelease }, { registeredEncryptionKey }, { releaseFromJson }] = await Promise.all([
            import("@datamarket/sdk"),
            import("../tx"),
            import("../release-codec"),
          ]);
          const key = await registeredEncryptionKey(app, me);
          if (!key) throw new Error("this browser holds no encryption key registered for your wallet: buy (or extend) a licence from this browser first");
          app.status("asking the seller's release service for your release…");
          const response = await fetch(`${service.replace(/\/+$/, "")}/v1/releases/${datasetId}/${me}`);
          const body = (await response.json().catch(() => ({}))) as ReleaseJson & { error?: string; message?: string };
          if (!response.ok) throw new Error(`the release service refused (${body.error ?? response.status}): ${body.message ?? "no reason given"}`);
          const registry = app.chain.contract(app.config.contracts.StreamRegistry, streamRegistryAbi);
          const contentHash = await registry.view<string>("datasetContentHash", datasetId);
          const opened = openRelease(releaseFromJson(body), contentHash, key.privateKey);
          const decoder = new TextDecoder();
          const lines = opened.subjects.flatMap((s) => s.records.map((r) => decoder.decode(r)));
          if (url) URL.revokeObjectURL(url);
          url = URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "application/x-ndjson" }));
          const leftOut = Object.entries(opened.leftOut.byReason);
          $("#result", main).innerHTML = html`<p class="verdict ok" id="opened">
              Decrypted ${lines.length} record${lines.length === 1 ? "" : "s"} of ${opened.subjects.length} consenting data
              subject${opened.subjects.length === 1 ? "" : "s"} (manifest checked against the registry's content hash).
            </p>
            ${
              opened.leftOut.total
                ? html`<p id="left-out">${opened.leftOut.total} data subject${opened.leftOut.total === 1 ? "" : "s"} left out${leftOut.length ? ":" : "."}</p>
                    ${
                      leftOut.length
                        ? html`<ul>
                            ${leftOut.map(([r, n]) => html`<li>${n}: ${reasonInWords(r)}</li>`)}
                          </ul>`
                        : ""
                    }`
                : ""
            }
            <p>
              <a id="save" href="${url}" download="${resource.path.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "")}.jsonl">Save the records (JSON Lines)</a>
            </p>
            <div class="scroll" tabindex="0" role="region" aria-label="Decrypted records">
              <table id="records">
                <caption>
                  Records by data subject
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Subject</th>
                    <th scope="col">Records</th>
                  </tr>
                </thead>
                <tbody>
                  ${opened.subjects.map(
                    (s) =>
                      html`<tr data-subject="${s.subjectId}">
                        <td class="mono">${s.subjectId}</td>
                        <td class="mono">${s.records.map((r) => decoder.decode(r)).join("\n")}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`.text;
          app.status(`decrypted ${opened.subjects.length} subjects' records in this browser`);
        } catch (error) {
          app.alert(describeError(error));
        } finally {
          button.disabled = false;
        }
      })();
    });
    return () => {
      if (url) URL.revokeObjectURL(url);
    };
  },
};
