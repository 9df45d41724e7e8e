// What an aggregator knows from the consent ledger, read with an auditor identity through the
// @datamarket/consent-ledger client: the subjects a grant releases (the list the custodian or buyer
// presents, checked against the grant's subjectsDigest), whether the grant is still open, and every
// withdrawal or revocation of a subject's consent, followed from the ledger's events.
import { createHash } from "node:crypto";
import type { AccessGrant, ConsentLedgerEventBatch, ConsentRecord } from "@datamarket/consent-ledger";
import { AnalyticsError } from "../errors";

/** The consent-ledger client calls the view needs (ConsentLedgerClient satisfies it). */
export interface ConsentReader {
  getGrant(grantId: string): Promise<AccessGrant>;
  getConsent(consentId: string): Promise<ConsentRecord>;
  events(startBlock?: bigint): Promise<AsyncIterable<ConsentLedgerEventBatch> & { close(): void }>;
}

export interface ReleasedGrant {
  grantId: string;
  /** lowercase 0x address */
  buyer: string;
  productId: string;
  resourceId: string;
  purpose: string;
  /** unix seconds */
  issuedAt: number;
  /** unix seconds */
  expiresAt: number;
  subjects: Set<string>;
}

export interface Withdrawal {
  subject: string;
  /** The consent's resources (null when the consent could not be read: then every study counts it). */
  resources: string[] | null;
  /** unix seconds: the ledger transaction's time */
  at: number;
}

const WITHDRAWN = new Set(["ConsentWithdrawn", "ConsentRevoked"]);

/** sha256 of the sorted subject ids joined by "\n", 0x-hex: the grant's subjectsDigest (docs/consent.md §4). */
export function subjectsDigest(subjects: Iterable<string>): string {
  return (
    "0x" +
    createHash("sha256")
      .update([...subjects].sort().join("\n"), "utf8")
      .digest("hex")
  );
}

export class ConsentView {
  private stream?: { close(): void };
  private stopped = false;

  constructor(
    private readonly reader: ConsentReader,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  /**
   * Reads the grant now and checks it releases exactly `subjects` for the study (product, purpose),
   * is open and unexpired; throws GRANT_INVALID naming what failed.
   */
  async verifyGrant(grantId: string, subjects: readonly string[], expect: { productId: string; purpose: string }): Promise<ReleasedGrant> {
    let grant: AccessGrant;
    try {
      grant = await this.reader.getGrant(grantId);
    } catch (error) {
      throw new AnalyticsError(
        "GRANT_INVALID",
        `grant ${grantId} could not be read on the consent ledger: ${(error as Error).message}`,
        { grantId },
        { cause: error },
      );
    }
    const fail = (why: string, details: Record<string, unknown> = {}): never => {
      throw new AnalyticsError("GRANT_INVALID", `grant ${grantId} ${why}`, { grantId, ...details });
    };
    if (grant.productId.toLowerCase() !== expect.productId.toLowerCase()) fail(`is for product ${grant.productId}, not the study ${expect.productId}`);
    if (grant.purpose !== expect.purpose) fail(`is for purpose ${grant.purpose}, the study is sold for ${expect.purpose}`);
    if (grant.status !== "Open") fail(`is ${grant.status}${grant.invalidatedBy ? ` (${grant.invalidatedBy})` : ""}`, { status: grant.status });
    if (this.nowSeconds() >= grant.expiresAt) fail(`expired at ${grant.expiresAt}`, { expiresAt: grant.expiresAt });
    const unique = new Set(subjects);
    if (unique.size !== subjects.length || unique.size !== grant.subjectCount || subjectsDigest(unique) !== grant.subjectsDigest.toLowerCase()) {
      fail(`releases ${grant.subjectCount} subjects; the ${subjects.length} presented do not match its subjectsDigest`, {
        presented: subjects.length,
        released: grant.subjectCount,
      });
    }
    return {
      grantId: grant.grantId.toLowerCase(),
      buyer: grant.buyer.toLowerCase(),
      productId: grant.productId.toLowerCase(),
      resourceId: grant.resourceId.toLowerCase(),
      purpose: grant.purpose,
      issuedAt: grant.issuedAt,
      expiresAt: grant.expiresAt,
      subjects: unique,
    };
  }

  /**
   * Follows the ledger's events from `startBlock`: each withdrawal or revocation of a consent is
   * reported with the consent's resources, then `onBlock` checkpoints the batch. Returns at once.
   */
  async follow(
    startBlock: bigint,
    handlers: { onWithdrawal(w: Withdrawal): Promise<void>; onBlock(block: bigint): Promise<void>; onError?(e: Error): void },
  ): Promise<void> {
    const stream = await this.reader.events(startBlock);
    this.stream = stream;
    void (async () => {
      try {
        for await (const batch of stream) {
          if (this.stopped) break;
          for (const event of batch.events) {
            if (event.type !== "ConsentChanged" || !WITHDRAWN.has(event.status)) continue;
            let resources: string[] | null = null;
            try {
              resources = (await this.reader.getConsent(event.consentId)).resources.map((r) => r.toLowerCase());
            } catch {
              resources = null; // unreadable: fail closed (every study drops the subject)
            }
            await handlers.onWithdrawal({ subject: event.subjectId, resources, at: batch.timestamp });
          }
          await handlers.onBlock(batch.blockNumber);
        }
      } catch (error) {
        if (!this.stopped) handlers.onError?.(error as Error);
      }
    })();
  }

  stop(): void {
    this.stopped = true;
    this.stream?.close();
  }
}
