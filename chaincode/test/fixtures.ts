// Shared set-up of the chaincode tests: an in-process consent ledger with a custodian hospital, a second
// custodian, research and company buyers and an auditor, each with run-time certificates.
import { expect } from "chai";
import { Wallet } from "ethers";
import { AccessRequestInput, ConsentClientError, ConsentLedgerClient, ConsentTermsInput, InProcessConsentLedger, fabric } from "@datamarket/consent-ledger";
import { canonicalJson, sha256Hex } from "../src";

export const RESOURCE = "0x" + "11".repeat(32);
export const DATASET = "0x" + "22".repeat(32);
export const PRODUCT = "0x" + "a1".repeat(32);
export const NOTICE = "0x" + "ab".repeat(32);
export const DAY = 86_400;

export const buyerWallet = new Wallet("0x" + "42".repeat(32));
export const companyWallet = new Wallet("0x" + "43".repeat(32));
export const BUYER_ADDRESS = buyerWallet.address.toLowerCase();
export const COMPANY_ADDRESS = companyWallet.address.toLowerCase();

export interface World {
  ledger: InProcessConsentLedger;
  custodian: ConsentLedgerClient;
  otherCustodian: ConsentLedgerClient;
  subject: ConsentLedgerClient;
  buyer: ConsentLedgerClient;
  company: ConsentLedgerClient;
  unprovenBuyer: ConsentLedgerClient;
  unprovenIdentity: fabric.EnrolledIdentity;
  untypedBuyer: ConsentLedgerClient;
  auditor: ConsentLedgerClient;
}

export async function world(): Promise<World> {
  const ledger = await InProcessConsentLedger.create({
    custodianMspIds: ["HospitalMSP", "ClinicMSP"],
    otherMspIds: ["ResearchMSP", "CompanyMSP", "AuditMSP"],
  });
  const client = async (mspId: string, name: string, attributes: Record<string, string>) => ledger.client(await ledger.enroll(mspId, name, attributes));
  const unprovenIdentity = await ledger.enroll("ResearchMSP", "lab2", {
    "consent.role": "buyer",
    "consent.buyerType": "PublicResearch",
    "consent.jurisdiction": "DE",
  });
  return {
    ledger,
    custodian: await client("HospitalMSP", "registrar", { "consent.role": "custodian" }),
    otherCustodian: await client("ClinicMSP", "registrar", { "consent.role": "custodian" }),
    subject: await client("HospitalMSP", "patient-0001", { "consent.role": "subject", "consent.subject": "subj-0001" }),
    buyer: await client("ResearchMSP", "lab1", {
      "consent.role": "buyer",
      "consent.buyerType": "PublicResearch",
      "consent.jurisdiction": "DE",
      "consent.ethAddress": buyerWallet.address,
    }),
    company: await client("CompanyMSP", "analyst", {
      "consent.role": "buyer",
      "consent.buyerType": "PrivateCompany",
      "consent.jurisdiction": "US",
      "consent.ethAddress": COMPANY_ADDRESS,
    }),
    unprovenBuyer: ledger.client(unprovenIdentity),
    unprovenIdentity,
    untypedBuyer: await client("ResearchMSP", "intern", { "consent.role": "buyer" }),
    auditor: await client("AuditMSP", "auditor", { "consent.role": "auditor" }),
  };
}

export function terms(ledger: InProcessConsentLedger, overrides: Partial<ConsentTermsInput> = {}): ConsentTermsInput {
  return {
    subjectId: "subj-0001",
    controller: "University Hospital",
    resources: [RESOURCE],
    purposes: ["ResearchAndDevelopment"],
    dataCategories: ["HealthRecord"],
    buyerTypes: ["PublicResearch", "PublicHealthBody"],
    jurisdictions: ["EEA"],
    legalBasis: "A9-2-a",
    validUntil: ledger.clock.nowSeconds() + 365 * DAY,
    noticeHash: NOTICE,
    ...overrides,
  };
}

/** Asserts that `promise` fails with a ConsentClientError of `code`, and returns it. */
export async function expectCode(promise: Promise<unknown>, code: string, messagePart?: string): Promise<ConsentClientError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(ConsentClientError);
    const clientError = error as ConsentClientError;
    expect(clientError.code, clientError.message).to.equal(code);
    if (messagePart) {
      expect(clientError.message).to.contain(messagePart);
    }
    return clientError;
  }
  throw new Error(`expected a ${code} error, but the call succeeded`);
}

/** A credential reference (docs/identity.md §7) and its hash: the consent.credentialRef attribute of the identities it backs. */
export function credentialReference(credentialId: string, statusListIndex = 7) {
  const fields = {
    issuer: "https://accreditation.example.eu",
    credentialId,
    vct: "urn:datamarket:credential:buyer-accreditation:1",
    statusListUri: "https://accreditation.example.eu/status/1",
    statusListIndex,
  };
  return { ...fields, hash: sha256Hex(canonicalJson(fields)) };
}

/**
 * Runs `action` while every client of `buyers` submits `request` in a loop, once `approvals` requests were
 * approved; the requests in flight are decided before it returns (they too must not outlive what `action`
 * did). Requests that lose to `action` fail validation: that is the design, not an error.
 */
export async function whileRequesting<T>(buyers: ConsentLedgerClient[], request: AccessRequestInput, approvals: number, action: () => Promise<T>): Promise<T> {
  let running = true;
  let approved = 0;
  const load = buyers.map(async (buyer) => {
    while (running) {
      const decision = await buyer.requestAccess(request).catch(() => null);
      if (decision?.decision === "approved") {
        approved += 1;
      } else if (decision) {
        await new Promise((resolve) => setTimeout(resolve, 5)); // denied: `action` has changed the decision, the trial is ending
      }
    }
  });
  try {
    while (approved < approvals) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return await action();
  } finally {
    running = false;
    await Promise.all(load);
  }
}
