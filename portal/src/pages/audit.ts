// Audit: what an auditor checks of a running deployment, read live from the contracts: the market's
// solvency (its DATA balance against what it owes: escrow, income, refunds and fees), the attestor set
// and threshold that gate consent, the coordinator's brokers, partitions and rounds, and the deployment's
// verification table (audit-verify.ts, loaded after the rest: it reads every contract's code and roles).
import { dataLicenseMarketAbi, dataTokenAbi, networkCoordinatorAbi, withProtocolErrors } from "@datamarket/contracts";
import { data, date, html, short, type Html } from "../dom";
import { describeError } from "../errors";
import type { App, Page } from "../app";
import type { Check } from "./audit-verify";

const BROKER_STATUS = ["not registered", "active", "suspended", "leaving"];

export const audit: Page = {
  title: "Audit",
  async render(main, app) {
    const { contracts } = app.config;
    const market = app.chain.contract(contracts.DataLicenseMarket, withProtocolErrors(dataLicenseMarketAbi));
    const token = app.chain.contract(contracts.DATAToken, withProtocolErrors(dataTokenAbi));
    const coordinator = app.chain.contract(contracts.NetworkCoordinator, withProtocolErrors(networkCoordinatorAbi));
    main.innerHTML = html`<h1>Audit the deployment</h1>
      <p>Read live from the contracts on chain ${app.config.chainId}.</p>
      <div id="audit" aria-busy="true"><p>Reading the contracts…</p></div>`.text;
    app.status("reading the market, the token and the coordinator…");
    try {
      // every read that does not depend on another at once: the page waits for the slowest, not the sum
      const [[balance, owed, attestors, threshold], , [partitions, replication, epochLength, genesis, active]] = await Promise.all([
        Promise.all([
          token.view<bigint>("balanceOf", contracts.DataLicenseMarket),
          market.view<bigint>("totalOwed"),
          market.view<string[]>("attestors"),
          market.view<bigint>("attestorThreshold"),
        ]),
        app.indexer.sync(),
        Promise.all([
          coordinator.view<bigint>("partitionCount"),
          coordinator.view<bigint>("replication"),
          coordinator.view<bigint>("epochLength"),
          coordinator.view<bigint>("genesis"),
          coordinator.view<bigint>("activeBrokerCount"),
        ]),
      ]);
      const brokers = await Promise.all(
        [...app.indexer.brokers.values()].map(async (b) => {
          const [state, assigned] = await Promise.all([
            coordinator.view<{ stake: bigint; status: bigint; reputation: bigint }>("brokerState", b.address),
            coordinator.view<bigint[]>("partitionsOf", b.address),
          ]);
          return {
            ...b,
            stake: BigInt(state.stake),
            status: BROKER_STATUS[Number(state.status)] ?? `status ${state.status}`,
            reputation: Number(state.reputation),
            partitions: [...assigned].map(Number),
          };
        }),
      );
      const rounds = app.indexer.latestRounds(20);
      const solvent = balance >= owed;
      const slack = solvent ? balance - owed : owed - balance;
      document.getElementById("audit")!.outerHTML = html`<div id="audit">
        <section aria-labelledby="solvency-h">
          <h2 id="solvency-h">Market solvency</h2>
          <p class="verdict ${solvent ? "ok" : "bad"}" id="solvency">
            ${solvent ? "Solvent" : "Insolvent"}: the market holds ${data(balance)} and owes ${data(owed)} (${solvent ? "surplus" : "shortfall"}
            ${data(slack)}).
          </p>
          <dl class="facts">
            <dt>DATA balance of the market</dt>
            <dd>${data(balance)}</dd>
            <dt>Owed (escrow, income, refunds, fees)</dt>
            <dd>${data(owed)}</dd>
            <dt>Market</dt>
            <dd>${short(contracts.DataLicenseMarket)}</dd>
            <dt>Token</dt>
            <dd>${short(contracts.DATAToken)}</dd>
          </dl>
        </section>
        <section aria-labelledby="attestors-h">
          <h2 id="attestors-h">Consent attestors</h2>
          <p id="threshold">${threshold.toString()} of ${attestors.length} attestors must sign a consent attestation.</p>
          <ul>
            ${attestors.map((a) => html`<li class="mono">${a}</li>`)}
          </ul>
        </section>
        <section aria-labelledby="coordinator-h">
          <h2 id="coordinator-h">Network coordinator</h2>
          <dl class="facts">
            <dt>Partitions</dt>
            <dd id="partitions">${partitions.toString()}</dd>
            <dt>Replication</dt>
            <dd>${replication.toString()} brokers a partition</dd>
            <dt>Epochs</dt>
            <dd>${epochLength.toString()} s from ${date(Number(genesis))}</dd>
            <dt>Active brokers</dt>
            <dd>${active.toString()}</dd>
          </dl>
          <div class="scroll" tabindex="0" role="region" aria-label="Brokers table">
            <table id="brokers">
              <caption>
                Registered brokers
              </caption>
              <thead>
                <tr>
                  <th scope="col">Operator</th>
                  <th scope="col">Status</th>
                  <th scope="col">Stake</th>
                  <th scope="col">Reputation</th>
                  <th scope="col">Partitions</th>
                  <th scope="col">WebSocket</th>
                </tr>
              </thead>
              <tbody>
                ${
                  brokers.length
                    ? brokers.map(
                        (b) =>
                          html`<tr>
                            <td>${short(b.address)}</td>
                            <td>${b.status}</td>
                            <td>${data(b.stake)}</td>
                            <td>${b.reputation}</td>
                            <td>${b.partitions.length} (${b.partitions.slice(0, 8).join(", ")}${b.partitions.length > 8 ? ", …" : ""})</td>
                            <td class="mono">${b.wsUrl}</td>
                          </tr>`,
                      )
                    : html`<tr>
                        <td colspan="6">No broker has registered.</td>
                      </tr>`
                }
              </tbody>
            </table>
          </div>
        </section>
        <section aria-labelledby="rounds-h">
          <h2 id="rounds-h">Reporting rounds</h2>
          <div class="scroll" tabindex="0" role="region" aria-label="Reporting rounds table">
            <table id="rounds">
              <caption>
                The latest rounds: each assigned broker commits, then reveals, its count and checksum of a partition's events in an epoch
              </caption>
              <thead>
                <tr>
                  <th scope="col">Epoch</th>
                  <th scope="col">Partition</th>
                  <th scope="col">Commits</th>
                  <th scope="col">Reveals</th>
                  <th scope="col">Outcome</th>
                </tr>
              </thead>
              <tbody>
                ${
                  rounds.length
                    ? rounds.map(
                        (r) =>
                          html`<tr>
                            <td>${r.epoch}</td>
                            <td>${r.partition}</td>
                            <td>${r.commits}</td>
                            <td>${r.reveals}</td>
                            <td>${r.outcome}${r.outcome === "agreed" ? html`: ${r.agreeing} brokers agree on ${String(r.eventCount)} events` : ""}</td>
                          </tr>`,
                      )
                    : html`<tr>
                        <td colspan="5">No broker has committed a report yet.</td>
                      </tr>`
                }
              </tbody>
            </table>
          </div>
        </section>
        <section aria-labelledby="verification-h">
          <h2 id="verification-h">Deployment verification</h2>
          <div id="verification" aria-busy="true"><p>Checking every contract's code, roles, links and parameters against the deployment record…</p></div>
        </section>
      </div>`.text;
      app.status(`audit read at block ${app.indexer.head}: ${solvent ? "solvent" : "INSOLVENT"}, ${brokers.length} brokers`);
      // the verification table's reads start once the rest shows: they would slow the page's first content
      void verify(app).then(show);
    } catch (error) {
      document.getElementById("audit")!.outerHTML = html`<div id="audit"><p role="alert">Could not read the deployment: ${describeError(error)}</p></div>`.text;
      app.alert(describeError(error));
    }
  },
};

function checkRows(checks: Check[]): Html {
  return html`${checks.map(
    (c) =>
      html`<tr class="${c.ok ? "" : "fail"}">
        <td><span class="status ${c.ok ? "ok" : "off"}">${c.ok ? "pass" : "FAIL"}</span></td>
        <td>${c.area}</td>
        <td>${c.contract}</td>
        <td>${c.item}</td>
        <td class="mono">${c.expected}</td>
        <td class="mono">${c.actual}</td>
      </tr>`,
  )}`;
}

/** The verification table, or why there is none: the deployment record (deployment.json) checked against the chain. */
async function verify(app: App): Promise<Html> {
  try {
    const { loadRecord, verifyDeployment } = await import("./audit-verify");
    const record = await loadRecord();
    if (!record)
      return html`<p id="verify-summary">This server publishes no deployment record (deployment.json beside config.json), so the table cannot be made.</p>`;
    const checks = await verifyDeployment(app, record);
    const failed = checks.filter((c) => !c.ok).length;
    return html`<p id="verify-summary" class="verdict ${failed ? "bad" : "ok"}">
        ${failed ? `${failed} of ${checks.length} checks failed` : `All ${checks.length} checks pass`}: the deployment record of chain ${record.chainId}
        (${record.network}) against the chain and @datamarket/contracts.
      </p>
      <div class="scroll" tabindex="0" role="region" aria-label="Verification table">
        <table id="checks">
          <caption>
            Each contract's runtime code against the package's build, the roles, the links between contracts and the recorded parameters
          </caption>
          <thead>
            <tr>
              <th scope="col">Result</th>
              <th scope="col">Area</th>
              <th scope="col">Contract</th>
              <th scope="col">Check</th>
              <th scope="col">Expected</th>
              <th scope="col">On chain</th>
            </tr>
          </thead>
          <tbody>
            ${checkRows(checks)}
          </tbody>
        </table>
      </div>`;
  } catch (error) {
    return html`<p role="alert" id="verify-summary">Could not verify the deployment: ${describeError(error)}</p>`;
  }
}

function show(content: Html): void {
  const box = document.getElementById("verification");
  if (!box) return; // the reader left the page
  box.innerHTML = content.text;
  box.removeAttribute("aria-busy");
}
