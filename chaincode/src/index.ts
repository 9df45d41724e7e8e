// Entry point of the consent chaincode: fabric-chaincode-node loads `contracts` from here.
import { AccessContract } from "./contracts/access";
import { ConsentContract } from "./contracts/consent";
import { CredentialContract } from "./contracts/credential";
import { ResourceContract } from "./contracts/resource";
import { WalletContract } from "./contracts/wallet";

export { AccessContract } from "./contracts/access";
export { ConsentContract } from "./contracts/consent";
export { CredentialContract } from "./contracts/credential";
export { ResourceContract } from "./contracts/resource";
export { WalletContract, type WalletBinding, type WalletBindingView } from "./contracts/wallet";
export * from "./addressproof";
export * from "./canonical";
export { Attr, EVENT_NAME, Role } from "./context";
export { CREDENTIAL_STATUSES, CredentialStatusName, invalidationCause } from "./credentials";
export * from "./eip712";
export { ConsentLedgerError, ErrorCode } from "./errors";
export { KeyType, SUBJECT_DETAILS_COLLECTION } from "./keys";
export * from "./model";
export * from "./vocabulary";
export * from "./siwe";
export * from "./walletauth";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const contracts: any[] = [ConsentContract, ResourceContract, AccessContract, CredentialContract, WalletContract];
