// Shared test fixtures: an in-process consent ledger with a consented dataset sold as a product, a
// buyer that can obtain grants, and bridges following it.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InProcessConsentLedger, type ConsentLedgerClient } from "@datamarket/consent-ledger";
import { Wallet } from "ethers";
import { ConsentBridge, type ConsentBridgeOptions } from "../src/bridge";
import type { ConsentEventSource } from "../src/follower";
import { memoryLogger } from "../src/log";
import { BridgeStore } from "../src/store";

/** Attestor keys of the tests' three organisations (test keys only). */
export const ATTESTOR_KEYS = ["0x" + "a1".repeat(32), "0x" + "b2".repeat(32), "0x" + "c3".repeat(32)];
export const PURPOSE = "ScientificResearch";
export const HARDHAT_MARKET = "0x5fbdb2315678afecb367f032d93f642f64180aa3";

export interface LedgerFixture {
  ledger: InProcessConsentLedger;
  /** the custodian's enrolled identity (to endorse a proposal by hand) */
  custodianIdentity: Awaited<ReturnType<InProcessConsentLedger["enroll"]>>;
  custodian: ConsentLedgerClient;
  buyer: ConsentLedgerClient;
  /** the bridges' read identity (auditor) */
  bridgeClient: ConsentLedgerClient;
  consentId: string;
  resourceId: string;
  productId: string;
  buyerAddress: string;
  /** commits an approved RequestAccess and returns its grant id */
  requestGrant(ttlSeconds?: number): Promise<string>;
}

export async function ledgerFixture(options: { buyerAddress?: string; productId?: string; resourceId?: string } = {}): Promise<LedgerFixture> {
  const buyerAddress = (options.buyerAddress ?? new Wallet("0x" + "51".repeat(32)).address).toLowerCase();
  const resourceId = options.resourceId ?? "0x" + "33".repeat(32);
  const productId = options.productId ?? "0x" + "44".repeat(32);
  const ledger = await InProcessConsentLedger.create();
  const custodianIdentity = await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" });
  const custodian = ledger.client(custodianIdentity);
  const buyer = ledger.client(
    await ledger.enroll("ResearchMSP", "lab", {
      "consent.role": "buyer",
      "consent.buyerType": "PublicResearch",
      "consent.jurisdiction": "NL",
      "consent.ethAddress": buyerAddress,
    }),
  );
  const bridgeClient = ledger.client(await ledger.enroll("AuditMSP", "consent-bridge", { "consent.role": "auditor" }));
  await custodian.registerResource(resourceId, "dataset", [productId]);
  const consent = await custodian.giveConsent({
    subjectId: "subj-0001",
    controller: "University Hospital",
    resources: [resourceId],
    purposes: [PURPOSE],
    dataCategories: ["PhysicalHealth"],
    buyerTypes: ["PublicResearch"],
    jurisdictions: ["EU"],
    legalBasis: "A9-2-a",
    validUntil: ledger.clock.nowSeconds() + 365 * 86_400,
    noticeHash: "0x" + "cd".repeat(32),
  });
  await custodian.addResourceSubjects(resourceId, ["subj-0001"]);
  return {
    ledger,
    custodianIdentity,
    custodian,
    buyer,
    bridgeClient,
    consentId: consent.consentId,
    resourceId,
    productId,
    buyerAddress,
    async requestGrant(ttlSeconds = 7 * 86_400) {
      const decision = await buyer.requestAccess({ productId, purpose: PURPOSE, ethAddress: buyerAddress, ttlSeconds });
      if (decision.decision !== "approved" || !decision.grant) throw new Error(`access denied: ${decision.reasons.join(", ")}`);
      return decision.grant.grantId;
    },
  };
}

export function temporaryDirectory(): string {
  return mkdtempSync(join(tmpdir(), "consent-bridge-"));
}

/** Starts a bridge on 127.0.0.1 (free port) with an in-memory log the test can read. */
export async function startBridge(events: ConsentEventSource, attestorKey: string, overrides: Partial<ConsentBridgeOptions> = {}) {
  const log = memoryLogger();
  const bridge = await ConsentBridge.start({
    events,
    attestorKey,
    domain: { chainId: 31337n, market: HARDHAT_MARKET },
    store: BridgeStore.inMemory(),
    http: { host: "127.0.0.1", port: 0 },
    retryDelayMs: 50,
    log,
    ...overrides,
  });
  return { bridge, log };
}

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passes. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function getJson(url: string): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}
