export * from "./groupKey";
export * from "./ecies";
export * from "./messages";
export { GroupKeyManager, buildRequest } from "./GroupKeyManager";
export type { AccessOracle } from "./GroupKeyManager";
export { GroupKeyStore } from "./GroupKeyStore";
