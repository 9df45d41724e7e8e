// The status monitor's reports to the consent ledger: each change it finds becomes
// credential:ReportCredentialStatus, submitted with the statuschecker identity of the organisation whose
// identities rest on the credential (docs/identity.md §10). A report that ends a credential's valid status
// denies its holders' requests and ends their open grants on the ledger; the consent bridges and brokers
// learn which grants died from the ledger's events, as after a consent withdrawal.
import type { ConsentLedgerClient } from "@datamarket/consent-ledger";
import { IdentityError, asIdentityError } from "./errors";
import type { StatusChange } from "./status-monitor";

/** The statuschecker client of each organisation (by MSP id), or a function that finds it. */
export type StatusCheckers = Readonly<Record<string, ConsentLedgerClient>> | ((mspId: string) => ConsentLedgerClient | undefined);

/**
 * An `onStatusChange` for CredentialStatusMonitor that reports each change to the consent ledger. It throws
 * (so that the monitor reports the change again at its next run) when no checker serves the credential's
 * organisation or the transaction fails; a ledger that already holds a later check (STALE_REPORT) or a
 * revocation (INVALID_TRANSITION: a revocation is permanent) counts as delivered. Repeats are harmless: the
 * chaincode orders reports by `checkedAt`.
 */
export function ledgerStatusReporter(checkers: StatusCheckers): (change: StatusChange) => Promise<void> {
  const checkerOf =
    typeof checkers === "function" ? checkers : (mspId: string) => (Object.prototype.hasOwnProperty.call(checkers, mspId) ? checkers[mspId] : undefined);
  return async (change) => {
    const client = checkerOf(change.mspId);
    if (!client) {
      throw new IdentityError(
        "STATUS_REPORT_FAILED",
        `no status checker identity for ${change.mspId}, whose identity ${change.enrollmentId} rests on credential ${change.credential.hash}`,
        { mspId: change.mspId },
      );
    }
    try {
      await client.reportCredentialStatus({ hash: change.credential.hash, status: change.status, checkedAt: change.checkedAt });
    } catch (error) {
      // the ledger already holds a later check, or a revocation, which nothing reverses: delivered
      const code = (error as { code?: string }).code;
      if (code === "STALE_REPORT" || code === "INVALID_TRANSITION") return;
      throw asIdentityError(
        error,
        "STATUS_REPORT_FAILED",
        `the consent ledger did not take the ${change.status} report of credential ${change.credential.hash}`,
        {
          mspId: change.mspId,
          ledgerCode: (error as { code?: string }).code,
        },
      );
    }
  };
}
