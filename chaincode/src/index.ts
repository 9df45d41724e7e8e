// Entry point of the consent chaincode: fabric-chaincode-node loads `contracts` from here.
import { AccessContract } from './contracts/access';
import { ConsentContract } from './contracts/consent';
import { ResourceContract } from './contracts/resource';

export { AccessContract } from './contracts/access';
export { ConsentContract } from './contracts/consent';
export { ResourceContract } from './contracts/resource';
export * from './addressproof';
export * from './canonical';
export { Attr, EVENT_NAME, Role } from './context';
export * from './eip712';
export { ConsentLedgerError, ErrorCode } from './errors';
export { KeyType, SUBJECT_DETAILS_COLLECTION } from './keys';
export * from './model';
export * from './vocabulary';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const contracts: any[] = [ConsentContract, ResourceContract, AccessContract];
