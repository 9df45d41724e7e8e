// The buyer does not set the clock (docs/threat-model.md, "The clock"): every proposal timestamp further
// than the allowed skew from the endorsing peer's clock is refused with TIMESTAMP_SKEW, for every rule that
// reads time, whichever way it is forged; within the skew the effect is bounded by it.
import { expect } from "chai";
import { ConsentLedgerClient, DenialReason, InProcessConsentLedger } from "@datamarket/consent-ledger";
import { BUYER_ADDRESS, DAY, RESOURCE, World, buyerWallet, expectCode, terms, world } from "./fixtures";

const FORGED = 20 * DAY;
const BUYER_ATTRIBUTES = {
  "consent.role": "buyer",
  "consent.buyerType": "PublicResearch",
  "consent.jurisdiction": "DE",
  "consent.ethAddress": buyerWallet.address,
};

describe("the clock: proposal timestamps bounded by the endorsing peer's clock", () => {
  let w: World;
  /** A client of `mspId` with `attributes` whose clock runs `offsetSeconds` from the peer's. */
  const skewed = async (offsetSeconds: number, mspId = "ResearchMSP", attributes: Record<string, string> = BUYER_ATTRIBUTES): Promise<ConsentLedgerClient> =>
    w.ledger.client(await w.ledger.enroll(mspId, `skewed-${mspId}-${offsetSeconds}-${Math.random()}`, attributes), {
      clock: () => w.ledger.clock.now() + offsetSeconds * 1000,
    });
  const custodianAttributes = { "consent.role": "custodian" };
  const request = (overrides: Record<string, unknown> = {}) => ({
    resourceId: RESOURCE,
    purpose: "ScientificResearch",
    ethAddress: BUYER_ADDRESS,
    ...overrides,
  });

  beforeEach(async () => {
    w = await world();
    await w.custodian.registerResource(RESOURCE, "stream");
    await w.custodian.addResourceSubjects(RESOURCE, ["subj-0001"]);
  });

  it("refuses the issue's forgery: a request moved 20 days ahead to pass a consent valid from now + 10 days", async () => {
    await w.custodian.giveConsent(terms(w.ledger, { validFrom: w.ledger.clock.nowSeconds() + 10 * DAY, validUntil: w.ledger.clock.nowSeconds() + 40 * DAY }));
    expect((await w.buyer.requestAccess(request())).reasons).to.deep.equal([DenialReason.NOT_YET_VALID]);
    const forger = await skewed(FORGED);
    await expectCode(forger.requestAccess(request({ ttlSeconds: 30 * DAY })), "TIMESTAMP_SKEW", "ahead of the endorsing peer's clock");
    await expectCode(forger.previewAccess(request()), "TIMESTAMP_SKEW", "the limit is 300 s");
    expect((await w.buyer.listAccessByBuyer()).records).to.have.length(1);
  });

  it("refuses a request moved back 20 days to pass a consent that has expired", async () => {
    await w.custodian.giveConsent(terms(w.ledger, { validUntil: w.ledger.clock.nowSeconds() + DAY }));
    w.ledger.clock.advance(2 * DAY);
    expect((await w.buyer.requestAccess(request())).reasons).to.deep.equal([DenialReason.EXPIRED]);
    await expectCode((await skewed(-FORGED)).requestAccess(request()), "TIMESTAMP_SKEW", "behind the endorsing peer's clock");
  });

  describe("every rule that reads time refuses a timestamp forged either way", () => {
    // [rule, transaction, who, how] for each transaction whose outcome depends on the transaction time
    type Attempt = (client: ConsentLedgerClient, x: World) => Promise<unknown>;
    const rules: Array<[string, "custodian" | "buyer" | "auditor", Attempt]> = [
      ["validity window (decision: NOT_YET_VALID / EXPIRED)", "buyer", (c) => c.requestAccess(request())],
      ["grant lifetime (expiresAt = now + ttlSeconds, at most 30 days)", "buyer", (c) => c.requestAccess(request({ ttlSeconds: 30 * DAY }))],
      ["access-log order (keys by transaction time)", "buyer", (c) => c.listAccessByBuyer()],
      ["grant expiry (GetGrant reports Expired)", "auditor", async (c, x) => c.getGrant((await x.buyer.requestAccess(request())).grant!.grantId)],
      [
        "consent expiry (GetConsent reports ConsentExpired)",
        "auditor",
        async (c, x) => c.getConsent((await x.custodian.listSubjectConsents("subj-0001")).records[0].consentId),
      ],
      ["subject log order", "auditor", (c) => c.listAccessBySubject("subj-0001")],
      [
        "consent validity (validFrom defaults to now, validUntil must be after now)",
        "custodian",
        (c, x) => c.giveConsent(terms(x.ledger, { subjectId: "subj-0002" })),
      ],
      [
        "renewal (validUntil must be after now)",
        "custodian",
        async (c, x) => c.renewConsent((await x.custodian.listSubjectConsents("subj-0001")).records[0].consentId, x.ledger.clock.nowSeconds() + 2 * DAY),
      ],
      [
        "a requested consent lapses at validUntil",
        "custodian",
        async (c, x) => c.acceptConsentRequest((await x.custodian.requestConsent(terms(x.ledger, { subjectId: "subj-0003" }))).consentId),
      ],
      [
        "withdrawal time (updatedAt, invalidatedAt)",
        "custodian",
        async (c, x) => c.withdrawConsent((await x.custodian.listSubjectConsents("subj-0001")).records[0].consentId),
      ],
    ];
    for (const [rule, role, attempt] of rules) {
      for (const [direction, offset] of [
        ["ahead", FORGED],
        ["behind", -FORGED],
      ] as const) {
        it(`${rule}: ${direction}`, async () => {
          await w.custodian.giveConsent(terms(w.ledger));
          const [mspId, attributes] =
            role === "buyer"
              ? ["ResearchMSP", BUYER_ATTRIBUTES]
              : role === "auditor"
                ? ["AuditMSP", { "consent.role": "auditor" }]
                : ["HospitalMSP", custodianAttributes];
          const height = w.ledger.peer.state.height;
          const forger = await skewed(offset, mspId, attributes);
          const outcome = attempt(forger, w);
          await expectCode(outcome, "TIMESTAMP_SKEW", `${direction === "ahead" ? "ahead of" : "behind"} the endorsing peer's clock`);
          // the same call from an honest clock goes through
          if (role !== "custodian" || rule.startsWith("consent validity")) {
            await attempt(await skewed(3, mspId, attributes), w);
          }
          expect(w.ledger.peer.state.height).to.be.greaterThanOrEqual(height);
        });
      }
    }
  });

  it("accepts a timestamp up to the skew either way, and refuses one a second beyond it", async () => {
    await w.custodian.giveConsent(terms(w.ledger, { validFrom: w.ledger.clock.nowSeconds() - 3600 }));
    for (const offset of [299, -299]) {
      expect((await (await skewed(offset)).requestAccess(request())).decision).to.equal("approved");
    }
    for (const offset of [302, -302]) {
      await expectCode((await skewed(offset)).requestAccess(request()), "TIMESTAMP_SKEW", "the limit is 300 s");
    }
  });

  it("bounds what a timestamp within the skew can do: a grant outlives the real now + TTL by at most the skew", async () => {
    await w.custodian.giveConsent(terms(w.ledger));
    const realNow = w.ledger.clock.nowSeconds();
    const grant = (await (await skewed(290)).requestAccess(request({ ttlSeconds: 30 * DAY }))).grant!;
    expect(grant.expiresAt).to.be.at.most(realNow + 300 + 30 * DAY);
    expect(grant.issuedAt).to.be.at.least(realNow + 289);
  });

  it("takes the skew from the chaincode's environment (CONSENT_MAX_CLOCK_SKEW_SECONDS) and refuses to start on a bad one", async () => {
    const ledger = await InProcessConsentLedger.create({ chaincodeEnvironment: { CONSENT_MAX_CLOCK_SKEW_SECONDS: "60" } });
    const custodian = (offset: number) =>
      ledger
        .enroll("HospitalMSP", `registrar${offset}`, custodianAttributes)
        .then((identity) => ledger.client(identity, { clock: () => ledger.clock.now() + offset * 1000 }));
    await (await custodian(50)).registerResource("0x" + "55".repeat(32), "stream");
    await expectCode(
      (await custodian(120)).registerResource("0x" + "56".repeat(32), "stream"),
      "TIMESTAMP_SKEW",
      "the limit is 60 s (CONSENT_MAX_CLOCK_SKEW_SECONDS)",
    );
    for (const bad of ["0", "-5", "1.5", "five", "86401"]) {
      const failure = await InProcessConsentLedger.create({ chaincodeEnvironment: { CONSENT_MAX_CLOCK_SKEW_SECONDS: bad } }).then(
        () => "",
        (error: Error) => error.message,
      );
      expect(failure).to.contain("CONSENT_MAX_CLOCK_SKEW_SECONDS must be a whole number of seconds in 1..86400");
    }
  });
});
