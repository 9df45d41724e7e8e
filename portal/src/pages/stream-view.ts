// The live view of a licensed stream (#/stream/<streamId>): the browser SDK's DataClient signs in to
// one of the brokers the coordinator assigns (EIP-4361, signed by the wallet), subscribes, verifies
// each event (the publisher's signature, and the publisher's permission in the registry) and decrypts
// it with the group key the publisher wrapped for this browser's registered encryption key. The chart
// plots the events' first numeric field (uPlot); the table shows each event's verification state. A
// broker that cuts the subscription (ACCESS_REVOKED: consent withdrawn, licence ended) is shown as such.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { DataClient, ReceivedMessage, SdkError } from "@datamarket/sdk";
import { $, html, short } from "../dom";
import { describeError } from "../errors";
import { resourceOrNotFound } from "./resource";
import type { Page } from "../app";

/** Points kept on the chart and rows in the table. */
const KEEP_POINTS = 600;
const KEEP_ROWS = 20;

/** The first numeric field of a JSON event ("bpm"), or null. */
function numericField(value: unknown): [string, number] | null {
  if (typeof value === "number") return ["value", value];
  if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value)) if (typeof v === "number" && k !== "seq" && Number.isFinite(v)) return [k, v];
  return null;
}

const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);

export const streamView: Page = {
  title: "Live stream",
  async render(main, app, args) {
    const streamId = (args[0] ?? "").toLowerCase();
    const resource = await resourceOrNotFound(main, app, streamId, "stream");
    if (!resource) return;
    main.innerHTML = html`<h1>${resource.name}: live</h1>
      ${resource.description ? html`<p>${resource.description}</p>` : ""}
      <p>Publisher ${short(resource.owner)} · <span class="mono">${resource.path}</span></p>
      <p><button type="button" id="start">Connect wallet and watch</button></p>
      <p id="access" aria-live="assertive"></p>
      <figure>
        <div id="chart" role="img" aria-label="time series of the stream's events (no event yet)"></div>
        <figcaption id="chart-caption">No event yet.</figcaption>
      </figure>
      <div class="scroll" tabindex="0" role="region" aria-label="Latest events">
        <table id="events">
          <caption>
            Latest events, newest first
          </caption>
          <thead>
            <tr>
              <th scope="col">Time (UTC)</th>
              <th scope="col">Content</th>
              <th scope="col">Publisher</th>
              <th scope="col">Verification</th>
            </tr>
          </thead>
          <tbody></tbody>
        </table>
      </div>`.text;

    let client: DataClient | undefined;
    let plot: uPlot | undefined;
    let field = "";
    const xs: number[] = [];
    const ys: number[] = [];
    const rows: string[] = [];
    const addRow = (row: string) => {
      rows.unshift(row);
      rows.length = Math.min(rows.length, KEEP_ROWS);
      $("#events tbody", main).innerHTML = rows.join("");
    };
    const chartEl = $("#chart", main);
    const draw = () => {
      const width = Math.max(280, Math.min(chartEl.clientWidth || 640, 900));
      if (!plot) {
        plot = new uPlot(
          {
            width,
            height: 240,
            scales: { x: { time: true } },
            series: [{}, { label: field, stroke: "#0b5cad", width: 2 }],
            axes: [{}, { label: field }],
          },
          [xs, ys],
          chartEl,
        );
      } else plot.setData([xs, ys]);
      chartEl.setAttribute("aria-label", `${field} over time: ${ys.length} points, latest ${ys[ys.length - 1]}`);
      $("#chart-caption", main).textContent = `${field}: latest ${ys[ys.length - 1]}, ${ys.length} event${ys.length === 1 ? "" : "s"} shown.`;
    };
    const onMessage = (m: ReceivedMessage) => {
      const parsed = m.parsed();
      const point = numericField(parsed);
      if (point) {
        field ||= point[0];
        xs.push(m.timestamp / 1000);
        ys.push(point[1]);
        if (xs.length > KEEP_POINTS) {
          xs.shift();
          ys.shift();
        }
        draw();
      }
      addRow(
        html`<tr data-event="${m.eventHash}">
          <td>${time(m.timestamp)}</td>
          <td class="mono">${typeof parsed === "string" ? parsed : JSON.stringify(parsed instanceof Uint8Array ? `${parsed.length} bytes` : parsed)}</td>
          <td>${short(m.publisher)}${m.publisher === resource.owner ? " (the stream's owner)" : ""}</td>
          <td><span class="status ok">signature valid</span> ${m.encrypted ? "decrypted" : "not encrypted"}</td>
        </tr>`.text,
      );
    };
    const onError = (e: SdkError) => {
      const code = (e.details as { brokerCode?: string }).brokerCode ?? e.code;
      if (code === "ACCESS_REVOKED" || code === "NOT_LICENSED" || code === "UNAUTHORIZED") {
        $("#access", main).innerHTML = html`<strong class="verdict bad" id="revoked">Access revoked.</strong> The broker ended your subscription (${code}):
          ${e.shortMessage}. See your refund on <a href="#/licences">My licences</a>.`.text;
        app.alert(`access revoked: ${e.shortMessage}`);
        return;
      }
      const d = e.details as { eventHash?: string; publisher?: string };
      addRow(
        html`<tr data-refused="${d.eventHash ?? ""}">
          <td>—</td>
          <td>refused</td>
          <td>${d.publisher ? short(d.publisher) : "—"}</td>
          <td><span class="status off">${code}</span> ${e.shortMessage}</td>
        </tr>`.text,
      );
    };

    const start = $<HTMLButtonElement>("#start", main);
    start.addEventListener("click", () => {
      start.disabled = true;
      void (async () => {
        try {
          const me = app.wallet.address ?? (await app.wallet.connect());
          const [{ DataClient, HttpKeyRequestChannel, StreamRegistryClient, coordinatorAt }, { walletSigner, chainProvider, registeredEncryptionKey }] =
            await Promise.all([import("@datamarket/sdk"), import("../tx")]);
          const key = await registeredEncryptionKey(app, me);
          if (!key) throw new Error("this browser holds no encryption key registered for your wallet: buy (or extend) a licence from this browser first");
          const provider = chainProvider(app);
          client?.close().catch(() => undefined);
          client = new DataClient({
            signer: await walletSigner(app),
            access: new StreamRegistryClient(app.config.contracts.StreamRegistry, provider),
            encryptionPrivateKey: key.privateKey,
            coordinator: coordinatorAt(app.config.contracts.NetworkCoordinator, provider),
            // a group key this browser missed is asked of its publisher, who checks the licence before wrapping it for our key
            keyRequests: new HttpKeyRequestChannel((publisher) => app.config.keyRequestUrls?.[publisher.toLowerCase()]),
          });
          app.status("signing in to the stream's broker (sign the EIP-4361 message in your wallet)…");
          await client.subscribe(streamId, onMessage, { onError });
          $("#access", main).textContent = "Subscribed: waiting for events.";
          app.status("subscribed: events are verified and decrypted in this browser");
          start.textContent = "Watching";
        } catch (error) {
          start.disabled = false;
          app.alert(describeError(error));
        }
      })();
    });
    return () => {
      plot?.destroy();
      void client?.close().catch(() => undefined);
    };
  },
};
