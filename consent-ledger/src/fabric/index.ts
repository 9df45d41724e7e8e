// The in-process Fabric peer: identities, proposals, simulation, validation and a gateway-shaped client.
export * from "./gateway";
export * from "./identity";
export * from "./peer";
export { VALIDATION_PARAMETER, policySatisfied } from "./policy";
export { buildProposal, signProposal, serializedIdentity, type ProposalRequest, type UnsignedProposal } from "./proposal";
export {
  MAX_DEGREE_QUERY_READS_HASHING,
  protoKvRead,
  sameRangeReads,
  summarizeRangeReads,
  type KeyVersion,
  type MerkleSummary,
  type RangeReadsInfo,
} from "./rangequery";
export { MAX_RESULTS_PER_BATCH, TOTAL_QUERY_LIMIT, readWriteSetBytes } from "./simulator";
export { compareUtf8, type CollectionConfig, type Version } from "./worldstate";
