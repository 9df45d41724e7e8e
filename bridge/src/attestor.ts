// The attestor: turns the consent ledger's committed events into EIP-712 signatures. It signs only what
// its own ledger connection reports, after recomputing the attestation struct hash from the event's
// fields; a caller can never ask it to sign anything.
import type { ConsentLedgerEventBatch, GrantIssued, GrantsInvalidated } from "@datamarket/consent-ledger";
import { SigningKey, computeAddress } from "ethers";
import {
  ConsentAttestation,
  ConsentRevocation,
  MarketDomain,
  attestationDigest,
  attestationStructHash,
  isAddress,
  isBytes32,
  isUint64Seconds,
  purposeHash,
  revocationDigest,
  signDigest,
} from "./eip712";
import type { Logger } from "./log";
import type { AttestationRecord, BridgeStore, RefusalRecord, RevocationRecord } from "./store";

/** Why a GrantIssued event was not signed. */
export const RefusalCode = {
  /** a field is missing or malformed (not bytes32 / address / uint64 seconds) */
  MALFORMED_GRANT: "MALFORMED_GRANT",
  /** purposeId is not keccak256(utf8(purpose)) */
  PURPOSE_MISMATCH: "PURPOSE_MISMATCH",
  /** the fields do not hash to the attestationStructHash the chaincode recorded */
  STRUCT_HASH_MISMATCH: "STRUCT_HASH_MISMATCH",
  /** the ledger reported different fields for a grant already signed: the first signature stands */
  CONFLICTING_GRANT: "CONFLICTING_GRANT",
  /** the grant's issue time is further from this bridge's clock than the allowed skew */
  ISSUED_AT_OUT_OF_SKEW: "ISSUED_AT_OUT_OF_SKEW",
} as const;

/** Default bound (seconds) on |grant issue time - this bridge's clock|: the chaincode's default. */
export const DEFAULT_MAX_CLOCK_SKEW_SECONDS = 300;

export interface AttestorClock {
  /** this bridge's clock, milliseconds since the epoch (default Date.now) */
  now?: () => number;
  /** seconds (default 300, as CONSENT_MAX_CLOCK_SKEW_SECONDS on the peers) */
  maxClockSkewSeconds?: number;
}

export interface BatchOutcome {
  attestations: AttestationRecord[];
  revocations: RevocationRecord[];
  refusals: RefusalRecord[];
}

export class Attestor {
  readonly address: string;
  private readonly now: () => number;
  private readonly maxClockSkewSeconds: number;

  constructor(
    private readonly key: SigningKey,
    readonly domain: MarketDomain,
    private readonly store: BridgeStore,
    private readonly log: Logger,
    clock: AttestorClock = {},
  ) {
    this.address = computeAddress(key.publicKey).toLowerCase();
    this.now = clock.now ?? Date.now;
    this.maxClockSkewSeconds = clock.maxClockSkewSeconds ?? DEFAULT_MAX_CLOCK_SKEW_SECONDS;
  }

  /** Signs everything a committed transaction asks for; the caller checkpoints afterwards. */
  processBatch(batch: ConsentLedgerEventBatch): BatchOutcome {
    const outcome: BatchOutcome = { attestations: [], revocations: [], refusals: [] };
    const where = { blockNumber: batch.blockNumber.toString(), transactionId: batch.transactionId };
    for (const event of batch.events) {
      if (event.type === "GrantIssued") {
        const record = this.attest(event, typeof event.issuedAt === "number" ? event.issuedAt : batch.timestamp, where);
        if (record.kind === "attestation") outcome.attestations.push(record);
        else if (record.kind === "refusal") outcome.refusals.push(record);
      } else if (event.type === "GrantsInvalidated") {
        outcome.revocations.push(...this.revoke(event, where));
      }
    }
    return outcome;
  }

  private attest(
    event: GrantIssued,
    issuedAt: number,
    where: { blockNumber: string; transactionId: string },
  ): AttestationRecord | RefusalRecord | { kind: "unchanged" } {
    const grantId = typeof event.grantId === "string" ? event.grantId.toLowerCase() : String(event.grantId);
    const refuse = (code: string, detail: string): RefusalRecord => {
      const refusal: RefusalRecord = { kind: "refusal", grantId, code, detail, ...where };
      this.store.append(refusal);
      this.log.error({ grantId, code, detail, ...where }, "refused to sign a grant");
      return refusal;
    };
    if (
      !isBytes32(grantId) ||
      !isAddress(event.buyer) ||
      !isBytes32(String(event.productId).toLowerCase()) ||
      !isBytes32(String(event.purposeId).toLowerCase()) ||
      !isUint64Seconds(event.expiresAt) ||
      typeof event.purpose !== "string" ||
      !isBytes32(String(event.attestationStructHash).toLowerCase())
    ) {
      return refuse(RefusalCode.MALFORMED_GRANT, `GrantIssued has a missing or malformed field: ${JSON.stringify(event)}`);
    }
    const attestation: ConsentAttestation = {
      grantId,
      buyer: event.buyer.toLowerCase(),
      productId: event.productId.toLowerCase(),
      purpose: event.purposeId.toLowerCase(),
      expiresAt: event.expiresAt,
    };
    if (purposeHash(event.purpose) !== attestation.purpose) {
      return refuse(RefusalCode.PURPOSE_MISMATCH, `purposeId ${attestation.purpose} is not keccak256("${event.purpose}") = ${purposeHash(event.purpose)}`);
    }
    const structHash = attestationStructHash(attestation);
    const recorded = event.attestationStructHash.toLowerCase();
    if (structHash !== recorded) {
      return refuse(RefusalCode.STRUCT_HASH_MISMATCH, `the fields hash to ${structHash}, the ledger recorded ${recorded}`);
    }
    const existing = this.store.attestations.get(grantId);
    if (existing) {
      if (existing.structHash !== structHash) {
        return refuse(RefusalCode.CONFLICTING_GRANT, `grant already signed with struct hash ${existing.structHash}, now ${structHash}`);
      }
      return { kind: "unchanged" };
    }
    // the issue time is the proposal timestamp: if a peer let a forged one through, this clock does not
    const skewSeconds = issuedAt - this.now() / 1000;
    if (!Number.isFinite(skewSeconds) || Math.abs(skewSeconds) > this.maxClockSkewSeconds) {
      return refuse(
        RefusalCode.ISSUED_AT_OUT_OF_SKEW,
        `issued at ${issuedAt}, ${Math.abs(skewSeconds).toFixed(0)} s ${skewSeconds > 0 ? "ahead of" : "behind"} ` +
          `this bridge's clock; the limit is ${this.maxClockSkewSeconds} s (consentLedger.maxClockSkewSeconds)`,
      );
    }
    const record: AttestationRecord = {
      kind: "attestation",
      attestation,
      purposeName: event.purpose,
      structHash,
      signature: signDigest(this.key, attestationDigest(this.domain, attestation)),
      ...where,
    };
    this.store.append(record);
    this.log.info({ grantId, buyer: attestation.buyer, productId: attestation.productId, expiresAt: attestation.expiresAt, ...where }, "signed attestation");
    return record;
  }

  private revoke(event: GrantsInvalidated, where: { blockNumber: string; transactionId: string }): RevocationRecord[] {
    if (!Array.isArray(event.grantIds) || !isUint64Seconds(event.invalidatedAt)) {
      this.log.error({ event, ...where }, "ignored a malformed GrantsInvalidated");
      return [];
    }
    const records: RevocationRecord[] = [];
    for (const rawId of event.grantIds) {
      const grantId = String(rawId).toLowerCase();
      if (!isBytes32(grantId)) {
        this.log.error({ grantId: rawId, ...where }, "ignored a malformed grant id in GrantsInvalidated");
        continue;
      }
      // the first withdrawal of a grant is the one that counts; the ledger invalidates a grant once
      if (this.store.revocations.has(grantId)) {
        continue;
      }
      const revocation: ConsentRevocation = { grantId, revokedAt: event.invalidatedAt };
      const record: RevocationRecord = {
        kind: "revocation",
        revocation,
        cause: String(event.cause),
        signature: signDigest(this.key, revocationDigest(this.domain, revocation)),
        ...where,
      };
      this.store.append(record);
      this.log.info({ grantId, revokedAt: revocation.revokedAt, cause: record.cause, ...where }, "signed revocation");
      records.push(record);
    }
    return records;
  }
}
