// What other private workspaces reuse of the demo (the portal's `npm run portal` starts the same
// embedded network): the Hardhat node child process and the shared deployment of the pilots.
export { compileContracts, freePort, startNode, stopChild, type Cleanup } from "./node";
export { DAY, UNIT, hardhatAccounts, sleep, startNetwork, waitFor, type DemoNetwork, type NetworkOptions, type Party } from "./network";
export { Narrator } from "./narrator";
