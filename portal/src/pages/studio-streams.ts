// The seller studio's streams: each live stream the connected wallet owns, and a "Rekey" action for a
// stream whose publisher serves key requests (config keyRequestUrls, by the owner's address). The
// group keys live in that publishing client, not in the browser: the page has the owner's wallet sign
// a rekey request (personal_sign over the key server's origin, the stream, a single-use nonce and an
// expiry; the SDK's signRekeyRequest) and posts it to the key server's POST /rekey, which checks the
// owner on chain and answers the new group key's id and how many recipients got it (docs/sdk.md).
import { signRekeyRequest, type RekeyResult } from "@datamarket/sdk";
import { html, short, type Html } from "../dom";
import type { App } from "../app";
import type { Resource } from "../indexer";
import { StepError } from "./studio-tx";

/** The key server that serves `owner`'s streams, if the deployment names one. */
function keyServerOf(app: App, owner: string): string | undefined {
  return app.config.keyRequestUrls?.[owner.toLowerCase()];
}

/** The streams section's HTML: `me`'s live streams, with a Rekey button where a key server is configured. */
export function streamsSection(app: App, me: string): Html {
  const streams: Resource[] = [...app.indexer.resources.values()].filter((r) => r.kind === "stream" && r.owner === me && !r.deleted);
  const keyServer = keyServerOf(app, me);
  return html`<section aria-labelledby="streams-h">
    <h2 id="streams-h">Your streams</h2>
    <p>
      <small
        >Rekey gives a stream a new group key, sent only to the subscribers who still have access: whoever lost it cannot read what is published from then on.
        ${
          keyServer
            ? html`Your publisher's key server (${keyServer}) does it when your wallet signs the request.`
            : "No key server of yours is configured for this deployment (keyRequestUrls): rekey from your publisher."
        }</small
      >
    </p>
    <div class="scroll" tabindex="0" role="region" aria-label="Your streams table">
      <table id="my-streams">
        <caption class="sr-only">
          Streams you own
        </caption>
        <thead>
          <tr>
            <th scope="col">Stream</th>
            <th scope="col">Partitions</th>
            <th scope="col">Group key</th>
          </tr>
        </thead>
        <tbody>
          ${
            streams.length
              ? streams.map(
                  (s) =>
                    html`<tr data-stream="${s.id}">
                      <td>${s.name}<br /><small>${s.path} · ${short(s.id)}</small></td>
                      <td>${s.partitions}</td>
                      <td>
                        ${
                          keyServer
                            ? html`<button type="button" data-rekey="${s.id}" aria-label="Rekey ${s.name}">Rekey</button>`
                            : html`<small>no key server configured</small>`
                        }
                      </td>
                    </tr>`,
                )
              : html`<tr>
                  <td colspan="3">You have not created a stream yet.</td>
                </tr>`
          }
        </tbody>
      </table>
    </div>
  </section>`;
}

/** Wires the Rekey buttons: sign in the wallet, post to the key server, report the new key in words. */
export function wireRekey(root: HTMLElement, app: App, me: string, run: (work: () => Promise<string>) => Promise<void>): void {
  const keyServer = keyServerOf(app, me);
  if (!keyServer) return;
  for (const button of root.querySelectorAll<HTMLButtonElement>("button[data-rekey]")) {
    button.addEventListener("click", () =>
      run(async () => {
        const streamId = button.dataset.rekey!;
        const name = app.indexer.resources.get(streamId)?.name ?? streamId;
        const step = `Rekey ${name}`;
        app.status(`Step 1 of 2, sign the rekey request of ${name} in your wallet…`);
        let body: string;
        try {
          body = JSON.stringify(await signRekeyRequest((text) => app.wallet.signText(text), { keyServerUrl: keyServer, streamId }));
        } catch (error) {
          throw new StepError(step, `the wallet did not sign: ${(error as Error)?.message ?? error}`);
        }
        app.status(`Step 2 of 2, the key server rekeys ${name} and sends the new key to its subscribers…`);
        let res: Response;
        try {
          res = await fetch(`${keyServer.replace(/\/$/, "")}/rekey`, { method: "POST", headers: { "content-type": "application/json" }, body });
        } catch (error) {
          throw new StepError(step, `the key server at ${keyServer} is unreachable: ${(error as Error)?.message ?? error}`);
        }
        const answer = (await res.json().catch(() => ({}))) as Partial<RekeyResult> & { message?: string };
        if (!res.ok) throw new StepError(step, answer.message ?? `the key server answered HTTP ${res.status}`);
        // recipients: those the publisher announced the key to; other licensed subscribers ask its key server for it, which checks their access
        return `${name} rekeyed: new group key ${answer.groupKeyId}, announced to ${answer.recipients} subscriber(s); others with access get it from your key server`;
      }),
    );
  }
}
