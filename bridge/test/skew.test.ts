// The bridge does not take the ledger's word for the time: it refuses to sign a grant whose issue time
// (the proposal timestamp the chaincode bounds by its peers' clocks) is not within the skew of its own clock.
import { expect } from "chai";
import { InProcessConsentLedger } from "@datamarket/consent-ledger";
import { Wallet } from "ethers";
import { RefusalCode } from "../src/attestor";
import { parseConfig } from "../src/config";
import { ATTESTOR_KEYS, HARDHAT_MARKET, PURPOSE, getJson, startBridge, waitFor } from "./fixtures";

const HOUR = 3600;

/**
 * A ledger whose peers allow a day of skew (misconfigured, or lying about the time) and a buyer whose
 * clock runs `buyerOffsetSeconds` from theirs.
 */
async function laxLedger(buyerOffsetSeconds: number) {
  const ledger = await InProcessConsentLedger.create({ chaincodeEnvironment: { CONSENT_MAX_CLOCK_SKEW_SECONDS: "86400" } });
  const buyerAddress = new Wallet("0x" + "52".repeat(32)).address.toLowerCase();
  const custodian = ledger.client(await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" }));
  const buyer = ledger.client(
    await ledger.enroll("ResearchMSP", "lab", {
      "consent.role": "buyer",
      "consent.buyerType": "PublicResearch",
      "consent.jurisdiction": "NL",
      "consent.ethAddress": buyerAddress,
    }),
    { clock: () => ledger.clock.now() + buyerOffsetSeconds * 1000 },
  );
  const bridgeClient = ledger.client(await ledger.enroll("AuditMSP", "consent-bridge", { "consent.role": "auditor" }));
  const resourceId = "0x" + "33".repeat(32);
  await custodian.registerResource(resourceId, "stream");
  await custodian.addResourceSubjects(resourceId, ["subj-0001"]);
  await custodian.giveConsent({
    subjectId: "subj-0001",
    controller: "University Hospital",
    resources: [resourceId],
    purposes: [PURPOSE],
    dataCategories: ["PhysicalHealth"],
    buyerTypes: ["PublicResearch"],
    jurisdictions: ["EU"],
    legalBasis: "A9-2-a",
    validFrom: ledger.clock.nowSeconds() - 2 * HOUR,
    validUntil: ledger.clock.nowSeconds() + 365 * 86_400,
    noticeHash: "0x" + "cd".repeat(32),
  });
  const requestGrant = async () => (await buyer.requestAccess({ resourceId, purpose: PURPOSE, ethAddress: buyerAddress })).grant!;
  return { ledger, bridgeClient, requestGrant };
}

describe("consent bridge: the grant's issue time against the bridge's clock", () => {
  for (const [direction, offset] of [
    ["ahead of", 12 * HOUR],
    ["behind", -HOUR],
  ] as const) {
    it(`refuses to sign a grant issued ${Math.abs(offset) / HOUR} h ${direction} its clock (${RefusalCode.ISSUED_AT_OUT_OF_SKEW})`, async () => {
      const f = await laxLedger(offset);
      const { bridge, log } = await startBridge(f.bridgeClient, ATTESTOR_KEYS[0]);
      try {
        const grant = await f.requestGrant();
        expect(grant.issuedAt - f.ledger.clock.nowSeconds()).to.be.closeTo(offset, 5);
        await waitFor(() => log.records.some((r) => r.msg === "refused to sign a grant"), "the refusal");
        const { status, body } = await getJson(`${bridge.url}/v1/attestations/${grant.grantId}`);
        expect(status).to.equal(409);
        expect(body.message).to.equal(`grant ${grant.grantId} was not signed: ${RefusalCode.ISSUED_AT_OUT_OF_SKEW}`);
        const refusal = log.records.find((r) => r.msg === "refused to sign a grant")!;
        expect(refusal.detail).to.contain(`${direction} this bridge's clock; the limit is 300 s`);
      } finally {
        await bridge.stop();
      }
    });
  }

  it("signs a grant issued within the skew of its clock, and follows its configured skew", async () => {
    const f = await laxLedger(0);
    // a bridge whose clock is 4 minutes behind the peers' still signs with the default skew of 5 minutes
    const behind = await startBridge(f.bridgeClient, ATTESTOR_KEYS[0], { now: () => f.ledger.clock.now() - 240_000 });
    // one configured for 60 s refuses the same grant
    const strict = await startBridge(f.bridgeClient, ATTESTOR_KEYS[1], { now: () => f.ledger.clock.now() - 240_000, maxClockSkewSeconds: 60 });
    try {
      const grant = await f.requestGrant();
      await waitFor(async () => (await getJson(`${behind.bridge.url}/v1/attestations/${grant.grantId}`)).status === 200, "the attestation");
      await waitFor(async () => (await getJson(`${strict.bridge.url}/v1/attestations/${grant.grantId}`)).status === 409, "the refusal");
    } finally {
      await behind.bridge.stop();
      await strict.bridge.stop();
    }
  });

  it("reads the skew from consentLedger.maxClockSkewSeconds (default 300, 1..86400)", () => {
    const env = { BRIDGE__ATTESTOR_KEY: ATTESTOR_KEYS[0] };
    expect(parseConfig({ chain: { market: HARDHAT_MARKET } }, env).consentLedger.maxClockSkewSeconds).to.equal(300);
    expect(parseConfig({ chain: { market: HARDHAT_MARKET }, consentLedger: { maxClockSkewSeconds: 60 } }, env).consentLedger.maxClockSkewSeconds).to.equal(60);
    expect(
      parseConfig({ chain: { market: HARDHAT_MARKET } }, { ...env, BRIDGE__CONSENT_LEDGER__MAX_CLOCK_SKEW_SECONDS: "90" }).consentLedger.maxClockSkewSeconds,
    ).to.equal(90);
    for (const bad of [0, 86_401, "x"]) {
      expect(() => parseConfig({ chain: { market: HARDHAT_MARKET }, consentLedger: { maxClockSkewSeconds: bad } }, env)).to.throw(
        `consentLedger.maxClockSkewSeconds: ${JSON.stringify(bad)} is not a number of seconds 1..86400`,
      );
    }
  });
});
