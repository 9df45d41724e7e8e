// The in-process Fabric peer: identities, proposals, simulation, validation and a gateway-shaped client.
export * from './gateway';
export * from './identity';
export * from './peer';
export { buildProposal, signProposal, serializedIdentity, type ProposalRequest, type UnsignedProposal } from './proposal';
export { MAX_RESULTS_PER_BATCH, TOTAL_QUERY_LIMIT, readWriteSetBytes } from './simulator';
export { compareUtf8, type CollectionConfig, type Version } from './worldstate';
