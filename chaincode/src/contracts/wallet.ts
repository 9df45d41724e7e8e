// WalletContract: a wallet's signature as authority checked on the ledger itself. A ledger party (a data
// subject, a buyer) binds its wallet with its own Fabric identity and the wallet's personal_sign proof;
// afterwards a relay (role relay, which by itself may do nothing) submits operations the wallet signed:
// the ledger checks the binding, the signature over the exact text, the expiry and the nonce (once per
// wallet), then runs the operation as that party, under the same rules as if the party had called it.
// Reads use an EIP-4361 sign-in session instead: checked the same way, without a nonce (a read changes
// nothing). docs/consent.md §Wallets; docs/threat-model.md.
import { Info, Returns, Transaction } from "fabric-contract-api";
import { recoverPersonalSignAddress } from "../addressproof";
import { canonicalJson, sha256Hex } from "../canonical";
import { Caller, ConsentContext, Role } from "../context";
import { ErrorCode, fail } from "../errors";
import { KeyType, key } from "../keys";
import { ConsentRecord } from "../model";
import { parseSiweMessage, SiweParseError } from "../siwe";
import { ConsentLedgerContract, pageJson, readJson, readRange, requireSubject, mayActForSubject, entryJson } from "../store";
import { ADDRESS, BYTES32, Json, parseJsonObject, requireSeconds, requireString } from "../validation";
import { BUYER_TYPES, jurisdictionCovered, purposeCovered } from "../vocabulary";
import {
  BUYER_OPERATIONS,
  CUSTODIAN_OPERATIONS,
  MAX_SESSION_SECONDS,
  MAX_SIGNED_LIFETIME_SECONDS,
  SESSION_READS,
  SUBJECT_OPERATIONS,
  type PartyKind,
  ledgerResource,
  partyName,
  signedOperationText,
  walletBindingText,
} from "../walletauth";
import { AccessContract } from "./access";
import { ConsentContract } from "./consent";
import { ResourceContract } from "./resource";

/** walletBinding~address~party: what the party's identity was when it bound the wallet. */
export interface WalletBinding {
  /** 0x sha256 of the binding transaction's id: what each signed operation names */
  bindingId: string;
  address: string;
  party: string;
  kind: PartyKind;
  /** the binding identity's MSP and certificate id */
  mspId: string;
  clientId: string;
  /** sha256(mspId ‖ "\n" ‖ clientId) of that identity */
  partyKey: string;
  subjectId: string | null;
  buyerType: string | null;
  jurisdiction: string | null;
  credentialRef: string | null;
  boundAt: number;
}

/** What ListWalletBindings shows: no certificate id (it may name a person). */
export type WalletBindingView = Pick<WalletBinding, "bindingId" | "address" | "party" | "kind" | "subjectId" | "boundAt">;

const NONCE = /^[0-9a-f]{32}$/;
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;

function requireSignedBy(text: string, signature: string, address: string, what: string): void {
  const signer = recoverPersonalSignAddress(text, signature);
  if (signer !== address) {
    fail(ErrorCode.BAD_WALLET_SIGNATURE, `the ${what} signature recovers to ${signer ?? "(no address: malformed)"}, not ${address}`);
  }
}

/** Refuses an expiry that has passed at the transaction time, or that lies further ahead than `maxSeconds`. */
function requireUnexpired(ctx: ConsentContext, expires: number, maxSeconds: number, what: string): void {
  const now = ctx.now();
  if (expires <= now) {
    fail(ErrorCode.SIGNATURE_EXPIRED, `the ${what} expired at ${expires}; the transaction time is ${now}`);
  }
  if (expires > now + maxSeconds) {
    fail(ErrorCode.INVALID_ARGUMENT, `the ${what} expires at ${expires}, more than ${maxSeconds} s after the transaction time ${now}`);
  }
}

const ROLE_OF: Record<PartyKind, Role> = { subject: Role.Subject, buyer: Role.Buyer, custodian: Role.Custodian };
const OPERATIONS_OF: Record<PartyKind, readonly string[]> = { subject: SUBJECT_OPERATIONS, buyer: BUYER_OPERATIONS, custodian: CUSTODIAN_OPERATIONS };

/** The caller this ledger acts as for a bound wallet: the binding identity, with the wallet as its address. */
function partyCaller(binding: WalletBinding): Caller {
  return {
    mspId: binding.mspId,
    clientId: binding.clientId,
    role: ROLE_OF[binding.kind],
    subjectId: binding.subjectId,
    buyerType: binding.buyerType,
    jurisdiction: binding.jurisdiction,
    ethAddress: binding.address,
    credentialRef: binding.credentialRef,
    key: binding.partyKey,
    wallet: binding.bindingId,
  };
}

/** A subset test that names the first entry the narrowed terms add. */
function requireNarrower(field: string, before: readonly string[], after: string[], covered: (entry: string) => boolean): void {
  const added = after.find((entry) => !before.includes(entry) && !covered(entry));
  if (added !== undefined) {
    fail(ErrorCode.INVALID_ARGUMENT, `narrowing cannot add ${field} "${added.slice(0, 60)}": the consent has ${before.join(", ")}`);
  }
}

function optionalList(input: Json, field: string): string[] | null {
  const value = input[field];
  if (value === undefined) return null;
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== "string")) {
    fail(ErrorCode.INVALID_ARGUMENT, `${field} must be an array of strings`);
  }
  return value as string[];
}

@Info({ title: "WalletContract", description: "Wallet bindings and the operations and reads a relay submits for a bound wallet" })
export class WalletContract extends ConsentLedgerContract {
  // underscored: fabric-contract-api leaves such members out of the generated metadata
  private readonly _consent = new ConsentContract();
  private readonly _access = new AccessContract();
  private readonly _resource = new ResourceContract();

  constructor() {
    super("wallet");
  }

  /**
   * Binds a wallet to the caller's own ledger party: a subject identity (its subject), a buyer identity or
   * a custodian identity (the identity itself, whose wallet may then sign CUSTODIAN_OPERATIONS). The wallet
   * proves it agrees with a personal_sign signature over walletBindingText, which names this ledger, the
   * party and the caller's certificate. A buyer's type, jurisdiction and credential are taken
   * from its certificate now: bind again after a new certificate.
   * @param proofJson `{"address": 0x.., "expires": unix seconds, "signature": 0x r‖s‖v}`
   * @returns the WalletBinding as JSON
   */
  @Transaction()
  @Returns("string")
  async BindWallet(ctx: ConsentContext, proofJson: string): Promise<string> {
    const input = parseJsonObject(proofJson, "binding proof");
    const address = requireString(input, "address", ADDRESS);
    const expires = requireSeconds(input, "expires");
    const signature = requireString(input, "signature", SIGNATURE);
    const caller = ctx.requireRole(Role.Subject, Role.Buyer, Role.Custodian);
    let party: string;
    if (caller.role === Role.Custodian) {
      party = partyName("custodian", caller.key);
    } else if (caller.role === Role.Subject) {
      const subject = await requireSubject(ctx, caller.subjectId ?? "");
      if (!mayActForSubject(caller, subject)) {
        fail(ErrorCode.FORBIDDEN, `subject ${subject.subjectId} is held by ${subject.custodianMsp}, not ${caller.mspId}`);
      }
      party = partyName("subject", subject.subjectId);
    } else {
      if (caller.buyerType === null || !BUYER_TYPES.includes(caller.buyerType) || caller.jurisdiction === null || !/^[A-Z]{2}$/.test(caller.jurisdiction)) {
        fail(ErrorCode.FORBIDDEN, "the caller's certificate carries no valid consent.buyerType and consent.jurisdiction");
      }
      party = partyName("buyer", caller.key);
    }
    requireUnexpired(ctx, expires, MAX_SIGNED_LIFETIME_SECONDS, "binding proof");
    const ledger = ctx.stub.getChannelID();
    requireSignedBy(
      walletBindingText({ ledger, address, party, mspId: caller.mspId, clientId: caller.clientId, expires }),
      signature,
      address,
      "binding proof",
    );
    const bindingKey = key(ctx, KeyType.WalletBinding, address, party);
    if (await readJson<WalletBinding>(ctx, bindingKey)) {
      fail(ErrorCode.ALREADY_EXISTS, `wallet ${address} is already bound to ${party}`);
    }
    const binding: WalletBinding = {
      bindingId: sha256Hex(ctx.stub.getTxID()),
      address,
      party,
      kind: caller.role === Role.Subject ? "subject" : caller.role === Role.Buyer ? "buyer" : "custodian",
      mspId: caller.mspId,
      clientId: caller.clientId,
      partyKey: caller.key,
      subjectId: caller.role === Role.Subject ? caller.subjectId : null,
      buyerType: caller.role === Role.Buyer ? caller.buyerType : null,
      jurisdiction: caller.role === Role.Buyer ? caller.jurisdiction : null,
      credentialRef: caller.role === Role.Buyer ? caller.credentialRef : null,
      boundAt: ctx.now(),
    };
    await ctx.stub.putState(bindingKey, Buffer.from(canonicalJson(binding), "utf8"));
    ctx.emit({ type: "WalletBound", address, party, bindingId: binding.bindingId });
    return canonicalJson(binding);
  }

  /**
   * Ends a binding: the party's own identity, or (for a subject who lost the wallet) its custodian.
   * A custodian identity without `subjectId` ends its own binding. Operations the wallet signed under it
   * are refused from then on.
   * @param unbindJson `{"address": 0x.., "subjectId"?: the subject, when the custodian unbinds a subject's wallet}`
   */
  @Transaction()
  @Returns("string")
  async UnbindWallet(ctx: ConsentContext, unbindJson: string): Promise<string> {
    const input = parseJsonObject(unbindJson, "unbinding");
    const address = requireString(input, "address", ADDRESS);
    const caller = ctx.requireRole(Role.Subject, Role.Buyer, Role.Custodian);
    let party: string;
    if (caller.role === Role.Custodian && input.subjectId === undefined) {
      party = partyName("custodian", caller.key);
    } else if (caller.role === Role.Custodian) {
      const subject = await requireSubject(ctx, requireString(input, "subjectId"));
      if (!mayActForSubject(caller, subject)) {
        fail(ErrorCode.FORBIDDEN, `subject ${subject.subjectId} is held by ${subject.custodianMsp}, not ${caller.mspId}`);
      }
      party = partyName("subject", subject.subjectId);
    } else {
      party = caller.role === Role.Subject ? partyName("subject", caller.subjectId ?? "") : partyName("buyer", caller.key);
    }
    const bindingKey = key(ctx, KeyType.WalletBinding, address, party);
    const binding = await readJson<WalletBinding>(ctx, bindingKey);
    if (!binding) {
      fail(ErrorCode.WALLET_NOT_BOUND, `wallet ${address} is not bound to ${party}`);
    }
    await ctx.stub.deleteState(bindingKey);
    ctx.emit({ type: "WalletUnbound", address, party, bindingId: binding.bindingId });
    return canonicalJson(binding);
  }

  /** The parties a wallet is bound to (bindingId, party, kind, subjectId, boundAt). Relays and auditors. */
  @Transaction(false)
  @Returns("string")
  async ListWalletBindings(ctx: ConsentContext, address: string): Promise<string> {
    ctx.requireRole(Role.Relay, Role.Auditor);
    if (!ADDRESS.test(address)) {
      fail(ErrorCode.INVALID_ARGUMENT, `address "${address.slice(0, 50)}" must be a lowercase 0x address`);
    }
    const page = await readRange(ctx, KeyType.WalletBinding, [address], (entry) => {
      const b = entryJson<WalletBinding>(entry);
      const view: WalletBindingView = { bindingId: b.bindingId, address: b.address, party: b.party, kind: b.kind, subjectId: b.subjectId, boundAt: b.boundAt };
      return view;
    });
    return pageJson(page);
  }

  /**
   * Runs an operation a bound wallet signed, as the party it is bound to. Relay only. Checked on the
   * ledger, in this order: the binding exists (WALLET_NOT_BOUND), the operation is one the party's kind
   * may sign, the expiry (SIGNATURE_EXPIRED), the signature over signedOperationText (BAD_WALLET_SIGNATURE),
   * the nonce unused by this wallet (NONCE_USED); then the operation's own rules.
   * @param operationJson `{"address", "party", "operation", "arguments": {...}, "nonce": 32 hex, "expires", "signature"}`
   * @returns the operation's result as JSON (the consent record, the AccessDecision, or the resource record)
   */
  @Transaction()
  @Returns("string")
  async SubmitSigned(ctx: ConsentContext, operationJson: string): Promise<string> {
    ctx.requireRole(Role.Relay);
    const input = parseJsonObject(operationJson, "signed operation");
    const address = requireString(input, "address", ADDRESS);
    const party = requireString(input, "party");
    const operation = requireString(input, "operation");
    const nonce = requireString(input, "nonce", NONCE);
    const expires = requireSeconds(input, "expires");
    const signature = requireString(input, "signature", SIGNATURE);
    const args = input.arguments;
    if (args === null || typeof args !== "object" || Array.isArray(args)) {
      fail(ErrorCode.INVALID_ARGUMENT, "arguments must be a JSON object");
    }
    const binding = await this.requireBinding(ctx, address, party);
    const allowed = OPERATIONS_OF[binding.kind];
    if (!allowed.includes(operation)) {
      fail(ErrorCode.INVALID_ARGUMENT, `operation "${operation.slice(0, 40)}" is not one a ${binding.kind}'s wallet may sign (${allowed.join(", ")})`);
    }
    requireUnexpired(ctx, expires, MAX_SIGNED_LIFETIME_SECONDS, "signed operation");
    const text = signedOperationText({
      ledger: ctx.stub.getChannelID(),
      binding: binding.bindingId,
      address,
      party,
      operation,
      arguments: canonicalJson(args),
      nonce,
      expires,
    });
    requireSignedBy(text, signature, address, "operation");
    const nonceKey = key(ctx, KeyType.WalletNonce, address, nonce);
    const used = await readJson<{ txId: string }>(ctx, nonceKey);
    if (used) {
      fail(ErrorCode.NONCE_USED, `nonce ${nonce} of wallet ${address} was used by transaction ${used.txId}: a signed operation is accepted once`);
    }
    await ctx.stub.putState(nonceKey, Buffer.from(canonicalJson({ txId: ctx.stub.getTxID(), operation }), "utf8"));
    ctx.emit({ type: "SignedOperation", address, party, bindingId: binding.bindingId, operation, nonce });
    ctx.actAs(partyCaller(binding));
    return this.run(ctx, binding, operation, args as Json);
  }

  /**
   * A read for a wallet that signed in (EIP-4361): a relay passes the signed message, the ledger checks
   * it names this ledger among its Resources, recovers to the wallet, is within its Not Before and
   * Expiration Time (at most MAX_SESSION_SECONDS after Issued At), and that the wallet is bound to `party`;
   * then reads as that party. Relay only.
   * @param sessionJson `{"message": EIP-4361 text, "signature": 0x r‖s‖v}`
   * @param query one of SESSION_READS
   * @param argsJson `{"pageSize"?, "bookmark"?, "consentId"?, "grantId"?, "requestId"?}`
   */
  @Transaction(false)
  @Returns("string")
  async ReadWithSession(ctx: ConsentContext, sessionJson: string, party: string, query: string, argsJson: string): Promise<string> {
    ctx.requireRole(Role.Relay);
    const session = parseJsonObject(sessionJson, "session");
    const text = requireString(session, "message");
    const signature = requireString(session, "signature", SIGNATURE);
    let message;
    try {
      message = parseSiweMessage(text);
    } catch (error) {
      fail(ErrorCode.INVALID_ARGUMENT, `the session is not an EIP-4361 message: ${(error as SiweParseError).message}`);
    }
    const ledger = ctx.stub.getChannelID();
    if (!(message.resources ?? []).includes(ledgerResource(ledger))) {
      fail(ErrorCode.INVALID_ARGUMENT, `the session does not name this ledger (${ledgerResource(ledger)}) among its Resources`);
    }
    const address = message.address.toLowerCase();
    if (message.expirationTime === undefined) {
      fail(ErrorCode.INVALID_ARGUMENT, "the session has no Expiration Time");
    }
    const issuedAt = Math.floor(Date.parse(message.issuedAt) / 1000);
    const expiresAt = Math.floor(Date.parse(message.expirationTime) / 1000);
    if (expiresAt - issuedAt > MAX_SESSION_SECONDS) {
      fail(ErrorCode.INVALID_ARGUMENT, `the session lasts ${expiresAt - issuedAt} s, more than ${MAX_SESSION_SECONDS} s`);
    }
    const now = ctx.now();
    if (now >= expiresAt || issuedAt > now + ctx.clock.maxSkewSeconds) {
      fail(
        ErrorCode.SIGNATURE_EXPIRED,
        `the session is valid from ${message.issuedAt} to ${message.expirationTime}; the transaction time is ${new Date(now * 1000).toISOString()}`,
      );
    }
    if (message.notBefore !== undefined && now < Math.floor(Date.parse(message.notBefore) / 1000)) {
      fail(ErrorCode.SIGNATURE_EXPIRED, `the session is not valid before ${message.notBefore}`);
    }
    requireSignedBy(text, signature, address, "session");
    const binding = await this.requireBinding(ctx, address, party);
    const args = parseJsonObject(argsJson, "read arguments");
    if (!(SESSION_READS as readonly string[]).includes(query)) {
      fail(ErrorCode.INVALID_ARGUMENT, `query "${query.slice(0, 40)}" is not one of ${SESSION_READS.join(", ")}`);
    }
    ctx.actAs(partyCaller(binding));
    const pageSize = String(args.pageSize ?? 100);
    const bookmark = typeof args.bookmark === "string" ? args.bookmark : "";
    const id = (field: string) => requireString(args, field);
    const subjectId = binding.subjectId ?? "";
    switch (query) {
      case "ListSubjectConsents":
        return this._consent.ListSubjectConsents(ctx, subjectId, pageSize, bookmark);
      case "ListAccessBySubject":
        return this._access.ListAccessBySubject(ctx, subjectId, pageSize, bookmark);
      case "GetConsent":
        return this._consent.GetConsent(ctx, id("consentId"));
      case "GetConsentHistory":
        return this._consent.GetConsentHistory(ctx, id("consentId"));
      case "GetGrant":
        return this._access.GetGrant(ctx, id("grantId"));
      default:
        return this._access.GetAccessRequest(ctx, id("requestId"));
    }
  }

  private async requireBinding(ctx: ConsentContext, address: string, party: string): Promise<WalletBinding> {
    const binding = await readJson<WalletBinding>(ctx, key(ctx, KeyType.WalletBinding, address, party));
    if (!binding) {
      fail(ErrorCode.WALLET_NOT_BOUND, `wallet ${address} is not bound to ${party.slice(0, 100)} on this ledger`);
    }
    return binding;
  }

  /** The operation, run as the bound party: the contracts' own rules decide what it may do. */
  private async run(ctx: ConsentContext, binding: WalletBinding, operation: string, args: Json): Promise<string> {
    switch (operation) {
      case "GiveConsent":
        // new terms for the subject itself, or {"consentId"} of a pending request; never private details (custodian only)
        return this._consent.GiveConsent(ctx, canonicalJson(args));
      case "NarrowConsent":
        return this._consent.UpdateConsent(ctx, canonicalJson(await this.narrowed(ctx, args)));
      case "WithdrawConsent":
        return this._consent.WithdrawConsent(ctx, requireString(args, "consentId", BYTES32));
      case "RefuseConsent":
        return this._consent.RefuseConsent(ctx, requireString(args, "consentId", BYTES32));
      // a custodian's wallet: the ResourceContract's own rules (custodian role, controller MSP) decide
      case "RegisterResource":
        return this._resource.RegisterResource(ctx, canonicalJson(args));
      case "AddResourceSubjects":
        return this._resource.AddResourceSubjects(ctx, canonicalJson(args));
      case "RemoveResourceSubjects":
        return this._resource.RemoveResourceSubjects(ctx, canonicalJson(args));
      default: {
        // RequestAccess: the grant names the wallet that signed the request, never another address
        if (args.ethAddress !== undefined || args.ethSignature !== undefined) {
          fail(ErrorCode.INVALID_ARGUMENT, "a wallet's access request names no ethAddress or ethSignature: the grant is for the signing wallet");
        }
        return this._access.RequestAccess(ctx, canonicalJson({ ...args, ethAddress: binding.address }));
      }
    }
  }

  /**
   * The full terms of a narrowed consent: each list given must only drop entries (or name a purpose a
   * listed one covers, a country a listed group covers), validUntil may only come earlier; what is not
   * given stays. Controller, legal basis, notice and validFrom never change.
   */
  private async narrowed(ctx: ConsentContext, args: Json): Promise<Json> {
    const consentId = requireString(args, "consentId", BYTES32);
    const record = await readJson<ConsentRecord>(ctx, key(ctx, KeyType.Consent, consentId));
    if (!record || record.subjectId !== ctx.caller().subjectId) {
      // another subject's consent and one that does not exist get the same answer
      fail(ErrorCode.NOT_FOUND, `consent ${consentId} is not a consent of subject ${ctx.caller().subjectId}`);
    }
    for (const field of Object.keys(args)) {
      if (!["consentId", "resources", "purposes", "dataCategories", "buyerTypes", "jurisdictions", "validUntil"].includes(field)) {
        fail(ErrorCode.INVALID_ARGUMENT, `narrowing cannot change ${field.slice(0, 40)}`);
      }
    }
    const categories = record.dataCategories.map((c) => c.category);
    const resources = optionalList(args, "resources") ?? record.resources;
    const purposes = optionalList(args, "purposes") ?? record.purposes;
    const dataCategories = optionalList(args, "dataCategories") ?? categories;
    const buyerTypes = optionalList(args, "buyerTypes") ?? record.buyerTypes;
    const jurisdictions = optionalList(args, "jurisdictions") ?? record.jurisdictions;
    requireNarrower("resource", record.resources, resources, () => false);
    requireNarrower("purpose", record.purposes, purposes, (p) => purposeCovered(record.purposes, p));
    requireNarrower("data category", categories, dataCategories, () => false);
    requireNarrower("buyer type", record.buyerTypes, buyerTypes, () => false);
    requireNarrower("jurisdiction", record.jurisdictions, jurisdictions, (j) => /^[A-Z]{2}$/.test(j) && jurisdictionCovered(record.jurisdictions, j));
    const validUntil = args.validUntil === undefined ? record.validUntil : requireSeconds(args, "validUntil");
    if (validUntil > record.validUntil) {
      fail(ErrorCode.INVALID_ARGUMENT, `narrowing cannot extend validUntil beyond ${record.validUntil}`);
    }
    return {
      consentId,
      subjectId: record.subjectId,
      controller: record.controller,
      resources,
      purposes,
      dataCategories,
      buyerTypes,
      jurisdictions,
      legalBasis: record.legalBasis,
      validFrom: record.validFrom,
      validUntil,
      noticeHash: record.noticeHash,
    };
  }
}
