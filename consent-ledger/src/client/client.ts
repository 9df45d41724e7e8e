// ConsentLedgerClient: the typed API other parts (consent bridge, broker, demo) use to reach the consent
// ledger, over any NetworkLike backend (the in-process ledger or a real Fabric gateway).
import type { AccessDecision, AccessGrant, ConsentRecord, CredentialRecord, ResourceRecord, SubjectRecord } from "@datamarket/consent-chaincode/src/model";
import type { AccessLogEntry } from "@datamarket/consent-chaincode/src/contracts/access";
import type { WalletBinding, WalletBindingView } from "@datamarket/consent-chaincode/src/contracts/wallet";
import type { SignedOperationRequest } from "@datamarket/consent-chaincode/src/walletauth";
import { MAX_SUBJECTS_PER_CALL } from "@datamarket/consent-chaincode/src/contracts/resource";
import { MAX_ARGUMENT_BYTES } from "@datamarket/consent-chaincode/src/validation";
import { ConsentClientError, GatewayLimits, toClientError } from "./errors";
import { ConsentLedgerEventBatch, decodeConsentEvent } from "./events";
import { CloseableEvents, ContractLike, NetworkLike, TransactionOptions } from "./network";

export type { AccessDecision, AccessGrant, AccessLogEntry, ConsentRecord, CredentialRecord, ResourceRecord, SubjectRecord, WalletBinding, WalletBindingView };

/** A wallet's proof that it agrees to be bound to the caller's party (walletBindingText, personal_sign). */
export interface WalletBindingProofInput {
  address: string;
  /** unix seconds, at most 600 s after the transaction time */
  expires: number;
  signature: string;
}

/** An operation a bound wallet signed (signedOperationText), as a relay submits it. */
export type SignedOperationInput = SignedOperationRequest;

/** An EIP-4361 sign-in: the message's text and the wallet's personal_sign signature over it. */
export interface WalletSession {
  message: string;
  signature: string;
}

/** The credential behind an identity's attributes, as the onboarding service returns it (docs/identity.md §7). */
export interface CredentialReferenceInput {
  issuer: string;
  credentialId: string;
  vct: string;
  statusListUri: string;
  statusListIndex: number;
  /** its hash (the identity's consent.credentialRef); optional, checked when given */
  hash?: string;
}

/** A status monitor's report on a credential (docs/consent.md §4b). */
export interface CredentialStatusReport {
  hash: string;
  status: "valid" | "revoked" | "suspended" | "untrusted";
  /** when the status list was checked, unix ms */
  checkedAt: number;
}

/** What a subject agrees to (see docs/consent.md for every field). */
export interface ConsentTermsInput {
  subjectId: string;
  controller: string;
  resources: string[];
  purposes: string[];
  dataCategories: string[];
  buyerTypes: string[];
  jurisdictions: string[];
  legalBasis: "A6-1-a" | "A9-2-a";
  /** unix seconds; default: the transaction time */
  validFrom?: number;
  /** unix seconds */
  validUntil: number;
  /** sha256 of the notice text, 0x-hex */
  noticeHash: string;
}

export interface AccessRequestInput {
  resourceId?: string;
  productId?: string;
  purpose: string;
  ethAddress: string;
  /** personal_sign signature over addressProofText(...), when the certificate carries no address */
  ethSignature?: string;
  ttlSeconds?: number;
}

export interface Page<T> {
  records: T[];
  bookmark: string;
  fetchedRecordsCount: number;
}

export interface HistoryEntry {
  txId: string;
  timestamp: number;
  isDelete: boolean;
  record: ConsentRecord | null;
}

export const DEFAULT_CHAINCODE_NAME = "consent";

export class ConsentLedgerClient {
  private readonly consent: ContractLike;
  private readonly resource: ContractLike;
  private readonly access: ContractLike;
  private readonly credential: ContractLike;
  private readonly wallet: ContractLike;

  /**
   * @param limits the gRPC limits of a gateway connection, so that requests over them fail before they
   *               are sent and errors name them (connectFabricGateway passes them)
   */
  constructor(
    private readonly network: NetworkLike,
    private readonly chaincodeName: string = DEFAULT_CHAINCODE_NAME,
    private readonly limits?: GatewayLimits,
  ) {
    this.consent = network.getContract(chaincodeName, "consent");
    this.resource = network.getContract(chaincodeName, "resource");
    this.access = network.getContract(chaincodeName, "access");
    this.credential = network.getContract(chaincodeName, "credential");
    this.wallet = network.getContract(chaincodeName, "wallet");
  }

  // --- consent -----------------------------------------------------------------------------------

  requestConsent(terms: ConsentTermsInput): Promise<ConsentRecord> {
    return this.submit(this.consent, "RequestConsent", [JSON.stringify(terms)]);
  }

  /** New consent; `subjectDetails` (personal data) goes to the private collection via transient data. */
  giveConsent(terms: ConsentTermsInput, subjectDetails?: Record<string, unknown>): Promise<ConsentRecord> {
    const transientData = subjectDetails ? { subjectDetails: JSON.stringify(subjectDetails) } : undefined;
    return this.submit(this.consent, "GiveConsent", [JSON.stringify(terms)], transientData);
  }

  /** Gives a consent that was requested (ConsentRequested -> ConsentGiven). */
  acceptConsentRequest(consentId: string): Promise<ConsentRecord> {
    return this.submit(this.consent, "GiveConsent", [JSON.stringify({ consentId })]);
  }

  refuseConsent(consentId: string): Promise<ConsentRecord> {
    return this.submit(this.consent, "RefuseConsent", [consentId]);
  }

  updateConsent(consentId: string, terms: ConsentTermsInput): Promise<ConsentRecord> {
    return this.submit(this.consent, "UpdateConsent", [JSON.stringify({ ...terms, consentId })]);
  }

  withdrawConsent(consentId: string): Promise<ConsentRecord> {
    return this.submit(this.consent, "WithdrawConsent", [consentId]);
  }

  revokeConsent(consentId: string): Promise<ConsentRecord> {
    return this.submit(this.consent, "RevokeConsent", [consentId]);
  }

  renewConsent(consentId: string, validUntil: number): Promise<ConsentRecord> {
    return this.submit(this.consent, "RenewConsent", [JSON.stringify({ consentId, validUntil })]);
  }

  getConsent(consentId: string): Promise<ConsentRecord> {
    return this.evaluate(this.consent, "GetConsent", [consentId]);
  }

  getConsentHistory(consentId: string): Promise<HistoryEntry[]> {
    return this.evaluate(this.consent, "GetConsentHistory", [consentId]);
  }

  listSubjectConsents(subjectId: string, pageSize = 100, bookmark = ""): Promise<Page<ConsentRecord>> {
    return this.evaluate(this.consent, "ListSubjectConsents", [subjectId, String(pageSize), bookmark]);
  }

  getSubject(subjectId: string): Promise<SubjectRecord> {
    return this.evaluate(this.consent, "GetSubject", [subjectId]);
  }

  eraseSubjectDetails(subjectId: string): Promise<SubjectRecord> {
    return this.submit(this.consent, "EraseSubjectDetails", [subjectId]);
  }

  // --- resources ---------------------------------------------------------------------------------

  registerResource(resourceId: string, kind: "stream" | "dataset", productIds: string[] = []): Promise<ResourceRecord> {
    return this.submit(this.resource, "RegisterResource", [JSON.stringify({ resourceId, kind, productIds: productIds.length ? productIds : undefined })]);
  }

  /** Adds at most MAX_SUBJECTS_PER_CALL (1,000) subjects; more fail here, before anything is sent. */
  addResourceSubjects(resourceId: string, subjectIds: string[]): Promise<ResourceRecord> {
    return this.membershipChange("AddResourceSubjects", resourceId, subjectIds);
  }

  /** Removes subjects from a resource; grants that may have released their data are voided. */
  removeResourceSubjects(resourceId: string, subjectIds: string[]): Promise<ResourceRecord> {
    return this.membershipChange("RemoveResourceSubjects", resourceId, subjectIds);
  }

  private async membershipChange(name: string, resourceId: string, subjectIds: string[]): Promise<ResourceRecord> {
    if (subjectIds.length > MAX_SUBJECTS_PER_CALL) {
      throw new ConsentClientError(
        "INVALID_ARGUMENT",
        `${subjectIds.length} subject ids in one call, over MAX_SUBJECTS_PER_CALL of ${MAX_SUBJECTS_PER_CALL}: split the list`,
      );
    }
    return this.submit(this.resource, name, [JSON.stringify({ resourceId, subjectIds })]);
  }

  getResource(resourceId: string): Promise<ResourceRecord> {
    return this.evaluate(this.resource, "GetResource", [resourceId]);
  }

  listResourceSubjects(resourceId: string, pageSize = 100, bookmark = ""): Promise<Page<string>> {
    return this.evaluate(this.resource, "ListResourceSubjects", [resourceId, String(pageSize), bookmark]);
  }

  // --- access ------------------------------------------------------------------------------------

  /** Submits an access request; the decision (and the grant, when approved) is committed. */
  requestAccess(request: AccessRequestInput): Promise<AccessDecision> {
    return this.submit(this.access, "RequestAccess", [JSON.stringify(request)]);
  }

  /** Evaluates an access request without committing it (what the decision would be now). */
  previewAccess(request: AccessRequestInput): Promise<AccessDecision> {
    return this.evaluate(this.access, "RequestAccess", [JSON.stringify(request)]);
  }

  getGrant(grantId: string): Promise<AccessGrant> {
    return this.evaluate(this.access, "GetGrant", [grantId]);
  }

  /** The grants of `resourceId` the transaction `voidingTxId` ended (a page; auditors and the controller). */
  listInvalidatedGrants(resourceId: string, voidingTxId: string, pageSize = 500, bookmark = ""): Promise<Page<string>> {
    return this.evaluate(this.access, "ListInvalidatedGrants", [resourceId, voidingTxId, String(pageSize), bookmark]);
  }

  listAccessBySubject(subjectId: string, pageSize = 100, bookmark = ""): Promise<Page<AccessLogEntry>> {
    return this.evaluate(this.access, "ListAccessBySubject", [subjectId, String(pageSize), bookmark]);
  }

  /** One decision by its request id (the txId of its RequestAccess): its buyer and auditors. */
  getAccessRequest(requestId: string): Promise<AccessLogEntry> {
    return this.evaluate(this.access, "GetAccessRequest", [requestId]);
  }

  /** The caller's own access log (buyerKey ""), or any buyer's for auditors. */
  listAccessByBuyer(buyerKey = "", pageSize = 100, bookmark = ""): Promise<Page<AccessLogEntry>> {
    return this.evaluate(this.access, "ListAccessByBuyer", [buyerKey, String(pageSize), bookmark]);
  }

  // --- credentials -------------------------------------------------------------------------------

  /** Records the credential behind the caller's attributes (its hash must be the caller's consent.credentialRef). */
  recordCredential(reference: CredentialReferenceInput): Promise<CredentialRecord> {
    const { issuer, credentialId, vct, statusListUri, statusListIndex, hash } = reference;
    return this.submit(this.credential, "RecordCredential", [JSON.stringify({ issuer, credentialId, vct, statusListUri, statusListIndex, hash })]);
  }

  /** A status check's result (role statuschecker of the credential's organisation); ends its grants unless valid. */
  reportCredentialStatus(report: CredentialStatusReport): Promise<CredentialRecord> {
    return this.submit(this.credential, "ReportCredentialStatus", [JSON.stringify({ hash: report.hash, status: report.status, checkedAt: report.checkedAt })]);
  }

  getCredential(hash: string): Promise<CredentialRecord> {
    return this.evaluate(this.credential, "GetCredential", [hash]);
  }

  /** The grants the status report `voidingTxId` ended (a page; auditors and the credential's status checkers). */
  listCredentialInvalidatedGrants(hash: string, voidingTxId: string, pageSize = 500, bookmark = ""): Promise<Page<string>> {
    return this.evaluate(this.credential, "ListCredentialInvalidatedGrants", [hash, voidingTxId, String(pageSize), bookmark]);
  }

  // --- wallets -----------------------------------------------------------------------------------

  /** Binds a wallet to the caller's own party (a subject or a buyer identity), with the wallet's proof. */
  bindWallet(proof: WalletBindingProofInput): Promise<WalletBinding> {
    return this.submit(this.wallet, "BindWallet", [
      JSON.stringify({ address: proof.address.toLowerCase(), expires: proof.expires, signature: proof.signature }),
    ]);
  }

  /** Ends a binding of the caller's party; a custodian names the subject whose wallet it unbinds. */
  unbindWallet(address: string, subjectId?: string): Promise<WalletBinding> {
    return this.submit(this.wallet, "UnbindWallet", [JSON.stringify({ address: address.toLowerCase(), subjectId })]);
  }

  /** The parties a wallet is bound to (relays and auditors). */
  listWalletBindings(address: string): Promise<Page<WalletBindingView>> {
    return this.evaluate(this.wallet, "ListWalletBindings", [address.toLowerCase()]);
  }

  /** Submits an operation a bound wallet signed (role relay); the answer is the operation's own. */
  submitSigned<T = unknown>(operation: SignedOperationInput): Promise<T> {
    return this.submit(this.wallet, "SubmitSigned", [JSON.stringify(operation)]);
  }

  /** A read for a wallet that signed in (EIP-4361), as the party it is bound to (role relay). */
  readWithSession<T = unknown>(session: WalletSession, party: string, query: string, args: Record<string, unknown> = {}): Promise<T> {
    return this.evaluate(this.wallet, "ReadWithSession", [JSON.stringify(session), party, query, JSON.stringify(args)]);
  }

  // --- events ------------------------------------------------------------------------------------

  /**
   * The consent ledger's events, one batch per committed transaction, from `startBlock` on. Each
   * GrantsInvalidated event comes with the ids of the grants that died (read from the ledger before the
   * batch is handed out, so the caller needs a role that may call ListInvalidatedGrants: auditor).
   * close() ends the consumer's `for await` without an error, on either backend.
   */
  async events(startBlock?: bigint): Promise<CloseableEvents<ConsentLedgerEventBatch>> {
    const raw = await this.network.getChaincodeEvents(this.chaincodeName, startBlock === undefined ? {} : { startBlock });
    let closed = false;
    const resolve = (batch: ConsentLedgerEventBatch) => this.resolveInvalidatedGrants(batch);
    const limits = this.limits;
    return {
      close: () => {
        closed = true;
        raw.close();
      },
      async *[Symbol.asyncIterator]() {
        try {
          for await (const event of raw) {
            const batch = decodeConsentEvent(event);
            if (batch) {
              await resolve(batch);
              if (closed) {
                return;
              }
              yield batch;
            }
          }
        } catch (error) {
          // fabric-gateway ends a stream closed under a waiting reader with GatewayError CANCELLED
          if (closed) {
            return;
          }
          throw toClientError(error, limits);
        }
      },
    };
  }

  /**
   * Fills in the grantIds of each GrantsInvalidated event of the batch: from the resources a consent change
   * named, or from the credential a status report ended.
   */
  private async resolveInvalidatedGrants(batch: ConsentLedgerEventBatch): Promise<void> {
    for (const event of batch.events) {
      if (event.type !== "GrantsInvalidated") {
        continue;
      }
      const listings: Array<(bookmark: string) => Promise<Page<string>>> = [
        ...(Array.isArray(event.resourceIds) ? event.resourceIds : []).map(
          (resourceId) => (bookmark: string) => this.listInvalidatedGrants(resourceId, batch.transactionId, 500, bookmark),
        ),
        ...(typeof event.credentialRef === "string" ? [event.credentialRef] : []).map(
          (hash) => (bookmark: string) => this.listCredentialInvalidatedGrants(hash, batch.transactionId, 500, bookmark),
        ),
      ];
      if (listings.length === 0) {
        continue;
      }
      const grantIds = new Set(event.grantIds);
      for (const list of listings) {
        let bookmark = "";
        do {
          const page = await this.withLedgerCatchingUp(() => list(bookmark));
          page.records.forEach((grantId) => grantIds.add(grantId));
          bookmark = page.bookmark;
        } while (bookmark !== "");
      }
      event.grantIds = [...grantIds].sort();
    }
  }

  /**
   * Retries a read that names a transaction the evaluating peer may not have committed yet (a gateway
   * may evaluate on another peer than the one that delivered the event): NOT_FOUND, 5 tries, 0.2-1.6 s apart.
   */
  private async withLedgerCatchingUp<T>(read: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await read();
      } catch (error) {
        if (attempt >= 4 || (error as ConsentClientError).code !== "NOT_FOUND") {
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
      }
    }
  }

  private async submit<T>(contract: ContractLike, name: string, args: string[], transientData?: TransactionOptions["transientData"]): Promise<T> {
    this.requireWithinLimits(name, args);
    let bytes: Uint8Array;
    try {
      bytes = await contract.submit(name, { arguments: args, transientData });
    } catch (error) {
      throw toClientError(error, this.limits);
    }
    return parse<T>(bytes, name);
  }

  private async evaluate<T>(contract: ContractLike, name: string, args: string[]): Promise<T> {
    this.requireWithinLimits(name, args);
    let bytes: Uint8Array;
    try {
      bytes = await contract.evaluate(name, { arguments: args });
    } catch (error) {
      throw toClientError(error, this.limits);
    }
    return parse<T>(bytes, name);
  }

  /** Refuses, before sending, an argument the chaincode would refuse or a request over the connection's limit. */
  private requireWithinLimits(name: string, args: string[]): void {
    let total = 0;
    for (const argument of args) {
      const size = Buffer.byteLength(argument, "utf8");
      if (size > MAX_ARGUMENT_BYTES) {
        throw new ConsentClientError("ARGUMENT_TOO_LARGE", `an argument of ${name} is ${size} bytes, over MAX_ARGUMENT_BYTES of ${MAX_ARGUMENT_BYTES}`);
      }
      total += size;
    }
    if (this.limits && total > this.limits.maxSendBytes) {
      throw new ConsentClientError(
        "MESSAGE_TOO_LARGE",
        `the arguments of ${name} are ${total} bytes, over grpc.max_send_message_length of ${this.limits.maxSendBytes}`,
      );
    }
  }
}

function parse<T>(bytes: Uint8Array, name: string): T {
  try {
    return JSON.parse(Buffer.from(bytes).toString("utf8")) as T;
  } catch {
    throw new ConsentClientError("BAD_RESPONSE", `${name} returned ${bytes.length} bytes that are not JSON`);
  }
}
